import { describe, expect, it } from 'vitest';
import { FeatureEngine } from '../../../src/runner/logic/feature-engine.ts';
import { TrapWindow } from '../../../src/runner/logic/trap-window.ts';
import type { BookView, Level } from '../../../src/runner/logic/types.ts';

const view = (bids: Level[], asks: Level[]): BookView => ({ bids, asks });
const zeros = [0, 0, 0, 0, 0];

describe('TRAP window (2 s, L = 5, rank-indexed, bid + ask summed)', () => {
  const before = view(
    [
      [100, 2],
      [99, 1],
    ],
    [
      [101, 1],
      [102, 1],
    ],
  );

  it('a size decrease not explained by trades is a cancel at its rank', () => {
    const w = new TrapWindow();
    w.onBook(before, view([[100, 0.5], [99, 1]], before.asks as Level[]), 1000);
    expect(w.snapshot(1000)).toEqual({ cancel: [1.5, 0, 0, 0, 0], add: zeros, tradesCnt: 0 });
  });

  it('trades at that price in the window explain the decrease, even when printed after the book change', () => {
    const w = new TrapWindow();
    w.onBook(before, view([[100, 0.5], [99, 1]], before.asks as Level[]), 1000);
    w.onTrade(100, 1.0, 1003);
    w.onTrade(100.5, 7, 1004); // another price explains nothing here
    expect(w.snapshot(1005)).toEqual({ cancel: [0.5, 0, 0, 0, 0], add: zeros, tradesCnt: 2 });
  });

  it('a trade explains a decrease once: the second decrease at the same price is a cancel', () => {
    const w = new TrapWindow();
    w.onTrade(100, 1, 900);
    w.onBook(before, view([[100, 1], [99, 1]], before.asks as Level[]), 1000);
    w.onBook(view([[100, 1], [99, 1]], before.asks as Level[]), view([[100, 0.25], [99, 1]], before.asks as Level[]), 1100);
    expect(w.snapshot(1100).cancel).toEqual([0.75, 0, 0, 0, 0]);
  });

  it('a level leaving the top L is a full cancel unless traded through', () => {
    const removed = view([[99, 1]], before.asks as Level[]);
    const w = new TrapWindow();
    w.onBook(before, removed, 1000);
    expect(w.snapshot(1000).cancel).toEqual([2, 0, 0, 0, 0]);
    const traded = new TrapWindow();
    traded.onTrade(99.5, 0.1, 999); // a print below the bid level: the level was traded through
    traded.onBook(before, removed, 1000);
    expect(traded.snapshot(1000)).toEqual({ cancel: zeros, add: zeros, tradesCnt: 1 });
    const askSide = new TrapWindow();
    askSide.onTrade(101, 0.2, 999); // ask level 101 traded at its price
    askSide.onBook(before, view(before.bids as Level[], [[102, 1]]), 1000);
    expect(askSide.snapshot(1000).cancel).toEqual(zeros);
  });

  it('adds: size increases and new levels at their new rank; both sides summed per rank', () => {
    const w = new TrapWindow();
    w.onBook(
      before,
      view(
        [
          [100, 2.5],
          [99, 1],
        ],
        [
          [100.5, 3],
          [101, 1],
          [102, 2],
        ],
      ),
      1000,
    );
    // bid 100 +0.5 (rank 0); ask 100.5 new (rank 0, +3); ask 102 +1 (rank 2 after the insert)
    expect(w.snapshot(1000)).toEqual({ cancel: zeros, add: [3.5, 0, 1, 0, 0], tradesCnt: 0 });
  });

  it('a level pushed out of the top L counts as a cancel (the literal rule) and the newcomer as an add', () => {
    const w = new TrapWindow({ trap_window_ms: 2000, trap_levels: 2 });
    w.onBook(
      view(
        [
          [100, 1],
          [99, 1],
        ],
        [],
      ),
      view(
        [
          [100.5, 1],
          [100, 1],
        ],
        [],
      ),
      0,
    );
    expect(w.snapshot(0)).toEqual({ cancel: [0, 1], add: [1, 0], tradesCnt: 0 });
  });

  it('counts trade prints and forgets everything older than 2 s (inclusive bound)', () => {
    const w = new TrapWindow();
    w.onTrade(100, 1, 0);
    w.onBook(before, view([[100, 1], [99, 1]], before.asks as Level[]), 0);
    w.onTrade(100, 1, 1500);
    expect(w.snapshot(2000)).toEqual({ cancel: zeros, add: zeros, tradesCnt: 2 });
    const s = w.snapshot(2001);
    expect(s.tradesCnt).toBe(1);
    // the decrease at t=0 left; the t=1500 trade is not matched against anything
    expect(s.cancel).toEqual(zeros);
    expect(w.snapshot(5000)).toEqual({ cancel: zeros, add: zeros, tradesCnt: 0 });
  });

  it('the feature engine diffs deltas (not snapshots) and reports the deltas of a spoofed wall', () => {
    const e = new FeatureEngine();
    e.onSnapshot([[100, 1]], [[101, 1]], 0, 0);
    e.onDelta([[100.5, 40]], [], 10, 10); // wall appears at rank 0
    e.onTrade({ id: 't1', price: 101, qty: 0.1, aggressor: 'buy', exchTs: 20, recvTs: 20 });
    e.onDelta([[100.5, 0]], [], 30, 30); // and vanishes, never traded through
    const s = e.tick(40);
    expect(s.trap).toEqual({ cancel: [40, 0, 0, 0, 0], add: [40, 0, 0, 0, 0], tradesCnt: 1 });
    e.onSnapshot([[90, 5]], [[91, 5]], 50, 50); // a re-sync is not diffed
    expect(e.tick(60).trap.cancel).toEqual([40, 0, 0, 0, 0]);
  });
});
