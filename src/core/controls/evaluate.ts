/**
 * Desk controls, the decision (controls.md §3) — design note.
 *
 * Shape. `checkControls` runs the rules of §3 in order, first hit wins, and changes nothing but
 * time-driven housekeeping (expired reservations and dedupe ids); `commitControls` applies the outcome
 * once the final answer is known: for an allow it takes the tokens, creates the reservation, and for
 * any answer it remembers the client_order_id (its answer text comes later, `storeAnswer`) and fills the
 * §4 quotas. `evaluate` = check + commit for callers where the controls have the last word (tests, the
 * benchmark). The service splits them because the reference pipeline runs *after* the controls and can
 * still deny: "refused orders do not consume", so tokens and reservations are taken only for a final
 * allow. Everything between `checkControls` and `commitControls` runs inside the same critical section
 * (D23); the answer text is stored in a second short one after encoding (the id is "pending" between:
 * an identical retry arriving in those microseconds is refused `duplicate_client_order_id` with
 * `in_flight: true`, cooldown_ms 1, never decided twice).
 *
 * Cost. Results are written into a reused `ControlsVerdict` (one per thread; numbers only, NaN = null),
 * so the allow path allocates nothing; denials allocate their small Denial and a CONTROL.DENY event.
 * Strings were hashed outside the lock (`controlsFacts`). Each rule is guarded at the call site by its
 * "on" flag; table lookups happen only for the throttles, exposure and reduce-only. With no control on
 * and the trading state ACTIVE the check is two word reads (plus one lookup for a reduce-only order,
 * §0's halt pass-through) and commit one flag test. test/core/controls/controls.bench.ts, check +
 * commit of an allowed order at 1000 orders/s, this 2-vCPU VM shared with other jobs (±50 % between
 * runs): off ≈ 25 ns; stateless rules ≈ 70–150 ns; + 4 buckets ≈ 170–480 ns; + exposure (a reservation
 * per allow) ≈ 430–570 ns; + dedupe ≈ 570–840 ns. Most of the stateful cost is cache misses in the
 * shared tables (the key indexes are Int32 for that reason, reservations are reused LIFO).
 *
 * Decisions where the spec is silent (a desk's reading):
 * - "Controls on" (`ControlsConfig.anyOn`) = any list, limit, rate or dedupe configured. Then an
 *   unverified reduce-only order is refused, quotas have five keys and allowed answers carry
 *   `observability.controls`. A live trading state other than ACTIVE also refuses unverified reduce-only.
 * - Limits are inclusive (a value equal to its limit passes). Windows are [start, end) UTC; end ≤ start
 *   wraps midnight; ["00:00","24:00"] = all day. `cooldown_ms` of a window denial = ms to the next start.
 * - REDUCING with `reduce_only_passes_halt: false` refuses even verified reduce-only orders (§3 rule 2
 *   read literally). The market-data, per-order, list and throttle rules apply to reduce-only orders
 *   too; only the window (rule 3) and exposure (rule 7) rules skip a verified one.
 * - The collar's reference is mid, else mark_price; without either a collared limit order is refused
 *   `reference_price_missing` (order.price cannot be its own reference).
 * - Exposure uses entry notionals (|qty| × average entry price from post-trade fills); a reservation holds
 *   qty × the notional price of §1 at decision time. Symbol exposure = |position| + reservations on the
 *   order's side + this order (an opposite non-reduce-only order can flip the position, so it counts).
 * - Throttles: two buckets per scope (second, minute); a denial names the first empty one, cooldown_ms =
 *   when both have a token again.
 * - Idempotency keys are (account_id, client_order_id); any answered decision is remembered (allow or
 *   deny), so a retry of a refused order gets the refusal again; a new attempt needs a new id.
 * - Capacity exhaustion (not in the spec): `controls_capacity_exhausted`, fail closed (see state.ts).
 * - LIMIT.NEAR: per account for max_open_orders and max_gross_notional_usdt, per (account, symbol) for
 *   max_position_notional_usdt; journaled when an allowed order takes utilisation to ≥ alert_utilization
 *   and re-armed when a later decision sees it below. Throttles are not alerted (they swing every second).
 */
import type { GateEvent } from '../events.ts';
import { canonicalSymbol, normalSide } from '../symbol.ts';
import { truthy } from '../pyvalue.ts';
import { symbolKey } from '../../shm/state/symbol-table.ts';
import {
  buildControlsConfig,
  effectiveLimits,
  isOn,
  NO_CONTROLS,
  tradingStateCode,
  tradingStateName,
  TS_ACTIVE,
  type ControlsConfig,
} from './config.ts';
import { DEFAULT_ACCOUNT, type ControlsFacts } from './facts.ts';
import {
  accountExposureRule,
  capacityDenial,
  duplicateDenial,
  marketAgeRule,
  notionalPrice,
  openOrdersRule,
  orderNotionalRule,
  orderQtyRule,
  priceCollarRule,
  SIDE_BUY,
  SIDE_SELL,
  symbolExposureRule,
  symbolListRule,
  throttleRule,
  tokensLeft,
  tradingStateRule,
  tradingWindowRule,
  verifyReduceOnly,
  type Denial,
} from './rules.ts';
import { B_MIN, B_SEC, RES_LIVE, type ControlsState, type ExpiredReservation } from './state.ts';

