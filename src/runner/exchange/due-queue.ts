/**
 * Items ordered by due time, ties by insertion order: the paper exchange's future (request
 * arrivals, delayed fill reports). Sizes are small (orders in flight), so a sorted array is enough.
 */
export class DueQueue<T> {
  private items: { due: number; seq: number; item: T }[] = [];
  private seq = 0;

  push(due: number, item: T): void {
    const entry = { due, seq: this.seq++, item };
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid].due <= due) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, entry);
  }

  /** The earliest item due at or before `now`, removed; undefined if none. */
  popDue(now: number): { due: number; item: T } | undefined {
    const first = this.items[0];
    if (!first || first.due > now) return undefined;
    this.items.shift();
    return { due: first.due, item: first.item };
  }

  nextDue(): number | undefined {
    return this.items[0]?.due;
  }

  get size(): number {
    return this.items.length;
  }
}
