import type { Clock } from '../clock.ts';
import type { BookEvent, FeedEvent, MarketInfo, Trade } from '../feed/schema.ts';
import { Rng } from '../rng.ts';
import { DueQueue } from './due-queue.ts';
import { Ledger } from './ledger.ts';
import { cleanQty, PaperBook, type BookSide } from './paper-book.ts';
import { resolvePaperParams, type PaperParams } from './paper-params.ts';
import type {
  Balance,
  CancelReason,
  Exchange,
  ExchangeEvent,
  ExchangeListener,
  Liquidity,
  OrderSnapshot,
  OrderStatus,
  PlaceReceipt,
  PlaceRequest,
  Position,
  RejectCode,
  VenueMarketInfo,
} from './types.ts';

interface PaperOrder {
  req: Required<Pick<PlaceRequest, 'clientOrderId' | 'symbol' | 'side' | 'type' | 'qty' | 'postOnly' | 'reduceOnly'>> & {
    price: number | null;
  };
  orderId: string;
  /** 'in_flight' until the request reaches the venue. */
  status: OrderStatus | 'in_flight';
  filled: number;
  notional: number;
  fees: number;
  acceptedMs: number;
  updatedMs: number;
  rejectCode?: RejectCode;
  /** Conservative queue position: displayed size ahead of us at our price. */
  queueAhead: number;
  /** A second request reusing a client id: rejected on arrival, never registered. */
  duplicate: boolean;
}

type Task =
  | { kind: 'arrive'; order: PaperOrder }
  | { kind: 'cancel'; clientOrderId: string }
  | { kind: 'cancel_all'; symbol: string | undefined }
  | { kind: 'emit'; event: ExchangeEvent };

const RATE_WINDOW_MS = 1000;

/**
 * An offline venue (runner.md §4.3), deterministic given its seed and the market events it is fed.
 *
 * Driving it: the replay driver moves the virtual clock, then calls `onBook`/`onTrade` with the same
 * feed events the runner sees (both first call `advance()`), and calls `advance()` whenever it moves
 * the clock otherwise; `nextDueMs()` says when the next request arrives or report is due, so a driver
 * can step there during a feed gap. Market events are taken at the runner's receive time.
 *
 * Model: requests travel one FIFO channel (`ack_latency_ms`/`cancel_latency_ms` + seeded jitter),
 * are checked on arrival (rate limit, lot/tick, min qty/notional, post-only, reduce-only, margin,
 * random reject), then a taker part walks the current book (one fill per level, at the level's
 * price, never beyond the limit; a market remainder is cancelled IOC) and a limit remainder rests
 * with queue-ahead = displayed size at its price. Resting orders fill from trade prints that exhaust
 * the queue ahead (prints through the price clear it), or fully when the opposite best crosses
 * through the price. Reports travel back FIFO; fills take `fill_latency_ms` more.
 */
export class PaperExchange implements Exchange {
  readonly params: PaperParams;
  private readonly rng: Rng;
  private readonly queue = new DueQueue<Task>();
  private readonly listeners = new Set<ExchangeListener>();
  private readonly markets = new Map<string, VenueMarketInfo>();
  private readonly books = new Map<string, PaperBook>();
  private readonly orders = new Map<string, PaperOrder>();
  /** Resting orders in acceptance order (their priority among our own orders). */
  private resting: PaperOrder[] = [];
  private readonly ledger: Ledger;
  private readonly arrivals: number[] = [];
  private lastArrival = -Infinity;
  private lastReport = -Infinity;
  private orderSeq = 0;
  private fillSeq = 0;

  constructor(
    private readonly clock: Clock,
    params: Partial<PaperParams> = {},
    markets: VenueMarketInfo[] = [],
  ) {
    this.params = resolvePaperParams(params);
    this.rng = new Rng(this.params.seed);
    this.ledger = new Ledger(this.params.start_equity_usdt);
    for (const m of markets) this.setMarketInfo(m);
  }

  // ---- market input ------------------------------------------------------------------------

  setMarketInfo(info: VenueMarketInfo): void {
    this.markets.set(info.symbol, {
      ...info,
      makerBps: this.params.maker_bps ?? info.makerBps,
      takerBps: this.params.taker_bps ?? info.takerBps,
    });
  }

  onMarketInfo(ev: MarketInfo): void {
    this.setMarketInfo({
      symbol: ev.symbol,
      lotStep: ev.lot_step,
      minQty: ev.min_qty,
      minNotional: ev.min_notional,
      tick: ev.tick,
      makerBps: ev.maker_bps,
      takerBps: ev.taker_bps,
    });
  }

