import type { PretradeCheckRequest } from '../../schema/pretrade.ts';
import { erParams, requestParams } from '../config/params.ts';
import { erInputs, type ErInputs } from '../logic/expected-return.ts';
import { latencyMs } from '../logic/features.ts';
import { buildPretradeRequest } from '../logic/request.ts';
import { sideAligned } from '../logic/signal.ts';
import { quantiseDown } from '../logic/sizing.ts';
import { clamp, closingSide, type Side } from '../logic/types.ts';
import { logError, logEvent, nextClientOrderId, type EngineContext } from './context.ts';
import { answered, askGate } from './gate-call.ts';
import { marketTsMs } from './intent.ts';
import { isQuotaDenial } from './quota-guard.ts';
import type { SymbolState } from './symbol-state.ts';

/** An exit the runner may send: its client order id, the check it came from, and its qty. */
export interface ExitGo {
  cid: string;
  reqId: string;
  qty: number;
}

/** What the exit wants to send (before the gate). */
export interface ExitAsk {
  side: Side;
  qty: number;
  /** reference price: the touch on the closing side */
  price: number;
  /** the exit rule (posttrade `reason`) */
  reason: string;
  /** meant to flatten the position */
  full: boolean;
}

/**
 * Exits go through the gate (runner.md "Exits through the gate"): each exit order is checked first as
 * a reduce-only market order (`order.reduce_only: true`, `order.action: "close"`). The gate's verdict
 * is final for exits as for entries, with one exception for an unreachable gate:
 *
 * - allowed → sent (qty cut to `max_qty` if the gate says so; `risk_scale` sizes new risk and is not
 *   applied to a close);
 * - refused by the gate, or a fail-closed verdict other than "unreachable" → not sent; journaled
 *   (`exit_denied`) and retried on the exit backoff (`exit_retry_base_ms · 2^k`, at least the
 *   refusal's `cooldown_ms` up to `exit_retry_max_ms`), `EXIT.STUCK` after `exit_alert_after`
 *   failures — the position is never forgotten, entries on the symbol stay blocked meanwhile;
 * - the gate unreachable (`gate_unavailable`, or `gate_timeout` after the same-id retry) and the exit
 *   is reduce-only against the position the runner's own fills confirm (closing side, qty ≤ position)
 *   → sent without a verdict, journaled as the alert `EXIT.GATE_UNAVAILABLE` (flattening must stay
 *   possible when the gate is down); otherwise it waits as above.
 *
 * An exit whose check got no verdict keeps its client order id and order object for the next attempt
 * (same side and qty), so a gate that did decide it answers it once (controls.md §5).
 *
 * The exit's market block describes the market now: side-aligned score of the newest tick, ER inputs
 * as for a taker order on the closing side, the current spread, measured latency, regime, mid, ts_ms.
 * It leaves out the entry-only inputs — TRAP deltas and signs (an exit is no TRAP sample), SPRT samples,
 * `pnl_today_pct` and `open_positions` (the risk caps guard new risk) — and the gate skips a guard
 * whose inputs are absent.
 */
