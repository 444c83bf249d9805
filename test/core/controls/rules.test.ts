/** controls.md §1 and §3: the stateless rules at, just below and just above each limit (hand-computed). */
import { describe, expect, it } from 'vitest';
import { buildControlsConfig, TS_ACTIVE, TS_HALTED, TS_REDUCING } from '../../../src/core/controls/config.ts';
import {
  accountExposureRule,
  bucketUsed,
  collarReference,
  inTradingWindow,
  marketAgeRule,
  msUntilToken,
  notionalPrice,
  openOrdersRule,
  orderNotionalRule,
  orderQtyRule,
  priceCollarRule,
  referencePrice,
  SIDE_BUY,
  SIDE_NONE,
  SIDE_SELL,
  symbolExposureRule,
  symbolListRule,
  throttleRule,
  tokensLeft,
  tradingStateRule,
  tradingWindowRule,
  verifyReduceOnly,
} from '../../../src/core/controls/rules.ts';

const at = (hhmmss: string) => Date.UTC(2025, 0, 6) + ((h, m, s) => ((h * 60 + m) * 60 + s) * 1000)(...(hhmmss.split(':').map(Number) as [number, number, number]));

describe('§1 prices', () => {
  it('reference: mid, else mark_price, else order.price (each only when > 0)', () => {
    expect(referencePrice(101, 102, 103)).toBe(101);
    expect(referencePrice(NaN, 102, 103)).toBe(102);
    expect(referencePrice(NaN, NaN, 103)).toBe(103);
    expect(referencePrice(NaN, NaN, 0)).toBeNaN();
  });
  it('notional price: order.price when > 0, else mid, else mark_price', () => {
    expect(notionalPrice(103, 101, 102)).toBe(103);
    expect(notionalPrice(0, 101, 102)).toBe(101);
    expect(notionalPrice(NaN, NaN, 102)).toBe(102);
    expect(notionalPrice(-1, NaN, NaN)).toBeNaN();
  });
  it('collar reference: mid, else mark_price (never the order price)', () => {
    expect(collarReference(NaN, 102)).toBe(102);
    expect(collarReference(NaN, NaN)).toBeNaN();
  });
});

describe('§3 rule 2: reduce-only verification', () => {
  it('opposite side and qty ≤ open qty', () => {
    expect(verifyReduceOnly(true, SIDE_SELL, 2, 2)).toBe(true); // at
    expect(verifyReduceOnly(true, SIDE_SELL, 1.5, 2)).toBe(true); // below
    expect(verifyReduceOnly(true, SIDE_SELL, 2.001, 2)).toBe(false); // above
    expect(verifyReduceOnly(true, SIDE_BUY, 3, -3)).toBe(true);
    expect(verifyReduceOnly(true, SIDE_BUY, 3.01, -3)).toBe(false);
  });
  it('same side, no position, no side, not reduce_only: not verified', () => {
    expect(verifyReduceOnly(true, SIDE_BUY, 1, 2)).toBe(false);
    expect(verifyReduceOnly(true, SIDE_SELL, 1, -2)).toBe(false);
    expect(verifyReduceOnly(true, SIDE_SELL, 1, 0)).toBe(false);
    expect(verifyReduceOnly(true, SIDE_NONE, 1, 2)).toBe(false);
    expect(verifyReduceOnly(false, SIDE_SELL, 1, 2)).toBe(false);
  });
  it('tolerates the last-bit drift of summed fills (0.1 + 0.2)', () => {
    expect(verifyReduceOnly(true, SIDE_SELL, 0.3, 0.1 + 0.2)).toBe(true);
    expect(verifyReduceOnly(true, SIDE_SELL, 0.3, 0.29999999999999993)).toBe(true);
    expect(verifyReduceOnly(true, SIDE_SELL, 0.3000001, 0.3)).toBe(false);
  });
});

