import { availableParallelism } from 'node:os';
import { Compile } from 'typebox/compile';
import type { CoreConfig } from '../core/config.ts';
import { DEFAULT_SIZES, type StateSizes } from '../core/state/gate-state.ts';
import { waldThresholds } from '../core/sprt.ts';
import { ConfigTree } from '../schema/config.ts';
import { CODE_DEFAULTS } from './defaults.ts';
import { ConfigError, envBool, envFlag, envInteger, envNumber, envString, type Env } from './env.ts';

export interface JournalSettings {
  /** false only for benchmarks: decisions are then NOT journaled (a loud start-up warning says so) */
  enabled: boolean;
  fsyncIntervalMs: number;
  fsyncLines: number;
  onWriteError: 'continue' | 'fail_closed';
  eventsMaxBytes: number;
  ordersMaxBytes: number;
  retentionDays: number;
  /** zlib level of rotated archives (1 fastest .. 9 smallest) */
  gzipLevel: number;
  /** file name of the events journal (basename of logging.path if it contains "aurora_events") */
  eventsFile: string;
  /** file name of the raw post-trade log (basename of logging.orders_path) */
  ordersRawFile: string;
}

export interface OpsSettings {
  /** the one active token (service.md 1.1), or null when none usable is configured */
  token: string | null;
  tokenSource: 'OPS_TOKEN' | 'AURORA_OPS_TOKEN' | 'security.ops_token' | null;
  /** only the alias AURORA_OPS_TOKEN provided the token: journal OPS.TOKEN.ALIAS_USED once */
  aliasUsed: boolean;
  allowlist: string[];
  trustProxy: boolean;
  runnerToken: string | null;
}

export interface ServiceConfig {
  host: string;
  port: number;
  maxBodyBytes: number;
  wsMaxPayloadBytes: number;
  wsMaxBackpressureBytes: number;
  wsIdleTimeoutS: number;
  /** worker threads; 0 = decide inline on the main thread */
  poolThreads: number;
  /** with workers, decide on the main thread when the gate is quiet */
  poolInlineWhenIdle: boolean;
  /** ... quiet = nothing in flight and the previous request arrived at least this long ago, µs */
  poolInlineIdleGapUs: number;
  /** requests an awake worker may hold before a sleeping one is woken */
  poolAwakeShare: number;
  journal: JournalSettings;
  ops: OpsSettings;
  sessionDir: string | null;
  version: string;
  gitSha: string;
  gitBranch: string;
  logLevel: string;
  /** `$PRETRADE_ORDER_PROFILE or pretrade.order_profile or "er_before_slip"`, verbatim (for /health) */
  orderProfileLabel: string;
  stateSizes: StateSizes;
}

export interface AppConfig {
  core: CoreConfig;
  service: ServiceConfig;
  /** start-up warnings (ignored or contradicting keys, insecure tokens, fallbacks) */
  warnings: string[];
  /** label of the configuration source, for CONFIG.SWITCHED */
  source: string;
}

type Tree = Record<string, any>;

const treeValidator = Compile(ConfigTree);

const KNOWN_SECTIONS = new Set(Object.keys(ConfigTree.properties));
/** Top-level keys ignored without a warning (a YAML label used by the conformance vectors). */
const QUIET_SECTIONS = new Set(['env', 'name', 'version', 'description']);

