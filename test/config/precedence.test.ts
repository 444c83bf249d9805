import { describe, expect, it } from 'vitest';
import { EMBEDDED_DEFAULTS } from '../../src/config/defaults.ts';
import { resolveConfig, type AppConfig } from '../../src/config/resolve.ts';
import type { CoreConfig } from '../../src/core/config.ts';

/**
 * ENV precedence for every decision variable of gate.md 5.1 ("overlay" = ENV beats YAML; "raw fallback" =
 * YAML beats ENV, ENV used only when the key is absent; "raw override" = ENV beats YAML), plus the special
 * rules of gate.md 3.x / 6.D11 / 6.D14 and service.md 1.1 / D-35.
 */
type Tree = Record<string, any>;
type Env = Record<string, string>;
const DEFAULTS = EMBEDDED_DEFAULTS as unknown as Tree;
/** A YAML file that names no decision key (what the conformance vectors call a minimal config). */
const BARE: Tree = { env: 'test' };
const resolve = (tree: Tree, env: Env = {}): AppConfig => resolveConfig(tree, env, 'test');
const core = (tree: Tree, env: Env = {}): CoreConfig => resolve(tree, env).core;

function at(path: string, value: unknown): Tree {
  const keys = path.split('.');
  const out: Tree = {};
  let cur = out;
  for (const k of keys.slice(0, -1)) cur = cur[k] = {};
  cur[keys[keys.length - 1]] = value;
  return out;
}

type Kind = 'overlay' | 'raw fallback' | 'raw override';
interface Row {
  env: string;
  kind: Kind;
  path: string;
  yaml: unknown;
  envValue: string;
  get: (c: CoreConfig) => unknown;
  /** what ENV gives when it applies (default: Number(envValue)) */
  fromEnv?: unknown;
  codeDefault: unknown;
}

