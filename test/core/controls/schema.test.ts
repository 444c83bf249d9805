/** controls.md §1, §2, §4, §5: the TypeBox schemas, at / just below / just above every bound. */
import { describe, expect, it } from 'vitest';
import {
  controlsQuotasValidator,
  controlsRequestValidator,
  controlsSectionValidator,
  opsLimitsValidator,
  tradingStateValidator,
} from '../../../src/schema/controls.ts';

const ok = (x: unknown) => controlsSectionValidator.check(x);
const paths = (x: unknown) => controlsSectionValidator.errors(x).map((e) => e.path);

describe('controls: section (§2)', () => {
  it('accepts an empty section and null for every key (= default / off)', () => {
    expect(ok({})).toBe(true);
    const nulls = Object.fromEntries(
      ['trading_state', 'reduce_only_passes_halt', 'symbols_allowed', 'symbols_blocked', 'trading_windows_utc', 'max_order_qty', 'max_order_notional_usdt', 'price_collar_bps', 'max_market_age_ms', 'rate', 'dedupe_window_s', 'reservation_ttl_ms', 'max_position_notional_usdt', 'max_gross_notional_usdt', 'max_open_orders', 'alert_utilization'].map((k) => [k, null]),
    );
    expect(ok(nulls)).toBe(true);
    expect(ok({ rate: { account_per_s: null, account_per_min: null, symbol_per_s: null, symbol_per_min: null } })).toBe(true);
  });

  it('refuses unknown keys, at the top and inside rate', () => {
    expect(paths({ max_order_notional: 5 })).toContain('max_order_notional');
    expect(paths({ rate: { account_per_sec: 5 } })).toContain('rate.account_per_sec');
  });

  it('trading_state: the three states, upper case only', () => {
    for (const s of ['ACTIVE', 'REDUCING', 'HALTED']) expect(ok({ trading_state: s })).toBe(true);
    expect(ok({ trading_state: 'halted' })).toBe(false);
    expect(ok({ trading_state: 'PAUSED' })).toBe(false);
    expect(ok({ reduce_only_passes_halt: 'yes' })).toBe(false);
  });

  const ranges: Array<[string, unknown[], unknown[]]> = [
    // key, accepted, refused
    ['max_order_notional_usdt', [0.01, 1e15], [0, -1, 1e15 * 1.0000001, '100']],
    ['max_position_notional_usdt', [1e-9, 1e15], [0, 1.0000001e15]],
    ['max_gross_notional_usdt', [1, 1e15], [0, -0.01]],
    ['price_collar_bps', [0.001, 10_000], [0, 10_000.001]],
    ['max_market_age_ms', [1, 86_400_000], [0, 1.5, 86_400_001]],
    ['dedupe_window_s', [0.001, 86_400], [0, 86_400.5]],
    ['reservation_ttl_ms', [1, 86_400_000], [0, 2.5, 86_400_001]],
    ['max_open_orders', [0, 1_000_000], [-1, 0.5, 1_000_001]],
    ['alert_utilization', [0.01, 1], [0, 1.01]],
  ];
  for (const [key, good, bad] of ranges) {
    it(`${key}: ${good.join(', ')} accepted; ${bad.map((b) => JSON.stringify(b)).join(', ')} refused with its path`, () => {
      for (const g of good) expect(ok({ [key]: g }), `${key}=${g}`).toBe(true);
      for (const b of bad) expect(paths({ [key]: b }), `${key}=${b}`).toContain(key);
    });
  }

  it('rate.*: integers 1..1 000 000', () => {
    for (const k of ['account_per_s', 'account_per_min', 'symbol_per_s', 'symbol_per_min']) {
      expect(ok({ rate: { [k]: 1 } })).toBe(true);
      expect(ok({ rate: { [k]: 1_000_000 } })).toBe(true);
      expect(paths({ rate: { [k]: 0 } })).toContain(`rate.${k}`);
      expect(paths({ rate: { [k]: 1.5 } })).toContain(`rate.${k}`);
      expect(paths({ rate: { [k]: 1_000_001 } })).toContain(`rate.${k}`);
    }
  });

  it('trading windows: ["HH:MM","HH:MM"] pairs, 00:00..23:59 and 24:00', () => {
    expect(ok({ trading_windows_utc: [['09:00', '17:00']] })).toBe(true);
    expect(ok({ trading_windows_utc: [['00:00', '24:00'], ['22:00', '02:00']] })).toBe(true);
    expect(ok({ trading_windows_utc: [['23:59', '00:00']] })).toBe(true);
    for (const bad of ['9:00', '24:01', '23:60', '12:00:00', ' 12:00', '25:00']) {
      expect(paths({ trading_windows_utc: [[bad, '17:00']] }), bad).toContain('trading_windows_utc.0.0');
    }
    expect(ok({ trading_windows_utc: [['09:00']] })).toBe(false);
    expect(ok({ trading_windows_utc: [['09:00', '10:00', '11:00']] })).toBe(false);
    expect(ok({ trading_windows_utc: [] })).toBe(false);
    expect(ok({ trading_windows_utc: Array.from({ length: 48 }, () => ['09:00', '10:00']) })).toBe(true);
    expect(ok({ trading_windows_utc: Array.from({ length: 49 }, () => ['09:00', '10:00']) })).toBe(false);
  });

  it('symbol lists: 1..64-character strings', () => {
    expect(ok({ symbols_allowed: ['BTC/USDT', 'x'.repeat(64)] })).toBe(true);
    expect(paths({ symbols_allowed: ['x'.repeat(65)] })).toContain('symbols_allowed.0');
    expect(paths({ symbols_blocked: [''] })).toContain('symbols_blocked.0');
    expect(ok({ symbols_blocked: 'BTC/USDT' })).toBe(false);
  });

  it('max_order_qty: symbol (1..64 characters, "*" included) → qty > 0', () => {
    expect(ok({ max_order_qty: { '*': 1, 'BTC/USDT': 0.5, ['x'.repeat(64)]: 3 } })).toBe(true);
    // (a key with '/' is reported JSON-pointer-escaped, 'BTC~1USDT': validate.ts does not unescape ~1)
    expect(paths({ max_order_qty: { BTCUSDT: 0 } })).toContain('max_order_qty.BTCUSDT');
    expect(ok({ max_order_qty: { 'BTC/USDT': -1 } })).toBe(false);
    expect(ok({ max_order_qty: { 'BTC/USDT': '1' } })).toBe(false);
    expect(ok({ max_order_qty: { ['x'.repeat(65)]: 1 } })).toBe(false);
    expect(ok({ max_order_qty: { '': 1 } })).toBe(false);
  });
});

