import Type, { type Static, type TSchema } from 'typebox';
import { compileValidator } from './validate.ts';

/**
 * Desk controls (controls.md): (a) the `controls:` configuration section (§2), (b) the body of
 * `POST /ops/limits` (§5), (c) the optional request fields of §1 as fragments the request schema spreads
 * into its `account` / `order` / `market` objects, (d) the `quotas` object of §4, plus the body of
 * `POST /ops/trading_state` and the `observability.controls` shapes.
 *
 * Conventions: every key is optional; `null` = the key's default, which for every limit is "off"
 * (`reduce_only_passes_halt`, `reservation_ttl_ms`, `alert_utilization` and `trading_state` have real
 * defaults: null gives that default back). Unknown keys are refused (`additionalProperties: false`): a
 * misspelt limit must stop start-up, not silently stay off.
 */

export const TRADING_STATES = ['ACTIVE', 'REDUCING', 'HALTED'] as const;
export type TradingStateName = (typeof TRADING_STATES)[number];

/** Bounds shared by the config section and the ops body. */
export const CONTROL_LIMITS = {
  symbolLength: 64,
  symbolListItems: 4096,
  qtyMapEntries: 4096,
  windows: 48,
  maxNotional: 1e15,
  maxQty: 1e15,
  maxCollarBps: 10_000,
  maxAgeMs: 86_400_000,
  maxRate: 1_000_000,
  maxDedupeWindowS: 86_400,
  maxTtlMs: 86_400_000,
  maxOpenOrders: 1_000_000,
} as const;

const L = CONTROL_LIMITS;
/** `HH:MM` UTC, 00:00..23:59, plus `24:00` (valid only as a window's end: checked when the config is built). */
export const HHMM_PATTERN = '^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$';

const TradingState = Type.Union([Type.Literal('ACTIVE'), Type.Literal('REDUCING'), Type.Literal('HALTED')], {
  description: '"ACTIVE", "REDUCING" or "HALTED"',
});
const Sym = Type.String({ minLength: 1, maxLength: L.symbolLength, description: 'a symbol (1..64 characters)' });
const SymbolList = Type.Array(Sym, { maxItems: L.symbolListItems, description: `a list of at most ${L.symbolListItems} symbols` });
const HHMM = Type.String({ pattern: HHMM_PATTERN, description: 'a UTC time "HH:MM" (00:00..23:59, or 24:00 as an end)' });
const Window = Type.Tuple([HHMM, HHMM], { description: 'a ["HH:MM", "HH:MM"] UTC window' });
const Windows = Type.Array(Window, { minItems: 1, maxItems: L.windows, description: `a list of 1..${L.windows} ["HH:MM", "HH:MM"] windows` });
const Qty = Type.Number({ exclusiveMinimum: 0, maximum: L.maxQty, description: 'a quantity > 0' });
/** Map keys: 1..64 characters (a Record key schema's length bounds are not checked, a pattern is). */
const SymKey = Type.String({ pattern: '^[\\s\\S]{1,64}$' });
const QtyMap = Type.Record(SymKey, Qty, {
  additionalProperties: false,
  maxProperties: L.qtyMapEntries,
  description: 'a map symbol (1..64 characters) -> max qty (> 0); key "*" = every other symbol',
} as Record<string, unknown>);
const Notional = Type.Number({ exclusiveMinimum: 0, maximum: L.maxNotional, description: 'a notional in USDT > 0' });
const CollarBps = Type.Number({ exclusiveMinimum: 0, maximum: L.maxCollarBps, description: `a number of bps in (0, ${L.maxCollarBps}]` });
const AgeMs = Type.Integer({ minimum: 1, maximum: L.maxAgeMs, description: `an integer number of ms in [1, ${L.maxAgeMs}]` });
const Rate = Type.Integer({ minimum: 1, maximum: L.maxRate, description: `an integer number of orders in [1, ${L.maxRate}]` });
const DedupeS = Type.Number({ exclusiveMinimum: 0, maximum: L.maxDedupeWindowS, description: `a number of seconds in (0, ${L.maxDedupeWindowS}]` });
const TtlMs = Type.Integer({ minimum: 1, maximum: L.maxTtlMs, description: `an integer number of ms in [1, ${L.maxTtlMs}]` });
const OpenOrders = Type.Integer({ minimum: 0, maximum: L.maxOpenOrders, description: `an integer in [0, ${L.maxOpenOrders}]` });
const Utilization = Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'a fraction in (0, 1]' });

const orNull = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()], { description: `${(t as { description?: string }).description ?? 'a value'}, or null` });
const Opt = <T extends TSchema>(t: T) => Type.Optional(orNull(t));

const rateProps = {
  account_per_s: Opt(Rate),
  account_per_min: Opt(Rate),
  symbol_per_s: Opt(Rate),
  symbol_per_min: Opt(Rate),
};
export const ControlsRate = Type.Object(rateProps, { additionalProperties: false, description: 'order-rate throttles (token buckets)' });

/** The keys of controls.md §2 other than `trading_state` (shared by the section and the ops body). */
const limitProps = {
  reduce_only_passes_halt: Opt(Type.Boolean({ description: 'a boolean' })),
  symbols_allowed: Opt(SymbolList),
  symbols_blocked: Opt(SymbolList),
  trading_windows_utc: Opt(Windows),
  max_order_qty: Opt(QtyMap),
  max_order_notional_usdt: Opt(Notional),
  price_collar_bps: Opt(CollarBps),
  max_market_age_ms: Opt(AgeMs),
  rate: Opt(ControlsRate),
  dedupe_window_s: Opt(DedupeS),
  reservation_ttl_ms: Opt(TtlMs),
  max_position_notional_usdt: Opt(Notional),
  max_gross_notional_usdt: Opt(Notional),
  max_open_orders: Opt(OpenOrders),
  alert_utilization: Opt(Utilization),
};