const ROWS: Row[] = [
  { env: 'AURORA_LATENCY_MS_LIMIT', kind: 'overlay', path: 'guards.latency_ms_limit', yaml: 250, envValue: '123', get: (c) => c.latencyLimitMs, codeDefault: 30 },
  { env: 'AURORA_LMAX_MS', kind: 'raw fallback', path: 'guards.latency_ms_limit', yaml: 250, envValue: '50', get: (c) => c.latencyLimitMs, codeDefault: 30 },
  { env: 'AURORA_LATENCY_GUARD_MS', kind: 'overlay', path: 'aurora.latency_guard_ms', yaml: 45, envValue: '55', get: (c) => c.health.thresholdMs, codeDefault: 30 },
  { env: 'AURORA_LATENCY_WINDOW_SEC', kind: 'overlay', path: 'aurora.latency_window_sec', yaml: 90, envValue: '75', get: (c) => c.health.windowSec, codeDefault: 60 },
  { env: 'AURORA_COOLOFF_SEC', kind: 'overlay', path: 'aurora.cooloff_base_sec', yaml: 200, envValue: '300', get: (c) => c.health.baseCooloffSec, codeDefault: 120 },
  { env: 'AURORA_HALT_THRESHOLD_REPEATS', kind: 'overlay', path: 'aurora.halt_threshold_repeats', yaml: 3, envValue: '4', get: (c) => c.health.haltRepeats, codeDefault: 2 },
  { env: 'AURORA_SPREAD_BPS_LIMIT', kind: 'overlay', path: 'guards.spread_bps_limit', yaml: 70, envValue: '60', get: (c) => c.spreadLimitBps, codeDefault: 100 },
  { env: 'AURORA_SPREAD_MAX_BPS', kind: 'raw fallback', path: 'guards.spread_bps_limit', yaml: 70, envValue: '20', get: (c) => c.spreadLimitBps, codeDefault: 100 },
  { env: 'AURORA_TRAP_Z_THRESHOLD', kind: 'overlay', path: 'trap.z_threshold', yaml: 2.5, envValue: '3', get: (c) => c.trap.zThreshold, codeDefault: 1.64 },
  { env: 'AURORA_TRAP_CANCEL_PCTL', kind: 'overlay', path: 'trap.cancel_pctl', yaml: 80, envValue: '75', get: (c) => c.trap.cancelPctl, codeDefault: 90 },
  { env: 'AURORA_TRAP_WINDOW_S', kind: 'overlay', path: 'trap.window_s', yaml: 3, envValue: '4.5', get: (c) => c.trap.windowS, codeDefault: 2 },
  { env: 'AURORA_TRAP_LEVELS', kind: 'overlay', path: 'trap.levels', yaml: 7, envValue: '9', get: (c) => c.trap.levels, codeDefault: 5 },
  { env: 'AURORA_TRAP_THRESHOLD', kind: 'raw fallback', path: 'trap.score_threshold', yaml: 0.9, envValue: '0.5', get: (c) => c.trap.scoreThreshold, codeDefault: 0.8 },
  { env: 'AURORA_PI_MIN_BPS', kind: 'overlay', path: 'risk.pi_min_bps', yaml: 3, envValue: '4.5', get: (c) => c.piMinBps, codeDefault: 2 },
  { env: 'AURORA_SLIP_ETA', kind: 'overlay', path: 'slippage.eta_fraction_of_b', yaml: 0.2, envValue: '0.4', get: (c) => c.slipEta, codeDefault: 0.3 },
  { env: 'AURORA_ORDER_PROFILE', kind: 'overlay', path: 'pretrade.order_profile', yaml: 'er_before_slip', envValue: 'slip_before_er', fromEnv: 'slip_before_er', get: (c) => c.orderProfile, codeDefault: 'er_before_slip' },
  { env: 'PRETRADE_ORDER_PROFILE', kind: 'raw override', path: 'pretrade.order_profile', yaml: 'er_before_slip', envValue: 'slip_before_er', fromEnv: 'slip_before_er', get: (c) => c.orderProfile, codeDefault: 'er_before_slip' },
  { env: 'AURORA_DD_DAY_PCT', kind: 'raw override', path: 'risk.dd_day_pct', yaml: 20, envValue: '5', get: (c) => c.risk.ddDayPct, codeDefault: 100 },
  { env: 'AURORA_MAX_CONCURRENT', kind: 'raw override', path: 'risk.max_concurrent', yaml: 5, envValue: '7', get: (c) => c.risk.maxConcurrent, codeDefault: 10 },
  { env: 'AURORA_SIZE_SCALE', kind: 'raw override', path: 'risk.size_scale', yaml: 0.5, envValue: '0.25', get: (c) => c.risk.sizeScale, codeDefault: 1 },
  { env: 'AURORA_SPRT_SIGMA', kind: 'raw fallback', path: 'sprt.sigma', yaml: 2, envValue: '3', get: (c) => c.sprt.sigma, codeDefault: 1 },
  { env: 'AURORA_SPRT_A', kind: 'raw fallback', path: 'sprt.A', yaml: 3, envValue: '4', get: (c) => c.sprt.A, codeDefault: 2 },
  { env: 'AURORA_SPRT_B', kind: 'raw fallback', path: 'sprt.B', yaml: -3, envValue: '-4', get: (c) => c.sprt.B, codeDefault: -2 },
  { env: 'AURORA_SPRT_MAX_OBS', kind: 'raw fallback', path: 'sprt.max_obs', yaml: 5, envValue: '3', get: (c) => c.sprt.maxObs, codeDefault: 10 },
  { env: 'AURORA_COOLDOWN_AFTER_CLOSE_MS', kind: 'raw fallback', path: 'aurora.cooldown_after_close_ms', yaml: 1000, envValue: '60000', get: (c) => c.antiChurn.cooldownAfterCloseMs, codeDefault: 0 },
  { env: 'AURORA_MIN_OPEN_INTERVAL_MS', kind: 'raw fallback', path: 'aurora.min_open_interval_ms', yaml: 1000, envValue: '60000', get: (c) => c.antiChurn.minOpenIntervalMs, codeDefault: 0 },
  { env: 'AURORA_MIN_POSITION_HOLD_MS', kind: 'raw fallback', path: 'aurora.min_position_hold_ms', yaml: 1000, envValue: '60000', get: (c) => c.antiChurn.minPositionHoldMs, codeDefault: 0 },
];

