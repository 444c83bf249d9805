import Type, { type Static } from 'typebox';
import { compileValidator } from '../../schema/validate.ts';
import { clamp } from './types.ts';

/** score → probability that the (side-aligned) trade works. */
export interface Calibrator {
  readonly kind: 'platt' | 'isotonic';
  p(score: number): number;
}

export interface CalibrationParams {
  /** default Platt parameters: A = 2, B = 0 is the gate's own p = 1/(1 + e^(−2·score)) (§1.5, §5.17) */
  A: number;
  B: number;
  /** Platt fit: L2 penalty (l2/2)·(A² + B²) added to the summed log-loss, Newton iterations cap */
  l2: number;
  max_iter: number;
  /** ECE bins */
  ece_bins: number;
}

export const DEFAULT_CALIBRATION: CalibrationParams = { A: 2, B: 0, l2: 0.01, max_iter: 100, ece_bins: 15 };

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
/** ln(1 + e^z) without overflow */
const softplus = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));

export class PlattCalibrator implements Calibrator {
  readonly kind = 'platt' as const;
  constructor(
    readonly A: number = DEFAULT_CALIBRATION.A,
    readonly B: number = DEFAULT_CALIBRATION.B,
  ) {}
  p(score: number): number {
    return sigmoid(this.A * score + this.B);
  }
}

/** Piecewise-linear through knots; constant beyond the ends; output clipped to [0, 1]. */
export class IsotonicCalibrator implements Calibrator {
  readonly kind = 'isotonic' as const;
  constructor(
    readonly xs: readonly number[],
    readonly ys: readonly number[],
  ) {
    if (xs.length === 0 || xs.length !== ys.length) throw new CalibrationError('isotonic knots need equal, non-zero numbers of xs and ys');
  }
  p(score: number): number {
    const { xs, ys } = this;
    const n = xs.length;
    const x = Number.isFinite(score) ? score : 0;
    if (x <= xs[0]) return clamp(ys[0], 0, 1);
    if (x >= xs[n - 1]) return clamp(ys[n - 1], 0, 1);
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const m = (lo + hi) >>> 1;
      if (xs[m] <= x) lo = m;
      else hi = m;
    }
    const t = (x - xs[lo]) / (xs[hi] - xs[lo]);
    return clamp(ys[lo] + t * (ys[hi] - ys[lo]), 0, 1);
  }
}

export class CalibrationError extends Error {
  override name = 'CalibrationError';
}

/**
 * Weighted isotonic (non-decreasing) fit by a stack-based pool-adjacent-violators pass (§5.32): after
 * each push the top blocks are merged for as long as they violate order, so earlier blocks are always
 * re-checked. Scores are clipped to [−1, 1], labels to [0, 1]; equal scores are pooled first. Each
 * block becomes one knot (two when it spans a range of scores).
 */
export function fitIsotonic(scores: readonly number[], labels: readonly number[], weights?: readonly number[]): IsotonicCalibrator {
  if (scores.length !== labels.length || (weights !== undefined && weights.length !== scores.length)) {
    throw new CalibrationError('scores, labels and weights must have the same length');
  }
  const pts: Array<{ x: number; y: number; w: number }> = [];
  for (let i = 0; i < scores.length; i++) {
    const w = weights === undefined ? 1 : weights[i];
    if (!(w > 0) || !Number.isFinite(w) || !Number.isFinite(scores[i]) || !Number.isFinite(labels[i])) continue;
    pts.push({ x: clamp(scores[i], -1, 1), y: clamp(labels[i], 0, 1), w });
  }
  if (pts.length === 0) throw new CalibrationError('isotonic fit needs at least one usable sample');
  pts.sort((a, b) => a.x - b.x);

  const blocks: Array<{ wy: number; w: number; x0: number; x1: number }> = [];
  const mean = (b: { wy: number; w: number }) => b.wy / b.w;
  for (let i = 0; i < pts.length; ) {
    const x = pts[i].x;
    let wy = 0;
    let w = 0;
    for (; i < pts.length && pts[i].x === x; i++) {
      wy += pts[i].w * pts[i].y;
      w += pts[i].w;
    }
    blocks.push({ wy, w, x0: x, x1: x });
    while (blocks.length >= 2 && mean(blocks[blocks.length - 2]) > mean(blocks[blocks.length - 1])) {
      const top = blocks.pop()!;
      const under = blocks[blocks.length - 1];
      under.wy += top.wy;
      under.w += top.w;
      under.x1 = top.x1;
    }
  }
  const xs: number[] = [];
  const ys: number[] = [];
  for (const b of blocks) {
    const y = mean(b);
    xs.push(b.x0);
    ys.push(y);
    if (b.x1 !== b.x0) {
      xs.push(b.x1);
      ys.push(y);
    }
  }
  return new IsotonicCalibrator(xs, ys);
}

/**
 * Platt fit p = σ(A·s + B): Newton steps on the summed log-loss plus (l2/2)·(A² + B²), at most
 * `max_iter` iterations, each step halved until the objective decreases enough (Armijo).
 */
