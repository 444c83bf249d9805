/**
 * The embedded default configuration tree: what the gate uses when no YAML file is named. Its decision
 * values are the reference's bundled `base.yaml` (gate.md 2, 5.2); the rest are AURORA's own service
 * settings. `configs/default.yaml` documents every key and must equal this tree (a test proves it).
 *
 * Note the reference's rule, kept here: a YAML file *replaces* this tree; keys it leaves out fall back to
 * the code-level defaults of each step (CODE_DEFAULTS below), not to these values.
 */
export const EMBEDDED_DEFAULTS = {
  api: { host: '127.0.0.1', port: 8037, max_body_bytes: 65536, report_cooldown_ms: false, trust_proxy: false },
  ws: { max_payload_bytes: 65536, max_backpressure_bytes: 1048576, idle_timeout_s: 120 },
  pool: { threads: null, inline_when_idle: true, inline_idle_gap_us: 50, awake_share: 32 },
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
  security: { ops_token: null, allowlist: ['127.0.0.1', '::1'], runner_token: null },
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

/** Each step's own fallback when its key is absent or null (gate.md 5.2 "code default"). */
export const CODE_DEFAULTS = {
  latencyLimitMs: 30,
  spreadLimitBps: 100,
  health: { thresholdMs: 30, windowSec: 60, baseCooloffSec: 120, haltRepeats: 2, minSamples: 1, maxSamples: 8192 },
  trap: { windowS: 2.0, levels: 5, zThreshold: 1.64, cancelPctl: 90, scoreThreshold: 0.8, minHistory: 0 },
  orderProfile: 'er_before_slip',
  piMinBps: 2.0,
  slipEta: 0.3,
  risk: { ddDayPct: 100, maxConcurrent: 10, sizeScale: 1.0 },
  sprt: { sigma: 1.0, A: 2.0, B: -2.0, maxObs: 10, timeoutMs: 500 },
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
  mode: 'testnet',
} as const;
