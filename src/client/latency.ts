import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/**
 * The project's latency histogram (the client's stats, the bench and the soak): Node's built-in
 * HdrHistogram (`perf_hooks.createHistogram`, HdrHistogram_c) at 3 significant digits over integer
 * nanoseconds, so a percentile is at most ~0.1 % (1/1024) above the sample it stands for; constant
 * memory, O(1) record. Values are recorded and reported in one unit (`ms` by default, or `us`).
 *
 * Percentiles are nearest-rank (the value at rank ⌈q/100·n⌉, as in runner.md §4.5), reported as the
 * upper end of the histogram bucket holding that rank, clamped to the exact min and max.
 * `min`, `max`, `mean` are exact (kept beside the histogram).
 */

const NS_PER_UNIT = { ms: 1e6, us: 1e3 } as const;
export type LatencyUnit = keyof typeof NS_PER_UNIT;

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
  /** lowest 1 ns, highest Number.MAX_SAFE_INTEGER ns (~104 days) */
  private readonly h: RecordableHistogram = createHistogram({ figures: 3 });
  private readonly nsPerUnit: number;
  private n = 0;
  private sum = 0;
  private lo = Infinity;
  private hi = 0;

  constructor(readonly unit: LatencyUnit = 'ms') {
    this.nsPerUnit = NS_PER_UNIT[unit];
  }

  /** One sample in the histogram's unit; negative and non-finite samples are ignored. */
  record(value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    // the histogram holds integers >= 1: sub-nanosecond samples count as 1 ns
    this.h.record(Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, Math.round(value * this.nsPerUnit))));
    this.n++;
    this.sum += value;
    if (value < this.lo) this.lo = value;
    if (value > this.hi) this.hi = value;
  }

  get count(): number {
    return this.n;
  }

  /** Nearest-rank percentile, q in (0, 100]; 0 when empty. */
  percentile(q: number): number {
    if (this.n === 0) return 0;
    // 1e-9: q/100·n that should be a whole number but came out a hair above it (99.9 % of 1000)
    const rank = Math.min(this.n, Math.max(1, Math.ceil((Math.min(Math.max(q, 0), 100) * this.n) / 100 - 1e-9)));
    // HdrHistogram_c counts ⌊p/100·n + ½⌋ samples for percentile p: p = (rank − ¼)/n·100 lands on `rank` exactly
    const upper = this.h.percentile(((rank - 0.25) / this.n) * 100) / this.nsPerUnit;
    return Math.min(Math.max(upper, this.lo), this.hi);
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
    this.h.reset();
    this.n = 0;
    this.sum = 0;
    this.lo = Infinity;
    this.hi = 0;
  }
}
