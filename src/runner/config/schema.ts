import Type, { type Static, type TSchema } from 'typebox';

/**
 * The runner's configuration tree (docs/runner.md "Configuration"; every key is documented in
 * configs/runner/default.yaml). Objects are closed: the loader reports an unknown key by name before
 * this schema is checked, and the schema then checks types and ranges.
 */

const Obj = <P extends Record<string, TSchema>>(props: P) => Type.Object(props, { additionalProperties: false });
const Num = (o: { minimum?: number; maximum?: number; exclusiveMinimum?: number } = {}) => Type.Number(o);
const NonNeg = () => Type.Number({ minimum: 0 });
const Pos = () => Type.Number({ exclusiveMinimum: 0 });
const Int = (o: { minimum?: number; maximum?: number } = {}) => Type.Integer(o);
const Prob = () => Type.Number({ minimum: 0, maximum: 1 });
const NullableString = () => Type.Union([Type.String(), Type.Null()], { description: 'a string or null' });
/** The description error messages show for a closed set of strings. */
const oneOf = (...values: string[]) => ({ description: `one of ${values.join(', ')}` });

export const RunnerConfigSchema = Obj({
  mode: Type.Union([Type.Literal('replay'), Type.Literal('paper'), Type.Literal('testnet'), Type.Literal('live')], oneOf('replay', 'paper', 'testnet', 'live')),
  run_id: Type.Union([Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), Type.Null()]),
  seed: Int({ minimum: 0 }),
  session_dir: NullableString(),
  // controls.md §1: the account the gate's limits apply to (≤ 64 characters); null sends "default"
  account: Obj({ account_id: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()], { description: 'a string of 1..64 characters or null' }) }),
  feed: Obj({
    path: NullableString(),
    max_events: Int({ minimum: 0 }),
    max_staleness_ms: Pos(),
    on_invalid: Type.Union([Type.Literal('fail'), Type.Literal('skip')], oneOf('fail', 'skip')),
    clock_offset_ms: Num(),
  }),
  gate: Obj({
    url: Type.String({ minLength: 1 }),
    http_url: NullableString(),
    timeout_ms: Pos(),
    max_inflight: Int({ minimum: 1, maximum: 1024 }),
    startup_wait_ms: NonNeg(),
    connect_timeout_ms: Pos(),
    ping_ms: NonNeg(),
    reconnect_base_ms: Pos(),
    reconnect_max_ms: Pos(),
    reconnect_reset_ms: NonNeg(),
    http_fallback: Type.Boolean(),
    fail_open_in_paper: Type.Boolean(),
    send_extras: Type.Boolean(),
    runner_token: NullableString(),
    risk_tags: Type.Array(Type.String(), { maxItems: 32 }),
  }),
  signal: Obj({ min_interval_ms: NonNeg() }),
  alpha: Obj({
    weights: Obj({ OBI: Num(), TFI: Num(), ABSORB: Num(), MICRO_BIAS: Num(), OFI: Num(), TREND_ALIGN: Num() }),
    entry_threshold: Prob(),
    exit_threshold: Prob(),
    reconfirm_ticks: Int({ minimum: 1, maximum: 1000 }),
    scaler_window: Int({ minimum: 1, maximum: 100_000 }),
    scaler_warmup: Int({ minimum: 0, maximum: 100_000 }),
    obi_levels: Int({ minimum: 1, maximum: 50 }),
    tfi_window_ms: Pos(),
  }),
  sprt: Obj({ n: Int({ minimum: 0, maximum: 1000 }) }),
  calibration: Obj({
    kind: Type.Union([Type.Literal('platt'), Type.Literal('isotonic')], oneOf('platt', 'isotonic')),
    A: Num(),
    B: Num(),
    file: NullableString(),
  }),
  features: Obj({
    absorb_window_ms: Pos(),
    sweep_window_ms: Pos(),
    eff_spread_levels: Int({ minimum: 1, maximum: 50 }),
    order_size: Pos(),
    consensus_obi: Prob(),
    consensus_tfi: Prob(),
    trap_flag_obi: Prob(),
    trap_flag_tfi: Prob(),
    liquidity_levels: Int({ minimum: 1, maximum: 50 }),
    tape_retention_ms: Pos(),
    trade_id_retention_ms: Pos(),
    vol_window_ms: Pos(),
    vol_sample_ms: Pos(),
    dispersion_samples: Int({ minimum: 2, maximum: 100_000 }),
    bar_ms: Pos(),
    max_bars: Int({ minimum: 2, maximum: 100_000 }),
    atr_period: Int({ minimum: 1, maximum: 1000 }),
    ofi_window_ms: Pos(),
    trend_alpha_fast: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
    trend_alpha_slow: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
    obi_persist_n: Int({ minimum: 1, maximum: 1000 }),
    obi_persist_threshold: Prob(),
  }),
  trap: Obj({
    window_ms: Pos(),
    levels: Int({ minimum: 1, maximum: 50 }),
    warmup_s: NonNeg(),
  }),
  filters: Obj({
    local_trap: Type.Union([Type.Literal('off'), Type.Literal('gen1'), Type.Literal('gen2')], oneOf('off', 'gen1', 'gen2')),
    trap_obi_threshold: Prob(),
    trap_tfi_threshold: Prob(),
    require_consensus: Type.Boolean(),
    er_precheck: Type.Boolean(),
  }),
  exits: Obj({
    tp_atr_mult: Pos(),
    sl_atr_mult: Pos(),
    breakeven_after_R: NonNeg(),
    be_buffer_bps: NonNeg(),
    trail_atr_k: Pos(),
    trail_activate_at_R: NonNeg(),
    tp_levels_bps: Type.Array(Pos(), { maxItems: 20 }),
    tp_sizes: Type.Array(Prob(), { maxItems: 20 }),
    max_position_age_sec: Pos(),
    no_progress_after_sec: Pos(),
    no_progress_eps_bps: NonNeg(),
    reversal_ticks: Int({ minimum: 0, maximum: 1000 }),
    reversal_threshold: Prob(),
    soft_exit: Type.Boolean(),
    scale_in_enabled: Type.Literal(false),
  }),
  execution: Obj({
    route: Type.Union([Type.Literal('taker'), Type.Literal('maker')], oneOf('taker', 'maker')),
    post_only: Type.Boolean(),
    cancel_after_ms: Pos(),
    ack_timeout_ms: Pos(),
    trades_per_minute_limit: Int({ minimum: 0 }),
    max_symbol_exposure_usdt: Pos(),
    slip_fraction: Prob(),
    cooldown_after_exit_ms: NonNeg(),
    exit_retry_base_ms: Pos(),
    exit_retry_max_ms: Pos(),
    exit_alert_after: Int({ minimum: 1 }),
  }),
  sizing: Obj({
    kelly_multiplier: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
    max_fraction: Pos(),
    limits: Obj({ max_notional_usd: Pos() }),
  }),
  fees: Obj({ maker_bps: Num({ minimum: -100, maximum: 1000 }), taker_bps: Num({ minimum: -100, maximum: 1000 }) }),
  er: Obj({ min_bps: NonNeg(), max_bps: Pos(), pi_min_bps: Num(), slip_eta: NonNeg() }),
  paper: Obj({
    seed: Type.Union([Int({ minimum: 0 }), Type.Null()]),
    start_equity_usdt: Pos(),
    leverage: Num({ minimum: 1, maximum: 125 }),
    ack_latency_ms: NonNeg(),
    fill_latency_ms: NonNeg(),
    cancel_latency_ms: NonNeg(),
    jitter_ms: NonNeg(),
    reject_prob: Prob(),
    rate_limit_per_s: NonNeg(),
  }),
  posttrade: Obj({
    queue_max: Int({ minimum: 1, maximum: 1_000_000 }),
    attempts: Int({ minimum: 1, maximum: 100 }),
    retry_base_ms: NonNeg(),
    concurrency: Int({ minimum: 1, maximum: 64 }),
  }),
  shutdown: Obj({
    flatten: Type.Boolean(),
    grace_ms: NonNeg(),
    max_runtime_s: NonNeg(),
    max_ticks: Int({ minimum: 0 }),
  }),
  logging: Obj({ max_mb: Pos(), flush_ms: Pos() }),
  report: Obj({ progress_ms: NonNeg(), path: NullableString() }),
  exchange: Obj({
    id: Type.String({ minLength: 1 }),
    api_key_env: Type.String({ minLength: 1 }),
    api_secret_env: Type.String({ minLength: 1 }),
  }),
});

export type RunnerConfig = Static<typeof RunnerConfigSchema>;
export type RunnerMode = RunnerConfig['mode'];
