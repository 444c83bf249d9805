import { describe, expect, it } from 'vitest';
import type { FillEvent, RejectedEvent } from '../../../src/runner/exchange/types.ts';
import { Harness, MARKET, SYMBOL, T0 } from './harness.ts';

/** Asks 0.5 @ 100.0, 0.3 @ 100.1, 1.0 @ 100.2; bid 1.0 @ 99.9. */
function ladder(params = {}): Harness {
  return new Harness(params).at(T0).snapshot([[99.9, 1]], [
    [100.0, 0.5],
    [100.1, 0.3],
    [100.2, 1.0],
  ]);
}

describe('PaperExchange: taker orders walk the book', () => {
  it('a market buy fills level by level after the ack latency; fills are reported fill_latency later', async () => {
    const h = ladder();
    const id = h.place({ side: 'buy', type: 'market', qty: 1.0 });
    expect(h.ex.nextDueMs()).toBe(T0 + 20);
    h.at(T0 + 19);
    expect(h.events).toEqual([]);
    expect(await h.ex.fetchOrder(id)).toBeUndefined(); // the venue has not seen it yet
    h.at(T0 + 20);
    expect(h.types(id)).toEqual(['ack']);
    expect(h.events[0]).toMatchObject({ ts: T0 + 20, orderId: 'P-1', clientOrderId: id, symbol: SYMBOL });
    h.at(T0 + 25);
    expect(h.types(id)).toEqual(['ack', 'fill', 'fill', 'fill']);
    const fills = h.fills(id);
    expect(fills.map((f) => [f.price, f.qty, f.liquidity])).toEqual([
      [100.0, 0.5, 'taker'],
      [100.1, 0.3, 'taker'],
      [100.2, 0.2, 'taker'],
    ]);
    // Taker fee 5 bps of each fill's notional.
    expect(fills[0].fee).toBeCloseTo(0.025, 12);
    expect(fills[1].fee).toBeCloseTo(0.015015, 12);
    expect(fills[2].fee).toBeCloseTo(0.01002, 12);
    const last = h.events.at(-1) as FillEvent;
    expect(last).toMatchObject({ ts: T0 + 20, status: 'filled', filled: 1.0, remaining: 0, fillId: 'F-3', feeCurrency: 'USDT' });
    const o = await h.ex.fetchOrder(id);
    expect(o).toMatchObject({ status: 'filled', filled: 1.0, acceptedMs: T0 + 20 });
    expect(o!.avgPrice).toBeCloseTo(100.07, 10); // (50 + 30.03 + 20.04) / 1.0
  });

  it('the unfilled remainder of a market order is cancelled (IOC), never filled at a phantom price', () => {
    const h = ladder();
    const id = h.place({ side: 'buy', type: 'market', qty: 2.0 });
    h.at(T0 + 100);
    expect(h.types(id)).toEqual(['ack', 'fill', 'fill', 'fill', 'cancelled:ioc_remainder']);
    expect(h.fills(id).reduce((s, f) => s + f.qty, 0)).toBeCloseTo(1.8, 12);
    expect(h.of(id).at(-1)).toMatchObject({ filled: 1.8, cancelledQty: 0.2 });
  });

  it('liquidity we took stays taken until the feed restates the level', () => {
    const h = ladder();
    const a = h.place({ side: 'buy', type: 'market', qty: 0.5 });
    h.at(T0 + 30);
    const b = h.place({ side: 'buy', type: 'market', qty: 0.5 });
    h.at(T0 + 60);
    expect(h.fills(a).map((f) => [f.price, f.qty])).toEqual([[100.0, 0.5]]);
    expect(h.fills(b).map((f) => [f.price, f.qty])).toEqual([
      [100.1, 0.3],
      [100.2, 0.2],
    ]);
    h.delta([], [[100.0, 0.4]]);
    const c = h.place({ side: 'buy', type: 'market', qty: 0.1 });
    h.at(T0 + 100);
    expect(h.fills(c).map((f) => [f.price, f.qty])).toEqual([[100.0, 0.1]]);
  });

  it('a crossing limit takes up to its price, rests the rest, and then fills as maker', async () => {
    const h = ladder();
    const id = h.place({ side: 'buy', type: 'limit', price: 100.1, qty: 1.0 });
    h.at(T0 + 30);
    expect(h.fills(id).map((f) => [f.price, f.qty, f.liquidity])).toEqual([
      [100.0, 0.5, 'taker'],
      [100.1, 0.3, 'taker'],
    ]);
    expect((await h.ex.fetchOrder(id))?.status).toBe('partially_filled');
    // Resting at 100.1 with nobody ahead (no bid there): a sell print at 100.1 fills us.
    h.trade('sell', 100.1, 0.05).wait(10);
    // A new ask below our bid crosses through it: the rest fills at our price, as maker.
    h.delta([], [[100.0, 0.4]]).wait(10);
    expect(h.fills(id).slice(2).map((f) => [f.price, f.qty, f.liquidity])).toEqual([
      [100.1, 0.05, 'maker'],
      [100.1, 0.15, 'maker'],
    ]);
    expect((await h.ex.fetchOrder(id))?.status).toBe('filled');
  });
});