export { controlsFacts, type ControlsFacts } from './facts.ts';

/** Journal event codes the controls emit (to add to EVENT_CODES, src/core/events.ts). */
export const CONTROL_EVENT_CODES = ['CONTROL.DENY', 'LIMIT.NEAR', 'LIMIT.UPDATE', 'RESERVATION.EXPIRED', 'TRADING_STATE'] as const;

export const V_PASS = 0;
export const V_DENY = 1;
export const V_REPLAY = 2;

const NO_EVENTS: GateEvent[] = Object.freeze([]) as unknown as GateEvent[];

/** The controls' answer, reused across calls (one instance per thread: read it before the next call). */
export class ControlsVerdict {
  /** V_PASS (go on to the pipeline), V_DENY (`denial`), V_REPLAY (`replayBody` is the answer) */
  kind = V_PASS;
  denial: Denial | null = null;
  /** §3 rule 2: reduce_only, known open position, opposite side, qty ≤ open qty */
  reduceOnlyVerified = false;
  /** verified and `reduce_only_passes_halt`: the pipeline skips HealthGuard COOL_OFF/HALT, Governance halt, ops disarm */
  passesHalts = false;
  /** the original answer text of an idempotent replay */
  replayBody: string | null = null;
  /** this order's notional (NaN: no usable price) */
  notional = NaN;
  /** notional reserved by this decision (0 for a denial or a reduce-only order) */
  reservedUsdt = 0;
  /** quotas are reported (any control on) */
  quotasOn = false;
  /** the five quotas; NaN = the limit is off (null in JSON: quotasObject). Numbers only, so writing them never allocates. */
  tradesPmLeft = NaN;
  symbolExposureLeftUsdt = NaN;
  accountExposureLeftUsdt = NaN;
  ordersPsLeft = NaN;
  openOrdersLeft = NaN;
  /** dedupe record awaiting the answer text (storeAnswer), or -1 */
  dedupeRecord = -1;
  /** events to journal (RESERVATION.EXPIRED, CONTROL.DENY, LIMIT.NEAR) */
  events: GateEvent[] = NO_EVENTS;
  /** @internal records found by the check, reused by the commit */
  acc = -1;
  pair = -1;
  /** @internal the id may be remembered (rule 1 passed and the memory has room) */
  rememberable = false;
  /** @internal refilled bucket use at the check (NaN: not computed): account s/min, symbol s/min */
  accSec = NaN;
  accMin = NaN;
  symSec = NaN;
  symMin = NaN;

  reset(): void {
    this.kind = V_PASS;
    this.denial = null;
    this.reduceOnlyVerified = false;
    this.passesHalts = false;
    this.replayBody = null;
    this.notional = NaN;
    this.reservedUsdt = 0;
    this.quotasOn = false;
    this.tradesPmLeft = NaN;
    this.symbolExposureLeftUsdt = NaN;
    this.accountExposureLeftUsdt = NaN;
    this.ordersPsLeft = NaN;
    this.openOrdersLeft = NaN;
    this.dedupeRecord = -1;
    this.events = NO_EVENTS;
    this.acc = -1;
    this.pair = -1;
    this.rememberable = false;
    this.accSec = NaN;
    this.accMin = NaN;
    this.symSec = NaN;
    this.symMin = NaN;
  }
}

function addEvent(v: { events: GateEvent[] }, e: GateEvent): void {
  if (v.events === NO_EVENTS) v.events = [];
  v.events.push(e);
}

const SIDE_NAMES = [null, 'buy', 'sell'] as const;

export function expiredEvent(x: ExpiredReservation, nowMs: number): GateEvent {
  return {
    code: 'RESERVATION.EXPIRED',
    symbol: x.symbol || null,
    side: SIDE_NAMES[x.side] ?? null,
    qty: x.qty,
    details: { account_id: x.account, client_order_id: x.clientOrderId, notional_usdt: x.notional, age_ms: nowMs - x.createdMs },
  };
}

function sweep(cfg: ControlsConfig, st: ControlsState, nowMs: number, v: { events: GateEvent[] }): void {
  if (st.reservations.live > 0) {
    const expired = st.reservations.expireDue(nowMs, cfg.reservationTtlMs);
    if (expired !== null) for (const x of expired) addEvent(v, expiredEvent(x, nowMs));
  }
  if (cfg.dedupeOn) st.dedupe.sweep(nowMs, cfg.dedupeWindowMs);
}

