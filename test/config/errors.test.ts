import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_DEFAULTS } from '../../src/config/defaults.ts';
import { ConfigError } from '../../src/config/env.ts';
import { loadConfig } from '../../src/config/load.ts';
import { resolveConfig } from '../../src/config/resolve.ts';

/**
 * Bad configuration stops start-up with a ConfigError naming the key (or ENV variable) and the value
 * (service.md D-32, gate.md 6.D6/D10); missing or empty files fall back with a warning (gate.md 2.1).
 */
type Tree = Record<string, any>;
type Env = Record<string, string>;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULTS = EMBEDDED_DEFAULTS as unknown as Tree;
const resolve = (tree: Tree, env: Env = {}) => resolveConfig(tree, env, 'test');

let dir: string;
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aurora-cfg-errors-'));
});

/** Asserts a ConfigError whose message matches `re`. */
function expectConfigError(f: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a ConfigError').toBeInstanceOf(ConfigError);
  expect((err as Error).message).toMatch(re);
}

describe('non-numeric ENV values are fatal', () => {
  it('AURORA_SPREAD_BPS_LIMIT=abc (overlay), with the embedded defaults and with a file', () => {
    expectConfigError(() => loadConfig({ AURORA_SPREAD_BPS_LIMIT: 'abc' }, ROOT), /AURORA_SPREAD_BPS_LIMIT.*abc/);
    expect(() => resolve({ env: 'x' }, { AURORA_SPREAD_BPS_LIMIT: 'abc', AURORA_SPREAD_MAX_BPS: '20' })).toThrow(/AURORA_SPREAD_BPS_LIMIT.*abc/);
  });

  it.each([
    ['AURORA_LMAX_MS', 'fast', /AURORA_LMAX_MS.*fast.*not a finite number/],
    ['AURORA_SPRT_MAX_OBS', '2.5', /AURORA_SPRT_MAX_OBS.*2\.5.*not an integer/],
    ['AURORA_SPRT_SIGMA', 'one', /AURORA_SPRT_SIGMA.*one/],
    ['AURORA_TRAP_THRESHOLD', 'high', /AURORA_TRAP_THRESHOLD.*high/],
    ['AURORA_SPREAD_MAX_BPS', '1e999', /AURORA_SPREAD_MAX_BPS.*1e999/],
    ['AURORA_MIN_OPEN_INTERVAL_MS', '5s', /AURORA_MIN_OPEN_INTERVAL_MS.*5s/],
  ])('%s=%s (raw fallback) when the key is absent', (name, value, re) => {
    expect(() => resolve({ env: 'x' }, { [name]: value })).toThrow(ConfigError);
    expect(() => resolve({ env: 'x' }, { [name]: value })).toThrow(re);
  });

  it.each([
    ['AURORA_DD_DAY_PCT', 'ten', /AURORA_DD_DAY_PCT.*ten/],
    ['AURORA_HALT_THRESHOLD_REPEATS', '2.5', /AURORA_HALT_THRESHOLD_REPEATS.*2\.5.*not an integer/],
    ['AURORA_MAX_CONCURRENT', 'many', /AURORA_MAX_CONCURRENT.*many/],
    ['AURORA_SIZE_SCALE', '20%', /AURORA_SIZE_SCALE.*20%/],
    ['AURORA_SPRT_TIMEOUT_MS', '0.5', /AURORA_SPRT_TIMEOUT_MS.*0\.5/],
    ['AURORA_PORT', 'http', /AURORA_PORT.*http/],
    ['AURORA_CONFIG_STRICT', 'maybe', /AURORA_CONFIG_STRICT.*maybe/],
  ])('%s=%s (overlay / raw override / service) with the embedded defaults', (name, value, re) => {
    expectConfigError(() => loadConfig({ [name]: value }, ROOT), re);
  });

  it('a bad raw-fallback ENV value is fatal even when a YAML key shadows it (D-32; env.ts: "never a silent fallback")', () => {
    // BUG: resolve.ts parses AURORA_LMAX_MS / AURORA_SPRT_* / AURORA_TRAP_THRESHOLD / anti-churn ENV only
    // when the key is absent (`val(key) ?? envNumber(...)`), so with the embedded defaults (or any YAML that
    // has the key) the typo is accepted silently, without even a warning.
    const cases: Array<[Tree, Env]> = [
      [DEFAULTS, { AURORA_LMAX_MS: 'fast' }],
      [DEFAULTS, { AURORA_SPRT_MAX_OBS: '2.5' }],
      [DEFAULTS, { AURORA_SPRT_SIGMA: 'one' }],
      [DEFAULTS, { AURORA_TRAP_THRESHOLD: 'high' }],
      [{ aurora: { min_open_interval_ms: 0 } }, { AURORA_MIN_OPEN_INTERVAL_MS: '5s' }],
    ];
    const accepted = cases.filter(([tree, env]) => {
      try {
        resolve(tree, env);
        return true;
      } catch (e) {
        return !(e instanceof ConfigError);
      }
    }).map(([, env]) => Object.entries(env)[0].join('='));
    expect(accepted).toEqual([]);
  });
});

