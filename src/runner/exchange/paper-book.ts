import type { BookEvent } from '../feed/schema.ts';

export type BookSide = 'bid' | 'ask';

/** Removes float dust from quantity arithmetic (sizes carry at most ~9 decimals). */
export function cleanQty(x: number): number {
  const r = Math.round(x * 1e9) / 1e9;
  return r === 0 ? 0 : r;
}

/**
 * The paper exchange's copy of one symbol's L2 book, fed the same snapshots/deltas as the runner.
 * A replayed book does not know about our orders, so liquidity our taker orders consumed is
 * remembered per level ("used") until the feed restates that level; without this, two market
 * orders in a row would both fill against the same displayed size.
 */
export class PaperBook {
  private readonly levels = { bid: new Map<number, number>(), ask: new Map<number, number>() };
  private readonly used = { bid: new Map<number, number>(), ask: new Map<number, number>() };
  hasSnapshot = false;

  apply(ev: BookEvent): void {
    if (ev.type === 'book_snapshot') {
      for (const s of ['bid', 'ask'] as const) {
        this.levels[s].clear();
        this.used[s].clear();
      }
      this.hasSnapshot = true;
    }
    this.applySide('bid', ev.bids);
    this.applySide('ask', ev.asks);
  }

  private applySide(s: BookSide, changes: [number, number][]): void {
    for (const [price, size] of changes) {
      this.used[s].delete(price);
      if (size === 0) this.levels[s].delete(price);
      else this.levels[s].set(price, size);
    }
  }

  /** Displayed size at a price minus what we already took there. */
  available(s: BookSide, price: number): number {
    const size = this.levels[s].get(price);
    if (size === undefined) return 0;
    return Math.max(0, cleanQty(size - (this.used[s].get(price) ?? 0)));
  }

  /** Levels with available size, best first. */
  ranked(s: BookSide): [number, number][] {
    const out: [number, number][] = [];
    for (const price of this.levels[s].keys()) {
      const avail = this.available(s, price);
      if (avail > 0) out.push([price, avail]);
    }
    return s === 'bid' ? out.sort((a, b) => b[0] - a[0]) : out.sort((a, b) => a[0] - b[0]);
  }

  best(s: BookSide): number | undefined {
    let best: number | undefined;
    for (const price of this.levels[s].keys()) {
      if (this.available(s, price) <= 0) continue;
      if (best === undefined || (s === 'bid' ? price > best : price < best)) best = price;
    }
    return best;
  }

  /** Mid of the displayed book (what positions are marked to), undefined if a side is empty. */
  mid(): number | undefined {
    const bid = maxKey(this.levels.bid);
    const ask = minKey(this.levels.ask);
    return bid === undefined || ask === undefined ? undefined : (bid + ask) / 2;
  }

  /** Records that our order took `qty` at `price` on side `s`. */
  consume(s: BookSide, price: number, qty: number): void {
    this.used[s].set(price, cleanQty((this.used[s].get(price) ?? 0) + qty));
  }
}

function maxKey(m: Map<number, number>): number | undefined {
  let best: number | undefined;
  for (const k of m.keys()) if (best === undefined || k > best) best = k;
  return best;
}

function minKey(m: Map<number, number>): number | undefined {
  let best: number | undefined;
  for (const k of m.keys()) if (best === undefined || k < best) best = k;
  return best;
}