describe('PaperExchange: maker queue (conservative)', () => {
  function resting(qty: number, displayed = 2.0): { h: Harness; id: string } {
    const h = new Harness().at(T0).snapshot([[99.9, displayed]], [[100.0, 1]]);
    const id = h.place({ side: 'buy', type: 'limit', price: 99.9, qty });
    h.at(T0 + 20);
    return { h, id };
  }

  it('fills only after trades at its price exhaust the displayed size that was ahead of it', () => {
    const { h, id } = resting(0.5);
    h.at(T0 + 30).trade('sell', 99.9, 1.5); // 0.5 still ahead
    h.at(T0 + 31).delta([[99.9, 0.5]], []);
    h.at(T0 + 35).trade('buy', 99.9, 5); // buyers lifting at our price do not touch bids
    h.at(T0 + 40).trade('sell', 99.9, 0.8); // 0.5 ahead, 0.3 to us
    h.at(T0 + 60).trade('sell', 99.9, 0.5); // 0.2 left to us
    h.wait(10);
    expect(h.fills(id).map((f) => [f.price, f.qty, f.liquidity])).toEqual([
      [99.9, 0.3, 'maker'],
      [99.9, 0.2, 'maker'],
    ]);
    expect(h.fills(id)[0].fee).toBeCloseTo(0.005994, 12); // 99.9 · 0.3 · 2 bps
  });

  it('cancels come from behind first: joins and cancels behind us leave the queue ahead unchanged', () => {
    const { h, id } = resting(1.0); // 2.0 ahead
    h.at(T0 + 30).delta([[99.9, 5.0]], []); // others join behind us
    h.at(T0 + 40).delta([[99.9, 3.0]], []); // 2.0 cancelled: from behind, so 2.0 is still ahead
    h.at(T0 + 50).trade('sell', 99.9, 2.3);
    h.wait(10);
    expect(h.fills(id).map((f) => f.qty)).toEqual([0.3]);
  });

  it('when the level falls below the queue ahead, the queue shrinks to it', () => {
    const { h, id } = resting(1.0); // 2.0 ahead
    h.at(T0 + 30).delta([[99.9, 0.5]], []);
    h.at(T0 + 40).trade('sell', 99.9, 0.8);
    h.wait(10);
    expect(h.fills(id).map((f) => f.qty)).toEqual([0.3]);
    h.at(T0 + 60).delta([[99.9, 0]], []); // the level is gone: nobody ahead
    h.at(T0 + 70).trade('sell', 99.9, 0.1);
    h.wait(10);
    expect(h.fills(id).map((f) => f.qty)).toEqual([0.3, 0.1]);
  });

  it('an ask touching our bid does not fill it; one strictly through it fills everything', async () => {
    const { h, id } = resting(1.0);
    h.at(T0 + 30).delta([], [[99.9, 1]]);
    h.wait(10);
    expect(h.fills(id)).toEqual([]);
    h.at(T0 + 50).delta([], [[99.8, 1]]);
    h.wait(10);
    expect(h.fills(id).map((f) => [f.price, f.qty, f.liquidity])).toEqual([[99.9, 1.0, 'maker']]);
    expect((await h.ex.fetchOrder(id))?.status).toBe('filled');
  });

  it('a print through our price clears the queue ahead and fills from that print', () => {
    const { h, id } = resting(0.5);
    h.at(T0 + 30).trade('sell', 99.8, 0.3);
    h.at(T0 + 40).trade('sell', 99.9, 0.1);
    h.wait(10);
    expect(h.fills(id).map((f) => [f.price, f.qty])).toEqual([
      [99.9, 0.3],
      [99.9, 0.1],
    ]);
  });

  it('two of our orders at one price share a print instead of both taking it', () => {
    const h = new Harness().at(T0).snapshot([[99.9, 1.0]], [[100.0, 1]]);
    const a = h.place({ side: 'buy', type: 'limit', price: 99.9, qty: 0.5 });
    const b = h.place({ side: 'buy', type: 'limit', price: 99.9, qty: 0.5 });
    h.at(T0 + 30).trade('sell', 99.9, 1.2); // 1.0 ahead of each; 0.2 left over
    h.wait(10);
    expect(h.fills(a).map((f) => f.qty)).toEqual([0.2]);
    expect(h.fills(b)).toEqual([]);
  });
});

