import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/runner/clock.ts';
import { PaperExchange } from '../../../src/runner/exchange/paper.ts';
import type { ExchangeEvent, FillEvent } from '../../../src/runner/exchange/types.ts';
import { ReplayFeed } from '../../../src/runner/feed/replay.ts';
import { writeSynthetic } from '../../../src/runner/feed/synthetic.ts';
import { parseScenarioList } from '../../../src/runner/feed/synthetic-options.ts';

const dir = mkdtempSync(join(tmpdir(), 'paper-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const feedPath = join(dir, 'feed.jsonl');

beforeAll(async () => {
  await writeSynthetic(feedPath, { seed: 5, minutes: 3, scenarios: parseScenarioList('stale_feed@60,crash@120') });
});

interface RunResult {
  events: ExchangeEvent[];
  ex: PaperExchange;
  clientIds: string[];
}

/**
 * The replay loop in miniature, the way the runner drives the paper exchange: before each feed
 * event, step the clock through every exchange due time up to the event's recv_ts (so acks and
 * fills arrive during a feed gap too), then move to recv_ts and hand the event over. A toy
 * strategy: a post-only bid at the touch every 5 s (cancelled after 4 s), flattened with a
 * reduce-only market order 10 s after each entry fill.
 */
async function run(): Promise<RunResult> {
  const feed = new ReplayFeed(feedPath);
  let clock: VirtualClock | undefined;
  let ex: PaperExchange | undefined;
  const events: ExchangeEvent[] = [];
  const clientIds: string[] = [];
  const bids = new Map<number, number>();
  let working: { id: string; since: number } | undefined;
  let lastEntry = 0;
  let longSince: number | undefined;
  let seq = 0;

  for await (const ev of feed) {
    if (ev.type === 'market_info') {
      clock ??= new VirtualClock(1767225600000 - 3_600_000);
      ex ??= new PaperExchange(clock, { seed: 1 });
      ex.on((e) => {
        events.push(e);
        if (working && e.clientOrderId === working.id && (e.type === 'cancelled' || e.type === 'rejected' || (e.type === 'fill' && e.remaining === 0))) {
          working = undefined;
        }
      });
      ex.onMarketInfo(ev);
      continue;
    }
    const c = clock!;
    const x = ex!;
    for (let due = x.nextDueMs(); due !== undefined && due <= ev.recv_ts; due = x.nextDueMs()) {
      c.advanceTo(Math.max(due, c.nowMs()));
      x.advance();
    }
    c.advanceTo(ev.recv_ts);
    x.onFeedEvent(ev);
    if (ev.type === 'book_snapshot') bids.clear();
    if (ev.type === 'book_snapshot' || ev.type === 'book_delta') for (const [p, s] of ev.bids) s === 0 ? bids.delete(p) : bids.set(p, s);
    if (ev.type === 'bar_1m') continue;

    const now = c.nowMs();
    const [pos] = await x.positions();
    const qty = pos?.qty ?? 0;
    if (qty > 0 && longSince === undefined) longSince = now;
    if (qty <= 0) longSince = undefined;
    if (working && now - working.since > 4000) {
      await x.cancel(working.id);
      working = { ...working, since: Infinity };
    }
    if (!working && qty === 0 && now - lastEntry >= 5000 && bids.size > 0) {
      const id = `o${++seq}`;
      clientIds.push(id);
      working = { id, since: now };
      lastEntry = now;
      await x.place({ clientOrderId: id, symbol: 'BTCUSDT', side: 'buy', type: 'limit', price: Math.max(...bids.keys()), qty: 0.01, postOnly: true });
    }
    if (qty > 0 && longSince !== undefined && now - longSince >= 10_000 && !working) {
      const id = `o${++seq}`;
      clientIds.push(id);
      working = { id, since: now };
      await x.place({ clientOrderId: id, symbol: 'BTCUSDT', side: 'sell', type: 'market', qty, reduceOnly: true });
    }
  }
  const c = clock!;
  const x = ex!;
  for (let due = x.nextDueMs(); due !== undefined; due = x.nextDueMs()) {
    c.advanceTo(Math.max(due, c.nowMs()));
    x.advance();
  }
  return { events, ex: x, clientIds };
}

describe('PaperExchange driven by a replayed synthetic feed', () => {
  let first: RunResult;
  beforeAll(async () => {
    first = await run();
  });

  it('trades both ways: maker entries from queue/crossing, taker exits', () => {
    const fills = first.events.filter((e): e is FillEvent => e.type === 'fill');
    expect(fills.filter((f) => f.liquidity === 'maker' && f.side === 'buy').length).toBeGreaterThan(3);
    expect(fills.filter((f) => f.liquidity === 'taker' && f.side === 'sell').length).toBeGreaterThan(3);
    expect(first.events.some((e) => e.type === 'cancelled' && e.reason === 'user')).toBe(true);
  });

  it('books are consistent: order fills, positions, fees, cash and equity agree', async () => {
    const { ex, events, clientIds } = first;
    const fills = events.filter((e): e is FillEvent => e.type === 'fill');
    for (const id of clientIds) {
      const o = await ex.fetchOrder(id);
      const sum = fills.filter((f) => f.clientOrderId === id).reduce((s, f) => s + f.qty, 0);
      expect(o!.filled).toBeCloseTo(sum, 9);
      expect(o!.filled).toBeLessThanOrEqual(o!.qty + 1e-12);
      if (o!.type === 'limit') for (const f of fills.filter((f) => f.clientOrderId === id)) expect(f.price).toBe(o!.price);
    }
    const net = fills.reduce((s, f) => s + (f.side === 'buy' ? f.qty : -f.qty), 0);
    const [pos] = await ex.positions();
    expect(pos.qty).toBeCloseTo(net, 9);
    const bal = await ex.balance();
    expect(bal.feesPaid).toBeCloseTo(
      fills.reduce((s, f) => s + f.fee, 0),
      9,
    );
    expect(bal.realizedPnl).toBeCloseTo(pos.realizedPnl, 9);
    expect(bal.equity).toBeCloseTo(bal.cash + bal.unrealizedPnl, 9);
    // Maker fee 0.2 bps, taker 0.5 bps (from the feed's market_info).
    for (const f of fills) expect(f.fee).toBeCloseTo((f.price * f.qty * (f.liquidity === 'maker' ? 0.2 : 0.5)) / 1e4, 12);
  });

  it('reports are delivered in time order', () => {
    const ts = first.events.map((e) => e.ts);
    expect(ts.every((t, i) => i === 0 || t >= ts[i - 1])).toBe(true);
  });

  it('is deterministic: a second run gives identical events', async () => {
    const again = await run();
    expect(again.events).toEqual(first.events);
  });
});
