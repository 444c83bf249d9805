import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, seededRandom } from '../../src/client/backoff.ts';

describe('backoff (full jitter)', () => {
  const p = { baseMs: 50, maxMs: 5000 };
  it('ceiling doubles from base and is capped', () => {
    expect([0, 1, 2, 3, 6, 7, 20, 5000].map((a) => backoffCeiling(a, p))).toEqual([50, 100, 200, 400, 3200, 5000, 5000, 5000]);
  });
  it('delay is random() * ceiling, within [0, ceiling]', () => {
    expect(backoffDelay(3, p, () => 0)).toBe(0);
    expect(backoffDelay(3, p, () => 0.5)).toBe(200);
    expect(backoffDelay(3, p, () => 0.999999)).toBe(399);
    expect(backoffDelay(10_000, p, () => 0.5)).toBe(2500);
    expect(backoffDelay(-4, p, () => 0.5)).toBe(25);
    expect(backoffDelay(2, p, () => Number.NaN)).toBe(0);
    const r = seededRandom(7);
    for (let a = 0; a < 200; a++) {
      const d = backoffDelay(a % 12, p, r);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(backoffCeiling(a % 12, p));
    }
  });
  it('seeded jitter is reproducible and in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
  });
});
