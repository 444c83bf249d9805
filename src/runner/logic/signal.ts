import { SortedWindow } from '../../shm/state/sorted-window.ts';
import { clamp, sideSign, type Side } from './types.ts';

export const ALPHA_FEATURES = ['OBI', 'TFI', 'ABSORB', 'MICRO_BIAS', 'OFI', 'TREND_ALIGN'] as const;
export type AlphaFeature = (typeof ALPHA_FEATURES)[number];
export type AlphaInputs = Record<AlphaFeature, number | null>;

export interface SignalParams {
  /** `alpha.weights`: not renormalised (§1.4) */
  weights: Record<AlphaFeature, number>;
  /** `alpha.entry_threshold` */
  entry_threshold: number;
  /** `alpha.exit_threshold`: |score| below it is a soft exit signal */
  exit_threshold: number;
  /** `alpha.reconfirm_ticks`: the mean of this many latest scores must clear the entry threshold too */
  reconfirm_ticks: number;
  /** rolling buffer of the robust scaler (600) */
  scaler_window: number;
  /** samples during which the band is fixed at [−1, 1] (29) */
  scaler_warmup: number;
  /** `sprt.n`: side-aligned scores sent as `sprt_samples` */
  sprt_n: number;
}

export const DEFAULT_SIGNAL: SignalParams = {
  weights: { OBI: 0.3, TFI: 0.25, ABSORB: 0.15, MICRO_BIAS: 0.15, OFI: 0.1, TREND_ALIGN: 0.05 },
  entry_threshold: 0.35,
  exit_threshold: 0.05,
  reconfirm_ticks: 2,
  scaler_window: 600,
  scaler_warmup: 29,
  sprt_n: 10,
};

/**
 * Rolling robust scaler (§1.4): push x, then scaled = clip(2·(x − (p05+p95)/2)/(p95 − p05), −1, 1) over
 * the buffer including x (numpy-linear percentiles); 0 when p95 = p05; while the buffer holds at most
 * `warmup` samples the band is fixed at [−1, 1]. The window is the gate's SortedWindow (a FIFO that keeps
 * a sorted copy incrementally; the same percentileSorted), on plain typed arrays.
 */
export class RobustScaler {
  private readonly buf: SortedWindow;

  constructor(
    window: number = DEFAULT_SIGNAL.scaler_window,
    private readonly warmup: number = DEFAULT_SIGNAL.scaler_warmup,
  ) {
    this.buf = new SortedWindow(new Int32Array(4), new Float64Array(window), new Float64Array(window), null);
  }

  push(x0: number | null): number {
    // non-finite inputs enter as 0, so the window never holds a NaN
    const x = x0 === null || !Number.isFinite(x0) ? 0 : x0;
    this.buf.push(x);
    let lo = -1;
    let hi = 1;
    if (this.buf.count > this.warmup) {
      lo = this.buf.percentile(5);
      hi = this.buf.percentile(95);
    }
    if (hi === lo) return 0;
    return clamp((2 * (x - (lo + hi) / 2)) / (hi - lo), -1, 1);
  }

  get count(): number {
    return this.buf.count;
  }
}

export interface Score {
  score: number;
  scaled: Record<AlphaFeature, number>;
}

/** score = tanh(Σ w_k·scaled_k) with one robust scaler per feature (nulls enter as 0). */
export class AlphaScorer {
  private scalers = new Map<AlphaFeature, RobustScaler>();

  constructor(private readonly p: SignalParams = DEFAULT_SIGNAL) {
    for (const f of ALPHA_FEATURES) this.scalers.set(f, new RobustScaler(p.scaler_window, p.scaler_warmup));
  }

  score(x: AlphaInputs): Score {
    const scaled = {} as Record<AlphaFeature, number>;
    let sum = 0;
    for (const f of ALPHA_FEATURES) {
      const s = this.scalers.get(f)!.push(x[f]);
      scaled[f] = s;
      sum += (this.p.weights[f] ?? 0) * s;
    }
    return { score: Math.tanh(sum), scaled };
  }
}

/**
 * Entry direction with hysteresis (§1.4 Ours, §5.5): an intent needs |score| ≥ entry on this tick and
 * the mean of the last `reconfirm_ticks` scores (this one included) beyond the threshold on the same
 * side; the sign gives the side; anything else (the dead zone) is no intent. Also keeps the raw scores
 * for `sprt_samples`.
 */
export class ScoreHistory {
  private scores: number[] = [];

  constructor(private readonly p: SignalParams = DEFAULT_SIGNAL) {}

  push(score: number): void {
    this.scores.push(score);
    const keep = Math.max(this.p.reconfirm_ticks, this.p.sprt_n, 1);
    if (this.scores.length > keep) this.scores.splice(0, this.scores.length - keep);
  }

  /** The side the latest score asks for, or null. */
  intent(): Side | null {
    const n = Math.max(1, this.p.reconfirm_ticks);
    if (this.scores.length < n) return null;
    const s = this.scores[this.scores.length - 1];
    if (!(Math.abs(s) >= this.p.entry_threshold)) return null;
    let mean = 0;
    for (let i = this.scores.length - n; i < this.scores.length; i++) mean += this.scores[i];
    mean /= n;
    if (!(Math.abs(mean) >= this.p.entry_threshold) || Math.sign(mean) !== Math.sign(s)) return null;
    return s > 0 ? 'buy' : 'sell';
  }

  /** The last `n` raw scores, oldest first. */
  last(n: number = this.p.sprt_n): number[] {
    return this.scores.slice(Math.max(0, this.scores.length - n));
  }

  /** `sprt_samples`: the last `sprt_n` scores aligned to `side`. */
  sprtSamples(side: Side): number[] {
    return this.last(this.p.sprt_n).map((s) => sideAligned(side, s));
  }
}

/** score_sent = s_side·score (§1.5 Ours, §5.2): the gate then reads the probability of the trade working. */
export function sideAligned(side: Side, score: number): number {
  return sideSign(side) * score;
}

/** Soft exit signal: |score| below `alpha.exit_threshold`. */
export function isSoftExit(score: number, p: SignalParams = DEFAULT_SIGNAL): boolean {
  return Math.abs(score) < p.exit_threshold;
}
