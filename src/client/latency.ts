/**
 * A small latency histogram: fixed logarithmic buckets (10 per decade, 1 µs .. 100 s), constant
 * memory, O(1) record. Percentiles use the nearest-rank method over buckets and report the upper
 * bound of the bucket holding that rank (clamped to the exact max), so the error is at most one
 * bucket width (~26 %). `max`, `min`, `mean` are exact.
 */
const PER_DECADE = 10;
const MIN_MS = 0.001;
const DECADES = 8; // 1e-3 ms .. 1e5 ms
const BOUNDS: number[] = Array.from({ length: PER_DECADE * DECADES + 1 }, (_, i) => MIN_MS * 10 ** (i / PER_DECADE));

export interface LatencySummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

export class LatencyHistogram {
  /** counts[i] = samples <= BOUNDS[i] (and > BOUNDS[i-1]); the last slot holds everything above */
  private readonly counts = new Array<number>(BOUNDS.length + 1).fill(0);
  private n = 0;
  private sum = 0;
  private lo = Infinity;
  private hi = 0;

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.counts[bucketOf(ms)]++;
    this.n++;
    this.sum += ms;
    if (ms < this.lo) this.lo = ms;
    if (ms > this.hi) this.hi = ms;
  }

  get count(): number {
    return this.n;
  }

  /** Nearest-rank percentile, q in (0, 100]; 0 when empty. */
  percentile(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(Math.max(q, 0), 100) / 100) * this.n));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        const upper = i < BOUNDS.length ? BOUNDS[i] : this.hi;
        return Math.min(Math.max(upper, this.lo), this.hi);
      }
    }
    return this.hi;
  }

  summary(): LatencySummary {
    return {
      count: this.n,
      min: this.n === 0 ? 0 : this.lo,
      max: this.hi,
      mean: this.n === 0 ? 0 : this.sum / this.n,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
    };
  }

  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.sum = 0;
    this.lo = Infinity;
    this.hi = 0;
  }
}

function bucketOf(ms: number): number {
  if (ms <= MIN_MS) return 0;
  let i = Math.ceil(Math.log10(ms / MIN_MS) * PER_DECADE - 1e-9);
  if (i >= BOUNDS.length) return BOUNDS.length;
  // guard against floating-point edge cases at the bucket boundaries
  while (i > 0 && ms <= BOUNDS[i - 1]) i--;
  while (i < BOUNDS.length && ms > BOUNDS[i]) i++;
  return i;
}
