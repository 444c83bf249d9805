import { VirtualClock } from '../../../src/runner/clock.ts';
import type { BookDelta, BookSnapshot, Trade } from '../../../src/runner/feed/schema.ts';
import { PaperExchange } from '../../../src/runner/exchange/paper.ts';
import type { PaperParams } from '../../../src/runner/exchange/paper-params.ts';
import type { ExchangeEvent, PlaceRequest, VenueMarketInfo } from '../../../src/runner/exchange/types.ts';

export const T0 = 1767225600000;
export const SYMBOL = 'BTCUSDT';

/** Round fees (bps) and no jitter, so expected numbers can be worked out by hand. */
export const MARKET: VenueMarketInfo = {
  symbol: SYMBOL,
  lotStep: 0.001,
  minQty: 0.001,
  minNotional: 5,
  tick: 0.1,
  makerBps: 2,
  takerBps: 5,
};

/**
 * A paper exchange on a virtual clock, driven the way the replay loop drives it: move the clock to
 * each market event, hand the event over; `wait(ms)` moves time with no market event.
 */
export class Harness {
  readonly clock = new VirtualClock(T0);
  readonly ex: PaperExchange;
  readonly events: ExchangeEvent[] = [];
  private seq = 0;
  private tradeSeq = 0;

  constructor(params: Partial<PaperParams> = {}, market: VenueMarketInfo = MARKET) {
    this.ex = new PaperExchange(this.clock, { jitter_ms: 0, ...params }, [market]);
    this.ex.on((e) => this.events.push(e));
  }

  at(t: number): this {
    this.clock.advanceTo(t);
    this.ex.advance();
    return this;
  }

  wait(ms: number): this {
    return this.at(this.clock.nowMs() + ms);
  }

  snapshot(bids: [number, number][], asks: [number, number][]): this {
    const ev: BookSnapshot = { type: 'book_snapshot', symbol: SYMBOL, exch_ts: this.clock.nowMs(), recv_ts: this.clock.nowMs(), bids, asks };
    this.ex.onBook(ev);
    return this;
  }

  delta(bids: [number, number][], asks: [number, number][]): this {
    const ev: BookDelta = { type: 'book_delta', symbol: SYMBOL, exch_ts: this.clock.nowMs(), recv_ts: this.clock.nowMs(), bids, asks };
    this.ex.onBook(ev);
    return this;
  }

  trade(aggressor: 'buy' | 'sell', price: number, qty: number): this {
    const ev: Trade = {
      type: 'trade',
      symbol: SYMBOL,
      exch_ts: this.clock.nowMs(),
      recv_ts: this.clock.nowMs(),
      id: `x${++this.tradeSeq}`,
      price,
      qty,
      aggressor,
    };
    this.ex.onTrade(ev);
    return this;
  }

  /** Places an order with the next client id (c1, c2, ...) and returns that id. */
  place(req: Omit<PlaceRequest, 'clientOrderId' | 'symbol'> & { clientOrderId?: string }): string {
    const clientOrderId = req.clientOrderId ?? `c${++this.seq}`;
    void this.ex.place({ symbol: SYMBOL, ...req, clientOrderId });
    return clientOrderId;
  }

  of(clientOrderId: string): ExchangeEvent[] {
    return this.events.filter((e) => e.clientOrderId === clientOrderId);
  }

  fills(clientOrderId: string): { price: number; qty: number; liquidity: string; fee: number }[] {
    return this.of(clientOrderId).flatMap((e) => (e.type === 'fill' ? [{ price: e.price, qty: e.qty, liquidity: e.liquidity, fee: e.fee }] : []));
  }

  types(clientOrderId: string): string[] {
    return this.of(clientOrderId).map((e) => (e.type === 'rejected' ? `rejected:${e.code}` : e.type === 'cancelled' ? `cancelled:${e.reason}` : e.type));
  }
}