describe('gate.md 5.1: precedence kind of every decision ENV variable', () => {
  for (const r of ROWS) {
    it(`${r.env} is ${r.kind} for ${r.path}`, () => {
      const fromEnv = r.fromEnv ?? Number(r.envValue);
      const yaml = { env: 'test', ...at(r.path, r.yaml) };
      const env = { [r.env]: r.envValue };
      // YAML alone, ENV alone (key absent), nothing at all
      expect(r.get(core(yaml))).toEqual(r.yaml);
      expect(r.get(core(BARE, env))).toEqual(fromEnv);
      expect(r.get(core(BARE))).toEqual(r.codeDefault);
      // both: the kind decides
      expect(r.get(core(yaml, env))).toEqual(r.kind === 'raw fallback' ? r.yaml : fromEnv);
      // null counts as absent
      expect(r.get(core({ env: 'test', ...at(r.path, null) }, env))).toEqual(r.path === 'guards.spread_bps_limit' && r.kind === 'raw fallback' ? 100 : fromEnv);
    });
  }
});

describe('gate.md 6.D11: guards vs gates shadowing', () => {
  const gatesOnly = { gates: { latency_ms_limit: 40, spread_bps_limit: 50, trap_guard_enabled: false } };

  it('a gates-only YAML feeds the pipeline (guards* = gates when guards is absent or empty)', () => {
    for (const tree of [gatesOnly, { ...gatesOnly, guards: {} }]) {
      const c = core(tree);
      expect([c.latencyLimitMs, c.spreadLimitBps, c.trap.guardOn]).toEqual([40, 50, false]);
    }
  });

  it.each([
    ['TRAP_GUARD', 'on'],
    ['AURORA_VOL_GUARD_STD_BPS', '1'],
    ['AURORA_LATENCY_MS_LIMIT', '40'],
  ])('an ENV overlay (%s=%s) creates guards and hides the gates-only YAML from the pipeline', (name, value) => {
    const c = core(gatesOnly, { [name]: value });
    expect(c.spreadLimitBps).toBe(100); // gates.spread_bps_limit 50 no longer seen by the pipeline
    expect(c.trap.guardOn).toBe(true); // gates.trap_guard_enabled false no longer seen
    if (name !== 'AURORA_LATENCY_MS_LIMIT') expect(c.latencyLimitMs).toBe(30);
    // Governance still reads gates
    expect([c.governance.latencyMsLimit, c.governance.spreadBpsLimit]).toEqual([40, 50]);
  });

  it('Governance never reads guards', () => {
    const c = core({ guards: { latency_ms_limit: 40, spread_bps_limit: 50 } });
    expect([c.governance.latencyMsLimit, c.governance.spreadBpsLimit]).toEqual([500, 80]);
  });
});

describe('spread limit aliases (gate.md 3.10)', () => {
  it('AURORA_SPREAD_MAX_BPS is ignored, with a warning, when spread_bps_limit exists (embedded defaults, guards, gates)', () => {
    for (const tree of [DEFAULTS, { guards: { spread_bps_limit: 70 } }, { gates: { spread_bps_limit: 70 } }]) {
      const cfg = resolve(tree, { AURORA_SPREAD_MAX_BPS: '20' });
      expect(cfg.core.spreadLimitBps).toBe(tree === DEFAULTS ? 80 : 70);
      expect(cfg.warnings.some((w) => /AURORA_SPREAD_MAX_BPS is ignored/.test(w))).toBe(true);
    }
  });

  it('a present-but-null spread_bps_limit gives 100, not the alias', () => {
    expect(core({ guards: { spread_bps_limit: null, latency_ms_limit: 300 } }, { AURORA_SPREAD_MAX_BPS: '20' }).spreadLimitBps).toBe(100);
  });

  it('AURORA_SPREAD_MAX_BPS applies when the key is absent; AURORA_SPREAD_BPS_LIMIT beats it', () => {
    expect(core(BARE, { AURORA_SPREAD_MAX_BPS: '20' }).spreadLimitBps).toBe(20);
    expect(core({ guards: { latency_ms_limit: 300 } }, { AURORA_SPREAD_MAX_BPS: '20' }).spreadLimitBps).toBe(20);
    expect(core(BARE, { AURORA_SPREAD_MAX_BPS: '20', AURORA_SPREAD_BPS_LIMIT: '60' }).spreadLimitBps).toBe(60);
    expect(core(DEFAULTS, { AURORA_SPREAD_MAX_BPS: '20', AURORA_SPREAD_BPS_LIMIT: '60' }).spreadLimitBps).toBe(60);
  });
});