describe('PaperExchange: rejects', () => {
  it('post-only orders that would take are rejected; passive ones rest', () => {
    const h = new Harness().at(T0).snapshot([[99.9, 1]], [[100.0, 1]]);
    const take = h.place({ side: 'buy', type: 'limit', price: 100.0, qty: 0.1, postOnly: true });
    const rest = h.place({ side: 'buy', type: 'limit', price: 99.9, qty: 0.1, postOnly: true });
    const sell = h.place({ side: 'sell', type: 'limit', price: 99.9, qty: 0.1, postOnly: true });
    const plain = h.place({ side: 'buy', type: 'limit', price: 100.0, qty: 0.1 });
    h.at(T0 + 50);
    expect(h.types(take)).toEqual(['rejected:post_only_would_take']);
    expect(h.types(rest)).toEqual(['ack']);
    expect(h.types(sell)).toEqual(['rejected:post_only_would_take']);
    expect(h.types(plain)).toEqual(['ack', 'fill']);
  });

  it('rate limit: more than rate_limit_per_s orders in a rolling second are rate_limited', () => {
    const h = new Harness({ rate_limit_per_s: 3 }).at(T0).snapshot([[99.9, 1]], [[100.0, 1]]);
    const burst = Array.from({ length: 5 }, () => h.place({ side: 'buy', type: 'limit', price: 99.0, qty: 0.1 }));
    h.at(T0 + 500);
    const mid = h.place({ side: 'buy', type: 'limit', price: 99.0, qty: 0.1 });
    h.at(T0 + 1000);
    const later = h.place({ side: 'buy', type: 'limit', price: 99.0, qty: 0.1 });
    h.at(T0 + 1100);
    expect(burst.map((id) => h.types(id)[0])).toEqual(['ack', 'ack', 'ack', 'rejected:rate_limited', 'rejected:rate_limited']);
    expect(h.types(mid)).toEqual(['rejected:rate_limited']); // arrives at +520: three in (−480, +520]
    expect(h.types(later)).toEqual(['ack']); // arrives at +1020: the burst at +20 has left the window
  });

  it('venue rules: min qty, lot step, tick, min notional, unknown symbol, missing price', () => {
    const h = new Harness().at(T0).snapshot([[99.9, 1]], [[100.0, 1]]);
    const cases: [string, string][] = [
      [h.place({ side: 'buy', type: 'limit', price: 99.9, qty: 0.0005 }), 'min_qty'],
      [h.place({ side: 'buy', type: 'limit', price: 99.9, qty: 0.1005 }), 'rejected'],
      [h.place({ side: 'buy', type: 'limit', price: 99.95, qty: 0.1 }), 'off_tick'],
      [h.place({ side: 'buy', type: 'limit', price: 99.9, qty: 0.05 }), 'min_notional'], // 4.995 < 5
      [h.place({ side: 'buy', type: 'market', qty: 0.049 }), 'min_notional'], // 0.049 · best ask 100 = 4.9
      [h.place({ side: 'buy', type: 'limit', qty: 0.1 }), 'rejected'],
    ];
    void h.ex.place({ clientOrderId: 'eth', symbol: 'ETHUSDT', side: 'buy', type: 'market', qty: 1 });
    h.at(T0 + 50);
    for (const [id, code] of cases) expect(h.types(id)).toEqual([`rejected:${code}`]);
    const messages = h.events.filter((e): e is RejectedEvent => e.type === 'rejected').map((e) => e.message);
    expect(messages).toContain('qty 0.1005 is not a multiple of lot_step 0.001');
    expect(messages).toContain('no market info for ETHUSDT');
    expect(h.types('eth')).toEqual(['rejected:rejected']);
    // Exactly at the limits is fine: 0.051 · 99.9 = 5.0949 ≥ 5.
    const ok = h.place({ side: 'buy', type: 'limit', price: 99.9, qty: 0.051 });
    h.at(T0 + 100);
    expect(h.types(ok)).toEqual(['ack']);
  });

  it('reduce-only never increases exposure; its excess over the position is cancelled', async () => {
    const h = new Harness().at(T0).snapshot([[99.9, 5]], [[100.0, 5]]);
    const flat = h.place({ side: 'sell', type: 'market', qty: 0.5, reduceOnly: true });
    h.at(T0 + 50);
    expect(h.types(flat)).toEqual(['rejected:reduce_only_would_increase']);
    h.place({ side: 'buy', type: 'market', qty: 1.0 });
    h.at(T0 + 100);
    const same = h.place({ side: 'buy', type: 'market', qty: 0.5, reduceOnly: true });
    const exit = h.place({ side: 'sell', type: 'market', qty: 1.5, reduceOnly: true });
    h.at(T0 + 200);
    expect(h.types(same)).toEqual(['rejected:reduce_only_would_increase']);
    expect(h.types(exit)).toEqual(['ack', 'fill', 'cancelled:reduce_only_excess']);
    expect(h.fills(exit).map((f) => f.qty)).toEqual([1.0]);
    expect((await h.ex.positions())[0]).toMatchObject({ symbol: SYMBOL, qty: 0, side: 'FLAT', avgEntry: null });

    // A resting reduce-only take-profit is cancelled once another order flattens the position.
    h.place({ side: 'buy', type: 'market', qty: 1.0 });
    h.at(T0 + 300);
    const tp = h.place({ side: 'sell', type: 'limit', price: 100.5, qty: 1.0, reduceOnly: true });
    h.at(T0 + 400);
    h.place({ side: 'sell', type: 'market', qty: 1.0 });
    h.at(T0 + 500);
    expect(h.types(tp)).toEqual(['ack', 'cancelled:reduce_only_excess']);
  });

  it('insufficient balance: margin (leverage 1) plus the taker fee must fit in equity minus used margin', () => {
    const h = new Harness({ start_equity_usdt: 1000 }).at(T0).snapshot([[99.9, 50]], [[100.0, 50]]);
    const big = h.place({ side: 'buy', type: 'market', qty: 20 }); // 2000 + 1.0 fee > 1000
    h.at(T0 + 50);
    const nine = h.place({ side: 'buy', type: 'market', qty: 9 }); // 900 + 0.45 ≤ 1000
    h.at(T0 + 100);
    // Now: cash 999.55, mid 99.95 → unrealised −0.45, equity 999.10; margin 9 · 99.95 = 899.55;
    // available 99.55. One more: 100 + 0.05 > 99.55; 0.9 more: 90 + 0.045 fits.
    const one = h.place({ side: 'buy', type: 'market', qty: 1.0 });
    h.at(T0 + 150);
    const most = h.place({ side: 'buy', type: 'market', qty: 0.9 });
    const reduce = h.place({ side: 'sell', type: 'market', qty: 5 }); // reduces: needs no margin
    h.at(T0 + 250);
    expect(h.types(big)).toEqual(['rejected:insufficient_balance']);
    expect(h.types(nine)).toEqual(['ack', 'fill']);
    expect(h.types(one)).toEqual(['rejected:insufficient_balance']);
    expect(h.types(most)).toEqual(['ack', 'fill']);
    expect(h.types(reduce)).toEqual(['ack', 'fill']);
  });

  it('a reused client order id is rejected without touching the original', async () => {
    const h = new Harness().at(T0).snapshot([[99.9, 1]], [[100.0, 1]]);
    h.place({ clientOrderId: 'dup', side: 'buy', type: 'limit', price: 99.0, qty: 0.1 });
    h.place({ clientOrderId: 'dup', side: 'sell', type: 'market', qty: 0.1 });
    h.at(T0 + 50);
    expect(h.types('dup')).toEqual(['ack', 'rejected:rejected']);
    expect(h.events[1]).toMatchObject({ orderId: 'P-2', message: 'duplicate clientOrderId dup' });
    expect(await h.ex.fetchOrder('dup')).toMatchObject({ orderId: 'P-1', status: 'open', side: 'buy' });
  });

  it('random rejects follow reject_prob', () => {
    const h = new Harness({ reject_prob: 0.5, rate_limit_per_s: 0, seed: 3 }).at(T0).snapshot([[99.9, 1]], [[100.0, 1]]);
    const ids = Array.from({ length: 400 }, () => h.place({ side: 'buy', type: 'limit', price: 99.0, qty: 0.1 }));
    h.at(T0 + 50);
    const rejected = ids.filter((id) => h.types(id)[0] === 'rejected:rejected').length;
    expect(rejected).toBeGreaterThan(160);
    expect(rejected).toBeLessThan(240);
  });
});

