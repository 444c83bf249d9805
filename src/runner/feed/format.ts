import type { FeedEvent } from './schema.ts';

/**
 * One feed line (without the newline) with a fixed key order per event type, so the same events
 * always serialise to the same bytes whatever order their objects were built in.
 */
export function formatEvent(ev: FeedEvent): string {
  switch (ev.type) {
    case 'book_snapshot':
    case 'book_delta':
      return JSON.stringify({
        type: ev.type,
        symbol: ev.symbol,
        exch_ts: ev.exch_ts,
        recv_ts: ev.recv_ts,
        bids: ev.bids,
        asks: ev.asks,
      });
    case 'trade':
      return JSON.stringify({
        type: ev.type,
        symbol: ev.symbol,
        exch_ts: ev.exch_ts,
        recv_ts: ev.recv_ts,
        id: ev.id,
        price: ev.price,
        qty: ev.qty,
        aggressor: ev.aggressor,
      });
    case 'market_info':
      return JSON.stringify({
        type: ev.type,
        symbol: ev.symbol,
        lot_step: ev.lot_step,
        min_qty: ev.min_qty,
        min_notional: ev.min_notional,
        tick: ev.tick,
        maker_bps: ev.maker_bps,
        taker_bps: ev.taker_bps,
      });
    case 'bar_1m':
      return JSON.stringify({
        type: ev.type,
        symbol: ev.symbol,
        exch_ts: ev.exch_ts,
        recv_ts: ev.recv_ts,
        open_ts: ev.open_ts,
        open: ev.open,
        high: ev.high,
        low: ev.low,
        close: ev.close,
        volume: ev.volume,
      });
  }
}
