import { DEFAULT_SIZES } from '../shm/state/gate-state.ts';

/**
 * Every default of the configuration is written once, in this file (issue 12). Where a key's fallback
 * comes from when a YAML file omits it (or sets it to null) depends on its section:
 *
 * - service sections (SERVICE_SECTIONS: api, ws, pool, journal, security, logging, compat) fall back to
 *   their value in EMBEDDED_DEFAULTS, key by key (`serviceSetting` in tree.ts);
 * - decision sections (aurora, guards, gates, trap, pretrade, risk, slippage, sprt) fall back to
 *   CODE_DEFAULTS, the reference's per-step code defaults, which for some keys differ from the embedded
 *   tree (guards.latency_ms_limit 30 vs 300, guards.spread_bps_limit 100 vs 80, risk.dd_day_pct 100 vs 10);
 * - settings with no YAML key at all (ENV only): CODE_DEFAULTS for decisions, SERVICE_ENV_DEFAULTS else.
 *
 * src/config (resolve.ts and the modules it calls) writes no default value of its own;
 * test/config/fallbacks.test.ts proves it by resolving with mocked defaults.
 */

/**
 * The embedded default configuration tree: what the gate uses when no YAML file is named. Its decision
 * values are the reference's bundled `base.yaml` (gate.md 2, 5.2); the rest are AURORA's own service
 * settings. `configs/default.yaml` documents every key and must equal this tree (a test proves it).
 *
 * Note the reference's rule, kept here: a YAML file *replaces* this tree; keys of decision sections it
 * leaves out fall back to the code-level defaults of each step (CODE_DEFAULTS below), not to these values.
 * Keys of the service sections it leaves out fall back to these values.
 */
export const EMBEDDED_DEFAULTS = {
  api: { host: '127.0.0.1', port: 8037, max_body_bytes: 65536, report_cooldown_ms: false, trust_proxy: false },
  ws: { max_payload_bytes: 65536, max_backpressure_bytes: 1048576, idle_timeout_s: 120 },
  pool: { threads: null as number | null, inline_when_idle: true, inline_idle_gap_us: 50, awake_share: 32 },
  journal: {
    enabled: true,
    fsync_interval_ms: 50,
    fsync_lines: 256,
    on_write_error: 'continue',
    events_max_bytes: 104857600,
    orders_max_bytes: 209715200,
    retention_days: 7,
    gzip_level: 3,
  },
  security: { ops_token: null as string | null, allowlist: ['127.0.0.1', '::1'], runner_token: null as string | null },
  logging: { path: 'logs/events.jsonl', orders_path: 'orders.jsonl' },
  aurora: {
    latency_guard_ms: 30,
    latency_window_sec: 60,
    cooloff_base_sec: 120,
    halt_threshold_repeats: 2,
    latency_min_samples: 1,
    latency_max_samples: 8192,
  },
  guards: { spread_bps_limit: 80, latency_ms_limit: 300, vol_guard_std_bps: 250, trap_guard_enabled: true },
  trap: { window_s: 2.0, levels: 5, z_threshold: 1.64, cancel_pctl: 90, score_threshold: 0.8, min_history: 0 },
  risk: { pi_min_bps: 2.0, dd_day_pct: 10, max_concurrent: 10, size_scale: 1.0 },
  slippage: { eta_fraction_of_b: 0.3 },
  sprt: { enabled: true, sigma: 1.0, A: 2.0, B: -2.0, max_obs: 10 },
  compat: { spread_reason_in_reasons: false, reset_clears_samples: false, reset_clears_governance: true },
} as const;

/** The sections whose keys fall back to EMBEDDED_DEFAULTS (AURORA's own settings; no reference code default). */
export const SERVICE_SECTIONS = ['api', 'ws', 'pool', 'journal', 'security', 'logging', 'compat'] as const;
export type ServiceSection = (typeof SERVICE_SECTIONS)[number];

/** Each step's own fallback when its key is absent or null (gate.md 5.2 "code default"). */
export const CODE_DEFAULTS = {
  latencyLimitMs: 30,
  spreadLimitBps: 100,
  /** `aurora.*`; maxSamples (`aurora.latency_max_samples`) is the state's own window size */
  health: { thresholdMs: 30, windowSec: 60, baseCooloffSec: 120, haltRepeats: 2, minSamples: 1, maxSamples: DEFAULT_SIZES.latencySamples },
  /** `trap.*`; guardOn is `guards.trap_guard_enabled` */
  trap: { windowS: 2.0, levels: 5, zThreshold: 1.64, cancelPctl: 90, scoreThreshold: 0.8, minHistory: 0, guardOn: true },
  /** `aurora.cooldown_after_close_ms` / `min_open_interval_ms` / `min_position_hold_ms` (gate.md 1.7) */
  antiChurn: { cooldownAfterCloseMs: 0, minOpenIntervalMs: 0, minPositionHoldMs: 0 },
  orderProfile: 'er_before_slip',
  piMinBps: 2.0,
  slipEta: 0.3,
  risk: { ddDayPct: 100, maxConcurrent: 10, sizeScale: 1.0 },
  /** enabled (AURORA_SPRT_ENABLED unset) and timeoutMs (AURORA_SPRT_TIMEOUT_MS) have no YAML key */
  sprt: { enabled: true, sigma: 1.0, A: 2.0, B: -2.0, maxObs: 10, timeoutMs: 500 },
  governance: {
    rejectStormPct: 0.5,
    rejectStormCooldownS: 60,
    rejectStormMinOrders: 10,
    dailyDdLimitPct: 10,
    cvarLimit: 0,
    spreadBpsLimit: 80,
    latencyMsLimit: 500,
    volGuardStdBps: 300,
    maxConcurrentPositions: 999,
  },
  /** AURORA_MODE unset */
  mode: 'testnet',
  /** AURORA_ICP_OBS unset */
  icpObs: false,
} as const;

/** Service settings with no YAML key, when their ENV variable is unset (service.md 4.4, 5.2). */
export const SERVICE_ENV_DEFAULTS = {
  /** AURORA_SESSION_DIR unset: the server picks logs/<UTC stamp> */
  sessionDir: null as string | null,
  /** AURORA_LOG_LEVEL */
  logLevel: 'info',
  /** AURORA_VERSION, AURORA_GIT_SHA, GIT_BRANCH */
  version: 'unknown',
  gitSha: 'unknown',
  gitBranch: 'unknown',
} as const;
