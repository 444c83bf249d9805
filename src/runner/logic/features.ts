import { clamp, sign0, type Level, type Trade } from './types.ts';

/**
 * Stateless feature formulas of runner.md §1.3 on a book view and a list of (already windowed,
 * de-duplicated) trades. The stateful ones (realised vol, ATR, OFI, trend, OBI persistence, TRAP
 * deltas) live in their own modules.
 */

export interface FeatureParams {
  /** `alpha.obi_levels`: L, levels per side summed by OBI (and used by TRAP) */
  obi_levels: number;
  /** `alpha.tfi_window` in ms: the TFI trade window */
  tfi_window_ms: number;
  /** absorption window (reference: 3 s) */
  absorb_window_ms: number;
  /** sweep window measured back from the newest trade (reference: 100 ms) */
  sweep_window_ms: number;
  /** levels walked for the effective spread (reference: 3) */
  eff_spread_levels: number;
  /** `execution.order_size`: base units the effective-spread walk fills on each side */
  order_size: number;
  /** consensus: long needs OBI ≥ obi and TFI ≥ tfi (short mirrored) */
  consensus_obi: number;
  consensus_tfi: number;
  /** local TRAP flag thresholds (Gen-1: |OBI| ≥ 0.2, |TFI| ≥ 0.1) */
  trap_flag_obi: number;
  trap_flag_tfi: number;
  /** levels averaged by liquidity-ahead */
  liquidity_levels: number;
}

export const DEFAULT_FEATURES: FeatureParams = {
  obi_levels: 5,
  tfi_window_ms: 5000,
  absorb_window_ms: 3000,
  sweep_window_ms: 100,
  eff_spread_levels: 3,
  order_size: 0.001,
  consensus_obi: 0.2,
  consensus_tfi: 0.1,
  trap_flag_obi: 0.2,
  trap_flag_tfi: 0.1,
  liquidity_levels: 5,
};

function sumSizes(levels: readonly Level[], n: number): number {
  let s = 0;
  for (let i = 0; i < levels.length && i < n; i++) s += Math.max(0, levels[i][1]);
  return s;
}

/** OBI = (ΣB − ΣA)/(ΣB + ΣA) over the first L levels; null on an empty side or zero depth. */
export function obi(bids: readonly Level[], asks: readonly Level[], levels: number = DEFAULT_FEATURES.obi_levels): number | null {
  if (bids.length === 0 || asks.length === 0) return null;
  const b = sumSizes(bids, levels);
  const a = sumSizes(asks, levels);
  const d = b + a;
  if (!(d > 0)) return null;
  return clamp((b - a) / d, -1, 1);
}

/**
 * TFI = (V_buy − V_sell)/(V_buy + V_sell) by aggressor; trades without an aggressor count on neither
 * side (§5.19). Null when no sided volume.
 */
export function tfi(trades: readonly Trade[]): number | null {
  let buy = 0;
  let sell = 0;
  for (const t of trades) {
    if (t.aggressor === 'buy') buy += t.qty;
    else if (t.aggressor === 'sell') sell += t.qty;
  }
  const d = buy + sell;
  if (!(d > 0)) return null;
  return clamp((buy - sell) / d, -1, 1);
}

/** Micro-price from L1: (P_bid·Q_ask + P_ask·Q_bid)/(Q_bid + Q_ask); the mid if both sizes are 0. */
export function microPrice(bids: readonly Level[], asks: readonly Level[]): number | null {
  if (bids.length === 0 || asks.length === 0) return null;
  const [pb, qb0] = bids[0];
  const [pa, qa0] = asks[0];
  const qb = Math.max(0, qb0);
  const qa = Math.max(0, qa0);
  if (qb + qa <= 0) return (pb + pa) / 2;
  return (pb * qa + pa * qb) / (qb + qa);
}

/** (micro − mid)/spread, with spread replaced by mid·1e-6 when it is 0; ≈ [−0.5, 0.5]. */
export function microBias(bids: readonly Level[], asks: readonly Level[]): number | null {
  const micro = microPrice(bids, asks);
  if (micro === null) return null;
  const pb = bids[0][0];
  const pa = asks[0][0];
  const mid = (pb + pa) / 2;
  const spread = pa - pb;
  const denom = spread !== 0 ? spread : mid * 1e-6;
  return denom !== 0 ? (micro - mid) / denom : 0;
}

/** spread / mid · 1e4 from L1; 0 when mid is 0, null on an empty side. */
export function spreadBpsRaw(bids: readonly Level[], asks: readonly Level[]): number | null {
  if (bids.length === 0 || asks.length === 0) return null;
  const pb = bids[0][0];
  const pa = asks[0][0];
  const mid = (pb + pa) / 2;
  return mid !== 0 ? ((pa - pb) / mid) * 1e4 : 0;
}

/** VWAP of filling up to `qty` from the first `maxLevels` levels; null when nothing fills. */
export function walkVwap(levels: readonly Level[], qty: number, maxLevels: number): { vwap: number; filled: number } | null {
  let left = qty;
  let cost = 0;
  let filled = 0;
  for (let i = 0; i < levels.length && i < maxLevels && left > 0; i++) {
    const take = Math.min(left, Math.max(0, levels[i][1]));
    cost += take * levels[i][0];
    filled += take;
    left -= take;
  }
  return filled > 0 ? { vwap: cost / filled, filled } : null;
}

