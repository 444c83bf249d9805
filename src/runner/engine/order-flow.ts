import type { ExchangeEvent, FillEvent } from '../exchange/types.ts';
import { quantiseDown } from '../logic/sizing.ts';
import { closingSide } from '../logic/types.ts';
import { logError, logEvent, nextClientOrderId, type EngineContext } from './context.ts';
import { isTerminal, type TrackedOrder } from './orders.ts';
import { failureCodeOf, orderCancelBody, orderFailureBody, orderFillBody } from './posttrade-bodies.ts';
import type { SymbolState } from './symbol-state.ts';
import { armExit } from './exit-flow.ts';
import { checkExit, exitSetback } from './exit-gate.ts';

/**
 * Orders after the gate said yes (runner.md §2.2 Ours): submit with a deterministic client id, track
 * the state machine from exchange events, drive the position from fills only, post one
 * `/posttrade/log` per fill and per terminal failure, cancel maker rests on time, and reconcile an
 * order whose ack is late by querying the venue once.
 */
export class OrderFlow {
  /** exits meant to flatten the whole position: if one ends with a position left, it is retried */
  private readonly fullExits = new Set<string>();

  constructor(private readonly ctx: EngineContext) {}

  /** The next client order id (`<run_id>-o<n>`): allocated per order intent, before its gate check. */
  newCid(): string {
    return nextClientOrderId(this.ctx);
  }

  /** Sends a tracked NEW order; a throwing venue call rejects it (counted, journaled, posted). */
  async submit(st: SymbolState, o: TrackedOrder, postOnly: boolean): Promise<void> {
    const { ctx } = this;
    // SUBMITTED before the call: a venue may report on the order before the call returns
    ctx.orders.move(o, 'SUBMITTED');
    ctx.summary.orders.submitted++;
    try {
      const r = await ctx.exchange.place({
        clientOrderId: o.cid,
        symbol: o.symbol,
        side: o.side,
        type: o.type,
        qty: o.qty,
        ...(o.type === 'limit' ? { price: o.price, postOnly } : {}),
        reduceOnly: o.reduceOnly,
      });
      if (o.orderId === null) o.orderId = r.orderId;
    } catch (e) {
      logError(ctx, 'exchange.place', e);
      o.rejectCode = 'unknown';
      if (ctx.orders.move(o, 'REJECTED', `place failed: ${(e as Error).message}`)) this.onTerminal(st, o);
    }
  }

  /** Cancel by client id (never cancel-all while running, §5.23). */
  async requestCancel(o: TrackedOrder, why: string): Promise<void> {
    if (o.cancelRequested || isTerminal(o.state)) return;
    o.cancelRequested = true;
    this.ctx.journal.write('orders', { ts: this.ctx.clock.nowMs(), cid: o.cid, event: 'cancel_request', state: o.state, detail: why });
    try {
      await this.ctx.exchange.cancel(o.cid);
    } catch (e) {
      logError(this.ctx, 'exchange.cancel', e);
    }
  }

