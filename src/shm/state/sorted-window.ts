import { percentileSorted } from './percentile.ts';

/**
 * A bounded FIFO of samples (optionally time-stamped) that also keeps its values in ascending order,
 * so a percentile costs O(1) and an update O(log n + shift). Everything lives in typed arrays handed in
 * by the caller, so the same window can sit in a SharedArrayBuffer seen by every worker thread.
 *
 * meta (Int32Array, 4 slots): [head, count, nanCount, unused]. NaN never enters ordered storage: it is
 * counted instead, and any NaN in the window makes the percentile NaN, as numpy's does.
 */
export class SortedWindow {
  readonly capacity: number;
  private readonly meta: Int32Array;
  private readonly values: Float64Array;
  private readonly times: Float64Array | null;
  private readonly sorted: Float64Array;

  constructor(meta: Int32Array, values: Float64Array, sorted: Float64Array, times: Float64Array | null) {
    this.capacity = values.length;
    this.meta = meta;
    this.values = values;
    this.sorted = sorted;
    this.times = times;
  }

  static words(capacity: number, timed: boolean): number {
    return capacity * (timed ? 3 : 2);
  }

  get count(): number {
    return this.meta[1];
  }

  /** Number of finite values in ordered storage. */
  private get orderedCount(): number {
    return this.meta[1] - this.meta[2];
  }

  clear(): void {
    this.meta[0] = 0;
    this.meta[1] = 0;
    this.meta[2] = 0;
  }

  /** Appends a sample; when full, the oldest one is dropped first (one combined shift). */
  push(value: number, time = 0): void {
    const cap = this.capacity;
    if (this.meta[1] === cap) {
      const head = this.meta[0];
      const old = this.values[head];
      if (old === old && value === value) {
        // replace in place: shift only the span between the old value's rank and the new one's
        this.meta[0] = (head + 1) % cap;
        this.values[head] = value;
        if (this.times !== null) this.times[head] = time;
        this.replaceSorted(old, value);
        return;
      }
      this.dropOldest();
    }
    const tail = (this.meta[0] + this.meta[1]) % cap;
    this.values[tail] = value;
    if (this.times !== null) this.times[tail] = time;
    this.meta[1]++;
    if (value !== value) {
      this.meta[2]++;
      return;
    }
    const n = this.orderedCount - 1;
    const at = upperBound(this.sorted, n, value);
    this.sorted.copyWithin(at + 1, at, n);
    this.sorted[at] = value;
  }

  private replaceSorted(old: number, value: number): void {
    const a = this.sorted;
    const n = this.orderedCount;
    if (value >= old) {
      // remove the LAST copy of old and insert after every value <= value: equal samples are
      // interchangeable, so a steady latency shifts nothing (taking the first copy shifted the whole window)
      const i = upperBound(a, n, old) - 1;
      const j = upperBound(a, n, value) - 1;
      a.copyWithin(i, i + 1, j + 1);
      a[j] = value;
    } else {
      const i = lowerBound(a, n, old);
      const j = upperBound(a, n, value);
      a.copyWithin(j + 1, j, i);
      a[j] = value;
    }
  }

  /**
   * Drops every sample whose time is strictly below `cutoff` (a sample exactly at the cutoff stays).
   * Many expiries at once (after an idle spell) rebuild the order in one sort instead of one shift each.
   */
  dropOlderThan(cutoff: number): void {
    const times = this.times;
    if (times === null) return;
    const cap = this.capacity;
    let k = 0;
    while (k < this.meta[1] && times[(this.meta[0] + k) % cap] < cutoff) k++;
    if (k === 0) return;
    if (k <= BULK_EXPIRY) {
      for (let i = 0; i < k; i++) this.dropOldest();
      return;
    }
    this.meta[0] = (this.meta[0] + k) % cap;
    this.meta[1] -= k;
    this.rebuild();
  }

  /** Recomputes the ordered copy (and the NaN count) from the FIFO. */
  private rebuild(): void {
    const cap = this.capacity;
    let m = 0;
    let nans = 0;
    for (let i = 0; i < this.meta[1]; i++) {
      const v = this.values[(this.meta[0] + i) % cap];
      if (v === v) this.sorted[m++] = v;
      else nans++;
    }
    this.meta[2] = nans;
    this.sorted.subarray(0, m).sort();
  }

  /** Time of the oldest sample, or NaN when empty. */
  oldestTime(): number {
    return this.meta[1] > 0 && this.times !== null ? this.times[this.meta[0]] : NaN;
  }

  percentile(q: number): number {
    if (this.meta[2] > 0) return NaN;
    return percentileSorted(this.sorted, this.orderedCount, q);
  }

  private dropOldest(): void {
    const head = this.meta[0];
    const value = this.values[head];
    this.meta[0] = (head + 1) % this.capacity;
    this.meta[1]--;
    if (value !== value) {
      this.meta[2]--;
      return;
    }
    const n = this.orderedCount + 1;
    const at = lowerBound(this.sorted, n, value);
    this.sorted.copyWithin(at, at + 1, n);
  }
}

/** Above this many expiries in one call, re-sorting beats shifting once per sample. */
const BULK_EXPIRY = 24;

function lowerBound(a: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(a: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
