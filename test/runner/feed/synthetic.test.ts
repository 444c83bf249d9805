import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplayFeed } from '../../../src/runner/feed/replay.ts';
import { scheduleScenarios, type ScheduledScenario } from '../../../src/runner/feed/scenarios.ts';
import { synthesize, writeSynthetic } from '../../../src/runner/feed/synthetic.ts';
import { parseScenarioList, parseSyntheticSpec, resolveSyntheticOptions } from '../../../src/runner/feed/synthetic-options.ts';
import { bookRows, correlation, readLines, rowAt, type BookRow, type Line } from './feed-reader.ts';

const dir = mkdtempSync(join(tmpdir(), 'synthetic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const START = 1767225600000;
const ALL = 'spoof_wall,spread_blowout,stale_feed,latency_spike,crash';

describe('synthetic feed: determinism', () => {
  it('the same seed writes a byte-identical file; another seed a different one', async () => {
    const opts = { minutes: 2, scenarios: parseScenarioList('spoof_wall@20,crash@80') };
    const a = join(dir, 'a.jsonl');
    const b = join(dir, 'b.jsonl');
    const c = join(dir, 'c.jsonl');
    await writeSynthetic(a, { ...opts, seed: 9 });
    await writeSynthetic(b, { ...opts, seed: 9 });
    await writeSynthetic(c, { ...opts, seed: 10 });
    const bytes = readFileSync(a);
    expect(bytes.length).toBeGreaterThan(100_000);
    expect(readFileSync(b).equals(bytes)).toBe(true);
    expect(readFileSync(c).equals(bytes)).toBe(false);
  });
});

describe('synthetic feed: a run with every scenario', () => {
  const path = join(dir, 'all.jsonl');
  let lines: Line[];
  let timed: Line[];
  let rows: BookRow[];
  let schedule: ScheduledScenario[];
  const win = (name: string) => schedule.find((s) => s.name === name)!;
  const inAny = (t: number, padMs = 0) => schedule.some((s) => t >= s.startMs - padMs && t < s.endMs + padMs);

  beforeAll(async () => {
    ({ schedule } = await writeSynthetic(path, { seed: 42, minutes: 8, scenarios: parseScenarioList(ALL) }));
    lines = readLines(path);
    timed = lines.filter((l) => l.type !== 'market_info' && !(l.type === 'bar_1m' && l.recv_ts === START));
    rows = bookRows(lines);
  });

  it('places the scenarios evenly and passes the replay validator', async () => {
    expect(schedule.map((s) => [s.name, (s.startMs - START) / 1000, (s.endMs - START) / 1000])).toEqual([
      ['spoof_wall', 80, 89],
      ['spread_blowout', 160, 170],
      ['stale_feed', 240, 243],
      ['latency_spike', 320, 340],
      ['crash', 400, 408],
    ]);
    const feed = new ReplayFeed(path);
    for await (const _ of feed) {
      // validation happens while streaming; any bad line throws
    }
    expect(feed.stats.skipped).toBe(0);
    expect(feed.stats.events).toBe(lines.length);
  });

  it('starts with market_info, 20 history bars received at the start, then one snapshot', () => {
    expect(lines[0]).toMatchObject({ type: 'market_info', symbol: 'BTCUSDT', tick: 0.1, lot_step: 0.001, taker_bps: 0.5 });
    const history = lines.slice(1, 21);
    expect(history.every((b) => b.type === 'bar_1m' && b.recv_ts === START)).toBe(true);
    expect(history.map((b) => b.open_ts)).toEqual(Array.from({ length: 20 }, (_, i) => START - (20 - i) * 60_000));
    expect(history.at(-1)!.close).toBe(50000);
    expect(lines[21]).toMatchObject({ type: 'book_snapshot', exch_ts: START });
    // Live bars: one per elapsed minute, stamped at the minute's end.
    const live = timed.filter((l) => l.type === 'bar_1m');
    expect(live.map((b) => b.exch_ts)).toEqual(Array.from({ length: 7 }, (_, i) => START + (i + 1) * 60_000));
  });

  it('runs at 10–20 events/s with 10 levels a side on the tick grid, lot-sized, never crossed', () => {
    const perSecond = timed.length / (8 * 60);
    expect(perSecond).toBeGreaterThan(10);
    expect(perSecond).toBeLessThan(20);
    const onGrid = (x: number, step: number) => Math.abs(x / step - Math.round(x / step)) < 1e-6;
    for (const l of lines) {
      for (const [p, s] of [...(l.bids ?? []), ...(l.asks ?? [])]) {
        expect(onGrid(p, 0.1) && onGrid(s, 0.001)).toBe(true);
      }
      if (l.type === 'trade') expect(onGrid(l.price!, 0.1) && onGrid(l.qty!, 0.001) && l.qty! > 0).toBe(true);
    }
    expect(rows.every((r) => r.bestBid < r.bestAsk)).toBe(true);
    const calm = rows.filter((r) => !inAny(r.t, 2000));
    expect(calm.every((r) => r.bidLevels === 10 && r.askLevels === 10)).toBe(true);
  });

  it('spread_blowout: the spread passes 100 bps inside the window, stays under 5 bps elsewhere', () => {
    const w = win('spread_blowout');
    const inside = rows.filter((r) => r.t >= w.startMs && r.t < w.endMs);
    expect(Math.max(...inside.map((r) => r.spreadBps))).toBeGreaterThan(100);
    expect(inside.filter((r) => r.spreadBps > 100).length).toBeGreaterThan(20);
    const outside = rows.filter((r) => !(r.t >= w.startMs && r.t < w.endMs + 200));
    expect(Math.max(...outside.map((r) => r.spreadBps))).toBeLessThan(5);
  });

  it('stale_feed: a receive gap of ~3 s inside the window, none over 1 s elsewhere, then a fresh snapshot', () => {
    const w = win('stale_feed');
    const gaps = timed.slice(1).map((l, i) => ({ gap: l.recv_ts - timed[i].recv_ts, after: timed[i].recv_ts, next: l }));
    const big = gaps.filter((g) => g.gap > 1000);
    expect(big.length).toBe(1);
    expect(big[0].gap).toBeGreaterThan(2900);
    expect(big[0].after).toBeLessThan(w.startMs + 100);
    expect(big[0].after).toBeGreaterThanOrEqual(w.startMs - 500);
    const resumed = timed.slice(timed.indexOf(big[0].next)).find((l) => l.type === 'book_snapshot' || l.type === 'book_delta');
    expect(resumed?.type).toBe('book_snapshot');
  });

  it('latency_spike: recv − exch is 50–300 ms inside the window and under 30 ms (the gate limit) elsewhere', () => {
    const w = win('latency_spike');
    const lat = (l: Line) => l.recv_ts - l.exch_ts;
    const inside = timed.filter((l) => l.exch_ts >= w.startMs && l.exch_ts < w.endMs).map(lat);
    expect(inside.length).toBeGreaterThan(200);
    expect(Math.min(...inside)).toBeGreaterThanOrEqual(50);
    expect(Math.max(...inside)).toBeLessThanOrEqual(301);
    const sorted = [...inside].sort((a, b) => a - b);
    expect(sorted[Math.ceil(0.95 * sorted.length) - 1]).toBeGreaterThan(30);
    // After the spike the backlog drains in under the spike's maximum latency.
    const outside = timed.filter((l) => !(l.exch_ts >= w.startMs && l.exch_ts < w.endMs + 300)).map(lat);
    expect(Math.max(...outside)).toBeLessThan(30);
  });

  it('crash: the mid falls by more than 1.5 % within the 8 s window, on heavy selling', () => {
    const w = win('crash');
    const before = rowAt(rows, w.startMs)!.mid;
    const after = rowAt(rows, w.endMs)!.mid;
    expect(after / before - 1).toBeLessThan(-0.015);
    const trades = timed.filter((l) => l.type === 'trade' && l.exch_ts >= w.startMs && l.exch_ts < w.endMs);
    const sold = trades.filter((t) => t.aggressor === 'sell').reduce((s, t) => s + t.qty!, 0);
    const bought = trades.filter((t) => t.aggressor === 'buy').reduce((s, t) => s + t.qty!, 0);
    expect(sold).toBeGreaterThan(4 * bought);
    // No comparable 8 s move anywhere else.
    for (const r of rows) {
      if (inAny(r.t, 8000) || inAny(r.t + 8000, 8000)) continue;
      const later = rowAt(rows, r.t + 8000)!;
      expect(Math.abs(later.mid / r.mid - 1)).toBeLessThan(0.005);
    }
  });

  it('spoof_wall: large adds near the touch, then removed with no trades at that price (a TRAP pattern)', () => {
    const w = win('spoof_wall');
    const trades = timed.filter((l) => l.type === 'trade');
    const tradedQty = (price: number, t: number) =>
      trades.filter((x) => x.price === price && x.exch_ts <= t && x.exch_ts > t - 2000).reduce((s, x) => s + x.qty!, 0);
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    const bigAdds: number[] = [];
    const unexplainedCuts: { t: number; size: number }[] = [];
    for (const l of timed) {
      if (l.type !== 'book_snapshot' && l.type !== 'book_delta') continue;
      if (l.type === 'book_snapshot') {
        bids.clear();
        asks.clear();
      }
      for (const [side, book] of [
        [l.bids!, bids],
        [l.asks!, asks],
      ] as const) {
        const before = new Map(book);
        for (const [p, s] of side) s === 0 ? book.delete(p) : book.set(p, s);
        const ranked = [...book.keys()].sort((a, b) => (book === bids ? b - a : a - b));
        for (const [p, s] of side) {
          const old = before.get(p) ?? 0;
          // A decrease that trades at that price in the last 2 s do not explain is a cancel (runner.md §1.3).
          const cut = old - s - tradedQty(p, l.exch_ts);
          if (cut >= 20) unexplainedCuts.push({ t: l.exch_ts, size: cut });
          // Ordinary deep levels are re-sized often and can jump by 10; the wall lands near L1.
          const rank = ranked.indexOf(p);
          if (s - old >= 10 && l.exch_ts >= w.startMs && l.exch_ts < w.endMs && rank >= 0 && rank <= 2) bigAdds.push(l.exch_ts);
        }
      }
    }
    // Three cycles of (half, rest) adds and one cancel each; such cancels happen nowhere else.
    expect(bigAdds.length).toBeGreaterThanOrEqual(5);
    expect(unexplainedCuts.length).toBe(3);
    for (const c of unexplainedCuts) expect(c.t >= w.startMs && c.t < w.endMs).toBe(true);
    for (const c of unexplainedCuts) expect(c.size).toBeGreaterThanOrEqual(20);
    // Few trades while the wall stands, compared with the normal flow.
    const count = (a: number, b: number) => trades.filter((x) => x.exch_ts >= a && x.exch_ts < b).length;
    expect(count(w.startMs, w.endMs) / 9).toBeLessThan(1.5);
    expect(count(w.startMs - 30_000, w.startMs) / 30).toBeGreaterThan(5);
  });
});

describe('synthetic feed: order-flow imbalance predicts short-term moves', () => {
  /** corr(feature at t, log return t → t+10 s), sampled every second. */
  async function predictiveness(alphaSd: number): Promise<{ obi: number; tfi: number }> {
    const path = join(dir, `pred-${alphaSd}.jsonl`);
    await writeSynthetic(path, { seed: 11, minutes: 15, alpha_sd_bps_per_s: alphaSd, history_bars: 0 });
    const lines = readLines(path);
    const rows = bookRows(lines);
    const trades = lines.filter((l) => l.type === 'trade');
    const obi: number[] = [];
    const tfi: number[] = [];
    const fwd: number[] = [];
    for (let t = START + 10_000; t < START + 15 * 60_000 - 10_000; t += 1000) {
      const now = rowAt(rows, t)!;
      const later = rowAt(rows, t + 10_000)!;
      const recent = trades.filter((x) => x.exch_ts > t - 5000 && x.exch_ts <= t);
      const vb = recent.filter((x) => x.aggressor === 'buy').reduce((s, x) => s + x.qty!, 0);
      const vs = recent.filter((x) => x.aggressor === 'sell').reduce((s, x) => s + x.qty!, 0);
      obi.push(now.obi5);
      tfi.push(vb + vs > 0 ? (vb - vs) / (vb + vs) : 0);
      fwd.push(Math.log(later.mid / now.mid));
    }
    return { obi: correlation(obi, fwd), tfi: correlation(tfi, fwd) };
  }

  it('OBI(5) and TFI(5 s) correlate with the next 10 s return; without the latent drift they do not', async () => {
    const withAlpha = await predictiveness(0.3);
    expect(withAlpha.obi).toBeGreaterThan(0.2);
    expect(withAlpha.tfi).toBeGreaterThan(0.2);
    const without = await predictiveness(0);
    expect(Math.abs(without.obi)).toBeLessThan(0.1);
    expect(Math.abs(without.tfi)).toBeLessThan(0.15);
  });
});

describe('synthetic feed: options', () => {
  it('parses scenario lists with optional start seconds and rejects unknown names', () => {
    expect(parseScenarioList('crash, stale_feed@12.5,')).toEqual([{ name: 'crash' }, { name: 'stale_feed', at_s: 12.5 }]);
    expect(() => parseScenarioList('crash,meteor')).toThrow(/unknown scenario "meteor".*spoof_wall/);
    expect(() => parseScenarioList('crash@-3')).toThrow(/seconds >= 0/);
  });

  it('schedules explicit and even starts, and refuses overlaps or windows past the end', () => {
    const s = scheduleScenarios(parseScenarioList('crash,stale_feed@10'), START, 60_000);
    expect(s.map((x) => [x.name, x.startMs - START, x.endMs - START])).toEqual([
      ['stale_feed', 10_000, 13_000],
      ['crash', 30_000, 38_000],
    ]);
    expect(() => scheduleScenarios(parseScenarioList('crash@10,stale_feed@12'), START, 60_000)).toThrow(/overlap/);
    expect(() => scheduleScenarios(parseScenarioList('latency_spike@50'), START, 60_000)).toThrow(/past the end/);
  });

  it('fills defaults and names a bad option', () => {
    const o = resolveSyntheticOptions({ seed: 5 });
    expect(o).toMatchObject({ seed: 5, minutes: 10, symbol: 'BTCUSDT', levels: 10, tick: 0.1, scenarios: [] });
    expect(() => resolveSyntheticOptions({ levels: 30 })).toThrow(/levels/);
    expect(() => resolveSyntheticOptions({ tick: 0.3 })).toThrow(/1\/tick must be an integer/);
    expect(() => synthesize({ minutes: 1, scenarios: parseScenarioList('latency_spike@50') })).toThrow(/past the end/);
  });

  it('parses the runner\'s --synthetic key=value form', () => {
    const o = parseSyntheticSpec('seed=7, minutes=2.5,regime=volatile,scenarios=spoof_wall+crash@100');
    expect(o).toMatchObject({ seed: 7, minutes: 2.5, regime: 'volatile', scenarios: [{ name: 'spoof_wall' }, { name: 'crash', at_s: 100 }] });
    expect(() => parseSyntheticSpec('seed=x')).toThrow(/seed must be a number/);
    expect(() => parseSyntheticSpec('sead=1')).toThrow(/unknown key "sead"/);
    expect(() => parseSyntheticSpec('regime=sideways')).toThrow(/regime/);
    expect(() => parseSyntheticSpec('minutes')).toThrow(/not key=value/);
  });

  it('regimes: trends move the price their way, volatile doubles the realised volatility', async () => {
    const run = async (regime: 'normal' | 'trend_up' | 'trend_down' | 'volatile') => {
      const path = join(dir, `regime-${regime}.jsonl`);
      await writeSynthetic(path, { seed: 21, minutes: 2, regime, history_bars: 0 });
      const rows = bookRows(readLines(path));
      const mids: number[] = [];
      for (let t = START; t <= START + 119_000; t += 1000) mids.push(rowAt(rows, t)!.mid);
      const r = mids.slice(1).map((m, i) => Math.log(m / mids[i]));
      return { end: mids.at(-1)!, rv: Math.sqrt(r.reduce((s, x) => s + x * x, 0)) };
    };
    const [normal, up, down, volatile] = await Promise.all([run('normal'), run('trend_up'), run('trend_down'), run('volatile')]);
    // Same seed ⇒ same noise: only the anchor drift (±3 bps/min) differs between the three.
    expect(up.end).toBeGreaterThan(normal.end);
    expect(normal.end).toBeGreaterThan(down.end);
    expect(volatile.rv / normal.rv).toBeGreaterThan(1.5);
  });

  it('honours levels, symbol and start time', async () => {
    const path = join(dir, 'small.jsonl');
    await writeSynthetic(path, { seed: 3, minutes: 0.5, levels: 5, symbol: 'ETHUSDT', mid0: 3000, start_ms: START + 7, history_bars: 0 });
    const lines = readLines(path);
    expect(lines.every((l) => l.symbol === 'ETHUSDT')).toBe(true);
    expect(lines[1]).toMatchObject({ type: 'book_snapshot', exch_ts: START + 7 });
    expect(lines[1].bids!.length).toBe(5);
    const rows = bookRows(lines);
    expect(Math.abs(rows[0].mid / 3000 - 1)).toBeLessThan(0.001);
  });
});
