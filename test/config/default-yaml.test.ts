import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load as loadYaml } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { CODE_DEFAULTS, EMBEDDED_DEFAULTS } from '../../src/config/defaults.ts';
import { loadConfig } from '../../src/config/load.ts';
import { resolveConfig } from '../../src/config/resolve.ts';

/**
 * configs/default.yaml is the documented copy of the embedded default tree (src/config/defaults.ts):
 * same data, a comment for every key, and the commented-out "deliberately absent" block whose claims are
 * checked here against the resolver.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FILE = join(ROOT, 'configs', 'default.yaml');
const TEXT = readFileSync(FILE, 'utf8');
type Tree = Record<string, any>;

/** Every key path of a tree, sections included ("api", "api.host", ...); lists are leaves. */
function keyPaths(tree: Tree, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(tree)) {
    const p = prefix === '' ? k : `${prefix}.${k}`;
    out.push(p);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.push(...keyPaths(v, p));
  }
  return out;
}

/**
 * For each key line of a block-style YAML text: its dotted path -> the contiguous comment lines right
 * above it plus its inline comment.
 */
function docBlocks(text: string): Map<string, string> {
  const lines = text.split('\n');
  const stack: Array<{ indent: number; key: string }> = [];
  const out = new Map<string, string>();
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)([A-Za-z_]\w*):(\s|$)/.exec(lines[i]);
    if (!m) continue;
    const indent = m[1].length;
    while (stack.length > 0 && stack[stack.length - 1].indent >= indent) stack.pop();
    stack.push({ indent, key: m[2] });
    const comments: string[] = [];
    for (let j = i - 1; j >= 0 && /^\s*#/.test(lines[j]); j--) comments.unshift(lines[j]);
    const inline = lines[i].indexOf(' #');
    if (inline >= 0) comments.push(lines[i].slice(inline));
    out.set(stack.map((s) => s.key).join('.'), comments.join('\n'));
  }
  return out;
}