/** (a) The `controls:` section (controls.md §2). */
export const ControlsSection = Type.Object(
  { trading_state: Opt(TradingState), ...limitProps },
  { additionalProperties: false, description: 'desk controls (controls.md §2); every control is off unless configured' },
);
export type ControlsSection = Static<typeof ControlsSection>;

/**
 * (b) The body of `POST /ops/limits`: a JSON merge patch (RFC 7396) of the live `controls` section.
 * Objects (`rate`, `max_order_qty`) merge key by key, lists replace, `null` removes a key (= off, or the
 * key's default). `trading_state` is NOT accepted here: the live state changes only through
 * `POST /ops/trading_state`, which journals TRADING_STATE {from, to, source} (controls.md §5).
 */
export const OpsLimitsBody = Type.Object(
  {
    ...limitProps,
    rate: Opt(Type.Object(rateProps, { additionalProperties: false, description: 'a partial rate object' })),
    max_order_qty: Opt(
      Type.Record(SymKey, orNull(Qty), {
        additionalProperties: false,
        maxProperties: L.qtyMapEntries,
        description: 'a map symbol (1..64 characters) -> max qty (> 0), null removes the symbol',
      } as Record<string, unknown>),
    ),
  },
  {
    additionalProperties: false,
    description: 'a partial controls object (null turns a limit off); trading_state goes to POST /ops/trading_state',
  },
);
export type OpsLimitsBody = Static<typeof OpsLimitsBody>;

/** `POST /ops/trading_state` (controls.md §5). */
export const TradingStateRequest = Type.Object(
  { state: TradingState },
  { additionalProperties: false, description: 'a JSON object {"state": "ACTIVE" | "REDUCING" | "HALTED"}' },
);
export type TradingStateRequest = Static<typeof TradingStateRequest>;

/**
 * (c) The optional request fields of controls.md §1, to spread into the request schema's objects:
 * `Type.Object({ ...existing, ...ControlsOrderFields })`. `null` = absent, as elsewhere in the request.
 * (`order.reduce_only` is already in the schema, D-11.) `account.account_id` replaces the existing
 * `OptString()` (4096 characters) with the ≤ 64 of §1.
 */
export const ControlsAccountFields = {
  account_id: Opt(Type.String({ maxLength: 64, description: 'an account id (at most 64 characters)' })),
};
export const ControlsOrderFields = {
  client_order_id: Opt(Type.String({ minLength: 1, maxLength: 64, description: 'a client order id (1..64 characters)' })),
  type: Opt(Type.Union([Type.Literal('market'), Type.Literal('limit')], { description: '"market" or "limit"' })),
};
export const ControlsMarketFields = {
  mid: Opt(Type.Number({ exclusiveMinimum: 0, description: 'a price > 0' })),
  mark_price: Opt(Type.Number({ exclusiveMinimum: 0, description: 'a price > 0' })),
  ts_ms: Opt(Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000, description: 'an integer epoch time in ms' })),
};

/** The three fragments in request shape (extra keys allowed, as in the request schema): for tests and docs. */
export const ControlsRequestFields = Type.Object(
  {
    account: Type.Optional(Type.Object(ControlsAccountFields, { additionalProperties: true })),
    order: Type.Optional(Type.Object(ControlsOrderFields, { additionalProperties: true })),
    market: Type.Optional(Type.Object(ControlsMarketFields, { additionalProperties: true })),
  },
  { additionalProperties: true },
);
export type ControlsRequestFields = Static<typeof ControlsRequestFields>;

const IntOrNull = Type.Union([Type.Integer(), Type.Null()]);
const NumOrNull = Type.Union([Type.Number(), Type.Null()]);

/** (d) `quotas` when any control is on (controls.md §4): what is left after this decision; null = limit off. */
export const ControlsQuotas = Type.Object(
  {
    trades_pm_left: IntOrNull,
    symbol_exposure_left_usdt: NumOrNull,
    account_exposure_left_usdt: NumOrNull,
    orders_ps_left: IntOrNull,
    open_orders_left: IntOrNull,
  },
  { additionalProperties: false },
);
export type ControlsQuotas = Static<typeof ControlsQuotas>;

/** `quotas` of any answer: the reference constant (no control on) or the controls quotas. */
export const AnyQuotas = Type.Union([Type.Object({ trades_pm_left: Type.Number(), symbol_exposure_left_usdt: Type.Number() }, { additionalProperties: false }), ControlsQuotas]);

/** `observability.controls` of an allowed decision (any control on). */
export const ControlsAllowObservability = Type.Object({ reserved_usdt: Type.Number(), quotas: ControlsQuotas });
/** `observability.controls` of a controls denial: rule (the config key), limit, value, and what else explains it. */
export const ControlsDenyObservability = Type.Object(
  { rule: Type.String(), limit: Type.Unknown(), value: Type.Unknown() },
  { additionalProperties: true },
);

export const controlsSectionValidator = compileValidator<ControlsSection>(ControlsSection);
export const opsLimitsValidator = compileValidator<OpsLimitsBody>(OpsLimitsBody);
export const tradingStateValidator = compileValidator<TradingStateRequest>(TradingStateRequest);
export const controlsRequestValidator = compileValidator<ControlsRequestFields>(ControlsRequestFields);
export const controlsQuotasValidator = compileValidator<ControlsQuotas>(ControlsQuotas);