describe('out-of-range YAML values are fatal', () => {
  it.each([
    ['aurora.halt_threshold_repeats', { aurora: { halt_threshold_repeats: 0 } }, /aurora\.halt_threshold_repeats = 0: must be >= 1/],
    ['trap.cancel_pctl', { trap: { cancel_pctl: 101 } }, /trap\.cancel_pctl = 101: must be <= 100/],
    ['sprt.sigma', { sprt: { sigma: 0 } }, /sprt\.sigma = 0: must be > 0/],
    ['risk.dd_day_pct 0', { risk: { dd_day_pct: 0 } }, /risk\.dd_day_pct = 0: must be > 0/],
    ['risk.dd_day_pct 150', { risk: { dd_day_pct: 150 } }, /risk\.dd_day_pct = 150: must be <= 100/],
    ['gates.reject_storm_pct', { gates: { reject_storm_pct: 0 } }, /gates\.reject_storm_pct = 0: must be > 0/],
    ['api.port', { api: { port: 70000 } }, /api\.port = 70000: must be <= 65535/],
    ['sprt.alpha', { sprt: { alpha: 1, beta: 0.1 } }, /sprt\.alpha = 1/],
    ['sprt.max_obs', { sprt: { max_obs: 0 } }, /sprt\.max_obs = 0/],
    ['trap.min_history', { trap: { min_history: 241 } }, /trap\.min_history = 241/],
    ['risk.max_concurrent', { risk: { max_concurrent: -1 } }, /risk\.max_concurrent = -1/],
    ['journal.gzip_level 0', { journal: { gzip_level: 0 } }, /journal\.gzip_level = 0: must be >= 1/],
    ['journal.gzip_level 10', { journal: { gzip_level: 10 } }, /journal\.gzip_level = 10: must be <= 9/],
  ])('%s', (_label, tree, re) => {
    expectConfigError(() => resolve(tree), re);
  });

  it('the error names the ENV variable when the bad value came from the overlay', () => {
    expectConfigError(() => resolve(DEFAULTS, { AURORA_HALT_THRESHOLD_REPEATS: '0' }), /AURORA_HALT_THRESHOLD_REPEATS \(aurora\.halt_threshold_repeats\) = 0/);
    expectConfigError(() => resolve(DEFAULTS, { AURORA_TRAP_CANCEL_PCTL: '101' }), /AURORA_TRAP_CANCEL_PCTL \(trap\.cancel_pctl\) = 101/);
  });

  it('ENV values checked after resolution: AURORA_DD_DAY_PCT 0 / 150, AURORA_SPRT_SIGMA 0, AURORA_SPRT_MAX_OBS 0', () => {
    expectConfigError(() => resolve(DEFAULTS, { AURORA_DD_DAY_PCT: '0' }), /AURORA_DD_DAY_PCT = 0/);
    expectConfigError(() => resolve(DEFAULTS, { AURORA_DD_DAY_PCT: '150' }), /AURORA_DD_DAY_PCT = 150/);
    expectConfigError(() => resolve({ env: 'x' }, { AURORA_SPRT_SIGMA: '0' }), /AURORA_SPRT_SIGMA = 0/);
    expectConfigError(() => resolve({ env: 'x' }, { AURORA_SPRT_MAX_OBS: '0' }), /AURORA_SPRT_MAX_OBS = 0/);
  });

  it('a value at the edge of its range is accepted', () => {
    expect(() => resolve({ aurora: { halt_threshold_repeats: 1 }, trap: { cancel_pctl: 100 }, risk: { dd_day_pct: 100 }, api: { port: 0 } })).not.toThrow();
  });
});

