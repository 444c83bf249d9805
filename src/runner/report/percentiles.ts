export interface RttSummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile (runner.md §4.5): the value at rank ⌈q/100·n⌉ of the sorted samples; 0 when empty. */
export function nearestRank(sorted: readonly number[], q: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const rank = Math.min(n, Math.max(1, Math.ceil((q / 100) * n)));
  return sorted[rank - 1];
}

/** p50/p90/p99/max/mean of all samples (exact: every RTT of a run is kept). */
export function summarizeRtts(samples: readonly number[]): RttSummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    count: n,
    p50: nearestRank(sorted, 50),
    p90: nearestRank(sorted, 90),
    p99: nearestRank(sorted, 99),
    max: n > 0 ? sorted[n - 1] : 0,
    mean: n > 0 ? sum / n : 0,
  };
}