function denyWith(v: ControlsVerdict, f: ControlsFacts, d: Denial): ControlsVerdict {
  v.kind = V_DENY;
  v.denial = d;
  addEvent(v, {
    code: 'CONTROL.DENY',
    symbol: f.symbol,
    side: SIDE_NAMES[f.side] ?? null,
    qty: f.qty,
    details: { reason: d.reason, rule: d.rule, limit: d.limit, value: d.value, account_id: f.accountId, client_order_id: f.clientOrderId },
  });
  return v;
}

/**
 * §3 rules 1–7, first hit wins; `v` is reset and filled. Changes no state but the time-driven expiry
 * of reservations (RESERVATION.EXPIRED events) and dedupe ids. Must run under the lock.
 */
export function checkControls(cfg: ControlsConfig, st: ControlsState, f: ControlsFacts, nowMs: number, v: ControlsVerdict): ControlsVerdict {
  v.reset();
  const ts = st.tradingState;
  if (!cfg.anyOn && ts === TS_ACTIVE) {
    // controls off: parity, except §0's pass-through of a verified reduce-only order
    if (f.reduceOnly) {
      const pair = st.pairs.findPair(f.accountKey, f.symKey);
      v.pair = pair;
      v.reduceOnlyVerified = verifyReduceOnly(true, f.side, f.qty, st.pairs.positionQty(pair));
      v.passesHalts = v.reduceOnlyVerified && cfg.reduceOnlyPassesHalt;
    }
    return v;
  }
  sweep(cfg, st, nowMs, v);

  // 1. idempotency
  if (cfg.dedupeOn && f.idKey !== 0) {
    const r = st.dedupe.find(f.accountKey, f.idKey);
    if (r >= 0) {
      if (st.dedupe.orderHash(r) !== f.orderHash) {
        return denyWith(v, f, duplicateDenial(cfg.section.dedupe_window_s, f.clientOrderId as string, { first_seen_ms: st.dedupe.createdMs(r) }));
      }
      const answer = st.dedupe.answer(r);
      if (typeof answer === 'string' && answer !== 'pending') {
        v.kind = V_REPLAY;
        v.replayBody = answer;
        return v;
      }
      const pending = answer === 'pending';
      return denyWith(v, f, duplicateDenial(cfg.section.dedupe_window_s, f.clientOrderId as string, pending ? { in_flight: true } : { replay_unavailable: true }, pending ? 1 : 0));
    }
    if (st.dedupe.full) {
      const wait = Math.max(0, st.dedupe.oldestCreatedMs() + cfg.dedupeWindowMs - nowMs);
      return denyWith(v, f, capacityDenial('dedupe', st.dedupe.capacity, wait));
    }
    v.rememberable = true;
  }

  // 2. trading state (and reduce-only verification). Every rule below is guarded by its own "on" flag
  // at the call site: a rule that is off costs one comparison, not a call.
  const stateful = cfg.rateOn || cfg.exposureOn;
  let acc = -1;
  let pair = -1;
  let posQty = 0;
  if (stateful || f.reduceOnly) {
    pair = st.pairs.findPair(f.accountKey, f.symKey);
    posQty = st.pairs.positionQty(pair);
    if (stateful) acc = st.accounts.findAccount(f.accountKey);
  }
  v.acc = acc;
  v.pair = pair;
  const verified = f.reduceOnly && verifyReduceOnly(true, f.side, f.qty, posQty);
  let d: Denial | null;
  if (f.reduceOnly || ts !== TS_ACTIVE) {
    v.reduceOnlyVerified = verified;
    v.passesHalts = verified && cfg.reduceOnlyPassesHalt;
    d = tradingStateRule(cfg, ts, f.reduceOnly, verified, true, f.qty, posQty);
    if (d !== null) return denyWith(v, f, d);
  }

  // 3. instrument and hours
  if (cfg.symbolsAllowed !== null || cfg.symbolsBlocked !== null) {
    d = symbolListRule(cfg, f.symbol);
    if (d !== null) return denyWith(v, f, d);
  }
  if (cfg.windows !== null && !verified) {
    d = tradingWindowRule(cfg, nowMs, false);
    if (d !== null) return denyWith(v, f, d);
  }

  // 4. per order
  const price = f.price > 0 ? f.price : f.mid > 0 ? f.mid : f.markPrice > 0 ? f.markPrice : NaN; // notionalPrice (§1)
  const notional = f.qty * price;
  v.notional = notional;
  if (cfg.maxOrderQty !== null) {
    d = orderQtyRule(cfg, f.symbol, f.qty);
    if (d !== null) return denyWith(v, f, d);
  }
  if (cfg.notionalNeeded && (notional !== notional || notional > cfg.maxOrderNotionalUsdt)) {
    d = orderNotionalRule(cfg, notional, !verified && (isOn(cfg.maxPositionNotionalUsdt) || isOn(cfg.maxGrossNotionalUsdt)));
    if (d !== null) return denyWith(v, f, d);
  }

  // 5. market data
  if (cfg.maxMarketAgeMs !== Infinity) {
    d = marketAgeRule(cfg, f.tsMs, nowMs);
    if (d !== null) return denyWith(v, f, d);
  }
  if (cfg.priceCollarBps !== Infinity && f.isLimit) {
    d = priceCollarRule(cfg, true, f.side, f.price, f.mid, f.markPrice);
    if (d !== null) return denyWith(v, f, d);
  }

  // 6. throttles
  if (cfg.rateOn) {
    d = throttle(cfg, st, acc, pair, nowMs, v);
    if (d !== null) return denyWith(v, f, d);
  }

  // 7. exposure (a verified reduce-only order reserves nothing and is never refused here)
  if (stateful && !verified) {
    if (cfg.exposureOn) {
      if (st.lostFills > 0) return denyWith(v, f, capacityDenial('positions', st.pairs.capacity));
      if (!st.reservations.canCreate()) return denyWith(v, f, capacityDenial('reservations', st.reservations.capacity));
    }
    if (acc < 0 && !st.accounts.canAllocate(nowMs)) return denyWith(v, f, capacityDenial('accounts', st.accounts.capacity));
    if (pair < 0 && !st.pairs.canAllocate(nowMs)) return denyWith(v, f, capacityDenial('pairs', st.pairs.capacity));
    if (cfg.exposureOn) {
      if (isOn(cfg.maxOpenOrders)) {
        d = openOrdersRule(cfg, st.accounts.openOrders(acc));
        if (d !== null) return denyWith(v, f, d);
      }
      if (isOn(cfg.maxPositionNotionalUsdt)) {
        d = symbolExposureRule(cfg, Math.abs(st.pairs.positionCost(pair)), st.pairs.reservedSide(pair, f.side), notional);
        if (d !== null) return denyWith(v, f, d);
      }
      if (isOn(cfg.maxGrossNotionalUsdt)) {
        d = accountExposureRule(cfg, st.accounts.grossPositions(acc), st.accounts.reserved(acc), notional);
        if (d !== null) return denyWith(v, f, d);
      }
    }
  }
  return v;
}