  /**
   * A reduce-only market exit of `qty` (the whole position when `full`), one at a time per symbol,
   * asked of the gate first (exit-gate.ts): sent only when allowed (or, with the gate unreachable,
   * when the runner's own fills confirm it only reduces); otherwise retried on the exit backoff.
   */
  async placeExit(st: SymbolState, qty: number, reason: string, full: boolean): Promise<void> {
    const { ctx } = this;
    const now = ctx.clock.nowMs();
    if (st.exitOrder !== null || st.exitChecking || now < st.exitRetryAtMs || st.flat) return;
    if (full && st.entryOrder !== null) await this.requestCancel(st.entryOrder, `exit ${reason}`);
    if (st.flat || st.position.side === null) return;
    const side = closingSide(st.position.side);
    const lot = st.market?.lotStep ?? 0;
    const held = Math.abs(st.position.qty);
    const q = quantiseDown(full ? held : Math.min(qty, held), lot);
    if (!(q > 0)) return;
    const best = side === 'sell' ? st.fe.book.bestBid() : st.fe.book.bestAsk();
    const price = best?.[0] ?? st.position.avgEntry ?? 0;
    const go = await checkExit(ctx, st, { side, qty: q, price, reason, full });
    // nothing to send, or the position moved while the gate was asked (a live venue may report meanwhile)
    if (go === null || st.exitOrder !== null || st.flat || closingSide(st.position.side) !== side) return;
    const o = ctx.orders.add({
      cid: go.cid,
      accountId: ctx.accountId,
      symbol: st.symbol,
      side,
      type: 'market',
      action: 'close',
      reason,
      reqId: go.reqId,
      positionId: st.positionId,
      qty: Math.min(go.qty, quantiseDown(Math.abs(st.position.qty), lot)),
      price,
      reduceOnly: true,
      createdMs: ctx.clock.nowMs(),
      ackDeadlineMs: ctx.clock.nowMs() + ctx.cfg.execution.ack_timeout_ms,
      cancelAtMs: null,
    });
    st.exitOrder = o;
    if (full) this.fullExits.add(o.cid);
    logEvent(ctx, 'exit', 'local', { symbol: st.symbol, cid: o.cid, req_id: go.reqId, position_id: st.positionId, reason, qty: o.qty, full, attempt: st.exitFailures + 1 });
    await this.submit(st, o, false);
  }

  /** Every exchange event lands here (synchronously, from the exchange's emitter). */
  onExchangeEvent(ev: ExchangeEvent): void {
    const { ctx } = this;
    try {
      const u = ctx.orders.apply(ev);
      if (u.order === null) {
        ctx.summary.error('unknown_order_event');
        return;
      }
      const o = u.order;
      const st = ctx.symbols.get(o.symbol);
      if (!st) return;
      if (u.kind === 'fill') {
        this.onFill(st, o, u.fill);
        if (o.state === 'FILLED' && !u.late) this.onTerminal(st, o);
      } else if (u.kind === 'terminal') this.onTerminal(st, o);
      else if (ev.type === 'ack' && u.late && o.state === 'EXPIRED') {
        // the venue has an order we gave up on: take it off the book
        ctx.journal.write('orders', { ts: ctx.clock.nowMs(), cid: o.cid, event: 'cancel_request', state: o.state, detail: 'late ack after EXPIRED' });
        void ctx.exchange.cancel(o.cid).catch((e: unknown) => logError(ctx, 'exchange.cancel', e));
      }
    } catch (e) {
      logError(ctx, 'exchange_event', e);
    }
  }

  /** Ack timeouts (query once, then EXPIRED) and maker rests past `execution.cancel_after_ms`. */
  async onTimers(): Promise<void> {
    const { ctx } = this;
    const now = ctx.clock.nowMs();
    for (const o of ctx.orders.working()) {
      const st = ctx.symbols.get(o.symbol);
      if (!st) continue;
      if (o.state === 'SUBMITTED' && now >= o.ackDeadlineMs && !o.querying) {
        o.querying = true;
        try {
          const snap = await ctx.exchange.fetchOrder(o.cid);
          ctx.journal.write('orders', { ts: ctx.clock.nowMs(), cid: o.cid, event: 'ack_timeout_query', state: o.state, venue_status: snap?.status ?? null });
          const r = ctx.orders.reconcile(o, snap);
          if (r !== 'noop' && isTerminal(o.state)) this.onTerminal(st, o);
        } catch (e) {
          logError(ctx, 'exchange.fetchOrder', e);
        } finally {
          o.querying = false;
        }
      } else if (o.cancelAtMs !== null && now >= o.cancelAtMs && (o.state === 'ACKED' || o.state === 'PARTIAL')) {
        await this.requestCancel(o, 'cancel_after_ms');
      }
    }
  }