describe('TRAP_GUARD (gate.md 3.4.2, 6.D14)', () => {
  const yamlOn = { guards: { trap_guard_enabled: true } };
  const yamlOff = { guards: { trap_guard_enabled: false } };
  const trapWarning = (cfg: AppConfig) => cfg.warnings.some((w) => w.startsWith('TRAP_GUARD='));

  it.each(['off', 'OFF', 'Off', '0', 'false', 'FALSE'])('TRAP_GUARD=%j switches the guard off (beats YAML true), quietly', (v) => {
    const cfg = resolve(yamlOn, { TRAP_GUARD: v });
    expect(cfg.core.trap.guardOn).toBe(false);
    expect(trapWarning(cfg)).toBe(false);
  });

  it.each(['on', 'ON', '1', 'true'])('TRAP_GUARD=%j switches the guard on (beats YAML false), quietly', (v) => {
    const cfg = resolve(yamlOff, { TRAP_GUARD: v });
    expect(cfg.core.trap.guardOn).toBe(true);
    expect(trapWarning(cfg)).toBe(false);
  });

  it.each(['no', 'yes', ' off', 'off ', 'disabled', 'n'])('TRAP_GUARD=%j leaves the guard ON even over YAML false, with a warning', (v) => {
    const cfg = resolve(yamlOff, { TRAP_GUARD: v });
    expect(cfg.core.trap.guardOn).toBe(true);
    expect(trapWarning(cfg)).toBe(true);
  });

  it('unset or empty TRAP_GUARD: the YAML value (default true) decides', () => {
    expect(core(yamlOff).trap.guardOn).toBe(false);
    expect(core(yamlOff, { TRAP_GUARD: '' }).trap.guardOn).toBe(false);
    expect(core(yamlOn, { TRAP_GUARD: '' }).trap.guardOn).toBe(true);
    expect(core(BARE).trap.guardOn).toBe(true);
  });
});

describe('order profile (gate.md 3.5)', () => {
  it('PRETRADE_ORDER_PROFILE beats AURORA_ORDER_PROFILE and YAML', () => {
    const yaml = { pretrade: { order_profile: 'er_before_slip' } };
    const c = core(yaml, { AURORA_ORDER_PROFILE: 'er_before_slip', PRETRADE_ORDER_PROFILE: 'slip_before_er' });
    expect([c.orderProfile, c.slipFirst]).toEqual(['slip_before_er', true]);
    const d = core(yaml, { AURORA_ORDER_PROFILE: 'slip_before_er', PRETRADE_ORDER_PROFILE: 'er_before_slip' });
    expect([d.orderProfile, d.slipFirst]).toEqual(['er_before_slip', false]);
  });

  it('is case-insensitive for the decision and reported verbatim (/health label)', () => {
    const cfg = resolve(BARE, { PRETRADE_ORDER_PROFILE: 'SLIP_BEFORE_ER' });
    expect(cfg.core.slipFirst).toBe(true);
    expect(cfg.service.orderProfileLabel).toBe('SLIP_BEFORE_ER');
  });
});