/** Refilled use of the enabled buckets, once per decision (kept in `v` for the commit and the quotas). */
function readBuckets(cfg: ControlsConfig, st: ControlsState, acc: number, pair: number, nowMs: number, v: ControlsVerdict): void {
  if (v.accSec === v.accSec) return;
  v.accSec = isOn(cfg.accountPerS) ? st.accounts.bucketUsed(acc, B_SEC, cfg.accountPerS, 1000, nowMs) : 0;
  v.accMin = isOn(cfg.accountPerMin) ? st.accounts.bucketUsed(acc, B_MIN, cfg.accountPerMin, 60_000, nowMs) : 0;
  v.symSec = isOn(cfg.symbolPerS) ? st.pairs.bucketUsed(pair, B_SEC, cfg.symbolPerS, 1000, nowMs) : 0;
  v.symMin = isOn(cfg.symbolPerMin) ? st.pairs.bucketUsed(pair, B_MIN, cfg.symbolPerMin, 60_000, nowMs) : 0;
}

/** Rule 6: account buckets (second, minute), then symbol buckets; cooldown = until the scope's buckets all have a token. */
function throttle(cfg: ControlsConfig, st: ControlsState, acc: number, pair: number, nowMs: number, v: ControlsVerdict): Denial | null {
  if (!cfg.rateOn) return null;
  readBuckets(cfg, st, acc, pair, nowMs, v);
  let d: Denial | null = null;
  if (isOn(cfg.accountPerS)) d = throttleRule('throttle_account', 'rate.account_per_s', cfg.accountPerS, 1000, v.accSec);
  if (isOn(cfg.accountPerMin)) d = worse(d, throttleRule('throttle_account', 'rate.account_per_min', cfg.accountPerMin, 60_000, v.accMin));
  if (d !== null) return d;
  if (isOn(cfg.symbolPerS)) d = throttleRule('throttle_symbol', 'rate.symbol_per_s', cfg.symbolPerS, 1000, v.symSec);
  if (isOn(cfg.symbolPerMin)) d = worse(d, throttleRule('throttle_symbol', 'rate.symbol_per_min', cfg.symbolPerMin, 60_000, v.symMin));
  return d;
}

function worse(first: Denial | null, second: Denial | null): Denial | null {
  if (first === null) return second;
  if (second !== null && second.cooldownMs > first.cooldownMs) first.cooldownMs = second.cooldownMs;
  return first;
}

const NEAR_OPEN = 1;
const NEAR_GROSS = 2;
const NEAR_SYMBOL = 1;