  private onFill(st: SymbolState, o: TrackedOrder, f: FillEvent): void {
    const { ctx } = this;
    const now = ctx.clock.nowMs();
    const feeQuote = isQuoteCurrency(f.feeCurrency, o.symbol) ? f.fee : f.fee * f.price;
    const eff = st.position.applyFill({ fillId: f.fillId, side: f.side, qty: f.qty, price: f.price, feeQuote, tsMs: f.ts });
    if (!eff.applied) return;
    ctx.summary.fill(f.qty, f.price, feeQuote);
    const closing = o.action === 'close';
    if (closing) ctx.summary.exit(o.reason, eff.realized);
    ctx.journal.write('fills', {
      ts: now,
      venue_ts: f.ts,
      fill_id: f.fillId,
      cid: o.cid,
      order_id: o.orderId,
      req_id: o.reqId,
      position_id: o.positionId,
      symbol: o.symbol,
      side: f.side,
      action: o.action,
      reason: o.reason,
      qty: f.qty,
      price: f.price,
      fee: f.fee,
      fee_currency: f.feeCurrency,
      liquidity: f.liquidity,
      order_filled: o.filled,
      order_remaining: f.remaining,
      realized: closing ? eff.realized : null,
      position_qty: st.position.qty,
      avg_entry: st.position.avgEntry,
    });
    ctx.posttrade.push(orderFillBody(o, f, now, closing ? eff.realized : null));
    if (st.flat) this.onFlat(st);
    else {
      st.positionId ??= o.positionId; // a late fill can open a position after its order was given up
      if (o.action === 'open' || st.exit === null) armExit(ctx, st);
    }
  }

  private onTerminal(st: SymbolState, o: TrackedOrder): void {
    const { ctx } = this;
    const now = ctx.clock.nowMs();
    if (st.entryOrder === o) st.entryOrder = null;
    if (st.exitOrder === o) st.exitOrder = null;
    if (o.state === 'REJECTED') {
      ctx.posttrade.push(orderFailureBody(o, now, failureCodeOf(o.rejectCode), o.detail ?? 'rejected'));
      logEvent(ctx, 'order_rejected', 'exchange', { symbol: o.symbol, cid: o.cid, code: o.rejectCode, detail: o.detail });
    } else if (o.state === 'EXPIRED') {
      ctx.posttrade.push(orderFailureBody(o, now, 'timeout', o.detail ?? 'no ack'));
    } else if (o.state === 'CANCELLED') {
      ctx.posttrade.push(orderCancelBody(o, now, o.detail ?? 'cancelled'));
    }
    if (o.action === 'close' && this.fullExits.delete(o.cid) && !st.flat) this.exitFailed(st, o);
    if (o.action === 'open' && st.flat && st.entryOrder === null && st.exitOrder === null) st.positionId = null;
  }

  /** A flattening exit ended with a position left: retry with backoff, alert after N (§5.8). */
  private exitFailed(st: SymbolState, o: TrackedOrder): void {
    const retryIn = exitSetback(this.ctx, st, { why: `order_${o.state.toLowerCase()}`, cooldownMs: 0, full: true });
    logEvent(this.ctx, 'exit_incomplete', 'exchange', { symbol: st.symbol, cid: o.cid, state: o.state, left: st.position.qty, retry_in_ms: retryIn, failures: st.exitFailures });
  }

  private onFlat(st: SymbolState): void {
    const { ctx } = this;
    st.exit = null;
    st.exitFailures = 0;
    st.exitRetryAtMs = 0;
    st.exitStuck = false;
    st.pendingExit = null;
    if (st.entryOrder === null) st.positionId = null;
    const cool = ctx.cfg.execution.cooldown_after_exit_ms;
    if (cool > 0) st.cooldownUntilMs = Math.max(st.cooldownUntilMs, ctx.clock.nowMs() + cool);
    logEvent(ctx, 'flat', 'exchange', { symbol: st.symbol, realized_total: st.position.realized });
  }
}

/** A fee in the symbol's quote currency needs no conversion (`BTCUSDT` + `USDT`). */
function isQuoteCurrency(currency: string, symbol: string): boolean {
  return currency !== '' && symbol.toUpperCase().endsWith(currency.toUpperCase());
}
