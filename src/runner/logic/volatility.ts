export interface VolParams {
  /** realised-vol window (§1.3 Ours: 60 s) */
  vol_window_ms: number;
  /** return sampling interval (1 s) */
  sample_ms: number;
  /** pushes kept for the reference price-dispersion diagnostic (60) */
  dispersion_samples: number;
}

export const DEFAULT_VOL: VolParams = { vol_window_ms: 60_000, sample_ms: 1000, dispersion_samples: 60 };

/**
 * Realised volatility (§1.3 Ours, §5.18): vol_1m_bps = 1e4·sqrt(Σ r_k²) over 1 s log returns of mid in
 * the last 60 s. The mid of second k is the last one observed in or before that second (carried
 * forward through quiet seconds, whose returns are 0), so only seconds with updates are stored.
 */
export class RealizedVol {
  /** last mid per sampling bucket, ascending bucket */
  private buckets: Array<{ k: number; mid: number }> = [];
  private recent: number[] = [];

  constructor(private readonly p: VolParams = DEFAULT_VOL) {}

  push(mid: number, tMs: number): void {
    if (!(mid > 0) || !Number.isFinite(mid)) return;
    this.recent.push(mid);
    if (this.recent.length > this.p.dispersion_samples) this.recent.shift();
    const k = Math.floor(tMs / this.p.sample_ms);
    const last = this.buckets[this.buckets.length - 1];
    if (last !== undefined && k < last.k) return; // late sample: the bucket it belongs to is closed
    if (last !== undefined && last.k === k) last.mid = mid;
    else this.buckets.push({ k, mid });
    const keepFrom = k - Math.ceil(this.p.vol_window_ms / this.p.sample_ms) - 1;
    let drop = 0;
    // keep one bucket at or before the window start: it is the base of the first return
    while (drop + 1 < this.buckets.length && this.buckets[drop + 1].k <= keepFrom) drop++;
    if (drop > 0) this.buckets.splice(0, drop);
  }

  /** vol_1m_bps at `nowMs`; 0 with fewer than two sampled seconds. */
  volBps(nowMs: number): number {
    const kn = Math.floor(nowMs / this.p.sample_ms);
    const k0 = kn - Math.round(this.p.vol_window_ms / this.p.sample_ms);
    let prev: number | null = null;
    let sum = 0;
    for (const b of this.buckets) {
      if (b.k > kn) break;
      if (b.k <= k0) {
        prev = b.mid; // the as-of value at the window start
        continue;
      }
      if (prev !== null) {
        const r = Math.log(b.mid / prev);
        sum += r * r;
      }
      prev = b.mid;
    }
    return 1e4 * Math.sqrt(sum);
  }

  /** The reference's measure, kept as a diagnostic only: price dispersion of the last pushes. */
  dispersionBps(): number {
    return priceDispersionBps(this.recent);
  }
}

/** Population standard deviation of `mids` divided by the latest, ×1e4; 0 with fewer than 2. */
export function priceDispersionBps(mids: readonly number[]): number {
  const n = mids.length;
  if (n < 2) return 0;
  let mean = 0;
  for (const m of mids) mean += m;
  mean /= n;
  let v = 0;
  for (const m of mids) v += (m - mean) ** 2;
  const last = mids[n - 1];
  return last > 0 ? (Math.sqrt(v / n) / last) * 1e4 : 0;
}
