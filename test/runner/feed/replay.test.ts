import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FeedLineError } from '../../../src/runner/feed/line-check.ts';
import { readMarketInfo, ReplayFeed } from '../../../src/runner/feed/replay.ts';
import type { FeedEvent } from '../../../src/runner/feed/schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'replay-feed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(lines: string[], eol = '\n'): string {
  const path = join(dir, `feed-${++n}.jsonl`);
  writeFileSync(path, lines.join(eol) + eol);
  return path;
}

async function readAll(feed: ReplayFeed): Promise<FeedEvent[]> {
  const out: FeedEvent[] = [];
  for await (const ev of feed) out.push(ev);
  return out;
}

async function failure(path: string): Promise<FeedLineError> {
  try {
    await readAll(new ReplayFeed(path));
  } catch (e) {
    expect(e).toBeInstanceOf(FeedLineError);
    return e as FeedLineError;
  }
  throw new Error('expected the feed to fail');
}

// The four example lines of runner.md §4.2, verbatim.
const SPEC_EXAMPLE = [
  '{"type":"book_snapshot","symbol":"BTCUSDT","exch_ts":1767225600000,"recv_ts":1767225600004,"bids":[[50000.0,1.2]],"asks":[[50000.1,0.8]]}',
  '{"type":"book_delta","symbol":"BTCUSDT","exch_ts":1767225600100,"recv_ts":1767225600103,"bids":[[50000.0,0.9]],"asks":[[50000.2,0.0]]}',
  '{"type":"trade","symbol":"BTCUSDT","exch_ts":1767225600120,"recv_ts":1767225600122,"id":"t1","price":50000.1,"qty":0.05,"aggressor":"buy"}',
  '{"type":"market_info","symbol":"BTCUSDT","lot_step":0.001,"min_qty":0.001,"min_notional":5,"tick":0.1,"maker_bps":0.2,"taker_bps":0.5}',
];
const SNAP = SPEC_EXAMPLE[0];
const T = 1767225600000;
const trade = (recv: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'trade', symbol: 'BTCUSDT', exch_ts: recv - 2, recv_ts: recv, id: `t${recv}`, price: 50000.1, qty: 0.01, aggressor: 'sell', ...extra });

describe('ReplayFeed: valid files', () => {
  it('reads the spec example lines in file order with their types and counts', async () => {
    const feed = new ReplayFeed(file(SPEC_EXAMPLE));
    const events = await readAll(feed);
    expect(events.map((e) => e.type)).toEqual(['book_snapshot', 'book_delta', 'trade', 'market_info']);
    expect(events[2]).toMatchObject({ id: 't1', aggressor: 'buy', price: 50000.1, qty: 0.05 });
    expect(feed.stats).toMatchObject({ lines: 4, events: 4, skipped: 0 });
    expect(feed.stats.byType).toEqual({ book_snapshot: 1, book_delta: 1, trade: 1, market_info: 1, bar_1m: 0 });
    expect(feed.marketInfo.get('BTCUSDT')).toMatchObject({ tick: 0.1, taker_bps: 0.5 });
  });

  it('accepts CRLF line ends, blank lines, equal recv_ts (file order kept) and extra fields', async () => {
    const lines = [SNAP, '', trade(T + 10, { note: 'extra fields are ignored' }), trade(T + 10, { id: 'second' }), '   '];
    const events = await readAll(new ReplayFeed(file(lines, '\r\n')));
    expect(events.map((e) => (e.type === 'trade' ? e.id : e.type))).toEqual(['book_snapshot', `t${T + 10}`, 'second']);
  });

  it('accepts bar_1m lines and a market_info line anywhere (it has no timestamps)', async () => {
    const bar = { type: 'bar_1m', symbol: 'BTCUSDT', exch_ts: T, recv_ts: T + 1, open_ts: T - 60000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 3 };
    const events = await readAll(new ReplayFeed(file([JSON.stringify(bar), SPEC_EXAMPLE[3], SNAP])));
    expect(events.map((e) => e.type)).toEqual(['bar_1m', 'market_info', 'book_snapshot']);
  });

  it('streams: breaking out early stops reading, and a second iteration starts over', async () => {
    const lines = [SNAP, ...Array.from({ length: 500 }, (_, i) => trade(T + 10 + i))];
    const feed = new ReplayFeed(file(lines));
    let seen = 0;
    for await (const _ of feed) if (++seen === 3) break;
    expect(feed.line).toBe(3);
    expect(feed.stats.lines).toBe(3);
    expect((await readAll(feed)).length).toBe(501);
  });

  it('readMarketInfo reads only the leading market_info lines', async () => {
    const other = SPEC_EXAMPLE[3].replace('BTCUSDT', 'ETHUSDT').replace('"tick":0.1', '"tick":0.01');
    const info = await readMarketInfo(file([SPEC_EXAMPLE[3], other, SNAP, 'not json at all']));
    expect([...info.keys()]).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(info.get('ETHUSDT')?.tick).toBe(0.01);
  });

  it('readMarketInfo follows onInvalid: a bad line at the head fails by default, is skipped with skip', async () => {
    const path = file([SPEC_EXAMPLE[3], 'not json at all', SNAP]);
    await expect(readMarketInfo(path)).rejects.toThrow(FeedLineError);
    const info = await readMarketInfo(path, { onInvalid: 'skip' });
    expect([...info.keys()]).toEqual(['BTCUSDT']);
  });
});