describe('wrong types and unknown enum values are fatal', () => {
  it.each([
    ['guards.latency_ms_limit: "abc"', { guards: { latency_ms_limit: 'abc' } }, /guards\.latency_ms_limit = "abc": must be number/],
    ['guards.trap_guard_enabled: "yes"', { guards: { trap_guard_enabled: 'yes' } }, /guards\.trap_guard_enabled = "yes"/],
    ['aurora.halt_threshold_repeats: 2.5', { aurora: { halt_threshold_repeats: 2.5 } }, /aurora\.halt_threshold_repeats = 2\.5/],
    ['security.allowlist: "127.0.0.1"', { security: { allowlist: '127.0.0.1' } }, /security\.allowlist = "127\.0\.0\.1"/],
    ['journal.on_write_error: maybe', { journal: { on_write_error: 'maybe' } }, /journal\.on_write_error = "maybe"/],
    ['pretrade.order_profile: fast', { pretrade: { order_profile: 'fast' } }, /pretrade\.order_profile = "fast": must be er_before_slip or slip_before_er/],
  ])('%s', (_label, tree, re) => {
    expectConfigError(() => resolve(tree), re);
  });

  it('PRETRADE_ORDER_PROFILE=fast / AURORA_ORDER_PROFILE=fast', () => {
    expectConfigError(() => resolve(DEFAULTS, { PRETRADE_ORDER_PROFILE: 'fast' }), /PRETRADE_ORDER_PROFILE = "fast"/);
    // the overlay value is reported under its key (the ENV name is not repeated here)
    expectConfigError(() => resolve(DEFAULTS, { AURORA_ORDER_PROFILE: 'fast' }), /pretrade\.order_profile = "fast"/);
  });

  it('AURORA_LOG_LEVEL=loud', () => {
    expectConfigError(() => resolve(DEFAULTS, { AURORA_LOG_LEVEL: 'loud' }), /AURORA_LOG_LEVEL="loud"/);
  });

  it.each(['shadow', 'SHADOW', ' Shadow '])('AURORA_MODE=%j is refused', (v) => {
    expectConfigError(() => loadConfig({ AURORA_MODE: v }, ROOT), /AURORA_MODE=shadow is not supported/);
  });
});

