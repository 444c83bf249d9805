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

describe('LatencyHistogram percentiles against hand-computed nearest ranks', () => {
  // below 2048 ns HdrHistogram at 3 significant digits is exact: in µs, k/1000 is k ns, so these are exact
  const ns = (k: number) => k / 1000;

  it('nearest rank ⌈q/100·n⌉ of a small known sample (recorded out of order)', () => {
    const h = new LatencyHistogram('us');
    for (const k of [700, 100, 900, 300, 500, 200, 1000, 400, 800, 600]) h.record(ns(k));
    // sorted 100..1000: p50 = rank 5 = 500; p90 = rank 9 = 900; p99 = rank ⌈9.9⌉ = 10 = 1000; p10 = rank 1 = 100
    expect(h.percentile(50)).toBe(ns(500));
    expect(h.percentile(90)).toBe(ns(900));
    expect(h.percentile(99)).toBe(ns(1000));
    expect(h.percentile(10)).toBe(ns(100));
    expect(h.percentile(11)).toBe(ns(200)); // rank ⌈1.1⌉ = 2
    expect(h.summary()).toEqual({ count: 10, min: ns(100), max: ns(1000), mean: ns(550), p50: ns(500), p90: ns(900), p99: ns(1000) });
  });

  it('the rank is ⌈q·n/100⌉, not HdrHistogram_c\'s own ⌊q·n/100 + ½⌋', () => {
    const h = new LatencyHistogram('us');
    for (let k = 1; k <= 43; k++) h.record(ns(k));
    expect(h.percentile(10)).toBe(ns(5)); // 4.3 -> rank 5 (HdrHistogram_c alone: rank 4)
    expect(h.percentile(50)).toBe(ns(22)); // 21.5 -> 22
    expect(h.percentile(100)).toBe(ns(43));
    const k1000 = new LatencyHistogram('us');
    for (let k = 1; k <= 1000; k++) k1000.record(ns(k));
    expect(k1000.percentile(99.9)).toBe(ns(999)); // 99.9 % of 1000 is 999 exactly, not 999.0000000000001 -> 1000
    expect(k1000.percentile(50)).toBe(ns(500));
  });

  it('ties: every rank of a repeated value answers that value', () => {
    const h = new LatencyHistogram('us');
    for (const k of [3, 3, 3, 7]) h.record(ns(k));
    expect([25, 50, 75, 76, 100].map((q) => h.percentile(q))).toEqual([ns(3), ns(3), ns(3), ns(7), ns(7)]);
  });

  it('larger values: 3 significant digits, the bucket\'s upper end, never above the exact max', () => {
    const h = new LatencyHistogram(); // ms
    const xs = [1.5, 12.345, 123.456, 2500.25, 99_999.5];
    for (const x of xs) h.record(x);
    // 5 samples: p20 = rank 1, p40 = rank 2, p60 = rank 3, p80 = rank 4
    for (const [q, exact] of [[20, 1.5], [40, 12.345], [60, 123.456], [80, 2500.25]] as const) {
      const v = h.percentile(q);
      expect(v).toBeGreaterThanOrEqual(exact);
      expect(v).toBeLessThanOrEqual(exact * (1 + 1 / 1024));
    }
    expect(h.percentile(100)).toBe(99_999.5);
    expect(h.percentile(99)).toBe(99_999.5);
  });

  it('a sub-nanosecond or zero sample counts as 1 ns and reports its exact value', () => {
    const h = new LatencyHistogram('us');
    h.record(0);
    expect(h.summary()).toMatchObject({ count: 1, min: 0, max: 0, p50: 0, p99: 0 });
  });
});