describe('§3 rule 2: trading state', () => {
  const on = buildControlsConfig({});
  const noPass = buildControlsConfig({ reduce_only_passes_halt: false });
  it('ACTIVE passes; HALTED / REDUCING refuse an ordinary order', () => {
    expect(tradingStateRule(on, TS_ACTIVE, false, false, true, 1, 0)).toBeNull();
    expect(tradingStateRule(on, TS_HALTED, false, false, true, 1, 0)).toMatchObject({ reason: 'trading_state_halted', rule: 'trading_state', limit: 'HALTED', cooldownMs: 0 });
    expect(tradingStateRule(on, TS_REDUCING, false, false, true, 1, 0)).toMatchObject({ reason: 'trading_state_reducing', limit: 'REDUCING' });
  });
  it('a verified reduce-only order passes both while reduce_only_passes_halt', () => {
    expect(tradingStateRule(on, TS_HALTED, true, true, true, 1, 2)).toBeNull();
    expect(tradingStateRule(on, TS_REDUCING, true, true, true, 1, 2)).toBeNull();
    expect(tradingStateRule(noPass, TS_HALTED, true, true, true, 1, 2)?.reason).toBe('trading_state_halted');
    expect(tradingStateRule(noPass, TS_REDUCING, true, true, true, 1, 2)?.reason).toBe('trading_state_reducing');
  });
  it('unverified reduce-only: reduce_only_would_increase in any state (when refused at all)', () => {
    for (const s of [TS_ACTIVE, TS_REDUCING, TS_HALTED]) {
      expect(tradingStateRule(on, s, true, false, true, 3, 2)).toMatchObject({ reason: 'reduce_only_would_increase', rule: 'reduce_only', limit: 2, value: 3 });
    }
    expect(tradingStateRule(on, TS_ACTIVE, true, false, false, 3, 2)).toBeNull();
  });
});

describe('§3 rule 3: symbol lists', () => {
  const c = buildControlsConfig({ symbols_allowed: ['BTC/USDT', 'ETH/USDT'], symbols_blocked: ['ETH/USDT'] });
  it('allowed then blocked', () => {
    expect(symbolListRule(c, 'BTC/USDT')).toBeNull();
    expect(symbolListRule(c, 'SOL/USDT')).toMatchObject({ reason: 'symbol_not_allowed', rule: 'symbols_allowed', value: 'SOL/USDT' });
    expect(symbolListRule(c, null)?.reason).toBe('symbol_not_allowed');
    expect(symbolListRule(c, 'ETH/USDT')).toMatchObject({ reason: 'symbol_blocked', rule: 'symbols_blocked' });
  });
  it('blocked only: everything else passes, also no symbol', () => {
    const b = buildControlsConfig({ symbols_blocked: ['DOGE/USDT'] });
    expect(symbolListRule(b, 'DOGE/USDT')?.reason).toBe('symbol_blocked');
    expect(symbolListRule(b, 'BTC/USDT')).toBeNull();
    expect(symbolListRule(b, null)).toBeNull();
  });
});

describe('§3 rule 3: trading windows (UTC, [start, end))', () => {
  const day = buildControlsConfig({ trading_windows_utc: [['09:00', '17:00']] });
  it('start inclusive, end exclusive; cooldown = ms to the next start', () => {
    expect(tradingWindowRule(day, at('08:59:59') + 999, false)).toMatchObject({ reason: 'outside_trading_window', rule: 'trading_windows_utc', value: '08:59:59', cooldownMs: 1 });
    expect(tradingWindowRule(day, at('09:00:00'), false)).toBeNull();
    expect(tradingWindowRule(day, at('16:59:59') + 999, false)).toBeNull();
    expect(tradingWindowRule(day, at('17:00:00'), false)).toMatchObject({ cooldownMs: 16 * 3_600_000, limit: [['09:00', '17:00']] });
  });
  it('a window ending before its start wraps midnight', () => {
    const w = buildControlsConfig({ trading_windows_utc: [['22:00', '02:00']] }).windows as Int32Array;
    expect(inTradingWindow(w, at('21:59:59'))).toBe(false);
    expect(inTradingWindow(w, at('22:00:00'))).toBe(true);
    expect(inTradingWindow(w, at('23:59:59'))).toBe(true);
    expect(inTradingWindow(w, at('00:00:00'))).toBe(true);
    expect(inTradingWindow(w, at('01:59:59') + 999)).toBe(true);
    expect(inTradingWindow(w, at('02:00:00'))).toBe(false);
  });
  it('["00:00", "24:00"] is the whole day', () => {
    const w = buildControlsConfig({ trading_windows_utc: [['00:00', '24:00']] }).windows as Int32Array;
    expect(inTradingWindow(w, at('00:00:00'))).toBe(true);
    expect(inTradingWindow(w, at('23:59:59') + 999)).toBe(true);
  });
  it('several windows: inside any passes; the cooldown is to the nearest start', () => {
    const c = buildControlsConfig({ trading_windows_utc: [['13:00', '14:00'], ['08:00', '12:00']] });
    expect(tradingWindowRule(c, at('12:30:00'), false)?.cooldownMs).toBe(30 * 60_000);
    expect(tradingWindowRule(c, at('13:30:00'), false)).toBeNull();
    expect(tradingWindowRule(c, at('14:00:00'), false)?.cooldownMs).toBe(18 * 3_600_000);
  });
  it('a verified reduce-only order passes the window', () => {
    expect(tradingWindowRule(day, at('20:00:00'), true)).toBeNull();
  });
});

