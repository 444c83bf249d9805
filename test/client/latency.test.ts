import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/client/latency.ts';

describe('LatencyHistogram', () => {
  it('is all zeros when empty', () => {
    expect(new LatencyHistogram().summary()).toEqual({ count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0 });
  });
  it('percentiles are within one bucket (~26 %) of the nearest-rank value; min/max/mean exact', () => {
    const h = new LatencyHistogram();
    const xs = Array.from({ length: 1000 }, (_, i) => (i + 1) * 0.1); // 0.1 .. 100 ms
    for (const x of [...xs].reverse()) h.record(x);
    const s = h.summary();
    expect(s.count).toBe(1000);
    expect(s.min).toBeCloseTo(0.1, 9);
    expect(s.max).toBeCloseTo(100, 9);
    expect(s.mean).toBeCloseTo(50.05, 6);
    for (const [q, exact] of [[50, 50], [90, 90], [99, 99]] as const) {
      const v = h.percentile(q);
      expect(v).toBeGreaterThanOrEqual(exact);
      expect(v).toBeLessThanOrEqual(exact * 1.26);
    }
  });
  it('clamps to the exact max and ignores invalid samples', () => {
    const h = new LatencyHistogram();
    h.record(3);
    h.record(-1);
    h.record(Number.NaN);
    h.record(Infinity);
    expect(h.summary()).toMatchObject({ count: 1, min: 3, max: 3, p50: 3, p99: 3 });
    h.record(1e9); // beyond the last bucket
    expect(h.percentile(100)).toBe(1e9);
    h.reset();
    expect(h.count).toBe(0);
  });
});