/** The YAML block written as "#| " lines (keys deliberately absent from the defaults). */
function absentBlock(text: string): Tree {
  const body = text
    .split('\n')
    .filter((l) => l.startsWith('#|'))
    .map((l) => l.slice(3))
    .join('\n');
  return loadYaml(body) as Tree;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const mentions = (text: string, word: string) => new RegExp(`(^|[^\\w.])${escape(word)}(?!\\w)`, 'm').test(text);

function merge(a: Tree, b: Tree): Tree {
  const out: Tree = structuredClone(a);
  for (const [k, v] of Object.entries(b)) {
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object' && out[k] !== null ? merge(out[k], v) : v;
  }
  return out;
}

const DEFAULTS = EMBEDDED_DEFAULTS as unknown as Tree;
const core = (tree: Tree, env: Record<string, string> = {}) => resolveConfig(tree, env, 'test').core;

describe('configs/default.yaml', () => {
  it('parses to exactly EMBEDDED_DEFAULTS', () => {
    expect(loadYaml(TEXT)).toStrictEqual(EMBEDDED_DEFAULTS);
  });

  it('has a comment naming every key (sections included) right above it or inline', () => {
    const blocks = docBlocks(TEXT);
    const undocumented = keyPaths(DEFAULTS).filter((p) => !mentions(blocks.get(p) ?? '', p));
    expect(undocumented).toEqual([]);
  });

  it("documents every leaf key's ENV status (its own comment or its section's says ENV / No ENV)", () => {
    const blocks = docBlocks(TEXT);
    const leaves = keyPaths(DEFAULTS).filter((p) => p.includes('.'));
    const missing = leaves.filter((p) => !/ENV/.test(`${blocks.get(p)}\n${blocks.get(p.split('.')[0])}`));
    expect(missing).toEqual([]);
  });

  it('mentions every ENV variable of gate.md 5.1 and the service overlays', () => {
    const names = [
      'AURORA_CONFIG', 'AURORA_CONFIG_NAME', 'AURORA_CONFIG_STRICT', 'AURORA_MODE', 'AURORA_LATENCY_MS_LIMIT', 'AURORA_LMAX_MS',
      'AURORA_LATENCY_GUARD_MS', 'AURORA_LATENCY_WINDOW_SEC', 'AURORA_COOLOFF_SEC', 'AURORA_HALT_THRESHOLD_REPEATS',
      'AURORA_SPREAD_BPS_LIMIT', 'AURORA_SPREAD_MAX_BPS', 'TRAP_GUARD', 'AURORA_TRAP_Z_THRESHOLD', 'AURORA_TRAP_CANCEL_PCTL',
      'AURORA_TRAP_WINDOW_S', 'AURORA_TRAP_LEVELS', 'AURORA_TRAP_THRESHOLD', 'AURORA_PI_MIN_BPS', 'AURORA_SLIP_ETA',
      'AURORA_ORDER_PROFILE', 'PRETRADE_ORDER_PROFILE', 'AURORA_DD_DAY_PCT', 'AURORA_MAX_CONCURRENT', 'AURORA_SIZE_SCALE',
      'AURORA_SPRT_ENABLED', 'AURORA_SPRT_SIGMA', 'AURORA_SPRT_A', 'AURORA_SPRT_B', 'AURORA_SPRT_MAX_OBS', 'AURORA_SPRT_ALPHA',
      'AURORA_SPRT_BETA', 'AURORA_SPRT_TIMEOUT_MS', 'AURORA_ICP_OBS', 'AURORA_VOL_GUARD_STD_BPS', 'AURORA_COOLDOWN_AFTER_CLOSE_MS',
      'AURORA_MIN_OPEN_INTERVAL_MS', 'AURORA_MIN_POSITION_HOLD_MS', 'OPS_TOKEN', 'AURORA_OPS_TOKEN', 'AURORA_HOST', 'AURORA_PORT',
      'AURORA_POOL_THREADS', 'AURORA_MAX_BODY_BYTES', 'AURORA_RUNNER_TOKEN', 'AURORA_SESSION_DIR', 'AURORA_LOG_LEVEL',
    ];
    expect(names.filter((n) => !mentions(TEXT, n))).toEqual([]);
  });

  it('documents the code fallback of exactly the decision keys whose fallback differs from this file', () => {
    // a YAML file that names no decision key: every step uses its own fallback
    const bare = core({ env: 'x' });
    const dflt = core(DEFAULTS);
    const differing = Object.entries({
      latencyLimitMs: [bare.latencyLimitMs, dflt.latencyLimitMs],
      spreadLimitBps: [bare.spreadLimitBps, dflt.spreadLimitBps],
      ddDayPct: [bare.risk.ddDayPct, dflt.risk.ddDayPct],
    });
    expect(differing).toEqual([
      ['latencyLimitMs', [30, 300]],
      ['spreadLimitBps', [100, 80]],
      ['ddDayPct', [100, 10]],
    ]);
    // ... and nothing else differs
    expect({ ...bare, latencyLimitMs: 0, spreadLimitBps: 0, risk: { ...bare.risk, ddDayPct: 0 } }).toEqual({
      ...dflt,
      latencyLimitMs: 0,
      spreadLimitBps: 0,
      risk: { ...dflt.risk, ddDayPct: 0 },
    });
    const blocks = docBlocks(TEXT);
    expect(blocks.get('guards.latency_ms_limit')).toMatch(/\b30 when a YAML file omits it/);
    expect(blocks.get('guards.spread_bps_limit')).toMatch(/When a YAML file omits the key:.*else 100/s);
    expect(blocks.get('risk.dd_day_pct')).toMatch(/gates\.daily_dd_limit_pct.*else 100/s);
  });

  it('AURORA_CONFIG=configs/default.yaml behaves exactly like no configuration file', () => {
    const named = loadConfig({ AURORA_CONFIG: 'configs/default.yaml' }, ROOT);
    const embedded = loadConfig({}, ROOT);
    expect(named.source).toBe(FILE);
    expect(embedded.source).toBe('default(embedded)');
    expect(named.core).toStrictEqual(embedded.core);
    expect(named.service).toStrictEqual(embedded.service);
    expect(named.warnings).toEqual(embedded.warnings);
    // the bare name finds it too
    expect(loadConfig({ AURORA_CONFIG: 'default' }, ROOT).core).toStrictEqual(embedded.core);
  });

  it('the same holds with ENV on top (the overlay applies to the file and to the embedded tree alike)', () => {
    const env = { AURORA_SPREAD_BPS_LIMIT: '55', TRAP_GUARD: 'off', AURORA_DD_DAY_PCT: '7', AURORA_MIN_OPEN_INTERVAL_MS: '500' };
    expect(loadConfig({ ...env, AURORA_CONFIG: FILE }, ROOT).core).toStrictEqual(loadConfig(env, ROOT).core);
  });

  it('the three shipped files load without a ConfigError and without warnings other than the missing ops token', () => {
    for (const name of ['default', 'prod', 'testnet']) {
      const cfg = loadConfig({ AURORA_CONFIG: `configs/${name}.yaml` }, ROOT);
      expect(cfg.source).toBe(join(ROOT, 'configs', `${name}.yaml`));
      expect(cfg.warnings).toEqual(['no ops token configured (OPS_TOKEN): ops endpoints answer 401']);
      expect(cfg.service.ops.token).toBeNull();
    }
  });
});

describe('configs/default.yaml: the keys deliberately left out ("#|" block)', () => {
  const absent = absentBlock(TEXT);

  it('lists gates, pretrade.order_profile, the anti-churn keys and sprt.alpha/beta, none of which is in the defaults', () => {
    expect(keyPaths(absent).filter((p) => p.includes('.')).sort()).toEqual(
      [
        'aurora.cooldown_after_close_ms', 'aurora.min_open_interval_ms', 'aurora.min_position_hold_ms',
        'gates.cvar_limit', 'gates.daily_dd_limit_pct', 'gates.latency_ms_limit', 'gates.max_concurrent_positions',
        'gates.reject_storm_cooldown_s', 'gates.reject_storm_min_orders', 'gates.reject_storm_pct', 'gates.spread_bps_limit',
        'gates.vol_guard_std_bps', 'pretrade.order_profile', 'sprt.alpha', 'sprt.beta',
      ].sort(),
    );
    const present = new Set(keyPaths(DEFAULTS));
    expect(keyPaths(absent).filter((p) => p.includes('.') && present.has(p))).toEqual([]);
    expect(present.has('gates') || present.has('pretrade')).toBe(false);
  });

  it('gates: the documented values are the Governance code defaults (gate.md 4.6 + reject_storm_min_orders 10)', () => {
    const g = CODE_DEFAULTS.governance;
    expect(absent.gates).toEqual({
      reject_storm_pct: g.rejectStormPct,
      reject_storm_cooldown_s: g.rejectStormCooldownS,
      reject_storm_min_orders: g.rejectStormMinOrders,
      daily_dd_limit_pct: g.dailyDdLimitPct,
      cvar_limit: g.cvarLimit,
      spread_bps_limit: g.spreadBpsLimit,
      latency_ms_limit: g.latencyMsLimit,
      vol_guard_std_bps: g.volGuardStdBps,
      max_concurrent_positions: g.maxConcurrentPositions,
    });
    expect(absent.gates).toMatchObject({ reject_storm_pct: 0.5, reject_storm_cooldown_s: 60, reject_storm_min_orders: 10, daily_dd_limit_pct: 10, spread_bps_limit: 80, latency_ms_limit: 500, vol_guard_std_bps: 300, max_concurrent_positions: 999 });
  });

  it('adding gates: unchanged would not change any decision ...', () => {
    expect(core(merge(DEFAULTS, { gates: absent.gates }))).toStrictEqual(core(DEFAULTS));
  });

  it('... but in a file without guards: it becomes the pipeline limits (D11) and the RiskManager dd fallback', () => {
    const noGuards = structuredClone(DEFAULTS);
    delete noGuards.guards;
    delete noGuards.risk.dd_day_pct;
    const c = core(merge(noGuards, { gates: absent.gates }));
    expect([c.latencyLimitMs, c.spreadLimitBps, c.risk.ddDayPct]).toEqual([500, 80, 10]);
    const without = core(noGuards);
    expect([without.latencyLimitMs, without.spreadLimitBps, without.risk.ddDayPct]).toEqual([30, 100, 100]);
  });

  it('adding pretrade.order_profile: er_before_slip changes no decision, but the key is read (validated, overlaid, overridden)', () => {
    const withProfile = merge(DEFAULTS, { pretrade: absent.pretrade });
    expect(core(withProfile)).toStrictEqual(core(DEFAULTS));
    expect(() => core(merge(DEFAULTS, { pretrade: { order_profile: 'fast' } }))).toThrow(/pretrade\.order_profile.*fast/);
    expect(core(withProfile, { AURORA_ORDER_PROFILE: 'slip_before_er' }).slipFirst).toBe(true);
    expect(core(merge(DEFAULTS, { pretrade: { order_profile: 'slip_before_er' } }), { PRETRADE_ORDER_PROFILE: 'er_before_slip' }).slipFirst).toBe(false);
  });

  it('adding the anti-churn keys (even as 0) would silently disable their ENV variables: YAML > ENV', () => {
    const env = { AURORA_COOLDOWN_AFTER_CLOSE_MS: '1000', AURORA_MIN_OPEN_INTERVAL_MS: '2000', AURORA_MIN_POSITION_HOLD_MS: '3000' };
    expect(core(DEFAULTS, env).antiChurn).toEqual({ cooldownAfterCloseMs: 1000, minOpenIntervalMs: 2000, minPositionHoldMs: 3000 });
    expect(core(merge(DEFAULTS, { aurora: absent.aurora }), env).antiChurn).toEqual({ cooldownAfterCloseMs: 0, minOpenIntervalMs: 0, minPositionHoldMs: 0 });
  });

  it('adding sprt.alpha/beta would change decisions: Wald thresholds replace A = 2 / B = -2', () => {
    expect(absent.sprt).toEqual({ alpha: 0.05, beta: 0.1 });
    const base = core(DEFAULTS).sprt;
    const wald = core(merge(DEFAULTS, { sprt: absent.sprt })).sprt;
    expect([base.A, base.B]).toEqual([2, -2]);
    expect(wald.A).toBeCloseTo(2.8904, 4);
    expect(wald.B).toBeCloseTo(-2.2513, 4);
  });
});