describe('ReplayFeed: errors name file:line and the field', () => {
  it('invalid JSON', async () => {
    const path = file([SNAP, '{"type":"trade",']);
    const e = await failure(path);
    expect(e.line).toBe(2);
    expect(e.kind).toBe('json');
    expect(e.message).toMatch(new RegExp(`^${path.replaceAll('\\', '\\\\')}:2: .*not valid JSON`));
  });

  it('unknown or missing type', async () => {
    const e = await failure(file([SNAP, '{"type":"quote","symbol":"BTCUSDT"}']));
    expect(e.line).toBe(2);
    expect(e.path).toBe('type');
    expect(e.message).toContain('must be one of book_snapshot, book_delta, trade, market_info, bar_1m');
    expect((await failure(file(['[1,2]']))).message).toContain(':1: must be a JSON object');
  });

  it('a bad nested level reports its path (bids.1.1)', async () => {
    const bad = SNAP.replace('"bids":[[50000.0,1.2]]', '"bids":[[50000.0,1.2],[49999.9,-1]]');
    const e = await failure(file([SPEC_EXAMPLE[3], bad]));
    expect(e.line).toBe(2);
    expect(e.kind).toBe('schema');
    expect(e.path).toBe('bids.1.1');
    expect(e.message).toContain(':2: bids.1.1 must be a size >= 0');
  });

  it('a missing field, a wrong enum and a timestamp in seconds are each named', async () => {
    const noQty = JSON.parse(trade(T + 10));
    delete noQty.qty;
    let e = await failure(file([SNAP, JSON.stringify(noQty)]));
    expect(e.fields).toEqual([{ path: 'qty', message: 'is required' }]);

    e = await failure(file([SNAP, trade(T + 10, { aggressor: 'BUY' })]));
    expect(e.path).toBe('aggressor');
    expect(e.message).toContain('"buy" (taker bought');

    e = await failure(file([SNAP.replace('"exch_ts":1767225600000', '"exch_ts":1767225600')]));
    expect(e.path).toBe('exch_ts');
    expect(e.message).toContain('integer epoch milliseconds');
  });

  it('semantic errors: repeated price, zero size in a snapshot, inconsistent bar', async () => {
    let e = await failure(file([SNAP.replace('"asks":[[50000.1,0.8]]', '"asks":[[50000.1,0.8],[50000.1,0.2]]')]));
    expect(e.kind).toBe('semantic');
    expect(e.path).toBe('asks.1.0');
    e = await failure(file([SNAP.replace('[50000.1,0.8]', '[50000.1,0]')]));
    expect(e.path).toBe('asks.0.1');
    const bar = { type: 'bar_1m', symbol: 'BTCUSDT', exch_ts: T, recv_ts: T, open_ts: T - 60000, open: 1, high: 1.2, low: 1.1, close: 1, volume: 0 };
    e = await failure(file([JSON.stringify(bar)]));
    expect(e.path).toBe('low');
  });

  it('recv_ts going backwards names both lines', async () => {
    const e = await failure(file([SNAP, trade(T + 50), trade(T + 49)]));
    expect(e.line).toBe(3);
    expect(e.kind).toBe('order');
    expect(e.path).toBe('recv_ts');
    expect(e.message).toContain(`${T + 49} is earlier than ${T + 50} on line 2`);
  });

  it('a delta before the symbol has a snapshot is an error; another symbol needs its own snapshot', async () => {
    let e = await failure(file([SPEC_EXAMPLE[3], SPEC_EXAMPLE[1]]));
    expect(e.line).toBe(2);
    expect(e.message).toContain('book_delta for BTCUSDT before its first book_snapshot');
    e = await failure(file([SNAP, SPEC_EXAMPLE[1].replace('BTCUSDT', 'ETHUSDT')]));
    expect(e.message).toContain('ETHUSDT');
  });
});

describe('ReplayFeed: skip mode', () => {
  it('skips bad lines, counts them by kind, keeps order state from the good lines', async () => {
    const lines = [
      SNAP, // 1
      'garbage', // 2 json
      trade(T + 100), // 3
      trade(T + 90), // 4 order: earlier than line 3
      trade(T + 110, { qty: 0 }), // 5 schema
      trade(T + 100), // 6 ok: equal to line 3 is allowed
    ];
    const feed = new ReplayFeed(file(lines), { onInvalid: 'skip', maxKeptErrors: 2 });
    const events = await readAll(feed);
    expect(events.length).toBe(3);
    expect(feed.stats.skipped).toBe(3);
    expect(feed.stats.skippedByKind).toEqual({ json: 1, schema: 1, semantic: 0, order: 1 });
    expect(feed.stats.errors.map((e) => e.line)).toEqual([2, 4]);
  });
});
