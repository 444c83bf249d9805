import { resolvePaperParams } from '../exchange/paper-params.ts';
import { DEFAULT_BARS } from '../logic/bars.ts';
import { DEFAULT_BOOK } from '../logic/book.ts';
import { DEFAULT_CALIBRATION } from '../logic/calibration.ts';
import { DEFAULT_ER } from '../logic/expected-return.ts';
import { DEFAULT_EXITS } from '../logic/exits.ts';
import { DEFAULT_FEATURES } from '../logic/features.ts';
import { DEFAULT_OFI } from '../logic/ofi.ts';
import { DEFAULT_REQUEST } from '../logic/request.ts';
import { DEFAULT_SIGNAL } from '../logic/signal.ts';
import { DEFAULT_SIZING } from '../logic/sizing.ts';
import { DEFAULT_TRADE_TAPE } from '../logic/trade-tape.ts';
import { DEFAULT_TRAP } from '../logic/trap-window.ts';
import { DEFAULT_TREND } from '../logic/trend.ts';
import { DEFAULT_VOL } from '../logic/volatility.ts';
import type { RunnerConfig } from './schema.ts';

const PAPER = resolvePaperParams();

/**
 * Built-in defaults. The trading values come from the logic modules' `DEFAULT_*` (one source of
 * truth); configs/runner/default.yaml must equal this tree (test/runner/engine/config.test.ts).
 */