/** ENV variables written into the tree before use (gate.md 5.1 "overlay"). */
const OVERLAY: ReadonlyArray<[env: string, path: string, kind: 'number' | 'int' | 'bool' | 'string']> = [
  ['AURORA_LATENCY_MS_LIMIT', 'guards.latency_ms_limit', 'number'],
  ['AURORA_SPREAD_BPS_LIMIT', 'guards.spread_bps_limit', 'number'],
  ['TRAP_GUARD', 'guards.trap_guard_enabled', 'bool'],
  ['AURORA_VOL_GUARD_STD_BPS', 'guards.vol_guard_std_bps', 'number'],
  ['AURORA_LATENCY_GUARD_MS', 'aurora.latency_guard_ms', 'number'],
  ['AURORA_LATENCY_WINDOW_SEC', 'aurora.latency_window_sec', 'number'],
  ['AURORA_COOLOFF_SEC', 'aurora.cooloff_base_sec', 'number'],
  ['AURORA_HALT_THRESHOLD_REPEATS', 'aurora.halt_threshold_repeats', 'int'],
  ['AURORA_TRAP_Z_THRESHOLD', 'trap.z_threshold', 'number'],
  ['AURORA_TRAP_CANCEL_PCTL', 'trap.cancel_pctl', 'number'],
  ['AURORA_TRAP_WINDOW_S', 'trap.window_s', 'number'],
  ['AURORA_TRAP_LEVELS', 'trap.levels', 'int'],
  ['AURORA_PI_MIN_BPS', 'risk.pi_min_bps', 'number'],
  ['AURORA_SLIP_ETA', 'slippage.eta_fraction_of_b', 'number'],
  ['AURORA_ORDER_PROFILE', 'pretrade.order_profile', 'string'],
  ['AURORA_MAX_CONCURRENT', 'risk.max_concurrent', 'int'],
  ['AURORA_SIZE_SCALE', 'risk.size_scale', 'number'],
  ['AURORA_API_HOST', 'api.host', 'string'],
  ['AURORA_API_PORT', 'api.port', 'int'],
  ['AURORA_HOST', 'api.host', 'string'],
  ['AURORA_PORT', 'api.port', 'int'],
  ['AURORA_POOL_THREADS', 'pool.threads', 'int'],
  ['AURORA_POOL_INLINE_WHEN_IDLE', 'pool.inline_when_idle', 'bool'],
  ['AURORA_POOL_INLINE_IDLE_GAP_US', 'pool.inline_idle_gap_us', 'int'],
  ['AURORA_POOL_AWAKE_SHARE', 'pool.awake_share', 'int'],
  ['AURORA_MAX_BODY_BYTES', 'api.max_body_bytes', 'int'],
];

function get(tree: Tree, path: string): unknown {
  let cur: any = tree;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[k];
  }
  return cur;
}

function set(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur: any = tree;
  for (const k of keys.slice(0, -1)) {
    if (cur[k] === null || typeof cur[k] !== 'object' || Array.isArray(cur[k])) cur[k] = {};
    cur = cur[k];
  }
  cur[keys[keys.length - 1]] = value;
}

/** A tree value that is present and not null. */
const val = <T>(v: unknown): T | undefined => (v === undefined || v === null ? undefined : (v as T));

function isNonEmptyObject(v: unknown): v is Tree {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0;
}

/**
 * Resolves the merged tree (YAML or embedded defaults) and the environment into the core and service
 * configuration, following gate.md 5.1 key by key. Throws ConfigError on any bad value.
 */
