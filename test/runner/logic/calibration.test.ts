import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/util/rng.ts';
import {
  brier,
  CalibrationError,
  defaultCalibrator,
  ece,
  fitIsotonic,
  fitPlatt,
  IsotonicCalibrator,
  loadCalibrator,
  logLoss,
  PlattCalibrator,
} from '../../../src/runner/logic/calibration.ts';
import { gateProbability } from '../../../src/runner/logic/expected-return.ts';

describe('Platt', () => {
  it('defaults to A = 2, B = 0: the gate’s own p = 1/(1 + e^(−2·score))', () => {
    const c = defaultCalibrator();
    expect(c.p(0.5)).toBeCloseTo(0.7310585786, 9);
    for (const s of [-1, -0.3, 0, 0.2, 0.76]) expect(c.p(s)).toBeCloseTo(gateProbability(s), 14);
    expect(new PlattCalibrator(1, -1).p(1)).toBe(0.5);
    expect(new PlattCalibrator(1000, 0).p(1)).toBe(1); // no overflow to NaN
    expect(new PlattCalibrator(1000, 0).p(-1)).toBe(0);
  });

  it('fits A, B close to the generating ones (seeded data)', () => {
    const rand = seededRandom(42);
    const s: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const x = rand() * 2 - 1;
      s.push(x);
      y.push(rand() < 1 / (1 + Math.exp(-(3 * x - 0.5))) ? 1 : 0);
    }
    const c = fitPlatt(s, y);
    expect(Math.abs(c.A - 3)).toBeLessThan(0.35);
    expect(Math.abs(c.B + 0.5)).toBeLessThan(0.15);
    // the fit is a stationary point of the penalised log-loss (central differences, computed here)
    const f = (A: number, B: number) => {
      let v = 0.005 * (A * A + B * B);
      for (let i = 0; i < s.length; i++) {
        const p = 1 / (1 + Math.exp(-(A * s[i] + B)));
        v -= y[i] * Math.log(p) + (1 - y[i]) * Math.log(1 - p);
      }
      return v;
    };
    const h = 1e-5;
    expect(Math.abs((f(c.A + h, c.B) - f(c.A - h, c.B)) / (2 * h))).toBeLessThan(1e-3);
    expect(Math.abs((f(c.A, c.B + h) - f(c.A, c.B - h)) / (2 * h))).toBeLessThan(1e-3);
  });

  it('stays finite on separable data thanks to the L2 penalty', () => {
    const c = fitPlatt([-1, -0.5, 0.5, 1], [0, 0, 1, 1]);
    expect(Number.isFinite(c.A) && Number.isFinite(c.B)).toBe(true);
    expect(c.A).toBeGreaterThan(5);
    expect(Math.abs(c.B)).toBeLessThan(1e-9); // symmetric data
    expect(c.p(1)).toBeGreaterThan(0.95);
  });

  it('rejects mismatched inputs', () => {
    expect(() => fitPlatt([0, 1], [1])).toThrow(CalibrationError);
  });
});

