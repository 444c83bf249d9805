import { expectedReturnBps as coreExpectedReturnBps } from '../../core/expected-return.ts';
import { DEFAULT_EXITS } from './exits.ts';
import { clamp } from './types.ts';

export type Route = 'maker' | 'taker';

export interface ErParams {
  /** `exits.tp_atr_mult`: b = tp·ATR (the take-profit distance actually used, §5.3) */
  tp_atr_mult: number;
  /** `exits.sl_atr_mult`: a = sl·ATR */
  sl_atr_mult: number;
  /** a and b are clamped to [min_bps, max_bps] as in the reference (2, 150) */
  min_bps: number;
  max_bps: number;
  /** `execution.slip_fraction`: maker entries expect this share of the spread as slippage (reference 0.5 off testnet) */
  slip_fraction: number;
  /** `fees.maker_bps`, `fees.taker_bps`: fallbacks when the venue's market info gives none */
  maker_bps: number;
  taker_bps: number;
  /** the gate's own thresholds, for a local pre-check only: `risk.pi_min_bps`, `slippage.eta_fraction_of_b` */
  pi_min_bps: number;
  slip_eta: number;
}

/** a and b must describe the exits actually used (§5.3): configure both from the same `exits.*` keys. */
export const DEFAULT_ER: ErParams = {
  tp_atr_mult: DEFAULT_EXITS.tp_atr_mult,
  sl_atr_mult: DEFAULT_EXITS.sl_atr_mult,
  min_bps: 2,
  max_bps: 150,
  slip_fraction: 0.5,
  maker_bps: 0.2,
  taker_bps: 0.5,
  pi_min_bps: 2.0,
  slip_eta: 0.3,
};

export interface ErInputs {
  a_bps: number;
  b_bps: number;
  fees_bps: number;
  slip_bps_est: number;
}

/**
 * The expected-return block of the request (§1.6 Ours): b = tp·ATR and a = sl·ATR in bps (each clamped),
 * fees = entry fee of the route + taker exit fee, slippage = half the effective spread for a taker entry
 * or slip_fraction·spread for a maker one. `spreadBps` is the spread the request sends (the effective
 * one). Null when ATR is unknown: opens need it (§2.5).
 */
export function erInputs(
  a: { atrBps: number | null; route: Route; spreadBps: number; makerBps?: number; takerBps?: number },
  p: ErParams = DEFAULT_ER,
): ErInputs | null {
  if (a.atrBps === null || !Number.isFinite(a.atrBps) || !(a.atrBps > 0)) return null;
  const maker = a.makerBps ?? p.maker_bps;
  const taker = a.takerBps ?? p.taker_bps;
  const spread = Math.max(0, a.spreadBps);
  return {
    b_bps: clamp(p.tp_atr_mult * a.atrBps, p.min_bps, p.max_bps),
    a_bps: clamp(p.sl_atr_mult * a.atrBps, p.min_bps, p.max_bps),
    fees_bps: (a.route === 'maker' ? maker : taker) + taker,
    slip_bps_est: a.route === 'taker' ? spread / 2 : clamp(p.slip_fraction, 0, 1) * spread,
  };
}

/** The gate's probability for a (side-aligned) score: 1/(1 + e^(−2·score)). */
export function gateProbability(score: number): number {
  return 1 / (1 + Math.exp(-2 * score));
}

/** E[π] = p·b − (1−p)·a − (fees + slip), in bps: the gate's own formula (src/core/expected-return.ts). */
export function expectedReturnBps(pWin: number, er: ErInputs): number {
  return coreExpectedReturnBps(pWin, er.b_bps, er.a_bps, er.fees_bps, er.slip_bps_est);
}

/** Local mirror of the gate's ER and slippage checks, to skip intents the gate would deny anyway. */
export function erPrecheck(pWin: number, er: ErInputs, p: ErParams = DEFAULT_ER): { eBps: number; erOk: boolean; slipOk: boolean } {
  const eBps = expectedReturnBps(pWin, er);
  return { eBps, erOk: eBps > p.pi_min_bps, slipOk: er.b_bps <= 0 || er.slip_bps_est <= p.slip_eta * er.b_bps };
}