describe('SPRT (gate.md 3.9)', () => {
  it('uses YAML as written, then AURORA_SPRT_* per absent key, then the code defaults', () => {
    const c = core({ sprt: { sigma: 2 } }, { AURORA_SPRT_SIGMA: '5', AURORA_SPRT_A: '3', AURORA_SPRT_MAX_OBS: '4' });
    expect([c.sprt.sigma, c.sprt.A, c.sprt.B, c.sprt.maxObs]).toEqual([2, 3, -2, 4]);
  });

  it('YAML alpha + beta replace A and B by the Wald thresholds (also over YAML A/B and ENV A/B)', () => {
    const c = core({ sprt: { alpha: 0.05, beta: 0.1, A: 1, B: -1 } }, { AURORA_SPRT_A: '7', AURORA_SPRT_B: '-7' });
    expect(c.sprt.A).toBeCloseTo(Math.log(0.9 / 0.05), 12);
    expect(c.sprt.B).toBeCloseTo(Math.log(0.1 / 0.95), 12);
    expect(c.sprt.A).toBeCloseTo(2.8904, 4);
    expect(c.sprt.B).toBeCloseTo(-2.2513, 4);
  });

  it('alpha or beta alone changes nothing', () => {
    expect([core({ sprt: { alpha: 0.05, A: 1.5 } }).sprt.A, core({ sprt: { beta: 0.1 } }).sprt.B]).toEqual([1.5, -2]);
  });

  it('AURORA_SPRT_ALPHA / AURORA_SPRT_BETA have no effect (warning)', () => {
    const cfg = resolve(BARE, { AURORA_SPRT_ALPHA: '0.05', AURORA_SPRT_BETA: '0.1' });
    expect(cfg.core.sprt).toEqual(core(BARE).sprt);
    expect(cfg.warnings.filter((w) => /AURORA_SPRT_(ALPHA|BETA) is ignored/.test(w))).toHaveLength(2);
  });

  it('AURORA_SPRT_TIMEOUT_MS is raw (default 500)', () => {
    expect([core(DEFAULTS).sprt.timeoutMs, core(DEFAULTS, { AURORA_SPRT_TIMEOUT_MS: '50' }).sprt.timeoutMs]).toEqual([500, 50]);
  });

  const sprtWarning = (cfg: AppConfig) => cfg.warnings.some((w) => w.startsWith('AURORA_SPRT_ENABLED='));
  it.each(['1', 'true', 'TRUE', 'yes', 'Yes'])('AURORA_SPRT_ENABLED=%j turns SPRT on, quietly', (v) => {
    const cfg = resolve(DEFAULTS, { AURORA_SPRT_ENABLED: v });
    expect(cfg.core.sprt.enabled).toBe(true);
    expect(sprtWarning(cfg)).toBe(false);
  });
  it.each(['0', 'false', 'no', 'off', 'OFF'])('AURORA_SPRT_ENABLED=%j turns SPRT off, quietly', (v) => {
    const cfg = resolve(DEFAULTS, { AURORA_SPRT_ENABLED: v });
    expect(cfg.core.sprt.enabled).toBe(false);
    expect(sprtWarning(cfg)).toBe(false);
  });
  it.each(['on', 'ON', 'enabled', '2', 'y'])('AURORA_SPRT_ENABLED=%j turns SPRT OFF with a warning (only 1/true/yes enable)', (v) => {
    const cfg = resolve(DEFAULTS, { AURORA_SPRT_ENABLED: v });
    expect(cfg.core.sprt.enabled).toBe(false);
    expect(sprtWarning(cfg)).toBe(true);
  });
  it('AURORA_SPRT_ENABLED unset: on; YAML sprt.enabled false is ignored with a warning', () => {
    expect(core(DEFAULTS).sprt.enabled).toBe(true);
    const cfg = resolve({ sprt: { enabled: false } });
    expect(cfg.core.sprt.enabled).toBe(true);
    expect(cfg.warnings.some((w) => /sprt\.enabled in YAML is ignored/.test(w))).toBe(true);
  });
});

describe('anti-churn (gate.md 1.7: YAML > ENV > 0)', () => {
  it('YAML 0 beats ENV (the key exists)', () => {
    expect(core({ aurora: { min_open_interval_ms: 0 } }, { AURORA_MIN_OPEN_INTERVAL_MS: '60000' }).antiChurn.minOpenIntervalMs).toBe(0);
  });
  it('the embedded defaults leave the keys absent, so the ENV applies', () => {
    expect(core(DEFAULTS, { AURORA_COOLDOWN_AFTER_CLOSE_MS: '1500' }).antiChurn).toEqual({ cooldownAfterCloseMs: 1500, minOpenIntervalMs: 0, minPositionHoldMs: 0 });
  });
  it('negative values (YAML or ENV) become 0', () => {
    expect(core({ aurora: { cooldown_after_close_ms: -5, min_open_interval_ms: -1 } }, { AURORA_MIN_POSITION_HOLD_MS: '-100' }).antiChurn).toEqual({
      cooldownAfterCloseMs: 0,
      minOpenIntervalMs: 0,
      minPositionHoldMs: 0,
    });
  });
});

