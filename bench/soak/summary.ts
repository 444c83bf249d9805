/**
 * The soak's figures from its samples. Pure: samples and limits in, summary out (no clock, no I/O), so
 * the arithmetic is tested with hand-computed vectors (test/faults/soak-tool.test.ts).
 */

/** One sample, taken every `--sample-s` seconds during the constant-rate phase. */
export interface Sample {
  /** seconds since the constant-rate phase started */
  t: number;
  /** the gate process's resident set size (VmRSS), bytes */
  rss: number;
  /** V8 heap in use on the gate's main thread (nodejs_heap_size_used_bytes), bytes */
  heapUsed: number;
  /** answers per second in the window that ended at `t` */
  rate: number;
  sent: number;
  ok: number;
  non200: number;
  netErrors: number;
  /** latency percentiles of the window's answers, µs (NaN for an empty window) */
  p50: number;
  p99: number;
  /** requests due and not yet sent (client side) at `t` */
  backlog: number;
  /** journal lines received by the writer and not yet written (aurora_journal_lag_lines) */
  journalLag: number;
}

interface Growth {
  /**
   * median of the first three samples at or after warm-up, of the last three, and the largest value after
   * warm-up (medians: one sample can sit on a GC sawtooth's peak or trough)
   */
  atWarm: number;
  atEnd: number;
  maxAfterWarm: number;
  /** (atEnd - atWarm) / atWarm, percent */
  pct: number;
  /** least-squares slope over the samples after warm-up, per minute (in the value's unit) */
  slopePerMin: number;
}

export interface Summary {
  warmupS: number;
  samplesAfterWarm: number;
  rss: Growth;
  heap: Growth;
  /** p99 of the first and the last window after warm-up, and the change in percent */
  p99: { first: number; last: number; driftPct: number; medianFirst3: number; medianLast3: number };
  totals: { sent: number; ok: number; non200: number; netErrors: number; seconds: number; rate: number };
  /** PASS/FAIL lines */
  verdicts: Verdict[];
}

interface Verdict {
  name: string;
  pass: boolean | null;
  shown: string;
}

/** Least-squares slope of y over x (NaN with fewer than two distinct x). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function growth(after: readonly Sample[], pick: (s: Sample) => number): Growth {
  if (after.length === 0) return { atWarm: NaN, atEnd: NaN, maxAfterWarm: NaN, pct: NaN, slopePerMin: NaN };
  const atWarm = median(after.slice(0, 3).map(pick));
  const atEnd = median(after.slice(-3).map(pick));
  return {
    atWarm,
    atEnd,
    maxAfterWarm: Math.max(...after.map(pick)),
    pct: ((atEnd - atWarm) / atWarm) * 100,
    slopePerMin: slope(
      after.map((s) => s.t / 60),
      after.map(pick),
    ),
  };
}

/**
 * `samples` in time order; `warmupS`: samples before it are excluded from the growth and drift figures.
 * RSS passes when it grew by at most `maxRssGrowthPct` from the end of warm-up to the end of the run.
 */
export function summarize(samples: readonly Sample[], warmupS: number, maxRssGrowthPct: number): Summary {
  const after = samples.filter((s) => s.t >= warmupS);
  const rss = growth(after, (s) => s.rss);
  const heap = growth(after, (s) => s.heapUsed);
  const p99s = after.map((s) => s.p99);
  const first = p99s[0] ?? NaN;
  const last = p99s[p99s.length - 1] ?? NaN;
  const seconds = samples.length ? samples[samples.length - 1].t : 0;
  const sum = (f: (s: Sample) => number) => samples.reduce((a, s) => a + f(s), 0);
  const totals = { sent: sum((s) => s.sent), ok: sum((s) => s.ok), non200: sum((s) => s.non200), netErrors: sum((s) => s.netErrors), seconds, rate: 0 };
  totals.rate = seconds > 0 ? (totals.ok + totals.non200) / seconds : 0;
  const enough = after.length >= 2;
  const verdicts: Verdict[] = [
    {
      name: `RSS growth after warm-up <= ${maxRssGrowthPct} %`,
      pass: enough ? rss.pct <= maxRssGrowthPct : null,
      shown: enough ? `${rss.pct.toFixed(1)} % (${mib(rss.atWarm)} -> ${mib(rss.atEnd)} MiB, slope ${(rss.slopePerMin / 2 ** 20).toFixed(2)} MiB/min)` : 'n/a: fewer than two samples after warm-up',
    },
    { name: 'no 5xx / no connection errors', pass: totals.non200 === 0 && totals.netErrors === 0, shown: `${totals.non200} non-200, ${totals.netErrors} without an answer` },
  ];
  return {
    warmupS,
    samplesAfterWarm: after.length,
    rss,
    heap,
    p99: { first, last, driftPct: ((last - first) / first) * 100, medianFirst3: median(p99s.slice(0, 3)), medianLast3: median(p99s.slice(-3)) },
    totals,
    verdicts,
  };
}

export const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
