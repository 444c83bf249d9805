import type { CoreConfig } from '../core/config.ts';
import { resolveControls } from '../core/controls/config.ts';
import { waldThresholds } from '../core/sprt.ts';
import { CODE_DEFAULTS } from './defaults.ts';
import { ConfigError, envInteger, envNumber, envString, type Env } from './env.ts';
import { isNonEmptyObject, pipelineGuards, serviceSetting, val, type Tree } from './tree.ts';

/**
 * The decision core's settings (gate.md 5.1, key by key). Every key of a decision section that the tree
 * leaves out (or sets to null) falls back to CODE_DEFAULTS, as in the reference, never to the embedded
 * tree; the compat switches (a service section) fall back to EMBEDDED_DEFAULTS (src/config/defaults.ts).
 */

/** ENV variables read only when their YAML key is absent (gate.md 5.1 "raw fallback"): name, kind, key. */
const RAW_FALLBACKS: ReadonlyArray<[string, 'number' | 'int', string]> = [
  ['AURORA_LMAX_MS', 'number', 'guards.latency_ms_limit'],
  ['AURORA_TRAP_THRESHOLD', 'number', 'trap.score_threshold'],
  ['AURORA_SPRT_SIGMA', 'number', 'sprt.sigma'],
  ['AURORA_SPRT_A', 'number', 'sprt.A'],
  ['AURORA_SPRT_B', 'number', 'sprt.B'],
  ['AURORA_SPRT_MAX_OBS', 'int', 'sprt.max_obs'],
  ['AURORA_COOLDOWN_AFTER_CLOSE_MS', 'number', 'aurora.cooldown_after_close_ms'],
  ['AURORA_MIN_OPEN_INTERVAL_MS', 'number', 'aurora.min_open_interval_ms'],
  ['AURORA_MIN_POSITION_HOLD_MS', 'number', 'aurora.min_position_hold_ms'],
];

/** 1/true/yes (any case): the reference's reading of its raw boolean switches. */
const isOn = (s: string) => ['1', 'true', 'yes'].includes(s.toLowerCase());

/**
 * Raw-fallback variables are parsed even when their key is present (a typo is fatal, never silently
 * ignored) and each one the configuration shadows gets a start-up warning (gate.md D14).
 */
function checkRawFallbacks(tree: Tree, env: Env, warnings: string[]): void {
  const guards = pipelineGuards(tree);
  for (const [name, kind, path] of RAW_FALLBACKS) {
    const v = kind === 'int' ? envInteger(env, name) : envNumber(env, name);
    if (v === undefined) continue;
    const [section, key] = path.split('.');
    const holder: Tree = section === 'guards' ? guards : (tree[section] ?? {});
    if (val(holder[key]) !== undefined) warnings.push(`${name}=${v} is ignored: the configuration sets ${path} (YAML wins for this key)`);
  }
}

