import { clamp } from './types.ts';

export interface SizingParams {
  /** `sizing.kelly_multiplier`: fraction of full Kelly staked (0.25) */
  kelly_multiplier: number;
  /** cap on the staked fraction of equity, after the multiplier (1 = no leverage from sizing) */
  max_fraction: number;
  /** `execution.max_symbol_exposure_usdt`: open notional per symbol incl. this order (1000) */
  max_symbol_exposure_usdt: number;
  /** `sizing.limits.max_notional_usd`: per-order notional cap (5000) */
  max_order_notional_usdt: number;
}

export const DEFAULT_SIZING: SizingParams = {
  kelly_multiplier: 0.25,
  max_fraction: 1,
  max_symbol_exposure_usdt: 1000,
  max_order_notional_usdt: 5000,
};

/** Local skip reasons of the sizing step (journaled with origin `local`). */
export type SizingSkip =
  | 'sizing_bad_input'
  | 'sizing_no_edge'
  | 'sizing_no_equity'
  | 'sizing_exposure_full'
  | 'sizing_below_min_qty'
  | 'sizing_below_min_notional';

/** The local skip when the gate's max_qty / risk_scale shrink an order below the venue minimums (§2.1). */
export const SIZED_OUT_BY_GATE = 'SIZED_OUT_BY_GATE';

export interface VenueLimits {
  lotStep: number;
  minQty: number;
  minNotional: number;
}

export interface SizingResult {
  /** lot-quantised base quantity; 0 when skipped */
  qty: number;
  notional: number;
  /** full Kelly fraction (may be ≤ 0) */
  kelly: number;
  /** staked fraction of equity after multiplier and cap */
  fraction: number;
  cappedBy: 'none' | 'exposure' | 'order_notional';
  reason: SizingSkip | null;
}

/** Full Kelly for a win probability and reward/risk ratio rr = b/a: (rr·p − (1 − p))/rr. */
export function kellyFraction(pWin: number, rr: number): number {
  if (!(rr > 0) || !Number.isFinite(pWin)) return 0;
  return (rr * pWin - (1 - pWin)) / rr;
}

/** Decimal places of a step such as 0.001 or 1e-5 (for exact rounding of multiples). */
function decimalsOf(step: number): number {
  const s = step.toString();
  const e = s.indexOf('e-');
  if (e >= 0) {
    const mantissa = s.slice(0, e);
    const dot = mantissa.indexOf('.');
    return Number(s.slice(e + 2)) + (dot >= 0 ? mantissa.length - dot - 1 : 0);
  }
  const dot = s.indexOf('.');
  return dot >= 0 ? s.length - dot - 1 : 0;
}

/**
 * The largest multiple of `step` not above `qty` (never rounds up). A relative tolerance of 1e-9 steps
 * absorbs binary noise (0.003/0.001 = 2.9999999999999996 is 3 steps). A step ≤ 0 leaves qty as is.
 */
export function quantiseDown(qty: number, step: number): number {
  if (!(qty > 0) || !Number.isFinite(qty)) return 0;
  if (!(step > 0)) return qty;
  const n = Math.floor(qty / step + 1e-9);
  return Number((n * step).toFixed(Math.min(20, decimalsOf(step))));
}

function minimumsProblem(qty: number, price: number, v: VenueLimits): 'sizing_below_min_qty' | 'sizing_below_min_notional' | null {
  if (!(qty > 0) || qty < v.minQty) return 'sizing_below_min_qty';
  if (qty * price < v.minNotional) return 'sizing_below_min_notional';
  return null;
}

/**
 * Order size (§1.7 Ours): Kelly on the calibrated p_win and rr = b/a, × multiplier, × equity, capped by
 * the symbol's remaining exposure and the per-order notional, quantised down to the lot step, then
 * checked against the venue's min qty and min notional.
 */
export function sizeOrder(
  a: { pWin: number; rr: number; equity: number; price: number; symbolExposureUsdt: number; venue: VenueLimits },
  p: SizingParams = DEFAULT_SIZING,
): SizingResult {
  const skip = (reason: SizingSkip, kelly = 0, fraction = 0): SizingResult => ({ qty: 0, notional: 0, kelly, fraction, cappedBy: 'none', reason });
  if (!(a.price > 0) || !Number.isFinite(a.price) || !Number.isFinite(a.pWin) || !Number.isFinite(a.rr)) return skip('sizing_bad_input');
  if (!(a.equity > 0) || !Number.isFinite(a.equity)) return skip('sizing_no_equity');
  const kelly = kellyFraction(a.pWin, a.rr);
  if (!(kelly > 0)) return skip('sizing_no_edge', kelly);
  const fraction = clamp(kelly * p.kelly_multiplier, 0, p.max_fraction);
  let notional = fraction * a.equity;
  let cappedBy: SizingResult['cappedBy'] = 'none';
  const room = p.max_symbol_exposure_usdt - Math.abs(a.symbolExposureUsdt);
  if (!(room > 0)) return skip('sizing_exposure_full', kelly, fraction);
  if (notional > room) {
    notional = room;
    cappedBy = 'exposure';
  }
  if (notional > p.max_order_notional_usdt) {
    notional = p.max_order_notional_usdt;
    cappedBy = 'order_notional';
  }
  const qty = quantiseDown(notional / a.price, a.venue.lotStep);
  const problem = minimumsProblem(qty, a.price, a.venue);
  if (problem !== null) return skip(problem, kelly, fraction);
  return { qty, notional: qty * a.price, kelly, fraction, cappedBy, reason: null };
}

/**
 * The gate's answer applied to a sized order (§2.1 Ours): qty_final = quantise_down(min(qty, max_qty)·
 * risk_scale); below the venue minimums it is a local skip `SIZED_OUT_BY_GATE`. A missing or non-finite
 * max_qty does not cap; risk_scale is clamped to [0, 1] (missing = 1).
 */
export function applyGateAnswer(a: {
  qty: number;
  maxQty: number | null | undefined;
  riskScale: number | null | undefined;
  price: number;
  venue: VenueLimits;
}): { qty: number; reason: typeof SIZED_OUT_BY_GATE | null } {
  const cap = a.maxQty !== null && a.maxQty !== undefined && Number.isFinite(a.maxQty) ? Math.min(a.qty, a.maxQty) : a.qty;
  const scale = a.riskScale !== null && a.riskScale !== undefined && Number.isFinite(a.riskScale) ? clamp(a.riskScale, 0, 1) : 1;
  const qty = quantiseDown(cap * scale, a.venue.lotStep);
  if (minimumsProblem(qty, a.price, a.venue) !== null) return { qty: 0, reason: SIZED_OUT_BY_GATE };
  return { qty, reason: null };
}