/**
 * Applies a decision's outcome (same critical section as the check, after the pipeline): for `allowed`
 * it takes a token from every enabled bucket and reserves the notional (not for a verified reduce-only
 * order); for any answer it remembers the id (`dedupeRecord`, answer pending) and fills the quotas.
 * Nothing for a replay, nothing when no control is on.
 */
export function commitControls(cfg: ControlsConfig, st: ControlsState, f: ControlsFacts, nowMs: number, v: ControlsVerdict, allowed: boolean): ControlsVerdict {
  if (v.kind === V_REPLAY || !cfg.anyOn) return v;
  // per-account state exists for the throttles and the exposure rules only
  if (allowed && (cfg.rateOn || cfg.exposureOn)) {
    let acc = v.acc;
    let pair = v.pair;
    if (acc < 0) acc = v.acc = st.accounts.ensure(f.accountKey, f.accountId, nowMs);
    if (acc >= 0 && pair < 0) pair = v.pair = st.pairs.ensure(f.accountKey, f.symKey, f.symbol ?? '', acc, nowMs);
    if (acc >= 0 && pair >= 0) {
      st.accounts.touch(acc, nowMs);
      st.pairs.touch(pair, nowMs);
      if (cfg.rateOn) {
        readBuckets(cfg, st, acc, pair, nowMs, v);
        if (isOn(cfg.accountPerS)) st.accounts.setBucket(acc, B_SEC, (v.accSec += 1), nowMs);
        if (isOn(cfg.accountPerMin)) st.accounts.setBucket(acc, B_MIN, (v.accMin += 1), nowMs);
        if (isOn(cfg.symbolPerS)) st.pairs.setBucket(pair, B_SEC, (v.symSec += 1), nowMs);
        if (isOn(cfg.symbolPerMin)) st.pairs.setBucket(pair, B_MIN, (v.symMin += 1), nowMs);
      }
      // reservations exist for the exposure rules only (rule 7); with those off nothing reads them
      if (cfg.exposureOn && !v.reduceOnlyVerified && st.reservations.canCreate()) {
        const price = notionalPrice(f.price, f.mid, f.markPrice);
        const notional = v.notional === v.notional ? v.notional : 0;
        st.reservations.create(f.accountKey, f.idKey, f.clientOrderId, acc, pair, f.symKey, f.side, f.qty, price === price ? price : 0, notional, nowMs);
        v.reservedUsdt = notional;
      }
      if (cfg.exposureOn) nearAlerts(cfg, st, f, acc, pair, v);
    }
  }
  if (v.rememberable) v.dedupeRecord = st.dedupe.remember(f.accountKey, f.idKey, f.orderHash, nowMs);
  if (!(cfg.rateOn || cfg.exposureOn)) {
    setNoQuotas(v);
    return v;
  }
  // a rule-1 denial returned before the lookups
  if (v.acc < 0) v.acc = st.accounts.findAccount(f.accountKey);
  if (v.pair < 0) v.pair = st.pairs.findPair(f.accountKey, f.symKey);
  fillQuotas(cfg, st, f, v.acc, v.pair, nowMs, v);
  return v;
}

/** Controls on, but none of them counts anything: all five quotas null. */
function setNoQuotas(v: ControlsVerdict): void {
  v.quotasOn = true;
  v.tradesPmLeft = NaN;
  v.ordersPsLeft = NaN;
  v.openOrdersLeft = NaN;
  v.symbolExposureLeftUsdt = NaN;
  v.accountExposureLeftUsdt = NaN;
}

/** §4: what the limits leave after this decision; null for a limit that is off; counts are integers. */
function fillQuotas(cfg: ControlsConfig, st: ControlsState, f: ControlsFacts, acc: number, pair: number, nowMs: number, v: ControlsVerdict): void {
  v.quotasOn = true;
  const a = st.accounts;
  const p = st.pairs;
  if (cfg.rateOn) {
    readBuckets(cfg, st, acc, pair, nowMs, v);
    let pm = Infinity;
    if (isOn(cfg.accountPerMin)) pm = tokensLeft(v.accMin, cfg.accountPerMin);
    if (isOn(cfg.symbolPerMin)) pm = Math.min(pm, tokensLeft(v.symMin, cfg.symbolPerMin));
    v.tradesPmLeft = pm === Infinity ? NaN : pm;
    let ps = Infinity;
    if (isOn(cfg.accountPerS)) ps = tokensLeft(v.accSec, cfg.accountPerS);
    if (isOn(cfg.symbolPerS)) ps = Math.min(ps, tokensLeft(v.symSec, cfg.symbolPerS));
    v.ordersPsLeft = ps === Infinity ? NaN : ps;
  } else {
    v.tradesPmLeft = NaN;
    v.ordersPsLeft = NaN;
  }
  v.openOrdersLeft = isOn(cfg.maxOpenOrders) ? Math.max(0, cfg.maxOpenOrders - a.openOrders(acc)) : NaN;
  v.symbolExposureLeftUsdt = isOn(cfg.maxPositionNotionalUsdt)
    ? Math.max(0, cfg.maxPositionNotionalUsdt - Math.abs(p.positionCost(pair)) - p.reservedSide(pair, f.side))
    : NaN;
  v.accountExposureLeftUsdt = isOn(cfg.maxGrossNotionalUsdt) ? Math.max(0, cfg.maxGrossNotionalUsdt - a.grossPositions(acc) - a.reserved(acc)) : NaN;
}