describe('isotonic', () => {
  it('interpolates linearly between knots and clips beyond the ends', () => {
    const c = new IsotonicCalibrator([-1, 0, 1], [0.2, 0.5, 0.9]);
    expect(c.p(-2)).toBe(0.2);
    expect(c.p(-0.5)).toBeCloseTo(0.35, 12);
    expect(c.p(0.5)).toBeCloseTo(0.7, 12);
    expect(c.p(1.5)).toBe(0.9);
    expect(new IsotonicCalibrator([0], [0.6]).p(5)).toBe(0.6);
    expect(new IsotonicCalibrator([0, 1], [0.5, 1.2]).p(1)).toBe(1); // output clipped to [0, 1]
  });

  it('fits by pooling adjacent violators, re-checking earlier blocks', () => {
    // 0.3, 0.4, 0.1: the last merges with 0.4 (0.25), which then violates 0.3 -> one block of 0.2667
    const c = fitIsotonic([0.1, 0.2, 0.3], [0.3, 0.4, 0.1]);
    expect(c.xs).toEqual([0.1, 0.3]);
    expect(c.ys[0]).toBeCloseTo(0.8 / 3, 12);
    expect(c.ys[1]).toBeCloseTo(0.8 / 3, 12);
    const d = fitIsotonic([0.1, 0.2, 0.3, 0.4], [1, 0, 1, 1]);
    expect(d.xs).toEqual([0.1, 0.2, 0.3, 0.4]); // equal means are not violations: 1, 1 stay two blocks
    expect(d.ys).toEqual([0.5, 0.5, 1, 1]);
  });

  it('weights, ties and clipping', () => {
    const w = fitIsotonic([0, 1], [1, 0], [3, 1]);
    expect(w.ys).toEqual([0.75, 0.75]);
    const t = fitIsotonic([0, 0, 1], [0, 1, 1]);
    expect(t.xs).toEqual([0, 1]);
    expect(t.ys).toEqual([0.5, 1]);
    const c = fitIsotonic([5, -7], [2, -1]); // scores to [-1, 1], labels to [0, 1]
    expect(c.xs).toEqual([-1, 1]);
    expect(c.ys).toEqual([0, 1]);
    expect(() => fitIsotonic([], [])).toThrow(CalibrationError);
    expect(() => fitIsotonic([0], [1], [0])).toThrow(CalibrationError); // no usable sample
  });

  /**
   * An independent characterisation of weighted isotonic regression (max–min formula): on the groups of
   * equal scores, fitted(i) = max over j ≤ i of min over k ≥ i of the weighted mean of groups j..k.
   */
  function minMaxIsotonic(x: number[], y: number[], w: number[]): Map<number, number> {
    const groups = new Map<number, { wy: number; w: number }>();
    x.forEach((v, i) => {
      const g = groups.get(v) ?? { wy: 0, w: 0 };
      g.wy += w[i] * y[i];
      g.w += w[i];
      groups.set(v, g);
    });
    const keys = [...groups.keys()].sort((a, b) => a - b);
    const gs = keys.map((k) => groups.get(k)!);
    const avg = (j: number, k: number) => {
      let a = 0;
      let b = 0;
      for (let t = j; t <= k; t++) {
        a += gs[t].wy;
        b += gs[t].w;
      }
      return a / b;
    };
    const out = new Map<number, number>();
    keys.forEach((key, i) => {
      let best = -Infinity;
      for (let j = 0; j <= i; j++) {
        let m = Infinity;
        for (let k = i; k < keys.length; k++) m = Math.min(m, avg(j, k));
        best = Math.max(best, m);
      }
      out.set(key, best);
    });
    return out;
  }

  it('is monotone and optimal on random seeded inputs (vs the max–min formula)', () => {
    const rand = seededRandom(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rand() * 60);
      const x: number[] = [];
      const y: number[] = [];
      const w: number[] = [];
      for (let i = 0; i < n; i++) {
        // few distinct scores so ties are common; scores partly outside [-1, 1]
        x.push(Math.round((rand() * 3 - 1.5) * 8) / 8);
        y.push(rand() < 0.2 ? rand() : rand() < 0.5 + 0.3 * x[i] ? 1 : 0);
        w.push(0.1 + rand() * 3);
      }
      const c = fitIsotonic(x, y, w);
      const problems: string[] = [];
      for (let k = 1; k < c.xs.length; k++) {
        if (!(c.xs[k] > c.xs[k - 1]) || !(c.ys[k] >= c.ys[k - 1])) problems.push(`knot ${k} out of order`);
      }
      let prev = -Infinity;
      for (let g = -1.5; g <= 1.5; g += 0.01) {
        const p = c.p(g);
        if (!(p >= prev)) problems.push(`p(${g}) < p(previous)`);
        prev = p;
      }
      const xc = x.map((v) => Math.min(1, Math.max(-1, v)));
      for (const [xv, yv] of minMaxIsotonic(xc, y, w)) if (Math.abs(c.p(xv) - yv) > 1e-9) problems.push(`p(${xv}) = ${c.p(xv)}, optimum ${yv}`);
      // an isotonic fit preserves the weighted mean of the labels
      let a = 0;
      let b = 0;
      for (let i = 0; i < n; i++) {
        a += w[i] * c.p(xc[i]);
        b += w[i] * y[i];
      }
      if (Math.abs(a - b) > 1e-9) problems.push(`weighted mean ${a} != ${b}`);
      expect(problems, `trial ${trial}`).toEqual([]);
    }
  });
});

describe('metrics', () => {
  const ps = [0.1, 0.1, 0.9, 0.9];
  const ys = [0, 1, 1, 1];
  it('ECE over 15 uniform bins', () => {
    // bin 1: mean p 0.1, mean y 0.5; bin 13: 0.9 vs 1.0 -> 0.5·0.4 + 0.5·0.1
    expect(ece(ps, ys)).toBeCloseTo(0.25, 12);
    expect(ece([1, 1], [1, 1])).toBe(0); // p = 1 lands in the last bin
    expect(ece([], [])).toBe(0);
  });
  it('Brier and log-loss', () => {
    expect(brier(ps, ys)).toBeCloseTo((0.01 + 0.81 + 0.01 + 0.01) / 4, 12);
    expect(logLoss(ps, ys)).toBeCloseTo(-(3 * Math.log(0.9) + Math.log(0.1)) / 4, 12);
    expect(Number.isFinite(logLoss([0, 1], [1, 0]))).toBe(true); // clipped, not Infinity
  });
});

describe('calibration file loader (TypeBox-validated)', () => {
  it('loads Platt and isotonic objects', () => {
    const p = loadCalibrator({ kind: 'platt', A: 2, B: 0 });
    expect(p.kind).toBe('platt');
    expect(p.p(0.5)).toBeCloseTo(gateProbability(0.5), 14);
    const i = loadCalibrator({ kind: 'isotonic', xs: [-1, 1], ys: [0.1, 0.9] });
    expect(i.kind).toBe('isotonic');
    expect(i.p(0)).toBeCloseTo(0.5, 12);
  });
  it.each([
    [{ kind: 'sigmoid', A: 1, B: 0 }, /invalid calibration/],
    [{ kind: 'platt', A: 1 }, /B/],
    [{ kind: 'platt', A: '1', B: 0 }, /invalid calibration/],
    [{ kind: 'platt', A: 1, B: 0, C: 3 }, /invalid calibration/],
    [{ kind: 'isotonic', xs: [0, 1], ys: [0.5] }, /1 ys/],
    [{ kind: 'isotonic', xs: [0, 0], ys: [0.2, 0.5] }, /strictly increasing/],
    [{ kind: 'isotonic', xs: [0, 1], ys: [0.6, 0.5] }, /non-decreasing/],
    [{ kind: 'isotonic', xs: [0, 1], ys: [0.5, 1.5] }, /invalid calibration/],
    [{ kind: 'isotonic', xs: [], ys: [] }, /invalid calibration/],
    [null, /invalid calibration/],
  ])('rejects %j', (obj, msg) => {
    expect(() => loadCalibrator(obj)).toThrow(msg);
  });
});