export async function checkExit(ctx: EngineContext, st: SymbolState, x: ExitAsk): Promise<ExitGo | null> {
  let pending = st.pendingExit;
  if (pending !== null && (pending.side !== x.side || pending.qty !== x.qty)) pending = st.pendingExit = null;
  const now = ctx.clock.nowMs();
  let req: PretradeCheckRequest;
  let cid: string;
  try {
    cid = pending?.cid ?? nextClientOrderId(ctx);
    req = exitRequest(ctx, st, x, cid, now);
    // a retry of an intent without a verdict: byte-identical order object (same id, same reference price)
    if (pending !== null) req = { ...req, order: pending.order as PretradeCheckRequest['order'] };
  } catch (e) {
    logError(ctx, 'exit_request', e);
    exitSetback(ctx, st, { why: 'request_invalid', cooldownMs: 0, full: x.full });
    return null;
  }
  st.exitChecking = true;
  let r: Awaited<ReturnType<typeof askGate>>;
  try {
    r = await askGate(ctx, req, 'exit', () => false);
  } finally {
    st.exitChecking = false;
  }
  const a = r.answer;
  const d = a.decision;
  const reqId = r.req.req_id!;
  const t = ctx.clock.nowMs();
  const base = { symbol: st.symbol, req_id: reqId, client_order_id: cid, side: x.side, qty: x.qty, exit_reason: x.reason, full: x.full };

  if (answered(a)) {
    st.pendingExit = null;
    if (d.cooldown_ms > 0 && !isQuotaDenial(d.reason)) st.cooldownUntilMs = Math.max(st.cooldownUntilMs, t + d.cooldown_ms);
    if (d.allow === true && d.hard_gate !== true) {
      ctx.quotas.onAllow(st.symbol, d.quotas, d.cooldown_ms, t, true);
      const maxQty = Number.isFinite(d.max_qty) && d.max_qty >= 0 ? d.max_qty : x.qty;
      const qty = maxQty >= x.qty ? x.qty : quantiseDown(maxQty, st.market?.lotStep ?? 0);
      if (!(qty > 0) || qty < (st.market?.minQty ?? 0)) {
        refuse(ctx, st, x, 'gate', { ...base, reason: 'SIZED_OUT_BY_GATE', max_qty: d.max_qty }, 0);
        return null;
      }
      return { cid, reqId, qty };
    }
    const paused = ctx.quotas.onDeny(st.symbol, d.reason, d.cooldown_ms, t);
    refuse(ctx, st, x, 'gate', { ...base, reason: d.reason, reasons: d.observability.reasons, cooldown_ms: d.cooldown_ms, ...(paused !== null ? { entries_paused: paused } : {}) }, d.cooldown_ms);
    return null;
  }

  // no verdict: fail-open (paper opt-in), the unreachable-gate exception, or wait
  if (ctx.cfg.gate.fail_open_in_paper && ctx.mode === 'paper') {
    st.pendingExit = null;
    ctx.summary.gate.failOpen++;
    logEvent(ctx, 'fail_open', 'local', { ...base, reason: d.reason });
    return { cid, reqId, qty: x.qty };
  }
  const unreachable = a.outcome === 'unavailable' || a.outcome === 'timeout';
  if (unreachable && ledgerConfirms(st, x.side, x.qty)) {
    st.pendingExit = null;
    ctx.summary.gate.exits.sentUnavailable++;
    logEvent(ctx, 'alert', 'runner', { code: 'EXIT.GATE_UNAVAILABLE', ...base, outcome: a.outcome, gate_reason: d.reason, position_qty: st.position.qty });
    return { cid, reqId, qty: x.qty };
  }
  st.pendingExit = { cid, side: x.side, qty: x.qty, order: r.req.order as Record<string, unknown> };
  refuse(ctx, st, x, 'local', { ...base, reason: d.reason, outcome: a.outcome }, 0);
  return null;
}

/** The runner's own fills confirm the exit only reduces: a position, the closing side, qty within it. */
export function ledgerConfirms(st: SymbolState, side: Side, qty: number): boolean {
  const ps = st.position.side;
  if (ps === null || closingSide(ps) !== side) return false;
  const held = Math.abs(st.position.qty);
  return qty > 0 && qty <= held * (1 + 1e-9);
}

function refuse(ctx: EngineContext, st: SymbolState, x: ExitAsk, origin: 'gate' | 'local', rec: Record<string, unknown>, cooldownMs: number): void {
  // a refused ladder slice is planned again after the backoff (a full exit repeats by itself)
  if (!x.full) st.exit?.undoSlice();
  const retryIn = exitSetback(ctx, st, { why: String(rec.reason), cooldownMs, full: x.full });
  logEvent(ctx, 'exit_denied', origin, { ...rec, retry_in_ms: retryIn, failures: st.exitFailures });
}