function nearAlerts(cfg: ControlsConfig, st: ControlsState, f: ControlsFacts, acc: number, pair: number, v: ControlsVerdict): void {
  const th = cfg.alertUtilization;
  const a = st.accounts;
  let flags = a.near(acc);
  const before = flags;
  if (isOn(cfg.maxOpenOrders)) flags = cross(v, f, flags, NEAR_OPEN, 'max_open_orders', a.openOrders(acc), cfg.maxOpenOrders, th);
  if (isOn(cfg.maxGrossNotionalUsdt)) flags = cross(v, f, flags, NEAR_GROSS, 'max_gross_notional_usdt', a.grossPositions(acc) + a.reserved(acc), cfg.maxGrossNotionalUsdt, th);
  if (flags !== before) a.setNear(acc, flags);
  if (isOn(cfg.maxPositionNotionalUsdt)) {
    const p = st.pairs;
    const used = Math.abs(p.positionCost(pair)) + p.reservedSide(pair, SIDE_NONE_MAX);
    const pf = p.near(pair);
    const nf = cross(v, f, pf, NEAR_SYMBOL, 'max_position_notional_usdt', used, cfg.maxPositionNotionalUsdt, th);
    if (nf !== pf) p.setNear(pair, nf);
  }
}
/** reservedSide(pair, 0) = the larger side */
const SIDE_NONE_MAX = 0;

function cross(v: ControlsVerdict, f: ControlsFacts, flags: number, bit: number, limit: string, value: number, max: number, threshold: number): number {
  const u = max > 0 ? value / max : value > 0 ? Infinity : 0;
  if (u >= threshold) {
    if ((flags & bit) !== 0) return flags;
    addEvent(v, {
      code: 'LIMIT.NEAR',
      symbol: limit === 'max_position_notional_usdt' ? f.symbol : null,
      details: { account_id: f.accountId, limit, value, max, utilization: u, threshold },
    });
    return flags | bit;
  }
  return flags & ~bit;
}

/** Check, then commit: the whole of §3 when the controls have the last word. */
export function evaluate(cfg: ControlsConfig, st: ControlsState, f: ControlsFacts, nowMs: number, v: ControlsVerdict = new ControlsVerdict()): ControlsVerdict {
  checkControls(cfg, st, f, nowMs, v);
  return commitControls(cfg, st, f, nowMs, v, v.kind === V_PASS);
}

/** Stores the encoded answer of a remembered decision (second short critical section). */
export function storeAnswer(st: ControlsState, f: ControlsFacts, v: ControlsVerdict, text: string): boolean {
  return v.dedupeRecord >= 0 && st.dedupe.storeAnswer(v.dedupeRecord, f.accountKey, f.idKey, text);
}

// ---------------------------------------------------------------------------------------------------
// Answer fragments (built outside the lock)

/** The §4 quotas object (null when no control is on: the caller keeps the reference constant). */
export function quotasObject(v: ControlsVerdict): Record<string, number | null> | null {
  if (!v.quotasOn) return null;
  const n = (x: number) => (x === x ? x : null);
  return {
    trades_pm_left: n(v.tradesPmLeft),
    symbol_exposure_left_usdt: n(v.symbolExposureLeftUsdt),
    account_exposure_left_usdt: n(v.accountExposureLeftUsdt),
    orders_ps_left: n(v.ordersPsLeft),
    open_orders_left: n(v.openOrdersLeft),
  };
}

/**
 * `observability.controls`: for a denial {rule, limit, value, ...details}; for an answer with controls on
 * {reserved_usdt, quotas}; null when no control is on (the key is then absent: parity).
 */
export function controlsObservability(v: ControlsVerdict): Record<string, unknown> | null {
  if (v.kind === V_DENY && v.denial !== null) {
    const d = v.denial;
    return { rule: d.rule, limit: d.limit, value: d.value, ...d.details };
  }
  if (!v.quotasOn) return null;
  return { reserved_usdt: v.reservedUsdt, quotas: quotasObject(v) };
}

/**
 * The replay of an original answer (§3 rule 1): the same bytes with `"idempotent_replay":true` added as
 * the last key of `observability` (the last key of the response object, as encodeResponse writes it).
 */
export function replayAnswer(original: string): string {
  const end = original.lastIndexOf('}', original.lastIndexOf('}') - 1);
  if (end < 0) return original;
  let i = end - 1;
  while (i >= 0 && (original[i] === ' ' || original[i] === '\n')) i--;
  const sep = original[i] === '{' ? '' : ',';
  return `${original.slice(0, end)}${sep}"idempotent_replay":true${original.slice(end)}`;
}