describe('RiskManager (gate.md 3.8)', () => {
  it('AURORA_DD_DAY_PCT beats risk.dd_day_pct and gates.daily_dd_limit_pct', () => {
    expect(core({ risk: { dd_day_pct: 20 }, gates: { daily_dd_limit_pct: 7 } }, { AURORA_DD_DAY_PCT: '5' }).risk.ddDayPct).toBe(5);
  });
  it('gates.daily_dd_limit_pct is the fallback only when risk.dd_day_pct is absent and the gates key exists', () => {
    expect(core({ gates: { daily_dd_limit_pct: 7 } }).risk.ddDayPct).toBe(7);
    expect(core({ risk: { dd_day_pct: 12 }, gates: { daily_dd_limit_pct: 7 } }).risk.ddDayPct).toBe(12);
    // gates present, key absent: Governance defaults to 10 but the RiskManager does not take it
    const c = core({ gates: { max_concurrent_positions: 3 } });
    expect([c.risk.ddDayPct, c.governance.dailyDdLimitPct]).toEqual([100, 10]);
  });
  it('size_scale is clipped to [0, 1] (ENV or YAML)', () => {
    expect(core(BARE, { AURORA_SIZE_SCALE: '5' }).risk.sizeScale).toBe(1);
    expect(core(BARE, { AURORA_SIZE_SCALE: '-1' }).risk.sizeScale).toBe(0);
    expect(core({ risk: { size_scale: 3 } }).risk.sizeScale).toBe(1);
  });
});

describe('raw ENV without a YAML key', () => {
  it('AURORA_MODE sets the default mode (testnet when unset)', () => {
    expect([core(DEFAULTS).defaultMode, core(DEFAULTS, { AURORA_MODE: 'live' }).defaultMode]).toEqual(['testnet', 'live']);
  });
  it('AURORA_ICP_OBS: only 1/true/yes turn it on', () => {
    expect(['1', 'TRUE', 'yes', 'on', '0'].map((v) => core(DEFAULTS, { AURORA_ICP_OBS: v }).icpObs)).toEqual([true, true, true, false, false]);
  });
  it('AURORA_VOL_GUARD_STD_BPS changes nothing that decides', () => {
    expect(core(DEFAULTS, { AURORA_VOL_GUARD_STD_BPS: '1' })).toStrictEqual(core(DEFAULTS));
  });
});

describe('ops token selection (service.md 1.1, D-2, D-35)', () => {
  const T1 = 'ops-token-one-0123456789abcdef';
  const T2 = 'ops-token-two-0123456789abcdef';
  const T3 = 'yaml-token-000000000000000000000';
  const yaml = { security: { ops_token: T3 } };
  const ops = (tree: Tree, env: Env) => resolve(tree, env).service.ops;

  it('OPS_TOKEN > AURORA_OPS_TOKEN > security.ops_token', () => {
    expect(ops(yaml, { OPS_TOKEN: T1, AURORA_OPS_TOKEN: T2 })).toMatchObject({ token: T1, tokenSource: 'OPS_TOKEN', aliasUsed: false });
    expect(ops(yaml, { AURORA_OPS_TOKEN: T2 })).toMatchObject({ token: T2, tokenSource: 'AURORA_OPS_TOKEN', aliasUsed: true });
    expect(ops(yaml, {})).toMatchObject({ token: T3, tokenSource: 'security.ops_token', aliasUsed: false });
  });

  it('both ENV tokens set: OPS_TOKEN is used and a warning says the alias is ignored', () => {
    const cfg = resolve(BARE, { OPS_TOKEN: T1, AURORA_OPS_TOKEN: T2 });
    expect(cfg.warnings.some((w) => /both OPS_TOKEN and AURORA_OPS_TOKEN/.test(w))).toBe(true);
  });

  it.each([
    ['security.ops_token "change-me"', { security: { ops_token: 'change-me' } }, {}],
    ['OPS_TOKEN "change-me"', BARE, { OPS_TOKEN: 'change-me' }],
    ['OPS_TOKEN shorter than 24 chars', BARE, { OPS_TOKEN: 'short-token-12345' }],
    ['alias shorter than 24 chars', yaml, { AURORA_OPS_TOKEN: 'x'.repeat(23) }],
  ] as Array<[string, Tree, Env]>)('%s: token null (not configured) and a warning', (_label, tree, env) => {
    const cfg = resolve(tree, env);
    expect(cfg.service.ops.token).toBeNull();
    expect(cfg.service.ops.aliasUsed).toBe(false);
    expect(cfg.warnings.some((w) => /ops token from .* (placeholder|shorter than 24)/.test(w))).toBe(true);
  });

  it('exactly 24 characters is accepted', () => {
    expect(ops(BARE, { OPS_TOKEN: 'a'.repeat(24) }).token).toBe('a'.repeat(24));
  });

  it('no token anywhere: null with a warning', () => {
    const cfg = resolve(BARE, {});
    expect(cfg.service.ops.token).toBeNull();
    expect(cfg.warnings).toContain('no ops token configured (OPS_TOKEN): ops endpoints answer 401');
  });
});