/**
 * Effective spread: (VWAP buy − VWAP sell)/mid · 1e4, walking the top `levels` levels for
 * `orderSize` on each side (a partial walk uses what it filled); the raw spread when either walk
 * fills nothing. Null on an empty side.
 */
export function effectiveSpreadBps(
  bids: readonly Level[],
  asks: readonly Level[],
  orderSize: number = DEFAULT_FEATURES.order_size,
  levels: number = DEFAULT_FEATURES.eff_spread_levels,
): number | null {
  const raw = spreadBpsRaw(bids, asks);
  if (raw === null) return null;
  const mid = (bids[0][0] + asks[0][0]) / 2;
  if (!(orderSize > 0) || mid === 0) return raw;
  const buy = walkVwap(asks, orderSize, levels);
  const sell = walkVwap(bids, orderSize, levels);
  if (buy === null || sell === null) return raw;
  return ((buy.vwap - sell.vwap) / mid) * 1e4;
}

export interface Absorption {
  /** volume of aggressive sells (absorbed by bids) */
  bid: number;
  /** volume of aggressive buys (absorbed by asks) */
  ask: number;
  /** (bid − ask)/(bid + ask), 0 without sided volume */
  norm: number;
}

/** Absorption over the given (windowed) trades, as the reference defines it. */
export function absorption(trades: readonly Trade[]): Absorption {
  let bid = 0;
  let ask = 0;
  for (const t of trades) {
    if (t.aggressor === 'sell') bid += t.qty;
    else if (t.aggressor === 'buy') ask += t.qty;
  }
  const d = bid + ask;
  return { bid, ask, norm: d > 0 ? (bid - ask) / d : 0 };
}

/**
 * Sweep score: among trades within `windowMs` of the newest print, (p_max − p_min)/((p_max + p_min)/2),
 * a fraction (not bps). Times are exchange stamps when present: the burst is a property of the venue's
 * sequence, not of our receive jitter. 0 without trades.
 */
export function sweepScore(trades: readonly Trade[], windowMs: number = DEFAULT_FEATURES.sweep_window_ms): number {
  if (trades.length === 0) return 0;
  const ts = (t: Trade) => t.exchTs ?? t.recvTs;
  let newest = -Infinity;
  for (const t of trades) newest = Math.max(newest, ts(t));
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of trades) {
    if (ts(t) < newest - windowMs) continue;
    lo = Math.min(lo, t.price);
    hi = Math.max(hi, t.price);
  }
  const m = (hi + lo) / 2;
  return m > 0 ? (hi - lo) / m : 0;
}

/** Mean size of the first `n` levels (0 on an empty side). */
export function liquidityAhead(levels: readonly Level[], n: number = DEFAULT_FEATURES.liquidity_levels): number {
  const k = Math.min(n, levels.length);
  return k > 0 ? sumSizes(levels, k) / k : 0;
}

/** Consensus direction: long needs OBI ≥ t_obi ∧ TFI ≥ t_tfi, short the mirror; nulls never agree. */
export function consensus(o: number | null, t: number | null, p: FeatureParams = DEFAULT_FEATURES): 'long' | 'short' | null {
  if (o === null || t === null) return null;
  if (o >= p.consensus_obi && t >= p.consensus_tfi) return 'long';
  if (o <= -p.consensus_obi && t <= -p.consensus_tfi) return 'short';
  return null;
}

/**
 * Gen-1 local TRAP flag: at least two of {|OBI| ≥ 0.2, sign(OBI) ≠ sign(TFI), |TFI| ≥ 0.1}, nulls as 0.
 * Note the literal reference rule: a strong OBI with no sided trades (TFI null, sign 0) flags too.
 */
export function localTrapFlag(o: number | null, t: number | null, p: FeatureParams = DEFAULT_FEATURES): boolean {
  const ov = o ?? 0;
  const tv = t ?? 0;
  const hits = (Math.abs(ov) >= p.trap_flag_obi ? 1 : 0) + (sign0(ov) !== sign0(tv) ? 1 : 0) + (Math.abs(tv) >= p.trap_flag_tfi ? 1 : 0);
  return hits >= 2;
}

/**
 * latency_ms (§1.3 Ours) = t_send − t_exch, the exchange time mapped to the local clock with
 * `clockOffsetMs` (local − exchange); without an exchange time, t_send − t_recv. Floored at 0: a
 * negative value only means the offset estimate is off, and must not read as "faster than light"
 * to the gate's guard.
 */
export function latencyMs(a: { tSendMs: number; tExchMs: number | null; tRecvMs: number; clockOffsetMs: number }): number {
  const base = a.tExchMs !== null && Number.isFinite(a.tExchMs) ? a.tExchMs + a.clockOffsetMs : a.tRecvMs;
  return Math.max(0, a.tSendMs - base);
}

/**
 * Clock offset (local − exchange) from one time-sync round trip: local send t0, server time, local
 * receive t1, assuming the server stamped the midpoint.
 */
export function clockOffsetFromSync(t0LocalMs: number, serverMs: number, t1LocalMs: number): number {
  return (t0LocalMs + t1LocalMs) / 2 - serverMs;
}