// ---------------------------------------------------------------------------------------------------
// Live configuration shared by every thread

/** Publishes a configuration into shared state (start-up, POST /ops/limits); workers pick it up. */
export function publishControls(st: ControlsState, cfg: ControlsConfig): void {
  st.publishConfig(JSON.stringify(cfg.present ? cfg.section : null));
}

/** Initialises the region from the start-up configuration (trading state, live config). */
export function initControls(st: ControlsState, cfg: ControlsConfig): void {
  st.init(tradingStateCode(cfg.tradingState));
  publishControls(st, cfg);
}

/**
 * A thread's view of the live configuration: rebuilt only when the shared generation changes (one word
 * read per decision). Call under the lock.
 */
export class LiveControls {
  private gen = -1;
  private cfg: ControlsConfig;

  constructor(initial: ControlsConfig = NO_CONTROLS) {
    this.cfg = initial;
  }

  current(st: ControlsState): ControlsConfig {
    const g = st.configGeneration;
    if (g !== this.gen) {
      const text = st.configText();
      if (text !== null) this.cfg = buildControlsConfig(JSON.parse(text));
      this.gen = g;
    }
    return this.cfg;
  }
}

/** POST /ops/trading_state under the lock: returns the TRADING_STATE event, or null when unchanged. */
export function setTradingState(st: ControlsState, to: 'ACTIVE' | 'REDUCING' | 'HALTED', source: string): GateEvent | null {
  const from = tradingStateName(st.tradingState);
  if (from === to) return null;
  st.tradingState = tradingStateCode(to);
  return { code: 'TRADING_STATE', details: { from, to, source } };
}

// ---------------------------------------------------------------------------------------------------
// §3 post-trade part

const FINAL_STATUS = new Set(['closed', 'filled', 'canceled', 'cancelled', 'rejected', 'expired', 'failed']);
const PARTIAL_STATUS = new Set(['partially_filled', 'partial', 'open', 'new', 'pending']);

const objOf = (v: unknown): Record<string, unknown> | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return NaN;
}
const firstDefined = (...vs: unknown[]): unknown => {
  for (const v of vs) if (v !== undefined && v !== null && v !== '') return v;
  return undefined;
};

export interface PosttradeControlsEffect {
  accountId: string;
  clientOrderId: string | null;
  /** what happened to the reservation of client_order_id */
  reservation: 'none' | 'shrunk' | 'ended' | 'late';
  /** quantity added to the position by this record (0: none) */
  fillQty: number;
  /** the position after the record (NaN when no symbol) */
  positionQty: number;
  /** the record's fill could not be recorded (tables full): fail closed, see ControlsState.lostFills */
  lost: boolean;
  events: GateEvent[];
}

/**
 * A /posttrade/log record (§3 post-trade part), under the lock, after the service's own handling (skip
 * it for a record the service found to be a duplicate). Positions are kept per (account, symbol) always
 * — also with no controls section, so a reduce-only order can be verified (§0).
 * - account: top-level `account_id`, else "default"; id: `client_order_id`, `clientOrderId` or
 *   `response.clientOrderId`.
 * - `filled` is cumulative (CCXT): with a reservation of that id (live, or ended and still remembered)
 *   only the new part is applied, and a live reservation shrinks to the unfilled rest; a final outcome
 *   (status closed/filled/canceled/cancelled/rejected/expired/failed, or a truthy `error`/`error_code`/
 *   `error_msg`) or a complete fill ends it.
 * - without a reservation, a record's `filled` is applied once, when it is final or carries no
 *   status; partial records (partially_filled, partial, open, new, pending) are skipped, the final one
 *   carries the total.
 * - fill price: `average`, `avg_price`, `response.average`, `price`, else the reservation's price.
 */
