/**
 * numpy's default ("linear") percentile over an ascending-sorted slice, in the exact arithmetic form
 * that reproduces numpy bit for bit (gate.md 4.1): h = (n-1)·q/100, lo = floor(h), g = h - lo,
 * a = v[lo], b = v[min(lo+1, n-1)], d = b - a; result b - d·(1-g) if g >= 0.5 else a + d·g.
 * An empty slice gives 0 (the TRAP window's convention).
 */
export function percentileSorted(sorted: Float64Array, n: number, q: number): number {
  if (n <= 0) return 0;
  if (n === 1) return sorted[0];
  const h = (n - 1) * (q / 100);
  const lo = Math.floor(h);
  const g = h - lo;
  const a = sorted[lo];
  const b = sorted[lo + 1 < n ? lo + 1 : n - 1];
  const d = b - a;
  return g >= 0.5 ? b - d * (1 - g) : a + d * g;
}