describe('POST /ops/limits body (§5)', () => {
  const okBody = (x: unknown) => opsLimitsValidator.check(x);
  it('the same keys, all optional; null turns a limit off (also inside rate and max_order_qty)', () => {
    expect(okBody({})).toBe(true);
    expect(okBody({ max_order_notional_usdt: 2000, rate: { account_per_s: 10 } })).toBe(true);
    expect(okBody({ max_order_notional_usdt: null, rate: { account_per_s: null }, max_order_qty: { 'ETH/USDT': null } })).toBe(true);
    expect(okBody({ rate: null, max_order_qty: null })).toBe(true);
  });
  it('the same ranges as the section', () => {
    expect(opsLimitsValidator.errors({ max_order_notional_usdt: 0 }).map((e) => e.path)).toContain('max_order_notional_usdt');
    expect(okBody({ rate: { account_per_s: 0 } })).toBe(false);
    expect(okBody({ max_order_qty: { 'BTC/USDT': 0 } })).toBe(false);
  });
  it('trading_state is not a limit: refused here (POST /ops/trading_state journals TRADING_STATE)', () => {
    expect(opsLimitsValidator.errors({ trading_state: 'HALTED' }).map((e) => e.path)).toContain('trading_state');
  });
  it('POST /ops/trading_state takes {"state"} with one of the three states', () => {
    expect(tradingStateValidator.check({ state: 'REDUCING' })).toBe(true);
    expect(tradingStateValidator.check({ state: 'reducing' })).toBe(false);
    expect(tradingStateValidator.check({})).toBe(false);
  });
});

describe('request fields (§1)', () => {
  const okReq = (x: unknown) => controlsRequestValidator.check(x);
  const errs = (x: unknown) => controlsRequestValidator.errors(x).map((e) => e.path);
  it('all optional; null = absent; extra keys kept', () => {
    expect(okReq({ account: {}, order: {}, market: {} })).toBe(true);
    expect(okReq({ account: { account_id: null, mode: 'paper' }, order: { client_order_id: null, type: null, qty: 1 }, market: { mid: null, mark_price: null, ts_ms: null } })).toBe(true);
  });
  it('account.account_id ≤ 64 characters', () => {
    expect(okReq({ account: { account_id: 'a'.repeat(64) } })).toBe(true);
    expect(errs({ account: { account_id: 'a'.repeat(65) } })).toContain('account.account_id');
    expect(okReq({ account: { account_id: 7 } })).toBe(false);
  });
  it('order.client_order_id 1..64 characters', () => {
    expect(okReq({ order: { client_order_id: 'c' } })).toBe(true);
    expect(okReq({ order: { client_order_id: 'c'.repeat(64) } })).toBe(true);
    expect(errs({ order: { client_order_id: '' } })).toContain('order.client_order_id');
    expect(errs({ order: { client_order_id: 'c'.repeat(65) } })).toContain('order.client_order_id');
  });
  it('order.type "market" | "limit"', () => {
    expect(okReq({ order: { type: 'market' } })).toBe(true);
    expect(okReq({ order: { type: 'limit' } })).toBe(true);
    expect(errs({ order: { type: 'LIMIT' } })).toContain('order.type');
    expect(okReq({ order: { type: 'stop' } })).toBe(false);
  });
  it('market.mid / mark_price numbers > 0; ts_ms an integer ≥ 0', () => {
    for (const k of ['mid', 'mark_price']) {
      expect(okReq({ market: { [k]: 1e-9 } })).toBe(true);
      expect(errs({ market: { [k]: 0 } })).toContain(`market.${k}`);
      expect(okReq({ market: { [k]: -1 } })).toBe(false);
      expect(okReq({ market: { [k]: '100' } })).toBe(false);
    }
    expect(okReq({ market: { ts_ms: 0 } })).toBe(true);
    expect(okReq({ market: { ts_ms: 1_736_164_800_000 } })).toBe(true);
    expect(errs({ market: { ts_ms: 1.5 } })).toContain('market.ts_ms');
    expect(okReq({ market: { ts_ms: -1 } })).toBe(false);
  });
});

describe('quotas (§4)', () => {
  const q = { trades_pm_left: 3, symbol_exposure_left_usdt: 12.5, account_exposure_left_usdt: null, orders_ps_left: null, open_orders_left: 0 };
  it('five keys, integers for counts, null for a limit that is off', () => {
    expect(controlsQuotasValidator.check(q)).toBe(true);
    expect(controlsQuotasValidator.check({ ...q, trades_pm_left: 2.5 })).toBe(false);
    expect(controlsQuotasValidator.check({ ...q, open_orders_left: 0.5 })).toBe(false);
    const { orders_ps_left: _, ...four } = q;
    expect(controlsQuotasValidator.check(four)).toBe(false);
  });
});