export function resolveCore(tree: Tree, env: Env, mode: string, warnings: string[]): CoreConfig {
  checkRawFallbacks(tree, env, warnings);
  const guards = pipelineGuards(tree);
  const gates: Tree = isNonEmptyObject(tree.gates) ? tree.gates : {};
  const aurora: Tree = tree.aurora ?? {};
  const trapT: Tree = tree.trap ?? {};
  const risk: Tree = tree.risk ?? {};
  const sprtT: Tree = tree.sprt ?? {};
  const C = CODE_DEFAULTS;

  const latencyLimitMs = val<number>(guards.latency_ms_limit) ?? envNumber(env, 'AURORA_LMAX_MS') ?? C.latencyLimitMs;

  // spread: the key's presence decides (null -> the code default); only when absent do the raw aliases count
  let spreadLimitBps: number;
  if ('spread_bps_limit' in guards) {
    spreadLimitBps = val<number>(guards.spread_bps_limit) ?? C.spreadLimitBps;
    if (envString(env, 'AURORA_SPREAD_MAX_BPS') !== undefined && envString(env, 'AURORA_SPREAD_BPS_LIMIT') === undefined) {
      warnings.push('AURORA_SPREAD_MAX_BPS is ignored: the configuration has spread_bps_limit (use AURORA_SPREAD_BPS_LIMIT)');
    }
  } else {
    spreadLimitBps = envNumber(env, 'AURORA_SPREAD_BPS_LIMIT') ?? envNumber(env, 'AURORA_SPREAD_MAX_BPS') ?? C.spreadLimitBps;
  }
  if (envString(env, 'AURORA_SPREAD_MAX_BPS') !== undefined) warnings.push('AURORA_SPREAD_MAX_BPS is a deprecated alias of AURORA_SPREAD_BPS_LIMIT');

  // TRAP switch: the raw TRAP_GUARD reading decides; only exact off/0/false disable (D14)
  const enabledDefault = val<boolean>(guards.trap_guard_enabled) ?? C.trap.guardOn;
  const rawSwitch = env.TRAP_GUARD;
  const sw = rawSwitch !== undefined && rawSwitch !== '' ? rawSwitch.toLowerCase() : enabledDefault ? 'on' : 'off';
  const guardOn = !(sw === 'off' || sw === '0' || sw === 'false');
  if (rawSwitch !== undefined && rawSwitch !== '' && !['on', 'off', '1', '0', 'true', 'false'].includes(rawSwitch.toLowerCase())) {
    warnings.push(`TRAP_GUARD=${JSON.stringify(rawSwitch)} leaves the TRAP guard ON (only off/0/false disable it)`);
  }

  // order profile: PRETRADE_ORDER_PROFILE (raw) beats pretrade.order_profile (+AURORA_ORDER_PROFILE)
  const profile = envString(env, 'PRETRADE_ORDER_PROFILE') ?? val<string>(tree.pretrade?.order_profile) ?? C.orderProfile;
  const p = profile.toLowerCase();
  if (p !== 'er_before_slip' && p !== 'slip_before_er') {
    const from = envString(env, 'PRETRADE_ORDER_PROFILE') !== undefined ? 'PRETRADE_ORDER_PROFILE' : 'pretrade.order_profile';
    throw new ConfigError(`${from} = ${JSON.stringify(profile)}: must be er_before_slip or slip_before_er`);
  }

  // SPRT: YAML as written (no overlay), then raw ENV per absent key (D14); enabled only via ENV
  const sprtEnv = envString(env, 'AURORA_SPRT_ENABLED');
  const sprtEnabled = sprtEnv === undefined ? C.sprt.enabled : isOn(sprtEnv);
  if (sprtEnv !== undefined && !sprtEnabled && !['0', 'false', 'no', 'off'].includes(sprtEnv.toLowerCase())) {
    warnings.push(`AURORA_SPRT_ENABLED=${JSON.stringify(sprtEnv)} turns SPRT OFF (only 1/true/yes enable it)`);
  }
  if (sprtT.enabled === false) warnings.push('sprt.enabled in YAML is ignored (as in the reference): use AURORA_SPRT_ENABLED');
  for (const n of ['AURORA_SPRT_ALPHA', 'AURORA_SPRT_BETA']) if (envString(env, n) !== undefined) warnings.push(`${n} is ignored (set sprt.alpha / sprt.beta in YAML)`);
  let A = val<number>(sprtT.A) ?? envNumber(env, 'AURORA_SPRT_A') ?? C.sprt.A;
  let B = val<number>(sprtT.B) ?? envNumber(env, 'AURORA_SPRT_B') ?? C.sprt.B;
  const alpha = val<number>(sprtT.alpha);
  const beta = val<number>(sprtT.beta);
  if (alpha !== undefined && beta !== undefined) ({ A, B } = waldThresholds(alpha, beta));
  const sigma = val<number>(sprtT.sigma) ?? envNumber(env, 'AURORA_SPRT_SIGMA') ?? C.sprt.sigma;
  if (!(sigma > 0)) throw new ConfigError(`AURORA_SPRT_SIGMA = ${sigma}: must be > 0 (sigma 0 divides by zero, D6)`);
  const maxObs = val<number>(sprtT.max_obs) ?? envInteger(env, 'AURORA_SPRT_MAX_OBS') ?? C.sprt.maxObs;
  if (!(maxObs >= 1)) throw new ConfigError(`AURORA_SPRT_MAX_OBS = ${maxObs}: must be >= 1`);
  const timeoutMs = envInteger(env, 'AURORA_SPRT_TIMEOUT_MS') ?? C.sprt.timeoutMs;
  if (timeoutMs < 0) throw new ConfigError(`AURORA_SPRT_TIMEOUT_MS = ${timeoutMs}: must be >= 0`);

  // RiskManager: raw ENV beats YAML; dd falls back to gates.daily_dd_limit_pct when that key exists
  const ddDayPct =
    envNumber(env, 'AURORA_DD_DAY_PCT') ??
    val<number>(risk.dd_day_pct) ??
    ('daily_dd_limit_pct' in gates ? val<number>(gates.daily_dd_limit_pct) : undefined) ??
    C.risk.ddDayPct;
  if (!(ddDayPct > 0 && ddDayPct <= 100)) throw new ConfigError(`risk.dd_day_pct / AURORA_DD_DAY_PCT = ${ddDayPct}: must be in (0, 100]`);
  const maxConcurrent = val<number>(risk.max_concurrent) ?? C.risk.maxConcurrent;
  const sizeScale = Math.min(1, Math.max(0, val<number>(risk.size_scale) ?? C.risk.sizeScale));

  // anti-churn: YAML > raw ENV > code default; negative values count as 0 (gate.md 1.7)
  const antiChurnMs = (key: string, envName: string, fallback: number) => {
    const v = val<number>(aurora[key]) ?? envNumber(env, envName) ?? fallback;
    return v > 0 ? v : 0;
  };

  const H = C.health;
  const health = {
    thresholdMs: val<number>(aurora.latency_guard_ms) ?? H.thresholdMs,
    windowSec: val<number>(aurora.latency_window_sec) ?? H.windowSec,
    baseCooloffSec: val<number>(aurora.cooloff_base_sec) ?? H.baseCooloffSec,
    haltRepeats: val<number>(aurora.halt_threshold_repeats) ?? H.haltRepeats,
    minSamples: val<number>(aurora.latency_min_samples) ?? H.minSamples,
  };

  const G = C.governance;
  const governance = {
    rejectStormPct: val<number>(gates.reject_storm_pct) ?? G.rejectStormPct,
    rejectStormCooldownS: val<number>(gates.reject_storm_cooldown_s) ?? G.rejectStormCooldownS,
    rejectStormMinOrders: val<number>(gates.reject_storm_min_orders) ?? G.rejectStormMinOrders,
    dailyDdLimitPct: val<number>(gates.daily_dd_limit_pct) ?? G.dailyDdLimitPct,
    cvarLimit: val<number>(gates.cvar_limit) ?? G.cvarLimit,
    spreadBpsLimit: val<number>(gates.spread_bps_limit) ?? G.spreadBpsLimit,
    latencyMsLimit: val<number>(gates.latency_ms_limit) ?? G.latencyMsLimit,
    volGuardStdBps: val<number>(gates.vol_guard_std_bps) ?? G.volGuardStdBps,
    maxConcurrentPositions: val<number>(gates.max_concurrent_positions) ?? G.maxConcurrentPositions,
  };
  if ('cvar_alpha' in gates) warnings.push('gates.cvar_alpha is read and never used (as in the reference)');

  const icpEnv = envString(env, 'AURORA_ICP_OBS');
  const AC = C.antiChurn;
  return {
    latencyLimitMs,
    health,
    trap: {
      windowS: val<number>(trapT.window_s) ?? C.trap.windowS,
      levels: val<number>(trapT.levels) ?? C.trap.levels,
      zThreshold: val<number>(trapT.z_threshold) ?? C.trap.zThreshold,
      cancelPctl: Math.trunc(val<number>(trapT.cancel_pctl) ?? C.trap.cancelPctl),
      scoreThreshold: val<number>(trapT.score_threshold) ?? envNumber(env, 'AURORA_TRAP_THRESHOLD') ?? C.trap.scoreThreshold,
      guardOn,
      minHistory: val<number>(trapT.min_history) ?? C.trap.minHistory,
    },
    orderProfile: profile,
    slipFirst: p === 'slip_before_er',
    piMinBps: val<number>(risk.pi_min_bps) ?? C.piMinBps,
    slipEta: val<number>(tree.slippage?.eta_fraction_of_b) ?? C.slipEta,
    sprt: { enabled: sprtEnabled, sigma, A, B, maxObs, timeoutMs },
    spreadLimitBps,
    icpObs: icpEnv === undefined ? C.icpObs : isOn(icpEnv),
    governance,
    antiChurn: {
      cooldownAfterCloseMs: antiChurnMs('cooldown_after_close_ms', 'AURORA_COOLDOWN_AFTER_CLOSE_MS', AC.cooldownAfterCloseMs),
      minOpenIntervalMs: antiChurnMs('min_open_interval_ms', 'AURORA_MIN_OPEN_INTERVAL_MS', AC.minOpenIntervalMs),
      minPositionHoldMs: antiChurnMs('min_position_hold_ms', 'AURORA_MIN_POSITION_HOLD_MS', AC.minPositionHoldMs),
    },
    defaultMode: mode,
    compat: {
      spreadReasonInReasons: serviceSetting(tree, 'compat', 'spread_reason_in_reasons'),
      reportCooldownMs: serviceSetting(tree, 'api', 'report_cooldown_ms'),
      resetClearsSamples: serviceSetting(tree, 'compat', 'reset_clears_samples'),
      resetClearsGovernance: serviceSetting(tree, 'compat', 'reset_clears_governance'),
    },
    risk: { ddDayPct, maxConcurrent, sizeScale },
    // desk controls (controls.md §2): AURORA_CONTROLS_<KEY> overlay, schema, semantic checks; every bad
    // value a ConfigError naming the key (and the variable). No section: NO_CONTROLS (parity).
    controls: resolveControls(tree.controls, env),
  };
}
