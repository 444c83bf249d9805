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
 * Strings and the index keys' 30-bit hashes are computed outside the lock (`controlsFacts`). With no
 * control on and the trading state ACTIVE the check is two word reads (plus one lookup for a
 * reduce-only order, §0's halt pass-through) and commit one flag test. With controls on, the allow path
 * is straight-line comparisons of numbers: one `gather` call reads the account and pair records into
 * `v.reads`, one probe of the config's symbol table answers the lists and the qty limit, and the rule
 * functions of rules.ts run only to build a denial. (Small helpers returning or taking doubles were the
 * hidden cost before: once the compiler's inlining budget is spent, each such call allocates its
 * number.) What remains is memory: the shared tables are touched at one random cache line per decision
 * (the id index, shared by dedupe and reservations), the account and pair records, and sequential
 * writes (dedupe ring, reservation record from a LIFO free stack); see state.ts.
 * bench/controls.bench.ts measures check + commit per decision in a realistic steady state (4 accounts,
 * 20 symbols, unique ids, post-trade outcomes settling reservations, ~6 000 remembered ids): on this
 * shared 2-vCPU VM, off ≈ 30 ns, stateless rules ≈ 80 ns, everything on (the desk) ≈ 0.6–0.9 µs, most
 * of it cache misses (a miss to memory costs 100–300 ns here); storing the answer for replay (second
 * critical section) ≈ 0.2 µs more. test/core/controls/controls.bench.ts (hot tables, no post-trade
 * traffic): everything on ≈ 0.4 µs.
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
  bucketUsed,
  capacityDenial,
  duplicateDenial,
  marketAgeRule,
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
import { B_MIN, B_SEC, RecordReads, RES_LIVE, type ControlsState, type ExpiredReservation } from './state.ts';
import { SYM_ALLOWED, SYM_BLOCKED, SYM_QTY } from './symbol-rules.ts';

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
  /** @internal the account and pair record fields the rules read (ControlsState.gather) */
  readonly reads = new RecordReads();
  /** @internal the reservation the commit makes (ReservationAmounts): price and notional */
  reservePrice = 0;
  reserveNotional = 0;

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

/** Time-driven housekeeping: reservations past their TTL (events), dedupe ids past the window (amortised). */
function sweep(cfg: ControlsConfig, st: ControlsState, nowMs: number, v: { events: GateEvent[] }): void {
  if (st.reservations.expiryDue(nowMs, cfg.reservationTtlMs)) expireReservations(cfg, st, nowMs, v);
  if (cfg.dedupeOn && st.dedupe.count > 0) st.dedupe.sweep(nowMs, cfg.dedupeWindowMs);
}

function expireReservations(cfg: ControlsConfig, st: ControlsState, nowMs: number, v: { events: GateEvent[] }): void {
  const expired = st.reservations.expireDue(nowMs, cfg.reservationTtlMs);
  if (expired !== null) for (const x of expired) addEvent(v, expiredEvent(x, nowMs));
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

/** Controls off: parity, except §0's pass-through of a verified reduce-only order. */
function offPassThrough(cfg: ControlsConfig, st: ControlsState, f: ControlsFacts, v: ControlsVerdict): void {
  const pair = st.pairs.findPairF(f);
  v.pair = pair;
  v.reduceOnlyVerified = verifyReduceOnly(true, f.side, f.qty, st.pairs.positionQty(pair));
  v.passesHalts = v.reduceOnlyVerified && cfg.reduceOnlyPassesHalt;
}

/** Rule 1 found the id within the window: the original answer again, or `duplicate_client_order_id`. */
function idempotencyHit(cfg: ControlsConfig, st: ControlsState, f: ControlsFacts, r: number, v: ControlsVerdict): ControlsVerdict {
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

function dedupeFull(cfg: ControlsConfig, st: ControlsState, f: ControlsFacts, nowMs: number, v: ControlsVerdict): ControlsVerdict {
  const wait = Math.max(0, st.dedupe.oldestCreatedMs() + cfg.dedupeWindowMs - nowMs);
  return denyWith(v, f, capacityDenial('dedupe', st.dedupe.capacity, wait));
}

/**
 * §3 rules 1–7, first hit wins; `v` is reset and filled. Changes no state but the time-driven expiry
 * of reservations (RESERVATION.EXPIRED events) and dedupe ids. Must run under the lock.
 *
 * The allow path is straight-line comparisons of numbers: the record fields come from one `gather`
 * call, the per-symbol rules from one table probe; the rule functions of rules.ts are called only to
 * build a denial once a comparison failed (they recompute the same values).
 */
export function checkControls(cfg: ControlsConfig, st: ControlsState, f: ControlsFacts, nowMs: number, v: ControlsVerdict): ControlsVerdict {
  v.reset();
  const ts = st.tradingState;
  if (!cfg.anyOn && ts === TS_ACTIVE) {
    if (f.reduceOnly) offPassThrough(cfg, st, f, v);
    return v;
  }
  sweep(cfg, st, nowMs, v);

  // 1. idempotency
  if (cfg.dedupeOn && f.idKey !== 0) {
    const r = st.dedupe.findF(f, nowMs, cfg.dedupeWindowMs);
    if (r >= 0) return idempotencyHit(cfg, st, f, r, v);
    if (!st.dedupe.hasRoom(nowMs, cfg.dedupeWindowMs)) return dedupeFull(cfg, st, f, nowMs, v);
    v.rememberable = true;
  }

  // 2. trading state (and reduce-only verification). Every rule below is guarded by its own "on" flag:
  // a rule that is off costs one comparison, not a call.
  const stateful = cfg.stateful;
  const reads = v.reads;
  let acc = -1;
  let pair = -1;
  if (stateful || f.reduceOnly) {
    pair = st.pairs.findPairF(f);
    if (stateful) acc = st.accounts.findAccountF(f);
    st.gather(acc, pair, reads);
  } else reads.posQty = 0;
  v.acc = acc;
  v.pair = pair;
  let verified = false;
  let d: Denial | null;
  if (f.reduceOnly || ts !== TS_ACTIVE) {
    verified = f.reduceOnly && verifyReduceOnly(true, f.side, f.qty, reads.posQty);
    v.reduceOnlyVerified = verified;
    v.passesHalts = verified && cfg.reduceOnlyPassesHalt;
    d = tradingStateRule(cfg, ts, f.reduceOnly, verified, true, f.qty, reads.posQty);
    if (d !== null) return denyWith(v, f, d);
  }

  // 3. instrument and hours (the lists and the qty limits: one probe of the symbol table)
  let maxQty = cfg.maxOrderQtyOther;
  const sr = cfg.symbolRules;
  if (sr !== null) {
    const slot = sr.slotOf(f);
    const flags = slot < 0 ? 0 : sr.flags[slot];
    if ((cfg.symbolsAllowed !== null && (flags & SYM_ALLOWED) === 0) || (flags & SYM_BLOCKED) !== 0) {
      d = symbolListRule(cfg, f.symbol);
      if (d !== null) return denyWith(v, f, d);
    }
    if ((flags & SYM_QTY) !== 0) maxQty = sr.qty[slot];
  }
  if (cfg.windows !== null && !verified) {
    d = tradingWindowRule(cfg, nowMs, false);
    if (d !== null) return denyWith(v, f, d);
  }

  // 4. per order
  const price = f.price > 0 ? f.price : f.mid > 0 ? f.mid : f.markPrice > 0 ? f.markPrice : NaN; // notionalPrice (§1)
  const notional = f.qty * price;
  v.notional = notional;
  if (f.qty > maxQty) {
    d = orderQtyRule(cfg, f.symbol, f.qty);
    if (d !== null) return denyWith(v, f, d);
  }
  if (cfg.notionalNeeded && (notional !== notional || notional > cfg.maxOrderNotionalUsdt)) {
    d = orderNotionalRule(cfg, notional, !verified && (isOn(cfg.maxPositionNotionalUsdt) || isOn(cfg.maxGrossNotionalUsdt)));
    if (d !== null) return denyWith(v, f, d);
  }

  // 5. market data (marketAgeRule, priceCollarRule)
  if (cfg.maxMarketAgeMs !== Infinity) {
    const t = f.tsMs;
    if (t !== t || nowMs - t > cfg.maxMarketAgeMs) {
      d = marketAgeRule(cfg, t, nowMs);
      if (d !== null) return denyWith(v, f, d);
    }
  }
  if (cfg.priceCollarBps !== Infinity && f.isLimit && f.price > 0) {
    const ref = f.mid > 0 ? f.mid : f.markPrice > 0 ? f.markPrice : NaN;
    const p = f.price;
    const dev = f.side === SIDE_BUY ? ((p - ref) * 10_000) / ref : f.side === SIDE_SELL ? ((ref - p) * 10_000) / ref : (Math.abs(p - ref) * 10_000) / ref;
    if (ref !== ref || dev > cfg.priceCollarBps) {
      d = priceCollarRule(cfg, true, f.side, p, f.mid, f.markPrice);
      if (d !== null) return denyWith(v, f, d);
    }
  }

  // 6. throttles (throttleRule: refuses when used + 1 > cap)
  if (cfg.rateOn) {
    refillBuckets(cfg, reads, nowMs, v);
    if (v.accSec + 1 > cfg.accountPerS + 1e-9 || v.accMin + 1 > cfg.accountPerMin + 1e-9 || v.symSec + 1 > cfg.symbolPerS + 1e-9 || v.symMin + 1 > cfg.symbolPerMin + 1e-9) {
      d = throttle(cfg, v);
      if (d !== null) return denyWith(v, f, d);
    }
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
      // openOrdersRule, symbolExposureRule, accountExposureRule
      if (reads.open + 1 > cfg.maxOpenOrders) {
        d = openOrdersRule(cfg, reads.open);
        if (d !== null) return denyWith(v, f, d);
      }
      if (cfg.maxPositionNotionalUsdt !== Infinity) {
        const position = Math.abs(reads.posCost);
        const reserved = f.side === SIDE_BUY ? reads.resBuy : f.side === SIDE_SELL ? reads.resSell : Math.max(reads.resBuy, reads.resSell);
        if (position + reserved + notional > cfg.maxPositionNotionalUsdt) {
          d = symbolExposureRule(cfg, position, reserved, notional);
          if (d !== null) return denyWith(v, f, d);
        }
      }
      if (reads.gross + reads.reserved + notional > cfg.maxGrossNotionalUsdt) {
        d = accountExposureRule(cfg, reads.gross, reads.reserved, notional);
        if (d !== null) return denyWith(v, f, d);
      }
    }
  }
  return v;
}

/** Refilled use of the four buckets (0 for one that is off), from the gathered record fields. */
function refillBuckets(cfg: ControlsConfig, r: RecordReads, nowMs: number, v: ControlsVerdict): void {
  v.accSec = cfg.accountPerS !== Infinity ? bucketUsed(r.accSecUsed, r.accSecAt, cfg.accountPerS, 1000, nowMs) : 0;
  v.accMin = cfg.accountPerMin !== Infinity ? bucketUsed(r.accMinUsed, r.accMinAt, cfg.accountPerMin, 60_000, nowMs) : 0;
  v.symSec = cfg.symbolPerS !== Infinity ? bucketUsed(r.symSecUsed, r.symSecAt, cfg.symbolPerS, 1000, nowMs) : 0;
  v.symMin = cfg.symbolPerMin !== Infinity ? bucketUsed(r.symMinUsed, r.symMinAt, cfg.symbolPerMin, 60_000, nowMs) : 0;
}

/** Rule 6's denial: account buckets (second, minute), then symbol buckets; cooldown = until the scope's buckets all have a token. */
function throttle(cfg: ControlsConfig, v: ControlsVerdict): Denial | null {
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
  const reads = v.reads;
  // per-account state exists for the throttles and the exposure rules only
  if (allowed && cfg.stateful) {
    let acc = v.acc;
    let pair = v.pair;
    if (acc < 0) acc = v.acc = st.accounts.ensure(f.accountKey, f.accountId, nowMs);
    if (acc >= 0 && pair < 0) pair = v.pair = st.pairs.ensure(f.accountKey, f.symKey, f.symbol ?? '', acc, nowMs);
    if (acc >= 0 && pair >= 0) {
      if (cfg.rateOn) {
        // the check refilled the buckets (an allow passed rule 6); the token taken is added here
        if (v.accSec !== v.accSec) {
          st.gather(acc, pair, reads);
          refillBuckets(cfg, reads, nowMs, v);
        }
        v.accSec += 1;
        v.accMin += 1;
        v.symSec += 1;
        v.symMin += 1;
      }
      st.takeTokens(acc, pair, nowMs, cfg.rateOn ? cfg.rateBits : 0, v);
      // reservations exist for the exposure rules only (rule 7); with those off nothing reads them
      if (cfg.exposureOn) {
        if (!v.reduceOnlyVerified && st.reservations.canCreate()) {
          v.reservePrice = f.price > 0 ? f.price : f.mid > 0 ? f.mid : f.markPrice > 0 ? f.markPrice : 0; // notionalPrice, 0 = none
          v.reserveNotional = v.notional === v.notional ? v.notional : 0;
          st.reservations.create(f, v, acc, pair, nowMs);
          v.reservedUsdt = v.reserveNotional;
        }
        st.gather(acc, pair, reads);
        nearAlerts(cfg, st, f, acc, pair, v);
      }
    }
  }
  if (v.rememberable) v.dedupeRecord = st.dedupe.rememberF(f, nowMs);
  if (!cfg.stateful) {
    setNoQuotas(v);
    return v;
  }
  if (v.acc < 0 || v.pair < 0) {
    // a rule-1 denial returned before the lookups, or the tables had no room
    if (v.acc < 0) v.acc = st.accounts.findAccountF(f);
    if (v.pair < 0) v.pair = st.pairs.findPairF(f);
    st.gather(v.acc, v.pair, reads);
  }
  fillQuotas(cfg, f, nowMs, v);
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

/**
 * §4: what the limits leave after this decision; null for a limit that is off; counts are integers.
 * Reads `v.reads` (gathered after any change this decision made) and the buckets in `v`.
 */
function fillQuotas(cfg: ControlsConfig, f: ControlsFacts, nowMs: number, v: ControlsVerdict): void {
  v.quotasOn = true;
  const r = v.reads;
  if (cfg.rateOn) {
    if (v.accSec !== v.accSec) refillBuckets(cfg, r, nowMs, v);
    let pm = Infinity;
    if (cfg.accountPerMin !== Infinity) pm = tokensLeft(v.accMin, cfg.accountPerMin);
    if (cfg.symbolPerMin !== Infinity) pm = Math.min(pm, tokensLeft(v.symMin, cfg.symbolPerMin));
    v.tradesPmLeft = pm === Infinity ? NaN : pm;
    let ps = Infinity;
    if (cfg.accountPerS !== Infinity) ps = tokensLeft(v.accSec, cfg.accountPerS);
    if (cfg.symbolPerS !== Infinity) ps = Math.min(ps, tokensLeft(v.symSec, cfg.symbolPerS));
    v.ordersPsLeft = ps === Infinity ? NaN : ps;
  } else {
    v.tradesPmLeft = NaN;
    v.ordersPsLeft = NaN;
  }
  v.openOrdersLeft = cfg.maxOpenOrders !== Infinity ? Math.max(0, cfg.maxOpenOrders - r.open) : NaN;
  if (cfg.maxPositionNotionalUsdt !== Infinity) {
    const reserved = f.side === SIDE_BUY ? r.resBuy : f.side === SIDE_SELL ? r.resSell : Math.max(r.resBuy, r.resSell);
    v.symbolExposureLeftUsdt = Math.max(0, cfg.maxPositionNotionalUsdt - Math.abs(r.posCost) - reserved);
  } else v.symbolExposureLeftUsdt = NaN;
  v.accountExposureLeftUsdt = cfg.maxGrossNotionalUsdt !== Infinity ? Math.max(0, cfg.maxGrossNotionalUsdt - r.gross - r.reserved) : NaN;
}

/** utilisation of a limit: value / max (a limit of 0 is full as soon as anything is used) */
const utilization = (value: number, max: number): number => (max > 0 ? value / max : value > 0 ? Infinity : 0);

/** LIMIT.NEAR once per crossing of alert_utilization (`v.reads` holds the records after this decision). */
function nearAlerts(cfg: ControlsConfig, st: ControlsState, f: ControlsFacts, acc: number, pair: number, v: ControlsVerdict): void {
  const th = cfg.alertUtilization;
  const r = v.reads;
  let flags = r.accNear;
  const before = flags;
  if (cfg.maxOpenOrders !== Infinity) {
    if (utilization(r.open, cfg.maxOpenOrders) < th) flags &= ~NEAR_OPEN;
    else if ((flags & NEAR_OPEN) === 0) flags = crossed(v, f, flags, NEAR_OPEN, 'max_open_orders', r.open, cfg.maxOpenOrders, th);
  }
  if (cfg.maxGrossNotionalUsdt !== Infinity) {
    const used = r.gross + r.reserved;
    if (utilization(used, cfg.maxGrossNotionalUsdt) < th) flags &= ~NEAR_GROSS;
    else if ((flags & NEAR_GROSS) === 0) flags = crossed(v, f, flags, NEAR_GROSS, 'max_gross_notional_usdt', used, cfg.maxGrossNotionalUsdt, th);
  }
  if (flags !== before) st.accounts.setNear(acc, flags);
  if (cfg.maxPositionNotionalUsdt !== Infinity) {
    const used = Math.abs(r.posCost) + Math.max(r.resBuy, r.resSell);
    const pf = r.pairNear;
    let nf = pf;
    if (utilization(used, cfg.maxPositionNotionalUsdt) < th) nf &= ~NEAR_SYMBOL;
    else if ((pf & NEAR_SYMBOL) === 0) nf = crossed(v, f, pf, NEAR_SYMBOL, 'max_position_notional_usdt', used, cfg.maxPositionNotionalUsdt, th);
    if (nf !== pf) st.pairs.setNear(pair, nf);
  }
}

/** A limit's utilisation just reached the threshold: the LIMIT.NEAR event, and the flag set. */
function crossed(v: ControlsVerdict, f: ControlsFacts, flags: number, bit: number, limit: string, value: number, max: number, threshold: number): number {
  addEvent(v, {
    code: 'LIMIT.NEAR',
    symbol: limit === 'max_position_notional_usdt' ? f.symbol : null,
    details: { account_id: f.accountId, limit, value, max, utilization: utilization(value, max), threshold },
  });
  return flags | bit;
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
