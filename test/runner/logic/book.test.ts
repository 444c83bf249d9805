import { describe, expect, it } from 'vitest';
import { OrderBook } from '../../../src/runner/logic/book.ts';

describe('OrderBook', () => {
  it('sorts bids descending and asks ascending, whatever the input order', () => {
    const b = new OrderBook();
    b.applySnapshot(
      [
        [99, 1],
        [100, 2],
        [98, 3],
      ],
      [
        [102, 1],
        [101, 4],
      ],
      1000,
      1004,
    );
    expect(b.top(5)).toEqual({
      bids: [
        [100, 2],
        [99, 1],
        [98, 3],
      ],
      asks: [
        [101, 4],
        [102, 1],
      ],
    });
    expect(b.top(2).bids).toEqual([
      [100, 2],
      [99, 1],
    ]);
    expect(b.mid()).toBe(100.5);
    expect(b.spread()).toBe(1);
    expect(b.lastExchTs).toBe(1000);
    expect(b.lastRecvTs).toBe(1004);
  });

  it('applies deltas: update, insert in order, size 0 removes, removing an absent level is a no-op', () => {
    const b = new OrderBook();
    b.applySnapshot([[100, 2]], [[101, 1]], 1, 2);
    expect(b.applyDelta([[100, 0.5], [99.5, 1], [97, 0]], [[101, 0], [100.8, 2], [103, 1]], 10, 12)).toBe(true);
    expect(b.top(5)).toEqual({
      bids: [
        [100, 0.5],
        [99.5, 1],
      ],
      asks: [
        [100.8, 2],
        [103, 1],
      ],
    });
    expect(b.lastExchTs).toBe(10);
    expect(b.lastRecvTs).toBe(12);
  });

  it('ignores a delta before the first snapshot (the book is invalid until then)', () => {
    const b = new OrderBook();
    expect(b.applyDelta([[100, 1]], [[101, 1]], 1, 2)).toBe(false);
    expect(b.top(5)).toEqual({ bids: [], asks: [] });
    expect(b.health(2)).toBe('no_snapshot');
  });

  it('a snapshot replaces the whole book', () => {
    const b = new OrderBook();
    b.applySnapshot([[100, 1], [99, 1]], [[101, 1]], null, 1);
    b.applySnapshot([[50, 1]], [[51, 2]], null, 2);
    expect(b.top(5)).toEqual({ bids: [[50, 1]], asks: [[51, 2]] });
    expect(b.lastExchTs).toBeNull();
  });

  it('ignores non-finite values and prices <= 0; negative sizes remove', () => {
    const b = new OrderBook();
    b.applySnapshot([[100, 1], [NaN, 1], [0, 1], [99, Infinity]], [[101, 1]], null, 1);
    b.applyDelta([[100, -1]], [], null, 2);
    expect(b.top(5)).toEqual({ bids: [], asks: [[101, 1]] });
  });

  it('reports empty, crossed/locked and stale books', () => {
    const b = new OrderBook();
    b.applySnapshot([[100, 1]], [], null, 0);
    expect(b.isEmpty()).toBe(true);
    expect(b.mid()).toBeNull();
    expect(b.spread()).toBeNull();
    expect(b.health(0)).toBe('bad_book');

    b.applySnapshot([[100, 1]], [[100, 1]], null, 0);
    expect(b.isCrossed()).toBe(true); // locked
    b.applySnapshot([[101, 1]], [[100, 1]], null, 0);
    expect(b.isCrossed()).toBe(true);
    expect(b.health(0)).toBe('bad_book');

    b.applySnapshot([[100, 1]], [[101, 1]], null, 1000);
    expect(b.health(2000)).toBe('ok'); // exactly max_staleness_ms old
    expect(b.health(2001)).toBe('stale_book');
    expect(b.health(2001, { max_staleness_ms: 5000 })).toBe('ok');
  });
});
