import type { BookView, Level } from './types.ts';

/** Why a book cannot back a new entry (§1.2 Ours); `ok` otherwise. */
export type BookHealth = 'ok' | 'no_snapshot' | 'bad_book' | 'stale_book';

export interface BookParams {
  /** `feed.max_staleness_ms`: a book not updated for longer blocks new entries */
  max_staleness_ms: number;
}

export const DEFAULT_BOOK: BookParams = { max_staleness_ms: 1000 };

type MutableLevel = [number, number];

/**
 * L2 order book of one symbol. Levels are kept as sorted arrays (bids descending, asks ascending):
 * books are tens of levels deep, where binary search plus splice beats any tree. A delta before the
 * first snapshot is ignored (the book is invalid until then); a size of 0 (or less) removes a level.
 */
export class OrderBook {
  private bids: MutableLevel[] = [];
  private asks: MutableLevel[] = [];
  private snapshotSeen = false;
  /** exchange time of the newest applied update (null when the venue gave none) */
  lastExchTs: number | null = null;
  /** local receive time of the newest applied update */
  lastRecvTs: number | null = null;

  get hasSnapshot(): boolean {
    return this.snapshotSeen;
  }

  applySnapshot(bids: readonly Level[], asks: readonly Level[], exchTs: number | null, recvTs: number): void {
    this.bids = [];
    this.asks = [];
    for (const [p, q] of bids) upsert(this.bids, p, q, true);
    for (const [p, q] of asks) upsert(this.asks, p, q, false);
    this.snapshotSeen = true;
    this.stamp(exchTs, recvTs);
  }

  /** Applies a delta; returns false (and changes nothing) before the first snapshot. */
  applyDelta(bids: readonly Level[], asks: readonly Level[], exchTs: number | null, recvTs: number): boolean {
    if (!this.snapshotSeen) return false;
    for (const [p, q] of bids) upsert(this.bids, p, q, true);
    for (const [p, q] of asks) upsert(this.asks, p, q, false);
    this.stamp(exchTs, recvTs);
    return true;
  }

  /** The best `levels` levels of each side (copies: safe to keep across updates). */
  top(levels: number): BookView {
    return {
      bids: this.bids.slice(0, levels).map(([p, q]) => [p, q] as const),
      asks: this.asks.slice(0, levels).map(([p, q]) => [p, q] as const),
    };
  }

  get depth(): { bids: number; asks: number } {
    return { bids: this.bids.length, asks: this.asks.length };
  }

  bestBid(): Level | null {
    return this.bids.length > 0 ? this.bids[0] : null;
  }

  bestAsk(): Level | null {
    return this.asks.length > 0 ? this.asks[0] : null;
  }

  /** (best bid + best ask) / 2, or null when a side is empty. */
  mid(): number | null {
    const b = this.bestBid();
    const a = this.bestAsk();
    return b && a ? (b[0] + a[0]) / 2 : null;
  }

  /** best ask − best bid, or null when a side is empty. */
  spread(): number | null {
    const b = this.bestBid();
    const a = this.bestAsk();
    return b && a ? a[0] - b[0] : null;
  }

  isEmpty(): boolean {
    return this.bids.length === 0 || this.asks.length === 0;
  }

  /** A locked book (bid = ask) counts too: a venue's own book never trades at zero spread. */
  isCrossed(): boolean {
    const b = this.bestBid();
    const a = this.bestAsk();
    return b !== null && a !== null && b[0] >= a[0];
  }

  health(nowMs: number, p: BookParams = DEFAULT_BOOK): BookHealth {
    if (!this.snapshotSeen) return 'no_snapshot';
    if (this.isEmpty() || this.isCrossed()) return 'bad_book';
    if (this.lastRecvTs === null || nowMs - this.lastRecvTs > p.max_staleness_ms) return 'stale_book';
    return 'ok';
  }

  private stamp(exchTs: number | null, recvTs: number): void {
    if (exchTs !== null && Number.isFinite(exchTs)) this.lastExchTs = exchTs;
    this.lastRecvTs = recvTs;
  }
}

/** Sets (or removes, when size ≤ 0) the level at `price`; non-finite values and prices ≤ 0 are ignored. */
function upsert(side: MutableLevel[], price: number, size: number, descending: boolean): void {
  if (!Number.isFinite(price) || !(price > 0) || !Number.isFinite(size)) return;
  let lo = 0;
  let hi = side.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    const p = side[m][0];
    if (descending ? p > price : p < price) lo = m + 1;
    else hi = m;
  }
  const found = lo < side.length && side[lo][0] === price;
  if (!(size > 0)) {
    if (found) side.splice(lo, 1);
    return;
  }
  if (found) side[lo][1] = size;
  else side.splice(lo, 0, [price, size]);
}