  onBook(ev: BookEvent): void {
    this.advance();
    this.book(ev.symbol).apply(ev);
    const book = this.book(ev.symbol);
    const now = this.clock.nowMs();
    for (const o of [...this.resting]) {
      if (o.req.symbol !== ev.symbol || o.status === 'filled' || o.status === 'cancelled') continue;
      const own: BookSide = o.req.side === 'buy' ? 'bid' : 'ask';
      // Cancels come from behind us first: the queue ahead only shrinks when the level drops below it.
      o.queueAhead = Math.min(o.queueAhead, book.available(own, o.req.price!));
      const opposite = book.best(o.req.side === 'buy' ? 'ask' : 'bid');
      const crossed = opposite !== undefined && (o.req.side === 'buy' ? opposite < o.req.price! : opposite > o.req.price!);
      if (crossed) this.fillResting(o, remaining(o), now);
    }
  }

  onTrade(ev: Trade): void {
    this.advance();
    const now = this.clock.nowMs();
    // Printed volume not yet attributed to our orders; shared by our orders in priority order.
    let budget = ev.qty;
    for (const o of [...this.resting]) {
      if (budget <= 0) break;
      if (o.req.symbol !== ev.symbol || o.status === 'filled' || o.status === 'cancelled') continue;
      const price = o.req.price!;
      // Only aggressors hitting our side matter: sells hit resting bids, buys lift resting asks.
      const hitsUs = o.req.side === 'buy' ? ev.aggressor === 'sell' && ev.price <= price : ev.aggressor === 'buy' && ev.price >= price;
      if (!hitsUs) continue;
      let avail: number;
      if (ev.price === price) {
        const aheadUsed = Math.min(o.queueAhead, ev.qty);
        o.queueAhead = cleanQty(o.queueAhead - aheadUsed);
        avail = Math.min(cleanQty(ev.qty - aheadUsed), cleanQty(budget - aheadUsed));
      } else {
        // A print through our price means everything at our price traded first.
        o.queueAhead = 0;
        avail = budget;
      }
      if (avail <= 0) continue;
      budget = cleanQty(budget - this.fillResting(o, avail, now));
    }
  }

  /** Routes a feed event to `onMarketInfo`/`onBook`/`onTrade` (bars are ignored). */
  onFeedEvent(ev: FeedEvent): void {
    if (ev.type === 'market_info') this.onMarketInfo(ev);
    else if (ev.type === 'book_snapshot' || ev.type === 'book_delta') this.onBook(ev);
    else if (ev.type === 'trade') this.onTrade(ev);
  }

  /** Processes every arrival and report due at or before the clock's now, in time order. */
  advance(): void {
    const now = this.clock.nowMs();
    for (let next = this.queue.popDue(now); next; next = this.queue.popDue(now)) {
      const { due, item } = next;
      if (item.kind === 'emit') for (const l of [...this.listeners]) l(item.event);
      else if (item.kind === 'arrive') this.arrive(item.order, due);
      else if (item.kind === 'cancel') this.arriveCancel(item.clientOrderId, due);
      else this.arriveCancelAll(item.symbol, due);
    }
  }

  /** When the next request arrives or report is due, undefined when nothing is pending. */
  nextDueMs(): number | undefined {
    return this.queue.nextDue();
  }

  // ---- Exchange interface ------------------------------------------------------------------

  async place(req: PlaceRequest): Promise<PlaceReceipt> {
    const orderId = `P-${++this.orderSeq}`;
    const order: PaperOrder = {
      req: {
        clientOrderId: req.clientOrderId,
        symbol: req.symbol,
        side: req.side,
        type: req.type,
        qty: req.qty,
        price: req.type === 'limit' ? (req.price ?? null) : null,
        postOnly: req.postOnly === true,
        reduceOnly: req.reduceOnly === true,
      },
      orderId,
      status: 'in_flight',
      filled: 0,
      notional: 0,
      fees: 0,
      acceptedMs: 0,
      updatedMs: 0,
      queueAhead: 0,
      duplicate: this.orders.has(req.clientOrderId),
    };
    if (!order.duplicate) this.orders.set(req.clientOrderId, order);
    this.queue.push(this.requestArrival(this.params.ack_latency_ms), { kind: 'arrive', order });
    return { clientOrderId: req.clientOrderId, orderId };
  }