describe('empty ENV values are treated as unset (service.md D-35)', () => {
  const yaml = { guards: { latency_ms_limit: 250, spread_bps_limit: 70, trap_guard_enabled: false }, risk: { dd_day_pct: 20 }, pretrade: { order_profile: 'slip_before_er' } };

  it('overlay, raw override and raw fallback variables', () => {
    const blank = { AURORA_LATENCY_MS_LIMIT: '', AURORA_SPREAD_BPS_LIMIT: '  ', AURORA_DD_DAY_PCT: '', PRETRADE_ORDER_PROFILE: '', AURORA_ORDER_PROFILE: '', TRAP_GUARD: '', AURORA_MODE: '' };
    expect(core(yaml, blank)).toStrictEqual(core(yaml));
    expect(core(BARE, { AURORA_LMAX_MS: '', AURORA_SPREAD_MAX_BPS: '', AURORA_SPRT_SIGMA: '', AURORA_MIN_OPEN_INTERVAL_MS: '' })).toStrictEqual(core(BARE));
  });

  it('OPS_TOKEN="" does not hide AURORA_OPS_TOKEN (the reference counts "" as set)', () => {
    const T = 'alias-token-0123456789abcdef';
    expect(resolve(BARE, { OPS_TOKEN: '', AURORA_OPS_TOKEN: T }).service.ops).toMatchObject({ token: T, tokenSource: 'AURORA_OPS_TOKEN', aliasUsed: true });
  });

  it('AURORA_SPRT_ENABLED="" leaves SPRT on, like unset (gate.md 3.9.1 + D-35)', () => {
    // BUG: resolve.ts tests `sprtEnv === undefined` on the raw value, so "" turns SPRT off (+ a warning)
    const cfg = resolve(DEFAULTS, { AURORA_SPRT_ENABLED: '' });
    expect(cfg.core.sprt.enabled).toBe(true);
    expect(cfg.warnings.filter((w) => w.startsWith('AURORA_SPRT_ENABLED'))).toEqual([]);
  });
});

describe('gate.md 6.D14: a warning for each ignored raw-fallback ENV variable', () => {
  // The key is present (embedded defaults / a YAML key), so the raw fallback ENV is ignored. D14: "log a
  // warning at start-up for each ignored/contradicting key". AURORA_SPREAD_MAX_BPS gets one (above).
  // BUG: the others are dropped silently.
  it('AURORA_LMAX_MS, AURORA_TRAP_THRESHOLD, AURORA_SPRT_SIGMA/A/B/MAX_OBS, anti-churn ENV shadowed by YAML', () => {
    const cases: Array<[Tree, Env]> = [
      [DEFAULTS, { AURORA_LMAX_MS: '50' }],
      [DEFAULTS, { AURORA_TRAP_THRESHOLD: '0.5' }],
      [DEFAULTS, { AURORA_SPRT_SIGMA: '2' }],
      [DEFAULTS, { AURORA_SPRT_A: '3' }],
      [DEFAULTS, { AURORA_SPRT_B: '-3' }],
      [DEFAULTS, { AURORA_SPRT_MAX_OBS: '5' }],
      [{ aurora: { min_open_interval_ms: 0 } }, { AURORA_MIN_OPEN_INTERVAL_MS: '60000' }],
    ];
    const silent = cases.filter(([tree, env]) => {
      const name = Object.keys(env)[0];
      return !resolve(tree, env).warnings.some((w) => w.includes(name));
    }).map(([, env]) => Object.keys(env)[0]);
    expect(silent).toEqual([]);
  });
});
