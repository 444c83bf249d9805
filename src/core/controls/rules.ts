import { isOn, TS_HALTED, TS_REDUCING, type ControlsConfig } from './config.ts';

/**
 * The stateless rules of controls.md §3 as pure functions over numbers the caller has already read
 * (config, request facts, state facts, now). Each returns null (pass: no allocation) or a new Denial
 * (deny paths may allocate). Limits are inclusive: a value equal to its limit passes, one above it is
 * refused. Times are epoch ms; a limit that is off is Infinity (config.ts).
 */

export type ControlReason =
  | 'trading_state_halted'
  | 'trading_state_reducing'
  | 'reduce_only_would_increase'
  | 'symbol_not_allowed'
  | 'symbol_blocked'
  | 'outside_trading_window'
  | 'order_qty_limit'
  | 'order_notional_limit'
  | 'reference_price_missing'
  | 'market_data_stale'
  | 'price_collar'
  | 'throttle_account'
  | 'throttle_symbol'
  | 'open_orders_limit'
  | 'exposure_limit_symbol'
  | 'exposure_limit_account'
  | 'duplicate_client_order_id'
  /** NOT in controls.md: shared control state is full (see state.ts); fail closed */
  | 'controls_capacity_exhausted';

/** Every reason code, in §3 order (for metric label sets: `aurora_control_denials_total{rule}`). */
export const CONTROL_REASONS: readonly ControlReason[] = [
  'duplicate_client_order_id',
  'reduce_only_would_increase',
  'trading_state_halted',
  'trading_state_reducing',
  'symbol_not_allowed',
  'symbol_blocked',
  'outside_trading_window',
  'order_qty_limit',
  'order_notional_limit',
  'reference_price_missing',
  'market_data_stale',
  'price_collar',
  'throttle_account',
  'throttle_symbol',
  'open_orders_limit',
  'exposure_limit_symbol',
  'exposure_limit_account',
  'controls_capacity_exhausted',
];

/**
 * A controls denial: `reason` (the answer's reason code), `rule` (the configuration key that refused),
 * `limit` and `value` (what was compared), `cooldownMs` (when a retry makes sense, else 0) and any
 * further explanation in `details` (merged into `observability.controls`).
 */
export interface Denial {
  reason: ControlReason;
  rule: string;
  limit: unknown;
  value: unknown;
  cooldownMs: number;
  details?: Record<string, unknown>;
}

const deny = (reason: ControlReason, rule: string, limit: unknown, value: unknown, cooldownMs = 0, details?: Record<string, unknown>): Denial =>
  details === undefined ? { reason, rule, limit, value, cooldownMs } : { reason, rule, limit, value, cooldownMs, details };

export const SIDE_NONE = 0;
export const SIDE_BUY = 1;
export const SIDE_SELL = 2;

// ---------------------------------------------------------------------------------------------------
// §1 prices

/** The reference price of §1: `market.mid`, else `market.mark_price`, else `order.price` (> 0 each); NaN = none. */
export function referencePrice(mid: number, markPrice: number, price: number): number {
  return mid > 0 ? mid : markPrice > 0 ? markPrice : price > 0 ? price : NaN;
}

/**
 * The collar's reference: `mid`, else `mark_price`; NaN = none. `order.price` is not a reference for its
 * own collar (the deviation would be 0): with the collar on and no market price the order is refused
 * (`reference_price_missing`), fail closed.
 */
export function collarReference(mid: number, markPrice: number): number {
  return mid > 0 ? mid : markPrice > 0 ? markPrice : NaN;
}

/** The price of §1's notional: `order.price` when > 0, else the reference price; NaN = no usable price. */
export function notionalPrice(price: number, mid: number, markPrice: number): number {
  return price > 0 ? price : mid > 0 ? mid : markPrice > 0 ? markPrice : NaN;
}

// ---------------------------------------------------------------------------------------------------
// §3 rule 2: reduce-only verification and the trading state

/** Fill sums drift in the last bits (0.1 + 0.2): a close of the displayed quantity must still verify. */
const QTY_TOLERANCE = 1e-9;