describe('PaperExchange: cancels', () => {
  it('cancel by client id after cancel latency; unknown and finished orders fail to cancel', async () => {
    const h = new Harness().at(T0).snapshot([[99.9, 1]], [[100.0, 1]]);
    const rest = h.place({ side: 'buy', type: 'limit', price: 99.0, qty: 0.1 });
    const done = h.place({ side: 'buy', type: 'market', qty: 0.1 });
    h.at(T0 + 100);
    await h.ex.cancel(rest);
    await h.ex.cancel(done);
    await h.ex.cancel('nope');
    h.at(T0 + 119);
    expect(h.types(rest)).toEqual(['ack']);
    h.at(T0 + 120);
    expect(h.types(rest)).toEqual(['ack', 'cancelled:user']);
    expect(h.of(rest)[1]).toMatchObject({ ts: T0 + 120, cancelledQty: 0.1, filled: 0 });
    expect(h.of(done).at(-1)).toMatchObject({ type: 'cancel_failed', reason: 'already_closed' });
    expect(h.of('nope')).toEqual([expect.objectContaining({ type: 'cancel_failed', reason: 'unknown_order', orderId: '' })]);
    expect(await h.ex.fetchOrder(rest)).toMatchObject({ status: 'cancelled', updatedMs: T0 + 120 });
  });

  it('a cancel sent right after the order still finds it (one FIFO request channel)', () => {
    const h = new Harness({ ack_latency_ms: 30, cancel_latency_ms: 5 }).at(T0).snapshot([[99.9, 1]], [[100.0, 1]]);
    const id = h.place({ side: 'buy', type: 'limit', price: 99.0, qty: 0.1 });
    h.at(T0 + 1);
    void h.ex.cancel(id);
    h.at(T0 + 100);
    expect(h.types(id)).toEqual(['ack', 'cancelled:user']);
    expect(h.of(id).map((e) => e.ts)).toEqual([T0 + 30, T0 + 30]);
  });

  it('cancelAll cancels resting and in-flight orders of the symbol', async () => {
    const h = new Harness().at(T0).snapshot([[99.9, 1]], [[100.0, 1]]);
    const a = h.place({ side: 'buy', type: 'limit', price: 99.0, qty: 0.1 });
    const b = h.place({ side: 'sell', type: 'limit', price: 101.0, qty: 0.1 });
    h.at(T0 + 50);
    const c = h.place({ side: 'buy', type: 'limit', price: 98.0, qty: 0.1 });
    expect(await h.ex.cancelAll(SYMBOL)).toBe(3);
    h.at(T0 + 200);
    for (const id of [a, b, c]) expect(h.types(id)).toEqual(['ack', 'cancelled:cancel_all']);
    expect(await h.ex.cancelAll('ETHUSDT')).toBe(0);
  });
});