  async cancel(clientOrderId: string): Promise<void> {
    this.queue.push(this.requestArrival(this.params.cancel_latency_ms), { kind: 'cancel', clientOrderId });
  }

  async cancelAll(symbol?: string): Promise<number> {
    let targeted = 0;
    for (const o of this.orders.values()) {
      if ((symbol === undefined || o.req.symbol === symbol) && (o.status === 'in_flight' || isOpen(o))) targeted++;
    }
    this.queue.push(this.requestArrival(this.params.cancel_latency_ms), { kind: 'cancel_all', symbol });
    return targeted;
  }

  async fetchOrder(clientOrderId: string): Promise<OrderSnapshot | undefined> {
    const o = this.orders.get(clientOrderId);
    return o && o.status !== 'in_flight' ? snapshot(o) : undefined;
  }

  async positions(): Promise<Position[]> {
    return this.ledger.symbols().map((symbol) => {
      const qty = this.ledger.position(symbol);
      const mark = this.books.get(symbol)?.mid();
      return {
        symbol,
        qty,
        side: qty > 0 ? 'LONG' : qty < 0 ? 'SHORT' : 'FLAT',
        avgEntry: this.ledger.avgEntry(symbol),
        realizedPnl: this.ledger.realized(symbol),
        unrealizedPnl: this.ledger.unrealized(symbol, mark),
        markPrice: mark ?? null,
      };
    });
  }

  async balance(): Promise<Balance> {
    return this.balanceNow();
  }

  async marketInfo(symbol: string): Promise<VenueMarketInfo | undefined> {
    const m = this.markets.get(symbol);
    return m ? { ...m } : undefined;
  }