export function resolveConfig(fileTree: Tree, env: Env, source: string, startWarnings: string[] = []): AppConfig {
  const warnings = [...startWarnings];
  const tree: Tree = structuredClone(fileTree);
  const provenance = new Map<string, string>();

  for (const [name, path, kind] of OVERLAY) {
    const v =
      kind === 'number' ? envNumber(env, name) : kind === 'int' ? envInteger(env, name) : kind === 'bool' ? envBool(env, name) : envString(env, name);
    if (v === undefined) continue;
    set(tree, path, v);
    provenance.set(path, name);
  }

  if (!treeValidator.Check(tree)) {
    const seen = new Set<string>();
    const lines: string[] = [];
    for (const e of treeValidator.Errors(tree)) {
      const path = e.instancePath.slice(1).replaceAll('/', '.');
      if (seen.has(path) || e.keyword === 'anyOf') continue;
      seen.add(path);
      const from = provenance.get(path);
      const where = from ? `${from} (${path})` : path;
      lines.push(`${where} = ${JSON.stringify(get(tree, path))}: ${e.message}`);
    }
    throw new ConfigError(`invalid configuration (${source}):\n  ${lines.join('\n  ')}`);
  }

  for (const [alias, name] of [['AURORA_API_HOST', 'AURORA_HOST'], ['AURORA_API_PORT', 'AURORA_PORT']]) {
    if (envString(env, alias) !== undefined) warnings.push(`${alias} is the reference's name: prefer ${name} (which wins when both are set)`);
  }
  for (const ignored of ['AURORA_ACK_TTL_S', 'AURORA_ACK_SCAN_PERIOD_S', 'TRADING_MAX_LATENCY_MS']) {
    if (envString(env, ignored) !== undefined) warnings.push(`${ignored} is read by nothing in AURORA (the reference's ack tracker and /predict are not part of the gate)`);
  }
  const unknown = Object.keys(tree).filter((k) => !KNOWN_SECTIONS.has(k) && !QUIET_SECTIONS.has(k));
  if (unknown.length > 0) warnings.push(`unknown configuration sections ignored: ${unknown.join(', ')}`);

  const mode = envString(env, 'AURORA_MODE') ?? CODE_DEFAULTS.mode;
  if (mode.toLowerCase() === 'shadow') throw new ConfigError('AURORA_MODE=shadow is not supported (the reference refuses to start too)');

  const core = resolveCore(tree, env, mode, warnings);
  const service = resolveService(tree, env, core, warnings);
  return { core, service, warnings, source };
}

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

/**
 * Raw-fallback variables are parsed even when their key is present (a typo is fatal, never silently
 * ignored) and each one the configuration shadows gets a start-up warning (gate.md D14).
 */
function checkRawFallbacks(tree: Tree, env: Env, warnings: string[]): void {
  const guards: Tree = isNonEmptyObject(tree.guards) ? tree.guards : isNonEmptyObject(tree.gates) ? tree.gates : {};
  for (const [name, kind, path] of RAW_FALLBACKS) {
    const v = kind === 'int' ? envInteger(env, name) : envNumber(env, name);
    if (v === undefined) continue;
    const [section, key] = path.split('.');
    const holder: Tree = section === 'guards' ? guards : (tree[section] ?? {});
    if (val(holder[key]) !== undefined) warnings.push(`${name}=${v} is ignored: the configuration sets ${path} (YAML wins for this key)`);
  }
}

function resolveCore(tree: Tree, env: Env, mode: string, warnings: string[]): CoreConfig {
  checkRawFallbacks(tree, env, warnings);
  // guards* = guards if a non-empty object, else gates (D11: an ENV overlay can create guards)
  const guards: Tree = isNonEmptyObject(tree.guards) ? tree.guards : isNonEmptyObject(tree.gates) ? tree.gates : {};
  const gates: Tree = isNonEmptyObject(tree.gates) ? tree.gates : {};
  const aurora: Tree = tree.aurora ?? {};
  const trapT: Tree = tree.trap ?? {};
  const risk: Tree = tree.risk ?? {};
  const sprtT: Tree = tree.sprt ?? {};
  const compat: Tree = tree.compat ?? {};
  const C = CODE_DEFAULTS;

  const latencyLimitMs = val<number>(guards.latency_ms_limit) ?? envNumber(env, 'AURORA_LMAX_MS') ?? C.latencyLimitMs;

  // spread: the key's presence decides (null -> 100); only when absent do the raw aliases count
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
  const enabledDefault = val<boolean>(guards.trap_guard_enabled) ?? true;
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
  const sprtEnabled = sprtEnv === undefined || ['1', 'true', 'yes'].includes(sprtEnv.toLowerCase());
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

  const antiChurnMs = (key: string, envName: string) => {
    const v = val<number>(aurora[key]) ?? envNumber(env, envName) ?? 0;
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
    icpObs: icpEnv !== undefined && ['1', 'true', 'yes'].includes(icpEnv.toLowerCase()),
    governance,
    antiChurn: {
      cooldownAfterCloseMs: antiChurnMs('cooldown_after_close_ms', 'AURORA_COOLDOWN_AFTER_CLOSE_MS'),
      minOpenIntervalMs: antiChurnMs('min_open_interval_ms', 'AURORA_MIN_OPEN_INTERVAL_MS'),
      minPositionHoldMs: antiChurnMs('min_position_hold_ms', 'AURORA_MIN_POSITION_HOLD_MS'),
    },
    defaultMode: mode,
    compat: {
      spreadReasonInReasons: val<boolean>(compat.spread_reason_in_reasons) ?? false,
      reportCooldownMs: val<boolean>(tree.api?.report_cooldown_ms) ?? false,
      resetClearsSamples: val<boolean>(compat.reset_clears_samples) ?? false,
      resetClearsGovernance: val<boolean>(compat.reset_clears_governance) ?? true,
    },
    risk: { ddDayPct, maxConcurrent, sizeScale },
  };
}

