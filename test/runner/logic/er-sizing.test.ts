import { describe, expect, it } from 'vitest';
import { erInputs, erPrecheck, expectedReturnBps, gateProbability } from '../../../src/runner/logic/expected-return.ts';
import { applyGateAnswer, DEFAULT_SIZING, kellyFraction, quantiseDown, SIZED_OUT_BY_GATE, sizeOrder } from '../../../src/runner/logic/sizing.ts';

describe('expected-return inputs (§1.6 Ours)', () => {
  it('worked example: score 0.5, ATR 10 bps, taker, spread 1 -> b 12, a 8, fees 1.0, slip 0.5, E = 5.12', () => {
    const er = erInputs({ atrBps: 10, route: 'taker', spreadBps: 1.0 })!;
    expect(er.b_bps).toBeCloseTo(12, 12);
    expect(er.a_bps).toBeCloseTo(8, 12);
    expect(er).toMatchObject({ fees_bps: 1.0, slip_bps_est: 0.5 });
    const p = gateProbability(0.5);
    expect(p).toBeCloseTo(0.731, 3);
    // 0.7311·12 − 0.2689·8 − 1.0 − 0.5 = 8.773 − 2.151 − 1.5
    expect(expectedReturnBps(p, er)).toBeCloseTo(5.12, 2);
    expect(erPrecheck(p, er)).toMatchObject({ erOk: true, slipOk: true });
  });
  it('maker entry: maker fee + taker exit fee; slip = slip_fraction·spread', () => {
    const er = erInputs({ atrBps: 10, route: 'maker', spreadBps: 2.0 })!;
    expect(er.fees_bps).toBeCloseTo(0.2 + 0.5, 12);
    expect(er.slip_bps_est).toBeCloseTo(1.0, 12); // 0.5·2
    const venue = erInputs({ atrBps: 10, route: 'maker', spreadBps: 2.0, makerBps: -0.1, takerBps: 0.4 })!;
    expect(venue.fees_bps).toBeCloseTo(0.3, 12); // a maker rebate counts
  });
  it('clamps a and b to [2, 150]; unknown ATR gives null; a negative spread is 0', () => {
    expect(erInputs({ atrBps: 1, route: 'taker', spreadBps: 0 })).toMatchObject({ a_bps: 2, b_bps: 2, slip_bps_est: 0 });
    expect(erInputs({ atrBps: 200, route: 'taker', spreadBps: -3 })).toMatchObject({ a_bps: 150, b_bps: 150, slip_bps_est: 0 });
    expect(erInputs({ atrBps: null, route: 'taker', spreadBps: 1 })).toBeNull();
    expect(erInputs({ atrBps: 0, route: 'taker', spreadBps: 1 })).toBeNull();
    expect(erInputs({ atrBps: NaN, route: 'taker', spreadBps: 1 })).toBeNull();
  });
  it('the Gen-2 thin block (a = b = 0) gives E = −fees: always below the minimum', () => {
    const er = { a_bps: 0, b_bps: 0, fees_bps: 1, slip_bps_est: 0 };
    expect(expectedReturnBps(gateProbability(0.9), er)).toBe(-1);
    expect(erPrecheck(gateProbability(0.9), er)).toMatchObject({ erOk: false, slipOk: true });
  });
  it('the slippage check: slip <= 0.3·b', () => {
    expect(erPrecheck(0.9, { a_bps: 8, b_bps: 10, fees_bps: 0, slip_bps_est: 3 }).slipOk).toBe(true);
    expect(erPrecheck(0.9, { a_bps: 8, b_bps: 10, fees_bps: 0, slip_bps_est: 3.01 }).slipOk).toBe(false);
  });
});