describe('PaperExchange: fees, FIFO PnL and equity (hand-computed)', () => {
  it('two buys, a partial close, then a flip to short', async () => {
    const h = new Harness().at(T0).snapshot([[49990.0, 1]], [
      [50000.0, 0.01],
      [50100.0, 0.01],
    ]);
    h.place({ side: 'buy', type: 'market', qty: 0.01 }); // 50000, fee 50000·0.01·5e-4 = 0.25
    h.at(T0 + 50);
    h.place({ side: 'buy', type: 'market', qty: 0.01 }); // 50100, fee 0.2505
    h.at(T0 + 100);
    h.delta([[50200.0, 1]], [
      [50000.0, 0],
      [50100.0, 0],
      [50202.0, 1],
    ]); // mid 50201
    const close = h.place({ side: 'sell', type: 'market', qty: 0.015 }); // 50200, fee 0.3765
    h.at(T0 + 150);
    expect(h.fills(close).map((f) => [f.price, f.qty])).toEqual([[50200.0, 0.015]]);
    expect(h.fills(close)[0].fee).toBeCloseTo(0.3765, 12);

    // FIFO: 0.010 from the 50000 lot (+2.0) and 0.005 from the 50100 lot (+0.5) = 2.5 gross;
    // entry fees 0.25 + 0.2505/2 = 0.37525; exit fee 0.3765 → realised 1.74825.
    let [pos] = await h.ex.positions();
    expect(pos.qty).toBeCloseTo(0.005, 12);
    expect(pos.side).toBe('LONG');
    expect(pos.avgEntry).toBeCloseTo(50100, 9);
    expect(pos.realizedPnl).toBeCloseTo(1.74825, 9);
    expect(pos.markPrice).toBe(50201);
    expect(pos.unrealizedPnl).toBeCloseTo(0.505, 9); // (50201 − 50100) · 0.005
    let bal = await h.ex.balance();
    expect(bal.feesPaid).toBeCloseTo(0.877, 9);
    expect(bal.cash).toBeCloseTo(10001.623, 9); // 10000 + 2.5 − 0.877
    expect(bal.equity).toBeCloseTo(10002.128, 9);
    expect(bal.usedMargin).toBeCloseTo(251.005, 9); // 0.005 · 50201
    expect(bal.available).toBeCloseTo(10002.128 - 251.005, 9);

    // Sell 0.010 at 50200 (fee 0.251): closes the 0.005 left (+0.5 − 0.12525 − 0.1255 = 0.24925),
    // opens 0.005 short at 50200 carrying the other half of the fee.
    h.place({ side: 'sell', type: 'market', qty: 0.01 });
    h.at(T0 + 200);
    [pos] = await h.ex.positions();
    expect(pos.qty).toBeCloseTo(-0.005, 12);
    expect(pos.side).toBe('SHORT');
    expect(pos.avgEntry).toBe(50200);
    expect(pos.realizedPnl).toBeCloseTo(1.9975, 9);
    expect(pos.unrealizedPnl).toBeCloseTo(-0.005, 9); // (50201 − 50200) · −0.005
    bal = await h.ex.balance();
    expect(bal.cash).toBeCloseTo(10001.872, 9); // + 0.5 − 0.251
    expect(bal.equity).toBeCloseTo(10001.867, 9);
    expect(bal.realizedPnl).toBeCloseTo(1.9975, 9);
  });

  it('market_info fee overrides from params and the feed event are honoured', async () => {
    const h = new Harness({ maker_bps: -1 });
    expect(await h.ex.marketInfo(SYMBOL)).toMatchObject({ makerBps: -1, takerBps: MARKET.takerBps });
    h.ex.onMarketInfo({ type: 'market_info', symbol: 'ETHUSDT', lot_step: 0.01, min_qty: 0.01, min_notional: 10, tick: 0.01, maker_bps: 1, taker_bps: 4 });
    expect(await h.ex.marketInfo('ETHUSDT')).toEqual({ symbol: 'ETHUSDT', lotStep: 0.01, minQty: 0.01, minNotional: 10, tick: 0.01, makerBps: -1, takerBps: 4 });
    expect(await h.ex.marketInfo('XRPUSDT')).toBeUndefined();
  });
});