describe('configuration files', () => {
  it('invalid YAML syntax is fatal', () => {
    const p = file('broken.yaml', 'guards:\n  latency_ms_limit: [300\n');
    expectConfigError(() => loadConfig({ AURORA_CONFIG: p }, dir), /cannot read configuration .*broken\.yaml/);
  });

  it('a YAML list (or scalar) at top level is fatal', () => {
    expectConfigError(() => loadConfig({ AURORA_CONFIG: file('list.yaml', '- guards\n- gates\n') }, dir), /list\.yaml must be a YAML mapping, got a list/);
    expectConfigError(() => loadConfig({ AURORA_CONFIG: file('scalar.yaml', 'hello\n') }, dir), /scalar\.yaml must be a YAML mapping, got string/);
  });

  it('a missing file falls back to the embedded defaults with a warning', () => {
    const cfg = loadConfig({ AURORA_CONFIG: join(dir, 'nope.yaml') }, dir);
    expect(cfg.source).toBe('default(embedded)');
    expect(cfg.core).toStrictEqual(loadConfig({}, dir).core);
    expect(cfg.warnings[0]).toMatch(/nope\.yaml.* not found: using the embedded defaults/);
  });

  it('a missing file is fatal with AURORA_CONFIG_STRICT=1 (also for a bare name)', () => {
    expectConfigError(() => loadConfig({ AURORA_CONFIG: join(dir, 'nope.yaml'), AURORA_CONFIG_STRICT: '1' }, dir), /nope\.yaml.* not found/);
    expectConfigError(() => loadConfig({ AURORA_CONFIG_NAME: 'no-such-profile', AURORA_CONFIG_STRICT: 'true' }, dir), /no-such-profile.* not found/);
    expect(loadConfig({ AURORA_CONFIG: 'prod', AURORA_CONFIG_STRICT: '1' }, ROOT).source).toBe(join(ROOT, 'configs', 'prod.yaml'));
  });

  // BUG (load.ts readYamlTree): js-yaml 5 `load` throws "expected a document, but the input is empty" for a
  // source with no document (0 bytes, only comments or whitespace); the error is wrapped as a fatal
  // ConfigError instead of reaching the `doc === null` fallback. Only an explicit empty document passes.
  it.each([
    ['empty (0 bytes)', ''],
    ['comment-only', '# nothing here\n'],
    ['whitespace-only', '\n  \n'],
    ['an explicit empty document (---)', '---\n'],
    ['an empty mapping ({})', '{}\n'],
  ])('a file that is %s falls back to the embedded defaults with a warning (fatal when strict)', (label, text) => {
    const p = file(`empty-${label.replace(/\W/g, '')}.yaml`, text);
    const cfg = loadConfig({ AURORA_CONFIG: p }, dir);
    expect(cfg.source).toBe('default(embedded)');
    expect(cfg.core.spreadLimitBps).toBe(80);
    expect(cfg.warnings[0]).toMatch(/is empty: using the embedded defaults/);
    expectConfigError(() => loadConfig({ AURORA_CONFIG: p, AURORA_CONFIG_STRICT: '1' }, dir), /is empty/);
  });

  it('unknown top-level sections give one warning listing them; env: (and the other labels) is quiet', () => {
    const p = file('unknown.yaml', 'env: test\nname: x\nhealth: {a: 1}\ngovernance: {b: 2}\nanti_churn: {c: 3}\nguards:\n  latency_ms_limit: 300\n');
    const warnings = loadConfig({ AURORA_CONFIG: p, OPS_TOKEN: 'ops-token-0123456789abcdefgh' }, dir).warnings;
    expect(warnings).toEqual(['unknown configuration sections ignored: health, governance, anti_churn']);
    expect(loadConfig({ AURORA_CONFIG: file('quiet.yaml', 'env: test\n'), OPS_TOKEN: 'ops-token-0123456789abcdefgh' }, dir).warnings).toEqual([]);
  });

  it('AURORA_CONFIG_NAME=prod (bare name) finds configs/prod.yaml; AURORA_CONFIG wins over it', () => {
    expect(loadConfig({ AURORA_CONFIG_NAME: 'prod' }, ROOT).source).toBe(join(ROOT, 'configs', 'prod.yaml'));
    expect(loadConfig({ AURORA_CONFIG_NAME: 'prod' }, ROOT).core.risk.sizeScale).toBe(0.2);
    expect(loadConfig({ AURORA_CONFIG: 'testnet', AURORA_CONFIG_NAME: 'prod' }, ROOT).source).toBe(join(ROOT, 'configs', 'testnet.yaml'));
    expect(loadConfig({ AURORA_CONFIG: '', AURORA_CONFIG_NAME: 'prod' }, ROOT).source).toBe(join(ROOT, 'configs', 'prod.yaml'));
  });

  it('bare-name lookup order: configs/aurora/<n>.yaml before configs/<n>.yaml, working directory before the package root', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'aurora-lookup-'));
    mkdirSync(join(cwd, 'configs', 'aurora'), { recursive: true });
    writeFileSync(join(cwd, 'configs', 'prod.yaml'), 'risk:\n  size_scale: 0.5\n');
    expect(loadConfig({ AURORA_CONFIG: 'prod' }, cwd).core.risk.sizeScale).toBe(0.5);
    writeFileSync(join(cwd, 'configs', 'aurora', 'prod.yaml'), 'risk:\n  size_scale: 0.7\n');
    expect(loadConfig({ AURORA_CONFIG: 'prod' }, cwd).core.risk.sizeScale).toBe(0.7);
  });

  it('a relative .yaml path is resolved against the working directory', () => {
    expect(loadConfig({ AURORA_CONFIG: 'configs/testnet.yaml' }, ROOT).core.latencyLimitMs).toBe(400);
    expect(loadConfig({ AURORA_CONFIG: 'configs/testnet.yaml' }, dir).source).toBe('default(embedded)');
  });
});
