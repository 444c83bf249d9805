import { describe, expect, it } from 'vitest';
import { percentileSorted } from '../../../src/shm/state/percentile.ts';
import { AlphaScorer, DEFAULT_SIGNAL, isSoftExit, RobustScaler, ScoreHistory, sideAligned, type AlphaInputs } from '../../../src/runner/logic/signal.ts';

const all = (x: number | null): AlphaInputs => ({ OBI: x, TFI: x, ABSORB: x, MICRO_BIAS: x, OFI: x, TREND_ALIGN: x });

describe('robust scaler', () => {
  it('fixes the band at [-1, 1] for the first 29 samples', () => {
    const s = new RobustScaler();
    expect(s.push(0.5)).toBe(0.5);
    expect(s.push(3)).toBe(1);
    expect(s.push(-2)).toBe(-1);
    expect(s.push(null)).toBe(0);
  });
  it('uses p05/p95 (linear interpolation) from the 30th sample on', () => {
    const s = new RobustScaler();
    for (let i = 1; i <= 29; i++) s.push(i);
    // buffer 1..29 plus 10, sorted: p05 = 2.45 (h = 1.45), p95 = 27.55 (h = 27.55); 2·(10 − 15)/25.1
    expect(s.push(10)).toBeCloseTo((2 * (10 - 15)) / 25.1, 12);
  });
  it('gives 0 when p95 = p05', () => {
    const s = new RobustScaler();
    for (let i = 0; i < 29; i++) expect(s.push(7)).toBe(1);
    expect(s.push(7)).toBe(0);
  });
  it('rolls: the oldest sample leaves the buffer', () => {
    const s = new RobustScaler(3, 0);
    s.push(1);
    s.push(2);
    s.push(3);
    s.push(0); // buffer 2, 3, 0
    // buffer 3, 0, 2.5 -> sorted 0, 2.5, 3: p05 = 0.25, p95 = 2.95; 2·(2.5 − 1.6)/2.7
    expect(s.push(2.5)).toBeCloseTo((2 * (2.5 - 1.6)) / 2.7, 12);
    expect(s.count).toBe(3);
  });
});

describe('alpha score', () => {
  it('tanh of the weighted scaled features (defaults sum to 1)', () => {
    expect(new AlphaScorer().score(all(0.5)).score).toBeCloseTo(Math.tanh(0.5), 12);
    const r = new AlphaScorer().score({ ...all(0.5), OBI: null });
    expect(r.score).toBeCloseTo(Math.tanh(0.5 * 0.7), 12); // OBI (.30) enters as 0
    expect(r.scaled.OBI).toBe(0);
    expect(new AlphaScorer().score(all(5)).score).toBeCloseTo(Math.tanh(1), 12); // the ceiling ≈ 0.762
  });
  it('takes weights from config, not renormalised', () => {
    const p = { ...DEFAULT_SIGNAL, weights: { OBI: 2, TFI: 0, ABSORB: 0, MICRO_BIAS: 0, OFI: 0, TREND_ALIGN: -1 } };
    expect(new AlphaScorer(p).score({ ...all(0), OBI: 0.5, TREND_ALIGN: 0.5 }).score).toBeCloseTo(Math.tanh(0.5), 12);
  });
});

describe('entry intent with hysteresis', () => {
  const run = (scores: number[], p = DEFAULT_SIGNAL) => {
    const h = new ScoreHistory(p);
    for (const s of scores) h.push(s);
    return h.intent();
  };
  it('needs |score| >= entry now and the mean of the last 2 beyond it on the same side', () => {
    expect(run([0.3, 0.5])).toBe('buy'); // mean 0.4
    expect(run([0.5, 0.3])).toBeNull(); // current below
    expect(run([0.1, 0.5])).toBeNull(); // mean 0.3
    expect(run([-0.5, -0.4])).toBe('sell');
    expect(run([-0.5, 0.5])).toBeNull(); // flip: mean 0
    expect(run([0.5])).toBeNull(); // not yet reconfirmed
  });
  it('the dead zone never yields an intent (no Gen-2 sells on mild bullishness)', () => {
    for (const s of [0.2, 0.34, 0, -0.1, -0.34]) expect(run([s, s])).toBeNull();
  });
  it('thresholds from params; the threshold itself counts', () => {
    expect(run([0.35], { ...DEFAULT_SIGNAL, reconfirm_ticks: 1 })).toBe('buy');
    expect(run([0.25, 0.25], { ...DEFAULT_SIGNAL, entry_threshold: 0.2 })).toBe('buy');
  });
  it('keeps the last sprt.n scores and aligns them to the side', () => {
    const h = new ScoreHistory();
    for (let i = 1; i <= 12; i++) h.push(i / 100);
    expect(h.last()).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((i) => i / 100));
    expect(h.sprtSamples('sell')).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((i) => -i / 100));
    expect(h.last(2)).toEqual([0.11, 0.12]);
  });
  it('side-aligned score and soft exit', () => {
    expect(sideAligned('buy', 0.4)).toBe(0.4);
    expect(sideAligned('sell', -0.4)).toBe(0.4);
    expect(isSoftExit(0.04)).toBe(true);
    expect(isSoftExit(-0.04)).toBe(true);
    expect(isSoftExit(0.05)).toBe(false);
  });
});

describe('RobustScaler on the shared SortedWindow', () => {
  /** The scaler as it was (a sorted JS array copied to a Float64Array per push): outputs must stay bit-identical. */
  class ArrayScaler {
    private fifo: number[] = [];
    private sorted: number[] = [];
    constructor(private readonly window: number, private readonly warmup: number) {}
    push(x0: number | null): number {
      const x = x0 === null || !Number.isFinite(x0) ? 0 : x0;
      this.fifo.push(x);
      this.sorted.splice(lowerBound(this.sorted, x), 0, x);
      if (this.fifo.length > this.window) this.sorted.splice(lowerBound(this.sorted, this.fifo.shift()!), 1);
      let lo = -1;
      let hi = 1;
      if (this.fifo.length > this.warmup) {
        const s = Float64Array.from(this.sorted);
        lo = percentileSorted(s, s.length, 5);
        hi = percentileSorted(s, s.length, 95);
      }
      if (hi === lo) return 0;
      return Math.min(1, Math.max(-1, (2 * (x - (lo + hi) / 2)) / (hi - lo)));
    }
  }
  function lowerBound(a: readonly number[], x: number): number {
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (a[m] < x) lo = m + 1;
      else hi = m;
    }
    return lo;
  }

  it('same outputs as the array scaler: random, repeated, non-finite and null inputs, small and default windows', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (const [window, warmup] of [[600, 29], [7, 2], [1, 0], [50, 60]]) {
      const a = new RobustScaler(window, warmup);
      const b = new ArrayScaler(window, warmup);
      for (let i = 0; i < 3000; i++) {
        const r = rnd();
        const x = r < 0.05 ? null : r < 0.08 ? NaN : r < 0.1 ? Infinity : r < 0.3 ? Math.round(rnd() * 4) / 2 : r < 0.32 ? -0 : (rnd() - 0.5) * 10 ** Math.floor(rnd() * 6 - 3);
        const ya = a.push(x);
        const yb = b.push(x);
        if (!(ya === yb || (Number.isNaN(ya) && Number.isNaN(yb)))) throw new Error(`window ${window} step ${i}: ${ya} != ${yb}`);
      }
      expect(a.count).toBe(Math.min(window, 3000));
    }
  });
});