describe('PaperExchange: determinism', () => {
  function script(seed: number): unknown[] {
    const h = new Harness({ seed, jitter_ms: 5, reject_prob: 0.3, rate_limit_per_s: 0 }).at(T0).snapshot([[99.9, 3]], [[100.0, 3]]);
    for (let i = 0; i < 40; i++) {
      h.at(T0 + i * 50);
      h.place({ side: i % 2 ? 'buy' : 'sell', type: i % 3 ? 'limit' : 'market', price: i % 2 ? 99.9 : 100.0, qty: 0.1 });
      h.trade(i % 2 ? 'buy' : 'sell', i % 2 ? 100.0 : 99.9, 0.7);
      if (i % 5 === 0) void h.ex.cancel(`c${i}`);
    }
    h.wait(1000);
    return h.events;
  }

  it('same seed and inputs ⇒ the same events at the same times; another seed ⇒ different jitter and rejects', () => {
    const a = script(7);
    expect(a.length).toBeGreaterThan(60);
    expect(script(7)).toEqual(a);
    expect(script(8)).not.toEqual(a);
    const acks = (a as { type: string; ts: number }[]).filter((e) => e.type === 'ack' || e.type === 'rejected');
    expect(acks.some((e) => (e.ts - T0) % 50 !== 20)).toBe(true); // jitter is applied
  });
});
