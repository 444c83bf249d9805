import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/client/latency.ts';
import { summarise } from '../../bench/ws-load.ts';

/** The bench's and the soak's latency figures (bench/ws-load.ts summarise over the shared histogram), hand-computed. */

describe('summarise', () => {
  it('p50 … p99.99 are nearest ranks (µs), requests and rate from the count', () => {
    const h = new LatencyHistogram('us');
    // 2000 samples: 1.000, 1.001, …, 2.999 µs (1000 … 2999 ns; 3 significant digits keep each one apart up to 2047 ns)
    for (let k = 0; k < 2000; k++) h.record((1000 + k) / 1000);
    const r = summarise(h, 4, 3);
    expect(r).toMatchObject({ requests: 2000, seconds: 4, rps: 500, errors: 3, non2xx: 0 });
    // ranks: p50 1000 -> 1999 ns; p90 1800 -> 2799 ns; p99 1980 -> 2979 ns; p99.9 1998 -> 2997 ns; p99.99 ⌈1999.8⌉ = 2000 -> 2999 ns
    expect(r.p50).toBe(1.999);
    // above 2047 ns the buckets are 2 ns wide: the bucket's upper end, within 3 significant digits
    for (const [got, exact] of [[r.p90, 2.799], [r.p99, 2.979], [r.p999, 2.997]] as const) {
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got).toBeLessThanOrEqual(exact * (1 + 1 / 1024));
    }
    expect(r.p9999).toBe(2.999); // the exact max
  });

  it('an empty window reports NaN percentiles (the soak marks such windows)', () => {
    const r = summarise(new LatencyHistogram('us'), 5, 0);
    expect(r.requests).toBe(0);
    expect(r.rps).toBe(0);
    for (const q of [r.p50, r.p90, r.p99, r.p999, r.p9999]) expect(q).toBeNaN();
  });
});
