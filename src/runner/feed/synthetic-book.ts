import type { Level } from './schema.ts';

export type BookSide = 'bid' | 'ask';

/** A level consumed by trades: its grid index and how many lots were taken. */
export interface Print {
  index: number;
  lots: number;
}

/**
 * The generator's order book, on a grid of displayed levels: index i is the price i·spacing ticks,
 * sizes are integer lots. Integers keep every price and size exact, so formatting `i·spacing/ticksPerUnit`
 * always prints the same short decimal. It remembers what was last emitted to produce deltas.
 */
export class GridBook {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  private emittedBids = new Map<number, number>();
  private emittedAsks = new Map<number, number>();
  /** Extra displayed size per side and index that trades never touch (the spoof wall). */
  readonly overlay = { bid: new Map<number, number>(), ask: new Map<number, number>() };

  constructor(
    private readonly spacingTicks: number,
    private readonly ticksPerUnit: number,
    private readonly lotsPerUnit: number,
  ) {}

  side(s: BookSide): Map<number, number> {
    return s === 'bid' ? this.bids : this.asks;
  }

  bestBid(): number | undefined {
    return extreme(this.bids, 'max');
  }

  bestAsk(): number | undefined {
    return extreme(this.asks, 'min');
  }

  /** Indices of one side from the best outward. */
  ranked(s: BookSide): number[] {
    const keys = [...this.side(s).keys()];
    return s === 'bid' ? keys.sort((a, b) => b - a) : keys.sort((a, b) => a - b);
  }

  price(index: number): number {
    return (index * this.spacingTicks) / this.ticksPerUnit;
  }

  qty(lots: number): number {
    return lots / this.lotsPerUnit;
  }

  /**
   * A market order of `lots` against side `s` (a buy consumes asks): one print per level, best
   * first, at most `maxLevels` levels; a consumed level disappears.
   */
  consume(s: BookSide, lots: number, maxLevels: number): Print[] {
    const book = this.side(s);
    const prints: Print[] = [];
    let left = lots;
    for (const index of this.ranked(s)) {
      if (left <= 0 || prints.length >= maxLevels) break;
      const size = book.get(index)!;
      const take = Math.min(size, left);
      prints.push({ index, lots: take });
      left -= take;
      if (take === size) book.delete(index);
      else book.set(index, size - take);
    }
    return prints;
  }

  /** Removes and returns the levels of side `s` strictly better than `bound` (the price moved through them), best first. */
  takeBeyond(s: BookSide, bound: number): Print[] {
    const out: Print[] = [];
    for (const index of this.ranked(s)) {
      if (s === 'bid' ? index <= bound : index >= bound) break;
      out.push({ index, lots: this.side(s).get(index)! });
      this.side(s).delete(index);
    }
    return out;
  }

  /**
   * Makes side `s` exactly the contiguous window of `levels` indices starting at `best` and going
   * outward: missing ones are created with `sizeFor(rank)` lots, ones outside the window are dropped.
   */
  fillWindow(s: BookSide, best: number, levels: number, sizeFor: (rank: number) => number): void {
    const book = this.side(s);
    const dir = s === 'bid' ? -1 : 1;
    const inWindow = new Set<number>();
    for (let rank = 0; rank < levels; rank++) {
      const index = best + dir * rank;
      inWindow.add(index);
      if (!book.has(index)) book.set(index, sizeFor(rank));
    }
    for (const index of [...book.keys()]) if (!inWindow.has(index)) book.delete(index);
  }

  /** The displayed book (levels plus overlay), as exact lots per index. */
  private displayed(s: BookSide): Map<number, number> {
    const out = new Map(this.side(s));
    for (const [index, lots] of this.overlay[s]) out.set(index, (out.get(index) ?? 0) + lots);
    return out;
  }

  /** The changes since the last emit (size 0 = removed), and marks them emitted; null when nothing changed. */
  delta(): { bids: Level[]; asks: Level[] } | null {
    const bids = this.changes('bid');
    const asks = this.changes('ask');
    return bids.length === 0 && asks.length === 0 ? null : { bids, asks };
  }

  /** The whole displayed book, and marks it emitted. */
  snapshot(): { bids: Level[]; asks: Level[] } {
    const out = { bids: [] as Level[], asks: [] as Level[] };
    for (const s of ['bid', 'ask'] as const) {
      const now = this.displayed(s);
      out[s === 'bid' ? 'bids' : 'asks'] = sortedLevels(s, now).map(([i, lots]) => [this.price(i), this.qty(lots)]);
      this.setEmitted(s, now);
    }
    return out;
  }

  private changes(s: BookSide): Level[] {
    const now = this.displayed(s);
    const before = s === 'bid' ? this.emittedBids : this.emittedAsks;
    const changed = new Map<number, number>();
    for (const [i, lots] of now) if (before.get(i) !== lots) changed.set(i, lots);
    for (const i of before.keys()) if (!now.has(i)) changed.set(i, 0);
    this.setEmitted(s, now);
    return sortedLevels(s, changed).map(([i, lots]) => [this.price(i), this.qty(lots)]);
  }

  private setEmitted(s: BookSide, now: Map<number, number>): void {
    if (s === 'bid') this.emittedBids = now;
    else this.emittedAsks = now;
  }
}

function sortedLevels(s: BookSide, m: Map<number, number>): [number, number][] {
  const entries = [...m];
  return s === 'bid' ? entries.sort((a, b) => b[0] - a[0]) : entries.sort((a, b) => a[0] - b[0]);
}

function extreme(m: Map<number, number>, which: 'max' | 'min'): number | undefined {
  let best: number | undefined;
  for (const k of m.keys()) if (best === undefined || (which === 'max' ? k > best : k < best)) best = k;
  return best;
}