  on(listener: ExchangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- venue side --------------------------------------------------------------------------

  private arrive(o: PaperOrder, t: number): void {
    const reject = (code: RejectCode, message: string) => {
      if (!o.duplicate) {
        o.status = 'rejected';
        o.rejectCode = code;
        o.acceptedMs = o.updatedMs = t;
      }
      this.report(t, { type: 'rejected', ts: t, ...ids(o), code, message });
    };
    if (o.duplicate) return reject('rejected', `duplicate clientOrderId ${o.req.clientOrderId}`);

    while (this.arrivals.length > 0 && this.arrivals[0] <= t - RATE_WINDOW_MS) this.arrivals.shift();
    if (this.params.rate_limit_per_s > 0 && this.arrivals.length >= this.params.rate_limit_per_s) {
      return reject('rate_limited', `more than ${this.params.rate_limit_per_s} orders in 1 s`);
    }
    this.arrivals.push(t);

    const { req } = o;
    const m = this.markets.get(req.symbol);
    if (!m) return reject('rejected', `no market info for ${req.symbol}`);
    if (!(req.qty > 0)) return reject('min_qty', `qty must be > 0 (got ${req.qty})`);
    if (req.qty < m.minQty) return reject('min_qty', `qty ${req.qty} below min_qty ${m.minQty}`);
    if (!isMultiple(req.qty, m.lotStep)) return reject('rejected', `qty ${req.qty} is not a multiple of lot_step ${m.lotStep}`);
    if (req.type === 'limit') {
      if (req.price === null || !(req.price > 0)) return reject('rejected', 'a limit order needs a price > 0');
      if (!isMultiple(req.price, m.tick)) return reject('off_tick', `price ${req.price} is not a multiple of tick ${m.tick}`);
    }
    const book = this.books.get(req.symbol);
    const opposite = book?.best(req.side === 'buy' ? 'ask' : 'bid');
    const refPrice = req.type === 'limit' ? req.price! : (opposite ?? book?.mid());
    if (refPrice === undefined) return reject('rejected', `no market data for ${req.symbol}`);
    if (req.qty * refPrice < m.minNotional) {
      return reject('min_notional', `notional ${(req.qty * refPrice).toFixed(4)} below min_notional ${m.minNotional}`);
    }
    const crosses = req.type === 'limit' && opposite !== undefined && (req.side === 'buy' ? req.price! >= opposite : req.price! <= opposite);
    if (req.postOnly && crosses) return reject('post_only_would_take', `post-only ${req.side} at ${req.price} would take ${opposite}`);
    if (req.reduceOnly && this.reduceCap(o) === 0) {
      return reject('reduce_only_would_increase', `reduce-only ${req.side} with position ${this.ledger.position(req.symbol)}`);
    }
    if (!req.reduceOnly) {
      const pos = this.ledger.position(req.symbol);
      const signed = req.side === 'buy' ? req.qty : -req.qty;
      const increase = Math.max(0, Math.abs(pos + signed) - Math.abs(pos));
      const required = (increase * refPrice) / this.params.leverage + (req.qty * refPrice * Math.max(0, m.takerBps)) / 1e4;
      const { available } = this.balanceNow();
      if (required > available) {
        return reject('insufficient_balance', `needs ${required.toFixed(2)} ${this.params.fee_currency}, available ${available.toFixed(2)}`);
      }
    }
    if (this.params.reject_prob > 0 && this.rng.bernoulli(this.params.reject_prob)) return reject('rejected', 'random reject (paper.reject_prob)');

    o.status = 'open';
    o.acceptedMs = o.updatedMs = t;
    this.report(t, { type: 'ack', ts: t, ...ids(o) });

    if (req.type === 'market' || crosses) this.take(o, m, t);
    if (!isOpen(o)) return;
    if (req.type === 'market') return this.cancelOrder(o, t, this.reduceCap(o) === 0 ? 'reduce_only_excess' : 'ioc_remainder');
    if (req.reduceOnly && this.reduceCap(o) === 0) return this.cancelOrder(o, t, 'reduce_only_excess');
    const own: BookSide = req.side === 'buy' ? 'bid' : 'ask';
    o.queueAhead = book?.available(own, req.price!) ?? 0;
    this.resting.push(o);
  }

  /** Walks the opposite side from the best level, one fill per level, up to the limit price. */
  private take(o: PaperOrder, m: VenueMarketInfo, t: number): void {
    const book = this.books.get(o.req.symbol);
    if (!book) return;
    const opp: BookSide = o.req.side === 'buy' ? 'ask' : 'bid';
    for (const [price, size] of book.ranked(opp)) {
      if (o.req.price !== null && (o.req.side === 'buy' ? price > o.req.price : price < o.req.price)) break;
      const qty = Math.min(remaining(o), size, this.reduceCap(o));
      if (qty <= 0) break;
      book.consume(opp, price, qty);
      this.recordFill(o, price, qty, 'taker', m, t);
    }
  }

  /** Fills up to `max` of a resting order at its own price as maker; returns the qty filled. */
  private fillResting(o: PaperOrder, max: number, t: number): number {
    const m = this.markets.get(o.req.symbol)!;
    const qty = Math.min(max, remaining(o), this.reduceCap(o));
    if (qty <= 0) return 0;
    this.recordFill(o, o.req.price!, qty, 'maker', m, t);
    return qty;
  }

  private recordFill(o: PaperOrder, price: number, qty: number, liquidity: Liquidity, m: VenueMarketInfo, t: number): void {
    const bps = liquidity === 'maker' ? m.makerBps : m.takerBps;
    const fee = (price * qty * bps) / 1e4;
    this.ledger.fill(o.req.symbol, o.req.side, price, qty, fee);
    o.filled = cleanQty(o.filled + qty);
    o.notional += price * qty;
    o.fees += fee;
    o.updatedMs = t;
    const left = remaining(o);
    o.status = left === 0 ? 'filled' : 'partially_filled';
    if (left === 0) this.resting = this.resting.filter((r) => r !== o);
    this.report(t + this.params.fill_latency_ms + this.jitter(), {
      type: 'fill',
      ts: t,
      ...ids(o),
      fillId: `F-${++this.fillSeq}`,
      side: o.req.side,
      price,
      qty,
      fee,
      feeCurrency: this.params.fee_currency,
      liquidity,
      filled: o.filled,
      remaining: left,
      status: left === 0 ? 'filled' : 'partially_filled',
      reduceOnly: o.req.reduceOnly,
    });
    this.dropExhaustedReduceOnly(o.req.symbol, t);
  }

  /** Reduce-only orders that can no longer reduce anything (the position closed) are cancelled. */
  private dropExhaustedReduceOnly(symbol: string, t: number): void {
    for (const r of [...this.resting]) {
      if (r.req.symbol === symbol && r.req.reduceOnly && isOpen(r) && this.reduceCap(r) === 0) {
        this.cancelOrder(r, t, 'reduce_only_excess');
      }
    }
  }

  private arriveCancel(clientOrderId: string, t: number): void {
    const o = this.orders.get(clientOrderId);
    if (!o) {
      return this.report(t, { type: 'cancel_failed', ts: t, symbol: '', clientOrderId, orderId: '', reason: 'unknown_order' });
    }
    if (!isOpen(o)) return this.report(t, { type: 'cancel_failed', ts: t, ...ids(o), reason: 'already_closed' });
    this.cancelOrder(o, t, 'user');
  }

  private arriveCancelAll(symbol: string | undefined, t: number): void {
    for (const o of [...this.resting]) {
      if ((symbol === undefined || o.req.symbol === symbol) && isOpen(o)) this.cancelOrder(o, t, 'cancel_all');
    }
  }

  private cancelOrder(o: PaperOrder, t: number, reason: CancelReason): void {
    o.status = 'cancelled';
    o.updatedMs = t;
    this.resting = this.resting.filter((r) => r !== o);
    this.report(t, { type: 'cancelled', ts: t, ...ids(o), reason, filled: o.filled, cancelledQty: remaining(o) });
  }

  /** Qty a reduce-only order may still fill (Infinity for ordinary orders). */
  private reduceCap(o: PaperOrder): number {
    if (!o.req.reduceOnly) return Infinity;
    const pos = this.ledger.position(o.req.symbol);
    return o.req.side === 'buy' ? Math.max(0, -pos) : Math.max(0, pos);
  }

  private balanceNow(): Balance {
    let unrealized = 0;
    let margin = 0;
    for (const symbol of this.ledger.symbols()) {
      const mark = this.books.get(symbol)?.mid();
      unrealized += this.ledger.unrealized(symbol, mark);
      margin += (Math.abs(this.ledger.position(symbol)) * (mark ?? this.ledger.avgEntry(symbol) ?? 0)) / this.params.leverage;
    }
    for (const o of this.resting) {
      if (!o.req.reduceOnly) margin += (remaining(o) * o.req.price!) / this.params.leverage;
    }
    const equity = this.ledger.cash + unrealized;
    return {
      currency: this.params.fee_currency,
      cash: this.ledger.cash,
      equity,
      realizedPnl: this.ledger.totalRealized(),
      unrealizedPnl: unrealized,
      feesPaid: this.ledger.feesPaid,
      usedMargin: margin,
      available: equity - margin,
    };
  }

  /** Arrival time of a request sent now: latency + jitter, never before an earlier request (one FIFO channel). */
  private requestArrival(latencyMs: number): number {
    this.lastArrival = Math.max(this.lastArrival, this.clock.nowMs() + latencyMs + this.jitter());
    return this.lastArrival;
  }

  /** Queues a report for delivery at `due`, never before an earlier report (one FIFO channel back). */
  private report(due: number, event: ExchangeEvent): void {
    this.lastReport = Math.max(this.lastReport, due);
    this.queue.push(this.lastReport, { kind: 'emit', event });
  }

  private jitter(): number {
    return this.params.jitter_ms > 0 ? this.rng.uniform(0, this.params.jitter_ms) : 0;
  }

  private book(symbol: string): PaperBook {
    let b = this.books.get(symbol);
    if (!b) {
      b = new PaperBook();
      this.books.set(symbol, b);
    }
    return b;
  }
}

function remaining(o: PaperOrder): number {
  return cleanQty(o.req.qty - o.filled);
}

function isOpen(o: PaperOrder): boolean {
  return o.status === 'open' || o.status === 'partially_filled';
}

function ids(o: PaperOrder): { symbol: string; clientOrderId: string; orderId: string } {
  return { symbol: o.req.symbol, clientOrderId: o.req.clientOrderId, orderId: o.orderId };
}

/** `x` is an integer multiple of `step`, up to float noise. */
function isMultiple(x: number, step: number): boolean {
  const r = x / step;
  return Math.abs(r - Math.round(r)) <= 1e-6;
}

function snapshot(o: PaperOrder): OrderSnapshot {
  return {
    orderId: o.orderId,
    clientOrderId: o.req.clientOrderId,
    symbol: o.req.symbol,
    side: o.req.side,
    type: o.req.type,
    price: o.req.price,
    qty: o.req.qty,
    filled: o.filled,
    avgPrice: o.filled > 0 ? o.notional / o.filled : null,
    fees: o.fees,
    status: o.status as OrderStatus,
    postOnly: o.req.postOnly,
    reduceOnly: o.req.reduceOnly,
    acceptedMs: o.acceptedMs,
    updatedMs: o.updatedMs,
    ...(o.rejectCode ? { rejectCode: o.rejectCode } : {}),
  };
}
