import { describe, expect, it, vi } from 'vitest';
import type * as Defaults from '../../src/config/defaults.ts';
import { CODE_DEFAULTS, EMBEDDED_DEFAULTS, SERVICE_ENV_DEFAULTS, SERVICE_SECTIONS } from '../../src/config/defaults.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { getPath, leafPaths, resolvedValue, SERVICE_KEYS } from './service-keys.ts';

/**
 * Issue 12: the resolver derives every fallback from src/config/defaults.ts and writes none of its own.
 * Here every default value is replaced by a different one (the module is mocked); resolving a YAML file
 * that names no key ({}) must then give the replaced values: service keys from EMBEDDED_DEFAULTS, decision
 * keys from CODE_DEFAULTS, ENV-only service settings from SERVICE_ENV_DEFAULTS. A literal left in the
 * resolver would still give the old value.
 */
vi.mock('../../src/config/defaults.ts', async (importOriginal) => {
  const real = await importOriginal<typeof Defaults>();
  // a different value of the same kind for every leaf (strings that are enums or file names: valid ones)
  const STRINGS: Record<string, string> = {
    'journal.on_write_error': 'fail_closed',
    'logging.path': 'mocked/aurora_events_m.jsonl',
    orderProfile: 'slip_before_er',
    mode: 'live',
    logLevel: 'debug',
  };
  const NULLS: Record<string, unknown> = {
    'pool.threads': 3,
    'security.ops_token': 'mocked-ops-token-0123456789abcdef',
    'security.runner_token': 'mocked-runner-token',
    sessionDir: '/mocked/session',
  };
  const change = (v: unknown, path: string): unknown => {
    if (typeof v === 'number') return v === 0 ? 7 : v / 2;
    if (typeof v === 'boolean') return !v;
    if (typeof v === 'string') return STRINGS[path] ?? `mocked-${v}`;
    if (v === null) {
      if (!(path in NULLS)) throw new Error(`no replacement for null at ${path}`);
      return NULLS[path];
    }
    if (Array.isArray(v)) return ['10.9.9.9'];
    return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, change(x, path === '' ? k : `${path}.${k}`)]));
  };
  return {
    ...real,
    EMBEDDED_DEFAULTS: change(real.EMBEDDED_DEFAULTS, ''),
    CODE_DEFAULTS: change(real.CODE_DEFAULTS, ''),
    SERVICE_ENV_DEFAULTS: change(real.SERVICE_ENV_DEFAULTS, ''),
  };
});

type Tree = Record<string, any>;
const real = await vi.importActual<typeof Defaults>('../../src/config/defaults.ts');
const cfg = resolveConfig({}, {}, 'test');

describe('with every default replaced, a YAML file that names no key resolves to the replaced values', () => {
  it('the mock replaced every leaf', () => {
    for (const [mocked, actual] of [
      [EMBEDDED_DEFAULTS, real.EMBEDDED_DEFAULTS],
      [CODE_DEFAULTS, real.CODE_DEFAULTS],
      [SERVICE_ENV_DEFAULTS, real.SERVICE_ENV_DEFAULTS],
    ] as Array<[Tree, Tree]>) {
      const same = leafPaths(actual).filter((p) => JSON.stringify(getPath(mocked, p)) === JSON.stringify(getPath(actual, p)));
      expect(same).toEqual([]);
    }
  });

  it('service sections: every key from EMBEDDED_DEFAULTS', () => {
    const paths = leafPaths(Object.fromEntries(SERVICE_SECTIONS.map((s) => [s, (EMBEDDED_DEFAULTS as Tree)[s]])));
    expect(paths.sort()).toEqual(Object.keys(SERVICE_KEYS).sort());
    const wrong = paths.filter((p) => JSON.stringify(getPath(cfg, SERVICE_KEYS[p].at)) !== JSON.stringify(resolvedValue(p, getPath(EMBEDDED_DEFAULTS, p))));
    expect(wrong).toEqual([]);
  });

  it('decision settings: every key from CODE_DEFAULTS (none from the embedded decision sections)', () => {
    // CODE_DEFAULTS mirrors CoreConfig, except these two
    const AT: Record<string, string> = { mode: 'core.defaultMode', 'health.maxSamples': 'service.stateSizes.latencySamples' };
    const wrong = leafPaths(CODE_DEFAULTS as Tree)
      .map((p) => [p, AT[p] ?? `core.${p}`])
      .filter(([p, at]) => getPath(cfg, at) !== getPath(CODE_DEFAULTS, p))
      .map(([p, at]) => `${p} -> ${at}: ${getPath(cfg, at)}`);
    expect(wrong).toEqual([]);
  });

  it('ENV-only service settings: from SERVICE_ENV_DEFAULTS', () => {
    for (const [k, v] of Object.entries(SERVICE_ENV_DEFAULTS)) expect(getPath(cfg.service, k), k).toBe(v);
  });
});