describe('§3 rule 4: per order', () => {
  const c = buildControlsConfig({ max_order_qty: { 'BTC/USDT': 2, '*': 1 }, max_order_notional_usdt: 1000 });
  it('order_qty_limit: the symbol entry, else "*"', () => {
    expect(orderQtyRule(c, 'BTC/USDT', 1.999)).toBeNull();
    expect(orderQtyRule(c, 'BTC/USDT', 2)).toBeNull();
    expect(orderQtyRule(c, 'BTC/USDT', 2.001)).toMatchObject({ reason: 'order_qty_limit', rule: 'max_order_qty', limit: 2, value: 2.001 });
    expect(orderQtyRule(c, 'ETH/USDT', 1)).toBeNull();
    expect(orderQtyRule(c, 'ETH/USDT', 1.001)).toMatchObject({ limit: 1 });
    expect(orderQtyRule(c, null, 1.5)?.limit).toBe(1);
  });
  it('without "*", symbols not in the map are unlimited', () => {
    const m = buildControlsConfig({ max_order_qty: { 'BTC/USDT': 2 } });
    expect(orderQtyRule(m, 'ETH/USDT', 1e9)).toBeNull();
    expect(orderQtyRule(m, 'BTC/USDT', 3)?.reason).toBe('order_qty_limit');
  });
  it('order_notional_limit at / below / above', () => {
    expect(orderNotionalRule(c, 999.99, false)).toBeNull();
    expect(orderNotionalRule(c, 1000, false)).toBeNull();
    expect(orderNotionalRule(c, 1000.01, false)).toMatchObject({ reason: 'order_notional_limit', rule: 'max_order_notional_usdt', limit: 1000, value: 1000.01 });
  });
  it('reference_price_missing when a notional is needed and none can be computed', () => {
    expect(orderNotionalRule(c, NaN, false)).toMatchObject({ reason: 'reference_price_missing', rule: 'max_order_notional_usdt' });
    const exp = buildControlsConfig({ max_position_notional_usdt: 5000 });
    expect(orderNotionalRule(exp, NaN, true)).toMatchObject({ reason: 'reference_price_missing', rule: 'max_position_notional_usdt', limit: 5000 });
    expect(orderNotionalRule(exp, NaN, false)).toBeNull();
    expect(orderNotionalRule(buildControlsConfig({ max_order_qty: { '*': 1 } }), NaN, false)).toBeNull();
  });
});

describe('§3 rule 5: market data', () => {
  const c = buildControlsConfig({ max_market_age_ms: 500, price_collar_bps: 100 });
  const now = 1_000_000;
  it('market_data_stale: age above the limit (value = age ms), or ts_ms missing', () => {
    expect(marketAgeRule(c, now - 499, now)).toBeNull();
    expect(marketAgeRule(c, now - 500, now)).toBeNull();
    expect(marketAgeRule(c, now - 501, now)).toMatchObject({ reason: 'market_data_stale', rule: 'max_market_age_ms', limit: 500, value: 501 });
    expect(marketAgeRule(c, NaN, now)).toMatchObject({ reason: 'market_data_stale', value: null });
    expect(marketAgeRule(c, now + 50, now)).toBeNull();
    expect(marketAgeRule(buildControlsConfig({}), NaN, now)).toBeNull();
  });
  it('price_collar: buy above the reference (bps)', () => {
    expect(priceCollarRule(c, true, SIDE_BUY, 20_199.98, 20_000, NaN)).toBeNull();
    expect(priceCollarRule(c, true, SIDE_BUY, 20_200, 20_000, NaN)).toBeNull(); // exactly 100 bps
    const d = priceCollarRule(c, true, SIDE_BUY, 20_200.02, 20_000, NaN);
    expect(d).toMatchObject({ reason: 'price_collar', rule: 'price_collar_bps', limit: 100 });
    expect(d?.value).toBeCloseTo(100.01, 9);
    expect(priceCollarRule(c, true, SIDE_BUY, 15_000, 20_000, NaN)).toBeNull(); // far below: passive, allowed
  });
  it('price_collar: sell below the reference; mark_price when no mid', () => {
    expect(priceCollarRule(c, true, SIDE_SELL, 19_800, 20_000, NaN)).toBeNull();
    expect(priceCollarRule(c, true, SIDE_SELL, 19_799.98, 20_000, NaN)?.reason).toBe('price_collar');
    expect(priceCollarRule(c, true, SIDE_SELL, 25_000, 20_000, NaN)).toBeNull();
    expect(priceCollarRule(c, true, SIDE_SELL, 19_799.98, NaN, 20_000)?.reason).toBe('price_collar');
  });
  it('market orders and orders without a price are not collared; no reference → reference_price_missing', () => {
    expect(priceCollarRule(c, false, SIDE_BUY, 30_000, 20_000, NaN)).toBeNull();
    expect(priceCollarRule(c, true, SIDE_BUY, NaN, 20_000, NaN)).toBeNull();
    expect(priceCollarRule(c, true, SIDE_BUY, 20_000, NaN, NaN)).toMatchObject({ reason: 'reference_price_missing', rule: 'price_collar_bps' });
  });
});

