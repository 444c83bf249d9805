import Type, { type Static } from 'typebox';

/** `POST /risk/set` (service.md 1, D-36): absent or null = unchanged; values are range-checked. */
export const RiskSetRequest = Type.Object(
  {
    dd_day_pct: Type.Optional(Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 100 }), Type.Null()], { description: 'a number in (0, 100], or null' })),
    max_concurrent: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'an integer >= 0, or null' })),
    size_scale: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: 'a finite number (clipped to [0, 1]), or null' })),
  },
  { additionalProperties: true, description: 'a JSON object' },
);
export type RiskSetRequest = Static<typeof RiskSetRequest>;

/** `POST /ops/rotate_token` (service.md 1.2). */
export const RotateTokenRequest = Type.Object(
  { new_token: Type.String({ maxLength: 4096, description: 'the new token (>= 24 characters after trimming, no whitespace inside)' }) },
  { additionalProperties: true, description: 'a JSON object with new_token' },
);
export type RotateTokenRequest = Static<typeof RotateTokenRequest>;

const Num = Type.Number();
export const GuardSnapshot = Type.Object({
  armed: Type.Boolean(),
  cooloff_until: Num,
  halted: Type.Boolean(),
  samples: Type.Integer(),
  warns_5m: Type.Integer(),
  threshold_ms: Num,
  window_sec: Num,
  base_cooloff_sec: Num,
  halt_threshold_repeats: Type.Integer(),
});

export const RiskLimits = Type.Object({ dd_day_pct: Num, max_concurrent: Num, size_scale: Num });

// ---------------------------------------------------------------------------------------------------
// Desk controls (controls.md §5): the replies of GET/POST /ops/limits and POST /ops/trading_state. The
// request bodies are src/schema/controls.ts (OpsLimitsBody, TradingStateRequest). Type.Object allows
// extra keys, so a newer gate adding a field does not break an older ctl.

const NumOrNull = Type.Union([Num, Type.Null()]);
const IntOrNull = Type.Union([Type.Integer(), Type.Null()]);
const StrList = Type.Union([Type.Array(Type.String()), Type.Null()]);
const TradingStateName = Type.Union([Type.Literal('ACTIVE'), Type.Literal('REDUCING'), Type.Literal('HALTED')]);

/** The effective value of every controls key; null = off (controls.md §2). The live trading state is not here. */
export const EffectiveLimits = Type.Object({
  reduce_only_passes_halt: Type.Boolean(),
  symbols_allowed: StrList,
  symbols_blocked: StrList,
  trading_windows_utc: Type.Union([Type.Array(Type.Array(Type.String())), Type.Null()]),
  max_order_qty: Type.Union([Type.Record(Type.String(), Num), Type.Null()]),
  max_order_notional_usdt: NumOrNull,
  price_collar_bps: NumOrNull,
  max_market_age_ms: NumOrNull,
  rate: Type.Object({ account_per_s: NumOrNull, account_per_min: NumOrNull, symbol_per_s: NumOrNull, symbol_per_min: NumOrNull }),
  dedupe_window_s: NumOrNull,
  reservation_ttl_ms: Num,
  max_position_notional_usdt: NumOrNull,
  max_gross_notional_usdt: NumOrNull,
  max_open_orders: NumOrNull,
  alert_utilization: Num,
});
export type EffectiveLimits = Static<typeof EffectiveLimits>;

/** One (account, symbol) of GET /ops/limits: position from post-trade fills, reservations, symbol buckets, utilisation. */
export const ControlsPosition = Type.Object({
  symbol: Type.String(),
  qty: Num,
  avg_price: NumOrNull,
  notional_usdt: Num,
  reserved_buy_usdt: Num,
  reserved_sell_usdt: Num,
  open_reservations: Num,
  symbol_per_s_left: IntOrNull,
  symbol_per_min_left: IntOrNull,
  utilization: Type.Union([Num, Type.Null()], { description: 'max_position_notional_usdt used (|position| + larger reserved side) / limit; null = limit off' }),
});

/** One account of GET /ops/limits. */
export const ControlsAccount = Type.Object({
  account_id: Type.String(),
  open_orders: Num,
  reserved_usdt: Num,
  gross_positions_usdt: Num,
  account_per_s_left: IntOrNull,
  account_per_min_left: IntOrNull,
  utilization: Type.Object({ max_open_orders: NumOrNull, max_gross_notional_usdt: NumOrNull }),
  positions: Type.Array(ControlsPosition),
});

/** `GET /ops/limits` */
export const LimitsResponse = Type.Object({
  status: Type.Literal('ok'),
  trading_state: TradingStateName,
  limits: EffectiveLimits,
  reservations_open: Num,
  lost_fills: Num,
  accounts: Type.Array(ControlsAccount),
});
export type LimitsResponse = Static<typeof LimitsResponse>;

/** One LIMIT.UPDATE: an effective value that moved (`rate.*` and `max_order_qty.<symbol>` one by one). */
export const LimitChange = Type.Object({ key: Type.String(), old: Type.Unknown(), new: Type.Unknown() });

/** `POST /ops/limits`: the new effective limits and what changed (one LIMIT.UPDATE journaled per entry). */
export const LimitsSetResponse = Type.Object({
  status: Type.Literal('ok'),
  trading_state: TradingStateName,
  limits: EffectiveLimits,
  changes: Type.Array(LimitChange),
});
export type LimitsSetResponse = Static<typeof LimitsSetResponse>;

/** `POST /ops/trading_state`: the new state (`state` and `trading_state` alike), the one before, whether it changed. */
export const TradingStateResponse = Type.Object({
  status: Type.Literal('ok'),
  state: TradingStateName,
  trading_state: TradingStateName,
  from: TradingStateName,
  changed: Type.Boolean({ description: 'false: the state was already this one (nothing journaled)' }),
});
export type TradingStateResponse = Static<typeof TradingStateResponse>;