/**
 * Verified reduce-only (§3 rule 2): `reduce_only` true, a known open position (signed `posQty` from the
 * post-trade fills of this account and symbol), the order on the opposite side, and `qty` ≤ the open qty.
 */
export function verifyReduceOnly(reduceOnly: boolean, side: number, qty: number, posQty: number): boolean {
  if (!reduceOnly || posQty === 0 || !(qty >= 0)) return false;
  if (side === SIDE_SELL) return posQty > 0 && qty <= posQty * (1 + QTY_TOLERANCE);
  if (side === SIDE_BUY) return posQty < 0 && qty <= -posQty * (1 + QTY_TOLERANCE);
  return false;
}

/**
 * Rule 2. An unverified reduce-only order is refused in any state (`reduce_only_would_increase`) when
 * `refuseUnverified` (controls on, or the live state not ACTIVE); otherwise HALTED / REDUCING refuse
 * everything but a verified reduce-only order, and that one only while `reduce_only_passes_halt`.
 */
export function tradingStateRule(
  cfg: ControlsConfig,
  state: number,
  reduceOnly: boolean,
  verified: boolean,
  refuseUnverified: boolean,
  qty: number,
  posQty: number,
): Denial | null {
  if (reduceOnly && !verified && refuseUnverified) {
    return deny('reduce_only_would_increase', 'reduce_only', posQty === 0 ? null : Math.abs(posQty), qty, 0, { position_qty: posQty });
  }
  if (state === TS_HALTED || state === TS_REDUCING) {
    if (verified && cfg.reduceOnlyPassesHalt) return null;
    return state === TS_HALTED
      ? deny('trading_state_halted', 'trading_state', 'HALTED', reduceOnly)
      : deny('trading_state_reducing', 'trading_state', 'REDUCING', reduceOnly);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// §3 rule 3: instrument and hours

/** `symbol_not_allowed` then `symbol_blocked`; a request without a symbol is outside any allow-list. */
export function symbolListRule(cfg: ControlsConfig, symbol: string | null): Denial | null {
  const allowed = cfg.symbolsAllowed;
  if (allowed !== null && (symbol === null || !allowed.has(symbol))) return deny('symbol_not_allowed', 'symbols_allowed', allowed.size, symbol);
  const blocked = cfg.symbolsBlocked;
  if (blocked !== null && symbol !== null && blocked.has(symbol)) return deny('symbol_blocked', 'symbols_blocked', blocked.size, symbol);
  return null;
}

const DAY_MS = 86_400_000;
const MIN_MS = 60_000;

/** ms since 00:00 UTC of `nowMs`. */
export const msOfDay = (nowMs: number): number => nowMs - Math.floor(nowMs / DAY_MS) * DAY_MS; // (no fmod: % on doubles is slow)

/**
 * Whether `nowMs` lies in one of the windows. A window is [start, end) in UTC minutes of day: 17:00 is
 * already outside ["09:00", "17:00"]. A window whose end is at or before its start wraps midnight:
 * ["22:00", "02:00"] = 22:00..24:00 and 00:00..02:00. ["00:00", "24:00"] is the whole day.
 */
export function inTradingWindow(windows: Int32Array, nowMs: number): boolean {
  const t = msOfDay(nowMs);
  for (let i = 0; i < windows.length; i += 2) {
    const s = windows[i] * MIN_MS;
    const e = windows[i + 1] * MIN_MS;
    if (s < e ? t >= s && t < e : t >= s || t < e) return true;
  }
  return false;
}

/** ms from `nowMs` to the next window start (the cooldown of `outside_trading_window`). */
export function msUntilWindow(windows: Int32Array, nowMs: number): number {
  const t = msOfDay(nowMs);
  let best = DAY_MS;
  for (let i = 0; i < windows.length; i += 2) {
    const d = (windows[i] * MIN_MS - t + DAY_MS) % DAY_MS;
    if (d < best) best = d;
  }
  return best;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
/** "HH:MM:SS" UTC of an epoch ms (deny path only). */
export function utcClock(nowMs: number): string {
  const s = Math.floor(msOfDay(nowMs) / 1000);
  return `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}`;
}

/** `outside_trading_window`; a verified reduce-only order passes (§3 rule 3). */
export function tradingWindowRule(cfg: ControlsConfig, nowMs: number, verified: boolean): Denial | null {
  const w = cfg.windows;
  if (w === null || verified || inTradingWindow(w, nowMs)) return null;
  return deny('outside_trading_window', 'trading_windows_utc', cfg.section.trading_windows_utc, utcClock(nowMs), msUntilWindow(w, nowMs));
}

// ---------------------------------------------------------------------------------------------------
// §3 rule 4: per order

/** The qty limit of a symbol: its own entry, else `"*"`, else Infinity (off). */
export function maxQtyFor(cfg: ControlsConfig, symbol: string | null): number {
  const map = cfg.maxOrderQty;
  if (map === null) return Infinity;
  if (symbol !== null) {
    const own = map.get(symbol);
    if (own !== undefined) return own;
  }
  return cfg.maxOrderQtyOther;
}

export function orderQtyRule(cfg: ControlsConfig, symbol: string | null, qty: number): Denial | null {
  if (cfg.maxOrderQty === null) return null;
  const max = maxQtyFor(cfg, symbol);
  if (qty > max) return deny('order_qty_limit', 'max_order_qty', max, qty, 0, { symbol });
  return null;
}

/**
 * `order_notional_limit`, and `reference_price_missing` when a notional is needed (the notional limit,
 * or an exposure limit for an order that will reserve: `exposureNeedsNotional`) and none can be computed.
 */
export function orderNotionalRule(cfg: ControlsConfig, notional: number, exposureNeedsNotional: boolean): Denial | null {
  const max = cfg.maxOrderNotionalUsdt;
  if (notional !== notional) {
    if (isOn(max)) return deny('reference_price_missing', 'max_order_notional_usdt', max, null);
    if (exposureNeedsNotional) {
      const rule = isOn(cfg.maxPositionNotionalUsdt) ? 'max_position_notional_usdt' : 'max_gross_notional_usdt';
      return deny('reference_price_missing', rule, isOn(cfg.maxPositionNotionalUsdt) ? cfg.maxPositionNotionalUsdt : cfg.maxGrossNotionalUsdt, null);
    }
    return null;
  }
  if (notional > max) return deny('order_notional_limit', 'max_order_notional_usdt', max, notional);
  return null;
}

// ---------------------------------------------------------------------------------------------------
// §3 rule 5: market data

/** `market_data_stale`: `now − ts_ms` above the limit, or no `ts_ms` (NaN) while the rule is on. A future ts_ms (negative age) passes. */
export function marketAgeRule(cfg: ControlsConfig, tsMs: number, nowMs: number): Denial | null {
  const max = cfg.maxMarketAgeMs;
  if (!isOn(max)) return null;
  if (tsMs !== tsMs) return deny('market_data_stale', 'max_market_age_ms', max, null);
  const age = nowMs - tsMs;
  if (age > max) return deny('market_data_stale', 'max_market_age_ms', max, age);
  return null;
}

/**
 * `price_collar` for limit orders with a price: a buy more than `price_collar_bps` above the reference,
 * a sell more than that below it (value = the deviation in bps, positive = away from the market in the
 * order's unfavourable direction). Market orders and orders without a price pass. No reference →
 * `reference_price_missing` (fail closed).
 */
export function priceCollarRule(cfg: ControlsConfig, isLimit: boolean, side: number, price: number, mid: number, markPrice: number): Denial | null {
  const collar = cfg.priceCollarBps;
  if (!isOn(collar) || !isLimit || !(price > 0)) return null;
  const ref = collarReference(mid, markPrice);
  if (ref !== ref) return deny('reference_price_missing', 'price_collar_bps', collar, null);
  let dev: number;
  if (side === SIDE_BUY) dev = ((price - ref) * 10_000) / ref;
  else if (side === SIDE_SELL) dev = ((ref - price) * 10_000) / ref;
  else dev = (Math.abs(price - ref) * 10_000) / ref;
  if (dev > collar) return deny('price_collar', 'price_collar_bps', collar, dev, 0, { reference_price: ref, price });
  return null;
}

// ---------------------------------------------------------------------------------------------------
// §3 rule 6: token buckets (continuous refill, refused orders do not consume)

/**
 * Tokens in use after refilling from `atMs` to `nowMs`: a bucket of capacity `cap` per `windowMs` stores
 * the tokens *used* (0 = full), so a capacity changed live by POST /ops/limits applies at once.
 * Refill is computed as `dt·cap / window` (exact for whole-token steps).
 */
export function bucketUsed(used: number, atMs: number, cap: number, windowMs: number, nowMs: number): number {
  const dt = nowMs - atMs;
  if (dt <= 0) return used;
  const u = used - (dt * cap) / windowMs;
  return u > 0 ? u : 0;
}

/** Tokens left (whole orders) in a bucket whose refilled use is `used`. */
export const tokensLeft = (used: number, cap: number): number => Math.max(0, Math.floor(cap - used + 1e-9));

/** ms until one token is back (0 when one is available). */
export function msUntilToken(used: number, cap: number, windowMs: number): number {
  const need = used + 1 - cap;
  return need <= 1e-12 ? 0 : Math.ceil((need * windowMs) / cap - 1e-9);
}

/** One bucket's verdict: refuses when one more order does not fit (`used + 1 > cap`). */
export function throttleRule(reason: 'throttle_account' | 'throttle_symbol', rule: string, cap: number, windowMs: number, used: number): Denial | null {
  if (used + 1 <= cap + 1e-9) return null;
  return deny(reason, rule, cap, Math.round(used * 1000) / 1000, msUntilToken(used, cap, windowMs));
}

// ---------------------------------------------------------------------------------------------------
// §3 rule 7: exposure (never for a verified reduce-only order: the caller skips these)

/** `open_orders_limit`: the account's unsettled reservations plus this order above `max_open_orders`. */
export function openOrdersRule(cfg: ControlsConfig, openOrders: number): Denial | null {
  const max = cfg.maxOpenOrders;
  if (openOrders + 1 > max) return deny('open_orders_limit', 'max_open_orders', max, openOrders + 1);
  return null;
}

/** `exposure_limit_symbol`: |position notional| + reserved notional on the order's side + this order. */
export function symbolExposureRule(cfg: ControlsConfig, positionUsdt: number, reservedSideUsdt: number, notional: number): Denial | null {
  const max = cfg.maxPositionNotionalUsdt;
  if (!isOn(max)) return null;
  const after = positionUsdt + reservedSideUsdt + notional;
  if (after > max) return deny('exposure_limit_symbol', 'max_position_notional_usdt', max, after, 0, { position_usdt: positionUsdt, reserved_usdt: reservedSideUsdt, order_usdt: notional });
  return null;
}

/** `exposure_limit_account`: Σ|positions| + all reservations of the account + this order. */
export function accountExposureRule(cfg: ControlsConfig, grossPositionUsdt: number, reservedUsdt: number, notional: number): Denial | null {
  const max = cfg.maxGrossNotionalUsdt;
  if (!isOn(max)) return null;
  const after = grossPositionUsdt + reservedUsdt + notional;
  if (after > max) return deny('exposure_limit_account', 'max_gross_notional_usdt', max, after, 0, { positions_usdt: grossPositionUsdt, reserved_usdt: reservedUsdt, order_usdt: notional });
  return null;
}

/** A denial for the idempotency rule (§3 rule 1) and for capacity exhaustion (not in the spec). */
export const duplicateDenial = (windowS: unknown, clientOrderId: string, details?: Record<string, unknown>, cooldownMs = 0): Denial =>
  deny('duplicate_client_order_id', 'dedupe_window_s', windowS, clientOrderId, cooldownMs, details);
export const capacityDenial = (table: string, capacity: number, cooldownMs = 0): Denial =>
  deny('controls_capacity_exhausted', 'capacity', capacity, table, cooldownMs);
