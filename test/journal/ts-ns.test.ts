import { describe, expect, it } from 'vitest';
import { tsNsText } from '../../src/journal/ts-ns.ts';

describe('tsNsText (journal ts_ns text of integer microseconds)', () => {
  it('equals `${us}000` across second boundaries, zero fractions and small values', () => {
    const base = 1_795_656_853_000_000;
    const cases = [0, 1, 999_999, 1_000_000, 1_000_001, base, base + 1, base + 999_999, base + 1_000_000, base + 10, base + 100_000, base - 1];
    let seed = 7;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      cases.push(base + (seed % 5_000_000));
    }
    for (const us of cases) expect(tsNsText(us), String(us)).toBe(`${us}000`);
  });
});