describe('§3 rule 6: token buckets', () => {
  it('continuous refill of cap per window', () => {
    expect(bucketUsed(2, 0, 2, 1000, 250)).toBe(1.5);
    expect(bucketUsed(2, 0, 2, 1000, 500)).toBe(1);
    expect(bucketUsed(2, 0, 2, 1000, 5000)).toBe(0);
    expect(bucketUsed(3, 0, 3, 60_000, 20_000)).toBe(2);
    expect(bucketUsed(1, 100, 2, 1000, 50)).toBe(1); // clock behind: no refill
  });
  it('one more order fits while used + 1 ≤ cap; cooldown = ms until a token is back', () => {
    expect(throttleRule('throttle_account', 'rate.account_per_s', 2, 1000, 1)).toBeNull();
    expect(throttleRule('throttle_account', 'rate.account_per_s', 2, 1000, 2)).toMatchObject({ reason: 'throttle_account', limit: 2, value: 2, cooldownMs: 500 });
    expect(throttleRule('throttle_symbol', 'rate.symbol_per_s', 2, 1000, 1.5)).toMatchObject({ cooldownMs: 250 });
    expect(throttleRule('throttle_symbol', 'rate.symbol_per_min', 3, 60_000, 3)?.cooldownMs).toBe(20_000);
    expect(msUntilToken(1.002, 2, 1000)).toBe(1);
    expect(msUntilToken(1, 2, 1000)).toBe(0);
  });
  it('tokens left are whole orders', () => {
    expect(tokensLeft(0, 5)).toBe(5);
    expect(tokensLeft(1.5, 5)).toBe(3);
    expect(tokensLeft(5, 5)).toBe(0);
  });
});

describe('§3 rule 7: exposure', () => {
  const c = buildControlsConfig({ max_open_orders: 3, max_position_notional_usdt: 1000, max_gross_notional_usdt: 5000 });
  it('open_orders_limit: open + this one above the limit', () => {
    expect(openOrdersRule(c, 2)).toBeNull();
    expect(openOrdersRule(c, 3)).toMatchObject({ reason: 'open_orders_limit', rule: 'max_open_orders', limit: 3, value: 4 });
    expect(openOrdersRule(buildControlsConfig({ max_open_orders: 0 }), 0)?.reason).toBe('open_orders_limit');
  });
  it('exposure_limit_symbol: |position| + reserved same side + order', () => {
    expect(symbolExposureRule(c, 500, 300, 199.99)).toBeNull();
    expect(symbolExposureRule(c, 500, 300, 200)).toBeNull();
    expect(symbolExposureRule(c, 500, 300, 200.5)).toMatchObject({ reason: 'exposure_limit_symbol', limit: 1000, value: 1000.5, details: { position_usdt: 500, reserved_usdt: 300, order_usdt: 200.5 } });
  });
  it('exposure_limit_account: Σ|positions| + all reservations + order', () => {
    expect(accountExposureRule(c, 3000, 1500, 500)).toBeNull();
    expect(accountExposureRule(c, 3000, 1500, 500.5)).toMatchObject({ reason: 'exposure_limit_account', rule: 'max_gross_notional_usdt', value: 5000.5 });
  });
});