/**
 * An exit that did not happen (refused, or a flattening order that left a position): one more failure,
 * the next attempt after `exit_retry_base_ms · 2^(failures−1)` (capped at `exit_retry_max_ms`; at least
 * `cooldownMs` up to that cap), and the `EXIT.STUCK` alert after `exit_alert_after` failures (§5.8).
 * Returns the wait in ms.
 */
export function exitSetback(ctx: EngineContext, st: SymbolState, a: { why: string; cooldownMs: number; full: boolean }): number {
  const x = ctx.cfg.execution;
  st.exitFailures++;
  const backoff = Math.min(x.exit_retry_max_ms, x.exit_retry_base_ms * 2 ** (st.exitFailures - 1));
  const wait = Math.max(backoff, Math.min(Math.max(0, a.cooldownMs), x.exit_retry_max_ms));
  st.exitRetryAtMs = ctx.clock.nowMs() + wait;
  if (st.exitFailures >= x.exit_alert_after && !st.exitStuck) {
    st.exitStuck = true;
    ctx.summary.error('exit_stuck');
    logEvent(ctx, 'alert', 'runner', { code: 'EXIT.STUCK', symbol: st.symbol, failures: st.exitFailures, position_qty: st.position.qty, last: a.why });
  }
  return wait;
}

/** The reduce-only check of an exit (see checkExit for what its market block holds). */
function exitRequest(ctx: EngineContext, st: SymbolState, x: ExitAsk, cid: string, now: number): PretradeCheckRequest {
  const c = ctx.cfg;
  const book = st.fe.book;
  const bid = book.bestBid()?.[0];
  const ask = book.bestAsk()?.[0];
  const mid = book.mid();
  const spreadBps = bid !== undefined && ask !== undefined && mid !== null && mid > 0 ? Math.max(0, ((ask - bid) / mid) * 1e4) : 0;
  const snapAtr = st.lastSnap?.atrBps ?? null;
  const entryAtrBps = st.entryAtr !== null && mid !== null && mid > 0 ? (st.entryAtr / mid) * 1e4 : null;
  const atrBps = snapAtr !== null && Number.isFinite(snapAtr) && snapAtr > 0 ? snapAtr : entryAtrBps;
  const takerBps = st.market?.takerBps ?? c.fees.taker_bps;
  const erp = erParams(c);
  const er: ErInputs = erInputs({ atrBps, route: 'taker', spreadBps, makerBps: st.market?.makerBps, takerBps }, erp) ?? {
    a_bps: erp.min_bps,
    b_bps: erp.min_bps,
    fees_bps: 2 * takerBps,
    slip_bps_est: spreadBps / 2,
  };
  return buildPretradeRequest(
    {
      runId: ctx.runId,
      seq: ++ctx.seq.req,
      tsMs: now,
      mode: ctx.mode,
      accountId: ctx.accountId,
      clientOrderId: cid,
      orderType: 'market',
      reduceOnly: true,
      symbol: st.symbol,
      side: x.side,
      qty: x.qty,
      price: x.price,
      mid,
      marketTsMs: marketTsMs(book.lastExchTs, book.lastRecvTs, c.feed.clock_offset_ms),
      score: clamp(sideAligned(x.side, st.lastScore ?? 0), -1, 1),
      er,
      spreadBps,
      latencyMs: latencyMs({ tSendMs: now, tExchMs: book.lastExchTs, tRecvMs: book.lastRecvTs ?? now, clockOffsetMs: c.feed.clock_offset_ms }),
      regime: st.lastSnap?.regime ?? 'normal',
      trap: null,
      obiSign: null,
      tfiSign: null,
      sprtSamples: null,
      pnlTodayPct: null,
      openPositions: null,
    },
    { ...requestParams(c), send_extras: false },
  );
}