export const DEFAULT_RUNNER_CONFIG: RunnerConfig = {
  mode: 'replay',
  run_id: null,
  seed: 42,
  session_dir: null,
  account: { account_id: null },
  feed: { path: null, max_events: 0, max_staleness_ms: DEFAULT_BOOK.max_staleness_ms, on_invalid: 'fail', clock_offset_ms: 0 },
  gate: {
    url: 'ws://127.0.0.1:8037/ws',
    http_url: null,
    timeout_ms: 150,
    max_inflight: 8,
    startup_wait_ms: 10_000,
    connect_timeout_ms: 2000,
    ping_ms: 5000,
    reconnect_base_ms: 100,
    reconnect_max_ms: 5000,
    reconnect_reset_ms: 30_000,
    http_fallback: true,
    fail_open_in_paper: false,
    send_extras: DEFAULT_REQUEST.send_extras,
    runner_token: null,
    risk_tags: [...DEFAULT_REQUEST.risk_tags],
  },
  signal: { min_interval_ms: 250 },
  alpha: {
    weights: { ...DEFAULT_SIGNAL.weights },
    entry_threshold: DEFAULT_SIGNAL.entry_threshold,
    exit_threshold: DEFAULT_SIGNAL.exit_threshold,
    reconfirm_ticks: DEFAULT_SIGNAL.reconfirm_ticks,
    scaler_window: DEFAULT_SIGNAL.scaler_window,
    scaler_warmup: DEFAULT_SIGNAL.scaler_warmup,
    obi_levels: DEFAULT_FEATURES.obi_levels,
    tfi_window_ms: DEFAULT_FEATURES.tfi_window_ms,
  },
  sprt: { n: DEFAULT_SIGNAL.sprt_n },
  calibration: { kind: 'platt', A: DEFAULT_CALIBRATION.A, B: DEFAULT_CALIBRATION.B, file: null },
  features: {
    absorb_window_ms: DEFAULT_FEATURES.absorb_window_ms,
    sweep_window_ms: DEFAULT_FEATURES.sweep_window_ms,
    eff_spread_levels: DEFAULT_FEATURES.eff_spread_levels,
    order_size: DEFAULT_FEATURES.order_size,
    consensus_obi: DEFAULT_FEATURES.consensus_obi,
    consensus_tfi: DEFAULT_FEATURES.consensus_tfi,
    trap_flag_obi: DEFAULT_FEATURES.trap_flag_obi,
    trap_flag_tfi: DEFAULT_FEATURES.trap_flag_tfi,
    liquidity_levels: DEFAULT_FEATURES.liquidity_levels,
    tape_retention_ms: DEFAULT_TRADE_TAPE.retention_ms,
    trade_id_retention_ms: DEFAULT_TRADE_TAPE.id_retention_ms,
    vol_window_ms: DEFAULT_VOL.vol_window_ms,
    vol_sample_ms: DEFAULT_VOL.sample_ms,
    dispersion_samples: DEFAULT_VOL.dispersion_samples,
    bar_ms: DEFAULT_BARS.bar_ms,
    max_bars: DEFAULT_BARS.max_bars,
    atr_period: DEFAULT_BARS.atr_period,
    ofi_window_ms: DEFAULT_OFI.ofi_window_ms,
    trend_alpha_fast: DEFAULT_TREND.alpha_fast,
    trend_alpha_slow: DEFAULT_TREND.alpha_slow,
    obi_persist_n: DEFAULT_TREND.obi_persist_n,
    obi_persist_threshold: DEFAULT_TREND.obi_persist_threshold,
  },
  trap: { window_ms: DEFAULT_TRAP.trap_window_ms, levels: DEFAULT_TRAP.trap_levels, warmup_s: 60 },
  filters: { local_trap: 'gen2', trap_obi_threshold: 0.2, trap_tfi_threshold: 0.2, require_consensus: false, er_precheck: false },
  exits: {
    tp_atr_mult: DEFAULT_EXITS.tp_atr_mult,
    sl_atr_mult: DEFAULT_EXITS.sl_atr_mult,
    breakeven_after_R: DEFAULT_EXITS.breakeven_after_R,
    be_buffer_bps: DEFAULT_EXITS.be_buffer_bps,
    trail_atr_k: DEFAULT_EXITS.trail_atr_k,
    trail_activate_at_R: DEFAULT_EXITS.trail_activate_at_R,
    tp_levels_bps: [...DEFAULT_EXITS.tp_levels_bps],
    tp_sizes: [...DEFAULT_EXITS.tp_sizes],
    max_position_age_sec: DEFAULT_EXITS.max_position_age_sec,
    no_progress_after_sec: DEFAULT_EXITS.no_progress_after_sec,
    no_progress_eps_bps: DEFAULT_EXITS.no_progress_eps_bps,
    reversal_ticks: DEFAULT_EXITS.reversal_ticks,
    reversal_threshold: DEFAULT_EXITS.reversal_threshold,
    soft_exit: DEFAULT_EXITS.soft_exit,
    scale_in_enabled: false,
  },
  execution: {
    route: 'taker',
    post_only: true,
    cancel_after_ms: 5000,
    ack_timeout_ms: 2000,
    trades_per_minute_limit: 10,
    max_symbol_exposure_usdt: DEFAULT_SIZING.max_symbol_exposure_usdt,
    slip_fraction: DEFAULT_ER.slip_fraction,
    cooldown_after_exit_ms: 0,
    exit_retry_base_ms: 250,
    exit_retry_max_ms: 5000,
    exit_alert_after: 5,
  },
  sizing: {
    kelly_multiplier: DEFAULT_SIZING.kelly_multiplier,
    max_fraction: DEFAULT_SIZING.max_fraction,
    limits: { max_notional_usd: DEFAULT_SIZING.max_order_notional_usdt },
  },
  fees: { maker_bps: DEFAULT_ER.maker_bps, taker_bps: DEFAULT_ER.taker_bps },
  er: { min_bps: DEFAULT_ER.min_bps, max_bps: DEFAULT_ER.max_bps, pi_min_bps: DEFAULT_ER.pi_min_bps, slip_eta: DEFAULT_ER.slip_eta },
  paper: {
    seed: null,
    start_equity_usdt: PAPER.start_equity_usdt,
    leverage: PAPER.leverage,
    ack_latency_ms: PAPER.ack_latency_ms,
    fill_latency_ms: PAPER.fill_latency_ms,
    cancel_latency_ms: PAPER.cancel_latency_ms,
    jitter_ms: PAPER.jitter_ms,
    reject_prob: PAPER.reject_prob,
    rate_limit_per_s: PAPER.rate_limit_per_s,
  },
  posttrade: { queue_max: 1000, attempts: 3, retry_base_ms: 100, concurrency: 2 },
  shutdown: { flatten: true, grace_ms: 5000, max_runtime_s: 0, max_ticks: 0 },
  logging: { max_mb: 200, flush_ms: 100 },
  report: { progress_ms: 1000, path: null },
  exchange: { id: 'binanceusdm', api_key_env: 'BINANCE_API_KEY', api_secret_env: 'BINANCE_API_SECRET' },
};
