import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CODE_DEFAULTS, EMBEDDED_DEFAULTS, SERVICE_SECTIONS } from '../../src/config/defaults.ts';
import { resolveConfig, type AppConfig } from '../../src/config/resolve.ts';
import { DEFAULT_SIZES } from '../../src/shm/state/gate-state.ts';
import { deletePath, getPath, leafPaths, resolvedValue, SERVICE_KEYS, setPath } from './service-keys.ts';

/**
 * Issue 12: every fallback is written once. Keys of the service sections that a YAML file omits fall
 * back to EMBEDDED_DEFAULTS, key by key; decision keys to CODE_DEFAULTS (test/config/default-yaml.test.ts,
 * precedence.test.ts); no literal fallback is left in the resolver (fallbacks-derived.test.ts proves it
 * by mocking the defaults, the source check below keeps it so).
 */
type Tree = Record<string, any>;
const DEFAULTS = EMBEDDED_DEFAULTS as unknown as Tree;
const resolve = (tree: Tree, env: Record<string, string> = {}): AppConfig => resolveConfig(tree, env, 'test');
const SERVICE_LEAVES = leafPaths(Object.fromEntries(SERVICE_SECTIONS.map((s) => [s, DEFAULTS[s]])));

describe('service sections fall back to EMBEDDED_DEFAULTS', () => {
  it('the table of service keys lists exactly the leaves of the embedded service sections', () => {
    expect(Object.keys(SERVICE_KEYS).sort()).toEqual([...SERVICE_LEAVES].sort());
  });

  it('a YAML file with no service key ({} or a label only) resolves every service setting as the embedded tree does', () => {
    const embedded = resolve(DEFAULTS);
    for (const tree of [{}, { env: 'x' }]) {
      const cfg = resolve(tree);
      expect(cfg.service).toStrictEqual(embedded.service);
      expect(cfg.core.compat).toStrictEqual(embedded.core.compat);
    }
  });

  it('the embedded value of each key is what it resolves to', () => {
    const cfg = resolve(DEFAULTS);
    const wrong = SERVICE_LEAVES.filter((p) => JSON.stringify(getPath(cfg, SERVICE_KEYS[p].at)) !== JSON.stringify(resolvedValue(p, getPath(DEFAULTS, p))));
    expect(wrong).toEqual([]);
  });

  it.each(SERVICE_LEAVES)('%s is read: changing it in a copy of the embedded tree changes its setting, and only that', (path) => {
    const k = SERVICE_KEYS[path];
    expect(k.mutated, 'the mutation must differ from the embedded value').not.toEqual(getPath(DEFAULTS, path));
    const tree = structuredClone(DEFAULTS);
    setPath(tree, path, k.mutated);
    const base = resolve(DEFAULTS);
    const cfg = resolve(tree);
    expect(getPath(cfg, k.at)).toEqual(resolvedValue(path, k.mutated));
    expect(getPath(cfg, k.at)).not.toEqual(getPath(base, k.at));
    // nothing else changes (warnings aside: a usable ops token silences "no ops token configured")
    const rest = (c: AppConfig): Tree => {
      const out = structuredClone({ core: c.core, service: c.service }) as Tree;
      setPath(out, k.at, '<key>');
      if (path === 'security.ops_token') out.service.ops.tokenSource = '<key>';
      return out;
    };
    expect(rest(cfg)).toStrictEqual(rest(base));
  });

  it.each(SERVICE_LEAVES)('%s omitted from the embedded tree resolves exactly as the embedded tree', (path) => {
    const tree = structuredClone(DEFAULTS);
    deletePath(tree, path);
    expect(resolve(tree)).toStrictEqual(resolve(DEFAULTS));
  });

  it.each(SERVICE_LEAVES)('%s: null means absent (the embedded value)', (path) => {
    const tree = structuredClone(DEFAULTS);
    setPath(tree, path, null);
    expect(resolve(tree)).toStrictEqual(resolve(DEFAULTS));
  });
});

describe('decision keys fall back to CODE_DEFAULTS', () => {
  it('aurora.latency_max_samples: its code default is the state window size', () => {
    expect(CODE_DEFAULTS.health.maxSamples).toBe(DEFAULT_SIZES.latencySamples);
    expect(resolve({}).service.stateSizes.latencySamples).toBe(CODE_DEFAULTS.health.maxSamples);
  });
});

describe('the resolver writes no default of its own', () => {
  const FILES = ['resolve.ts', 'decision.ts', 'service.ts', 'overlay.ts', 'ops-tokens.ts', 'tree.ts'];
  it.each(FILES)('src/config/%s has no `?? literal` / `|| literal` fallback', (file) => {
    const text = readFileSync(new URL(`../../src/config/${file}`, import.meta.url), 'utf8');
    const hits = text.split('\n').filter((line) => /(\?\?|\|\|)\s*(-?\d|['"`]|true\b|false\b|null\b|\[)/.test(line) && !/^\s*(\/\/|\*)/.test(line));
    expect(hits).toEqual([]);
  });
});
