import { describe, expect, it } from 'vitest';
import { percentileSorted } from '../../src/shm/state/percentile.ts';
import { SortedWindow } from '../../src/shm/state/sorted-window.ts';
import { seededRandom } from '../../src/util/rng.ts';

/** Reference: numpy-linear percentile over a plain array. */
function naive(values: number[], q: number): number {
  if (values.some((v) => Number.isNaN(v))) return NaN;
  const s = Float64Array.from(values).sort();
  return percentileSorted(s, s.length, q);
}

function makeWindow(cap: number, timed: boolean) {
  return new SortedWindow(new Int32Array(4), new Float64Array(cap), new Float64Array(cap), timed ? new Float64Array(cap) : null);
}

describe('SortedWindow', () => {
  it('matches a naive sliding window through pushes, evictions, ties and bulk expiry', () => {
    const rand = seededRandom(7); // the project's PRNG (src/util/rng.ts)
    const cap = 64;
    const w = makeWindow(cap, true);
    const fifo: Array<[number, number]> = [];
    let t = 0;
    for (let step = 0; step < 20_000; step++) {
      t += rand() < 0.02 ? 30 : rand();
      // few distinct values so ties and equal old/new replacements happen often
      const v = rand() < 0.3 ? Math.floor(rand() * 5) : rand() * 100 - 20;
      w.push(v, t);
      fifo.push([t, v]);
      if (fifo.length > cap) fifo.shift();
      const cutoff = t - 10;
      w.dropOlderThan(cutoff);
      while (fifo.length > 0 && fifo[0][0] < cutoff) fifo.shift();
      expect(w.count).toBe(fifo.length);
      for (const q of [10, 50, 90, 95]) expect(w.percentile(q)).toBe(naive(fifo.map((x) => x[1]), q));
    }
  });

  it('keeps a sample exactly at the cutoff', () => {
    const w = makeWindow(8, true);
    w.push(1, 100);
    w.push(2, 160);
    w.dropOlderThan(100);
    expect(w.count).toBe(2);
    w.dropOlderThan(100.000001);
    expect(w.count).toBe(1);
    expect(w.percentile(95)).toBe(2);
  });

  it('reports NaN while a NaN is in the window, and recovers when it leaves', () => {
    const w = makeWindow(3, false);
    w.push(1);
    w.push(NaN);
    w.push(3);
    expect(w.percentile(50)).toBeNaN();
    w.push(4); // evicts 1
    w.push(5); // evicts NaN
    expect(w.percentile(50)).toBe(4);
  });

  it('gives 0 for an empty window (TRAP convention)', () => {
    expect(makeWindow(4, false).percentile(90)).toBe(0);
  });
});