describe('Kelly sizing (§1.7 Ours)', () => {
  const venue = { lotStep: 0.001, minQty: 0.001, minNotional: 5 };
  const base = { pWin: 0.6, rr: 1, equity: 10_000, price: 50_000, symbolExposureUsdt: 0, venue };

  it('Kelly fraction (rr·p − (1 − p))/rr', () => {
    expect(kellyFraction(0.6, 1)).toBeCloseTo(0.2, 12);
    expect(kellyFraction(0.731059, 1.5)).toBeCloseTo(0.731059 - 0.268941 / 1.5, 9);
    expect(kellyFraction(0.4, 1)).toBeCloseTo(-0.2, 12);
    expect(kellyFraction(0.9, 0)).toBe(0);
  });
  it('× multiplier 0.25 × equity, quantised to the lot', () => {
    // 0.2·0.25·10 000 = 500 USDT -> 0.01 BTC
    expect(sizeOrder(base)).toEqual({ qty: 0.01, notional: 500, kelly: expect.closeTo(0.2, 12), fraction: expect.closeTo(0.05, 12), cappedBy: 'none', reason: null });
  });
  it('quantises down, never up', () => {
    // 500/30 000 = 0.016666… -> 0.016
    expect(sizeOrder({ ...base, price: 30_000 }).qty).toBe(0.016);
  });
  it('caps by remaining symbol exposure, then per-order notional', () => {
    const big = sizeOrder({ ...base, equity: 100_000 }); // 5 000 wanted, 1 000 allowed
    expect(big).toMatchObject({ qty: 0.02, cappedBy: 'exposure' });
    expect(sizeOrder({ ...base, equity: 100_000, symbolExposureUsdt: 900 })).toMatchObject({ qty: 0.002, cappedBy: 'exposure' });
    expect(sizeOrder({ ...base, equity: 100_000 }, { ...DEFAULT_SIZING, max_order_notional_usdt: 300 })).toMatchObject({ qty: 0.006, cappedBy: 'order_notional' });
    expect(sizeOrder({ ...base, symbolExposureUsdt: 1000 })).toMatchObject({ qty: 0, reason: 'sizing_exposure_full' });
  });
  it('venue minimums: min qty and min notional give 0 with a reason', () => {
    expect(sizeOrder({ ...base, equity: 100 })).toMatchObject({ qty: 0, reason: 'sizing_below_min_qty' }); // 5 USDT = 0.0001 -> 0
    expect(sizeOrder({ ...base, equity: 1000, venue: { ...venue, minNotional: 100 } })).toMatchObject({ qty: 0, reason: 'sizing_below_min_notional' }); // 0.001 = 50 USDT
    expect(sizeOrder({ ...base, equity: 1000, venue: { ...venue, minQty: 0.002 } })).toMatchObject({ qty: 0, reason: 'sizing_below_min_qty' });
  });
  it('no edge, no equity, bad input', () => {
    expect(sizeOrder({ ...base, pWin: 0.5 })).toMatchObject({ qty: 0, reason: 'sizing_no_edge' });
    expect(sizeOrder({ ...base, equity: 0 })).toMatchObject({ qty: 0, reason: 'sizing_no_equity' });
    expect(sizeOrder({ ...base, price: 0 })).toMatchObject({ qty: 0, reason: 'sizing_bad_input' });
    expect(sizeOrder({ ...base, pWin: NaN })).toMatchObject({ qty: 0, reason: 'sizing_bad_input' });
  });
  it('quantise_down absorbs binary noise but never rounds up', () => {
    expect(quantiseDown(0.003, 0.001)).toBe(0.003);
    expect(quantiseDown(0.1 + 0.2, 0.1)).toBe(0.3);
    expect(quantiseDown(0.0029999, 0.001)).toBe(0.002);
    expect(quantiseDown(1.234567, 1e-5)).toBe(1.23456);
    expect(quantiseDown(7.9, 0.5)).toBe(7.5);
    expect(quantiseDown(12, 5)).toBe(10);
    expect(quantiseDown(0.37, 0)).toBe(0.37);
    expect(quantiseDown(-1, 0.001)).toBe(0);
    expect(quantiseDown(NaN, 0.001)).toBe(0);
  });
});

describe('applying the gate answer (§2.1)', () => {
  const venue = { lotStep: 0.001, minQty: 0.001, minNotional: 5 };
  it('qty_final = quantise_down(min(qty, max_qty)·risk_scale)', () => {
    expect(applyGateAnswer({ qty: 0.01, maxQty: 0.008, riskScale: 0.5, price: 50_000, venue })).toEqual({ qty: 0.004, reason: null });
    expect(applyGateAnswer({ qty: 0.01, maxQty: 0.01, riskScale: 0.77, price: 50_000, venue })).toEqual({ qty: 0.007, reason: null });
    expect(applyGateAnswer({ qty: 0.01, maxQty: null, riskScale: 1.5, price: 50_000, venue })).toEqual({ qty: 0.01, reason: null });
    expect(applyGateAnswer({ qty: 0.01, maxQty: undefined, riskScale: undefined, price: 50_000, venue })).toEqual({ qty: 0.01, reason: null });
  });
  it('below the venue minimums -> SIZED_OUT_BY_GATE', () => {
    expect(applyGateAnswer({ qty: 0.01, maxQty: 0.01, riskScale: 0.05, price: 50_000, venue })).toEqual({ qty: 0, reason: SIZED_OUT_BY_GATE });
    expect(applyGateAnswer({ qty: 0.01, maxQty: 0.002, riskScale: 1, price: 50_000, venue: { ...venue, minNotional: 150 } })).toEqual({ qty: 0, reason: 'SIZED_OUT_BY_GATE' });
    expect(applyGateAnswer({ qty: 0.01, maxQty: 0, riskScale: 1, price: 50_000, venue })).toEqual({ qty: 0, reason: SIZED_OUT_BY_GATE });
    expect(applyGateAnswer({ qty: 0.01, maxQty: 0.01, riskScale: 0, price: 50_000, venue })).toEqual({ qty: 0, reason: SIZED_OUT_BY_GATE });
  });
});
