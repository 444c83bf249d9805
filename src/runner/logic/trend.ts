import { sign0 } from './types.ts';

export type Regime = 'trend_pos' | 'trend_neg' | 'normal';

export interface TrendParams {
  /** fast EMA smoothing, 2/(15+1) */
  alpha_fast: number;
  /** slow EMA smoothing, 2/(60+1) */
  alpha_slow: number;
  /** OBI persistence: samples kept and the ±threshold counted */
  obi_persist_n: number;
  obi_persist_threshold: number;
}

export const DEFAULT_TREND: TrendParams = { alpha_fast: 2 / 16, alpha_slow: 2 / 61, obi_persist_n: 5, obi_persist_threshold: 0.2 };

/**
 * Trend alignment (§1.3): one-tick returns r = (mid − mid_prev)/mid_prev feed two EMAs (the first
 * return seeds both); trend_align = (sign(fast) + sign(slow))/2 ∈ {−1, −½, 0, ½, 1}.
 */
export class TrendTracker {
  private prevMid: number | null = null;
  private fast: number | null = null;
  private slow: number | null = null;

  constructor(private readonly p: TrendParams = DEFAULT_TREND) {}

  /** Feeds one decision tick's mid. */
  update(mid: number): void {
    if (!(mid > 0) || !Number.isFinite(mid)) return;
    if (this.prevMid !== null) {
      const r = (mid - this.prevMid) / this.prevMid;
      this.fast = this.fast === null ? r : this.fast + this.p.alpha_fast * (r - this.fast);
      this.slow = this.slow === null ? r : this.slow + this.p.alpha_slow * (r - this.slow);
    }
    this.prevMid = mid;
  }

  get emaFast(): number | null {
    return this.fast;
  }

  get emaSlow(): number | null {
    return this.slow;
  }

  align(): number {
    return (sign0(this.fast) + sign0(this.slow)) / 2;
  }

  regime(): Regime {
    return regimeOf(this.align());
  }
}

export function regimeOf(trendAlign: number): Regime {
  return trendAlign > 0 ? 'trend_pos' : trendAlign < 0 ? 'trend_neg' : 'normal';
}

/** Share of the last n OBI samples ≥ +threshold (`pos`) and ≤ −threshold (`neg`); a null OBI counts as 0. */
export class ObiPersistence {
  private samples: number[] = [];

  constructor(private readonly p: TrendParams = DEFAULT_TREND) {}

  push(obi: number | null): void {
    this.samples.push(obi ?? 0);
    if (this.samples.length > this.p.obi_persist_n) this.samples.shift();
  }

  shares(): { pos: number; neg: number } {
    const n = this.samples.length;
    if (n === 0) return { pos: 0, neg: 0 };
    const t = this.p.obi_persist_threshold;
    let pos = 0;
    let neg = 0;
    for (const x of this.samples) {
      if (x >= t) pos++;
      if (x <= -t) neg++;
    }
    return { pos: pos / n, neg: neg / n };
  }
}