export function fitPlatt(scores: readonly number[], labels: readonly number[], p: CalibrationParams = DEFAULT_CALIBRATION): PlattCalibrator {
  if (scores.length !== labels.length) throw new CalibrationError('scores and labels must have the same length');
  const s: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i]) || !Number.isFinite(labels[i])) continue;
    s.push(scores[i]);
    y.push(clamp(labels[i], 0, 1));
  }
  const l2 = p.l2;
  const objective = (A: number, B: number) => {
    let f = 0.5 * l2 * (A * A + B * B);
    // −[y ln σ(z) + (1−y) ln(1−σ(z))] = softplus(z) − y·z
    for (let i = 0; i < s.length; i++) {
      const z = A * s[i] + B;
      f += softplus(z) - y[i] * z;
    }
    return f;
  };
  let A = 0;
  let B = 0;
  let f = objective(A, B);
  for (let it = 0; it < p.max_iter; it++) {
    let gA = l2 * A;
    let gB = l2 * B;
    let hAA = l2;
    let hAB = 0;
    let hBB = l2;
    for (let i = 0; i < s.length; i++) {
      const q = sigmoid(A * s[i] + B);
      const r = q - y[i];
      const v = q * (1 - q);
      gA += r * s[i];
      gB += r;
      hAA += v * s[i] * s[i];
      hAB += v * s[i];
      hBB += v;
    }
    if (Math.max(Math.abs(gA), Math.abs(gB)) < 1e-10) break;
    const det = hAA * hBB - hAB * hAB;
    if (!(det > 0)) break;
    const dA = -(hBB * gA - hAB * gB) / det;
    const dB = -(-hAB * gA + hAA * gB) / det;
    const slope = gA * dA + gB * dB;
    let t = 1;
    let next = objective(A + dA, B + dB);
    for (let k = 0; k < 40 && !(next <= f + 1e-4 * t * slope); k++) {
      t /= 2;
      next = objective(A + t * dA, B + t * dB);
    }
    if (!(next <= f)) break;
    A += t * dA;
    B += t * dB;
    const done = Math.abs(f - next) < 1e-14 * Math.max(1, Math.abs(f));
    f = next;
    if (done) break;
  }
  return new PlattCalibrator(A, B);
}

/** Expected calibration error over `bins` uniform bins of p (p = 1 falls in the last bin). */
export function ece(ps: readonly number[], ys: readonly number[], bins: number = DEFAULT_CALIBRATION.ece_bins): number {
  const n = Math.min(ps.length, ys.length);
  if (n === 0) return 0;
  const cnt = new Array<number>(bins).fill(0);
  const sp = new Array<number>(bins).fill(0);
  const sy = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(ps[i] * bins)));
    cnt[b]++;
    sp[b] += ps[i];
    sy[b] += ys[i];
  }
  let e = 0;
  for (let b = 0; b < bins; b++) if (cnt[b] > 0) e += (cnt[b] / n) * Math.abs(sy[b] / cnt[b] - sp[b] / cnt[b]);
  return e;
}

export function brier(ps: readonly number[], ys: readonly number[]): number {
  const n = Math.min(ps.length, ys.length);
  let s = 0;
  for (let i = 0; i < n; i++) s += (ps[i] - ys[i]) ** 2;
  return n > 0 ? s / n : 0;
}

/** Mean log-loss with p clipped to [1e-15, 1 − 1e-15]. */
export function logLoss(ps: readonly number[], ys: readonly number[]): number {
  const n = Math.min(ps.length, ys.length);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const q = clamp(ps[i], 1e-15, 1 - 1e-15);
    s -= ys[i] * Math.log(q) + (1 - ys[i]) * Math.log(1 - q);
  }
  return n > 0 ? s / n : 0;
}

/** The calibration file (`calibration.kind: platt|isotonic`, §1.5 Ours). */
export const CalibrationFile = Type.Union([
  Type.Object({ kind: Type.Literal('platt'), A: Type.Number(), B: Type.Number() }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('isotonic'),
      xs: Type.Array(Type.Number(), { minItems: 1, maxItems: 100_000 }),
      ys: Type.Array(Type.Number({ minimum: 0, maximum: 1 }), { minItems: 1, maxItems: 100_000 }),
    },
    { additionalProperties: false },
  ),
]);
export type CalibrationFile = Static<typeof CalibrationFile>;

const calibrationValidator = compileValidator<CalibrationFile>(CalibrationFile);

/** Builds a calibrator from a parsed JSON object; throws CalibrationError naming what is wrong. */
export function loadCalibrator(obj: unknown): Calibrator {
  if (!calibrationValidator.check(obj)) {
    const errs = calibrationValidator.errors(obj).map((e) => `${e.path} ${e.message}`);
    throw new CalibrationError(`invalid calibration: ${errs.join('; ')}`);
  }
  if (obj.kind === 'platt') return new PlattCalibrator(obj.A, obj.B);
  const { xs, ys } = obj;
  if (xs.length !== ys.length) throw new CalibrationError(`invalid calibration: ${xs.length} xs but ${ys.length} ys`);
  for (let i = 1; i < xs.length; i++) {
    if (!(xs[i] > xs[i - 1])) throw new CalibrationError(`invalid calibration: xs must be strictly increasing (xs[${i}])`);
    if (ys[i] < ys[i - 1]) throw new CalibrationError(`invalid calibration: ys must be non-decreasing (ys[${i}])`);
  }
  return new IsotonicCalibrator(xs, ys);
}

/** The gate-identical default (Platt A = 2, B = 0). */
export function defaultCalibrator(p: CalibrationParams = DEFAULT_CALIBRATION): Calibrator {
  return new PlattCalibrator(p.A, p.B);
}