const PLACEHOLDER_TOKENS = new Set(['change-me', 'changeme', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx']);
export const MIN_TOKEN_LENGTH = 24;

/** Why a token is unusable, or null when it is fine (service.md 1.1, D-2/D-24). */
export function tokenProblem(token: string): string | null {
  if (PLACEHOLDER_TOKENS.has(token.toLowerCase())) return 'is a known placeholder';
  if (token.length < MIN_TOKEN_LENGTH) return `is shorter than ${MIN_TOKEN_LENGTH} characters`;
  // printable ASCII only: other characters do not survive an HTTP header byte for byte (a lock-out)
  if (/[^\x21-\x7e]/.test(token)) return 'contains whitespace, control or non-ASCII characters';
  return null;
}

/**
 * A token as logs and the journal may show it: `****` + its last 4 characters (OPS.TOKEN_ROTATE
 * `token_mask`, service.md 1.2; the ops CLI's --verbose). Shorter than 8 characters: `****` only, so
 * at most half of a (necessarily invalid) short token is ever shown.
 */
export function maskToken(token: string): string {
  return token.length >= 8 ? `****${token.slice(-4)}` : '****';
}

function resolveService(tree: Tree, env: Env, core: CoreConfig, warnings: string[]): ServiceConfig {
  const api: Tree = tree.api ?? {};
  const ws: Tree = tree.ws ?? {};
  const journal: Tree = tree.journal ?? {};
  const security: Tree = tree.security ?? {};
  const logging: Tree = tree.logging ?? {};
  const aurora: Tree = tree.aurora ?? {};

  // one active token: OPS_TOKEN, then the alias AURORA_OPS_TOKEN, then security.ops_token
  const candidates: Array<[OpsSettings['tokenSource'], string | undefined]> = [
    ['OPS_TOKEN', envString(env, 'OPS_TOKEN')],
    ['AURORA_OPS_TOKEN', envString(env, 'AURORA_OPS_TOKEN')],
    ['security.ops_token', val<string>(security.ops_token)?.trim() || undefined],
  ];
  let token: string | null = null;
  let tokenSource: OpsSettings['tokenSource'] = null;
  for (const [source, value] of candidates) {
    if (value === undefined) continue;
    const problem = tokenProblem(value);
    if (problem !== null) {
      warnings.push(`ops token from ${source} ${problem}: ops endpoints stay disabled (401) until a usable token is set`);
      break;
    }
    token = value;
    tokenSource = source;
    break;
  }
  if (token === null && candidates.every(([, v]) => v === undefined)) {
    warnings.push('no ops token configured (OPS_TOKEN): ops endpoints answer 401');
  }
  if (tokenSource === 'AURORA_OPS_TOKEN') warnings.push('AURORA_OPS_TOKEN is a deprecated alias: set OPS_TOKEN instead');
  if (envString(env, 'OPS_TOKEN') !== undefined && envString(env, 'AURORA_OPS_TOKEN') !== undefined) {
    warnings.push('both OPS_TOKEN and AURORA_OPS_TOKEN are set: OPS_TOKEN is used, the alias is ignored');
  }

  // removed (issue 12, docs/decisions.md): uWebSockets.js limits request headers itself, and checking the
  // size per request in JavaScript cost ~0.75 µs of main-thread time per request
  if (api.max_header_bytes !== undefined && api.max_header_bytes !== null) {
    warnings.push('api.max_header_bytes is ignored (removed): uWebSockets.js limits request headers itself (docs/decisions.md)');
  }

  const cores = availableParallelism();
  const journalEnabled = envFlag(env, 'AURORA_JOURNAL_ENABLED') ?? val<boolean>(journal.enabled) ?? true;
  if (!journalEnabled) warnings.push('journal.enabled is false: decisions are NOT journaled (benchmark mode; never run a trading session like this)');
  const eventsBase = basename(val<string>(logging.path) ?? 'logs/events.jsonl');
  const logLevel = envString(env, 'AURORA_LOG_LEVEL') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(`AURORA_LOG_LEVEL=${JSON.stringify(logLevel)}: must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  return {
    host: val<string>(api.host) ?? '127.0.0.1',
    port: val<number>(api.port) ?? 8037,
    maxBodyBytes: val<number>(api.max_body_bytes) ?? 65536,
    wsMaxPayloadBytes: val<number>(ws.max_payload_bytes) ?? 65536,
    wsMaxBackpressureBytes: val<number>(ws.max_backpressure_bytes) ?? 1048576,
    wsIdleTimeoutS: val<number>(ws.idle_timeout_s) ?? 120,
    poolThreads: val<number>(tree.pool?.threads) ?? cores,
    poolInlineWhenIdle: val<boolean>(tree.pool?.inline_when_idle) ?? true,
    poolInlineIdleGapUs: val<number>(tree.pool?.inline_idle_gap_us) ?? 50,
    poolAwakeShare: val<number>(tree.pool?.awake_share) ?? 32,
    journal: {
      enabled: journalEnabled,
      fsyncIntervalMs: val<number>(journal.fsync_interval_ms) ?? 50,
      fsyncLines: val<number>(journal.fsync_lines) ?? 256,
      onWriteError: val<'continue' | 'fail_closed'>(journal.on_write_error) ?? 'continue',
      eventsMaxBytes: val<number>(journal.events_max_bytes) ?? 100 * 1024 * 1024,
      ordersMaxBytes: val<number>(journal.orders_max_bytes) ?? 200 * 1024 * 1024,
      retentionDays: val<number>(journal.retention_days) ?? 7,
      gzipLevel: val<number>(journal.gzip_level) ?? 3,
      eventsFile: eventsBase.includes('aurora_events') ? eventsBase : 'aurora_events.jsonl',
      ordersRawFile: basename(val<string>(logging.orders_path) ?? 'orders.jsonl') || 'orders.jsonl',
    },
    ops: {
      token,
      tokenSource,
      aliasUsed: tokenSource === 'AURORA_OPS_TOKEN',
      allowlist: val<string[]>(security.allowlist) ?? ['127.0.0.1', '::1'],
      trustProxy: val<boolean>(api.trust_proxy) ?? false,
      runnerToken: envString(env, 'AURORA_RUNNER_TOKEN') ?? val<string>(security.runner_token) ?? null,
    },
    sessionDir: envString(env, 'AURORA_SESSION_DIR') ?? null,
    version: envString(env, 'AURORA_VERSION') ?? 'unknown',
    gitSha: envString(env, 'AURORA_GIT_SHA') ?? 'unknown',
    gitBranch: envString(env, 'GIT_BRANCH') ?? 'unknown',
    logLevel,
    orderProfileLabel: core.orderProfile,
    stateSizes: {
      ...DEFAULT_SIZES,
      latencySamples: val<number>(aurora.latency_max_samples) ?? DEFAULT_SIZES.latencySamples,
      warnSlots: Math.max(DEFAULT_SIZES.warnSlots, core.health.haltRepeats),
    },
  };
}

function basename(p: string): string {
  const parts = p.split(/[\\/]/);
  return parts[parts.length - 1];
}

export { ConfigError, envFlag };