export function applyPosttradeToControls(st: ControlsState, cfg: ControlsConfig, payload: Record<string, unknown>, nowMs: number): PosttradeControlsEffect {
  const v = { events: NO_EVENTS };
  sweep(cfg, st, nowMs, v);
  const response = objOf(payload.response);
  const info = response ? objOf(response.info) : null;
  const accountId = str(payload.account_id) ?? DEFAULT_ACCOUNT;
  const cid = str(payload.client_order_id) ?? str(payload.clientOrderId) ?? (response ? str(response.clientOrderId) : null);
  const statusRaw = firstDefined(payload.status, response?.status, info?.status);
  const status = typeof statusRaw === 'string' ? statusRaw.toLowerCase() : null;
  const failed = truthy(payload.error) || truthy(payload.error_code) || truthy(payload.error_msg);
  const final = failed || (status !== null && FINAL_STATUS.has(status));
  const filledNum = num(firstDefined(payload.filled, response?.filled, info?.executedQty));
  const filled = Number.isFinite(filledNum) && filledNum > 0 ? filledNum : 0;
  const priceNum = num(firstDefined(payload.average, payload.avg_price, response?.average, payload.price, response?.price));
  let price = Number.isFinite(priceNum) && priceNum > 0 ? priceNum : 0;
  const sideName = normalSide(firstDefined(payload.side, response?.side));
  let side = sideName === 'buy' ? SIDE_BUY : sideName === 'sell' ? SIDE_SELL : 0;
  const symbol = canonicalSymbol(firstDefined(payload.symbol, response?.symbol));
  const accountKey = symbolKey(accountId);

  const res = st.reservations;
  const r = cid === null ? -1 : res.find(accountKey, symbolKey(cid));
  let fill = 0;
  let outcome: PosttradeControlsEffect['reservation'] = 'none';
  let pair = -1;
  if (r >= 0) {
    const live = res.state(r) === RES_LIVE;
    fill = res.applyFilled(r, filled);
    if (side === 0) side = res.side(r);
    if (price === 0) price = res.price(r);
    if (live) {
      pair = res.pairOf(r);
      outcome = fill > 0 ? 'shrunk' : 'none';
    } else outcome = 'late';
  } else if (filled > 0 && (final || status === null || !PARTIAL_STATUS.has(status))) {
    fill = filled;
  }

  let lost = false;
  if (fill > 0 && side !== 0 && (pair >= 0 || symbol !== null)) {
    if (pair < 0) {
      const acc = st.accounts.ensure(accountKey, accountId, nowMs);
      pair = acc < 0 ? -1 : st.pairs.ensure(accountKey, symbolKey(symbol as string), symbol as string, acc, nowMs);
    }
    if (pair >= 0) st.pairs.applyFill(pair, side, fill, price, nowMs);
    else {
      st.noteLostFill();
      lost = true;
    }
  }
  if (r >= 0 && res.state(r) === RES_LIVE && (final || res.filled(r) >= res.qty(r))) {
    res.end(r, nowMs);
    outcome = 'ended';
  }
  return {
    accountId,
    clientOrderId: cid,
    reservation: outcome,
    fillQty: fill,
    positionQty: pair >= 0 ? st.pairs.positionQty(pair) : symbol === null ? NaN : st.pairs.positionQty(st.pairs.findPair(accountKey, symbolKey(symbol))),
    lost,
    events: v.events,
  };
}

// ---------------------------------------------------------------------------------------------------
// GET /ops/limits

/** Effective limits, trading state and per account: positions, reservations, bucket levels, utilisation. */
export function controlsSnapshot(st: ControlsState, cfg: ControlsConfig, nowMs: number): Record<string, unknown> {
  const a = st.accounts;
  const p = st.pairs;
  const accounts: Record<string, unknown>[] = [];
  const util = (used: number, max: number) => (isOn(max) ? (max > 0 ? used / max : null) : null);
  const left = (tbl: typeof a | typeof p, r: number, field: number, cap: number, w: number) =>
    isOn(cap) ? tokensLeft(tbl.bucketUsed(r, field, cap, w, nowMs), cap) : null;
  for (const r of a.records()) {
    const positions: Record<string, unknown>[] = [];
    for (const q of p.records()) {
      if (p.account(q) !== r) continue;
      const qty = p.positionQty(q);
      const cost = p.positionCost(q);
      positions.push({
        symbol: p.label(q),
        qty,
        avg_price: qty !== 0 ? cost / qty : null,
        notional_usdt: Math.abs(cost),
        reserved_buy_usdt: p.reservedSide(q, SIDE_BUY),
        reserved_sell_usdt: p.reservedSide(q, SIDE_SELL),
        open_reservations: p.liveReservations(q),
        symbol_per_s_left: left(p, q, B_SEC, cfg.symbolPerS, 1000),
        symbol_per_min_left: left(p, q, B_MIN, cfg.symbolPerMin, 60_000),
        utilization: util(Math.abs(cost) + p.reservedSide(q, 0), cfg.maxPositionNotionalUsdt),
      });
    }
    accounts.push({
      account_id: a.label(r),
      open_orders: a.openOrders(r),
      reserved_usdt: a.reserved(r),
      gross_positions_usdt: a.grossPositions(r),
      account_per_s_left: left(a, r, B_SEC, cfg.accountPerS, 1000),
      account_per_min_left: left(a, r, B_MIN, cfg.accountPerMin, 60_000),
      utilization: {
        max_open_orders: util(a.openOrders(r), cfg.maxOpenOrders),
        max_gross_notional_usdt: util(a.grossPositions(r) + a.reserved(r), cfg.maxGrossNotionalUsdt),
      },
      positions,
    });
  }
  return {
    trading_state: tradingStateName(st.tradingState),
    limits: effectiveLimits(cfg),
    reservations_open: st.reservations.live,
    lost_fills: st.lostFills,
    accounts,
  };
}
