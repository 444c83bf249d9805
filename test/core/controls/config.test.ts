/** controls.md §2 (configuration, ENV overlay) and §5 (POST /ops/limits merge). */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/env.ts';
import {
  buildControlsConfig,
  controlsEnvName,
  effectiveLimits,
  mergeLimits,
  NO_CONTROLS,
  overlayControlsEnv,
  resolveControls,
} from '../../../src/core/controls/config.ts';

describe('buildControlsConfig', () => {
  it('no section: everything off, the reference defaults of the tuning keys', () => {
    for (const c of [NO_CONTROLS, buildControlsConfig(undefined), buildControlsConfig(null)]) {
      expect(c.present).toBe(false);
      expect(c.anyOn).toBe(false);
      expect(c.tradingState).toBe('ACTIVE');
      expect(c.reduceOnlyPassesHalt).toBe(true);
      expect(c.reservationTtlMs).toBe(30_000);
      expect(c.alertUtilization).toBe(0.8);
      expect(c.maxOrderNotionalUsdt).toBe(Infinity);
      expect(c.dedupeOn).toBe(false);
    }
  });

  it('an empty section, or only tuning keys / trading_state, turns no control on', () => {
    expect(buildControlsConfig({}).present).toBe(true);
    expect(buildControlsConfig({}).anyOn).toBe(false);
    expect(buildControlsConfig({ trading_state: 'HALTED', reduce_only_passes_halt: false, reservation_ttl_ms: 5, alert_utilization: 0.5 }).anyOn).toBe(false);
  });

  it('any single control turns controls on', () => {
    const singles = [
      { symbols_allowed: ['BTC/USDT'] },
      { symbols_blocked: ['BTC/USDT'] },
      { trading_windows_utc: [['09:00', '17:00']] as [string, string][] },
      { max_order_qty: { '*': 1 } },
      { max_order_notional_usdt: 1 },
      { price_collar_bps: 1 },
      { max_market_age_ms: 1 },
      { rate: { account_per_s: 1 } },
      { rate: { symbol_per_min: 1 } },
      { dedupe_window_s: 1 },
      { max_position_notional_usdt: 1 },
      { max_gross_notional_usdt: 1 },
      { max_open_orders: 0 },
    ];
    for (const s of singles) expect(buildControlsConfig(s).anyOn, JSON.stringify(s)).toBe(true);
  });

  it('derived values: refill rates per ms, windows in minutes of day, ms windows, canonical symbols', () => {
    const c = buildControlsConfig({
      rate: { account_per_s: 10, account_per_min: 120, symbol_per_s: 4, symbol_per_min: 30 },
      trading_windows_utc: [['09:30', '17:00'], ['22:00', '02:15'], ['00:00', '24:00']],
      dedupe_window_s: 1.5,
      max_order_qty: { 'btc/usdt': 2, 'binance:eth/usdt': 10, '*': 1 },
      symbols_allowed: [' btc/usdt ', 'BTC/USDT', 'okx:sol/usdt'],
    });
    expect([c.accountPerSPerMs, c.accountPerMinPerMs, c.symbolPerSPerMs, c.symbolPerMinPerMs]).toEqual([0.01, 0.002, 0.004, 0.0005]);
    expect([...(c.windows as Int32Array)]).toEqual([570, 1020, 1320, 135, 0, 1440]);
    expect(c.dedupeWindowMs).toBe(1500);
    expect([...(c.maxOrderQty as Map<string, number>)]).toEqual([['BTC/USDT', 2], ['ETH/USDT', 10]]);
    expect(c.maxOrderQtyOther).toBe(1);
    expect([...(c.symbolsAllowed as Set<string>)]).toEqual(['BTC/USDT', 'SOL/USDT']);
    expect(c.section.max_order_qty).toEqual({ 'BTC/USDT': 2, 'ETH/USDT': 10, '*': 1 });
  });

  it('is immutable', () => {
    const c = buildControlsConfig({ max_order_qty: { '*': 1 }, rate: { account_per_s: 1 } });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.section)).toBe(true);
    expect(Object.isFrozen(c.section.rate)).toBe(true);
    expect(() => ((c as { maxOpenOrders: number }).maxOpenOrders = 1)).toThrow(TypeError);
  });

  it('semantic errors the schema cannot see are ConfigErrors naming the key', () => {
    expect(() => buildControlsConfig({ trading_windows_utc: [['24:00', '02:00']] })).toThrow(/controls\.trading_windows_utc\.0 .*cannot start at 24:00/);
    expect(() => buildControlsConfig({ trading_windows_utc: [['09:00', '17:00'], ['10:00', '10:00']] })).toThrow(/controls\.trading_windows_utc\.1 .*empty window/);
    expect(() => buildControlsConfig({ max_order_qty: { 'btc/usdt': 1, 'BTC/USDT': 2 } })).toThrow(ConfigError);
    expect(buildControlsConfig({ max_order_qty: { 'btc/usdt': 1, 'BTC/USDT': 1 } }).maxOrderQty?.get('BTC/USDT')).toBe(1);
  });
});

describe('ENV overlay AURORA_CONTROLS_<KEY> (scalar keys)', () => {
  it('names: the key path upper-cased, dots as underscores', () => {
    expect(controlsEnvName('max_order_notional_usdt')).toBe('AURORA_CONTROLS_MAX_ORDER_NOTIONAL_USDT');
    expect(controlsEnvName('rate.account_per_s')).toBe('AURORA_CONTROLS_RATE_ACCOUNT_PER_S');
  });

  it('creates the section when absent and overrides YAML values, without touching the input', () => {
    const yaml = { max_order_notional_usdt: 1000, rate: { account_per_min: 60 } };
    const c = resolveControls(yaml, {
      AURORA_CONTROLS_MAX_ORDER_NOTIONAL_USDT: '2500.5',
      AURORA_CONTROLS_RATE_ACCOUNT_PER_S: ' 7 ',
      AURORA_CONTROLS_TRADING_STATE: 'reducing',
      AURORA_CONTROLS_REDUCE_ONLY_PASSES_HALT: 'off',
    });
    expect(c.maxOrderNotionalUsdt).toBe(2500.5);
    expect(c.accountPerS).toBe(7);
    expect(c.accountPerMin).toBe(60);
    expect(c.tradingState).toBe('REDUCING');
    expect(c.reduceOnlyPassesHalt).toBe(false);
    expect(yaml).toEqual({ max_order_notional_usdt: 1000, rate: { account_per_min: 60 } });
    expect(resolveControls(undefined, { AURORA_CONTROLS_MAX_OPEN_ORDERS: '3' }).maxOpenOrders).toBe(3);
  });

  it('blank or unset variables are ignored; no section and no ENV = NO_CONTROLS', () => {
    expect(resolveControls(undefined, { AURORA_CONTROLS_MAX_OPEN_ORDERS: '  ' })).toBe(NO_CONTROLS);
    expect(resolveControls(null, {})).toBe(NO_CONTROLS);
  });

  it('off / null / none turn a limit off', () => {
    const c = resolveControls({ max_order_notional_usdt: 1000, price_collar_bps: 50 }, { AURORA_CONTROLS_MAX_ORDER_NOTIONAL_USDT: 'OFF', AURORA_CONTROLS_PRICE_COLLAR_BPS: 'none' });
    expect(c.maxOrderNotionalUsdt).toBe(Infinity);
    expect(c.priceCollarBps).toBe(Infinity);
    expect(overlayControlsEnv({}, { AURORA_CONTROLS_DEDUPE_WINDOW_S: 'null' }).section).toEqual({ dedupe_window_s: null });
  });

  const bad: Array<[string, string, RegExp]> = [
    ['AURORA_CONTROLS_MAX_ORDER_NOTIONAL_USDT', 'abc', /AURORA_CONTROLS_MAX_ORDER_NOTIONAL_USDT="abc" is not a finite number/],
    ['AURORA_CONTROLS_MAX_ORDER_NOTIONAL_USDT', '-5', /AURORA_CONTROLS_MAX_ORDER_NOTIONAL_USDT \(controls\.max_order_notional_usdt\) = -5: must be a notional in USDT > 0/],
    ['AURORA_CONTROLS_MAX_ORDER_NOTIONAL_USDT', '0', /controls\.max_order_notional_usdt\) = 0/],
    ['AURORA_CONTROLS_RATE_ACCOUNT_PER_S', '1.5', /AURORA_CONTROLS_RATE_ACCOUNT_PER_S="1.5" is not an integer/],
    ['AURORA_CONTROLS_RATE_SYMBOL_PER_MIN', '0', /AURORA_CONTROLS_RATE_SYMBOL_PER_MIN \(controls\.rate\.symbol_per_min\) = 0/],
    ['AURORA_CONTROLS_MAX_MARKET_AGE_MS', '86400001', /controls\.max_market_age_ms\) = 86400001/],
    ['AURORA_CONTROLS_ALERT_UTILIZATION', '1.5', /AURORA_CONTROLS_ALERT_UTILIZATION \(controls\.alert_utilization\) = 1.5/],
    ['AURORA_CONTROLS_TRADING_STATE', 'PAUSED', /AURORA_CONTROLS_TRADING_STATE="PAUSED": must be ACTIVE, REDUCING or HALTED/],
    ['AURORA_CONTROLS_REDUCE_ONLY_PASSES_HALT', 'maybe', /AURORA_CONTROLS_REDUCE_ONLY_PASSES_HALT="maybe" is not a boolean/],
    ['AURORA_CONTROLS_RESERVATION_TTL_MS', 'off', /AURORA_CONTROLS_RESERVATION_TTL_MS="off": controls\.reservation_ttl_ms cannot be turned off/],
    ['AURORA_CONTROLS_TRADING_STATE', 'off', /cannot be turned off/],
  ];
  for (const [name, value, msg] of bad) {
    it(`${name}=${JSON.stringify(value)} stops start-up naming the variable`, () => {
      let err: unknown;
      try {
        resolveControls({}, { [name]: value });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(msg);
    });
  }

  it('a bad YAML value names the key and the value', () => {
    expect(() => resolveControls({ max_open_orders: -1 }, {})).toThrow(/controls\.max_open_orders = -1: must be an integer in \[0, 1000000\]/);
    expect(() => resolveControls({ rate: { account_per_s: 0 } }, {})).toThrow(/controls\.rate\.account_per_s = 0/);
    expect(() => resolveControls({ max_order_notional: 5 }, {})).toThrow(ConfigError);
    expect(() => resolveControls('on', {})).toThrow(ConfigError);
  });
});

describe('mergeLimits (POST /ops/limits): RFC 7396 merge, all or nothing', () => {
  const current = buildControlsConfig({
    max_order_notional_usdt: 1000,
    rate: { account_per_s: 5, account_per_min: 100 },
    max_order_qty: { 'BTC/USDT': 2, '*': 1 },
    symbols_blocked: ['DOGE/USDT'],
    reservation_ttl_ms: 5000,
  });

  it('the spec example: one scalar and one rate; the other rate stays', () => {
    const r = mergeLimits(current, { max_order_notional_usdt: 2000, rate: { account_per_s: 10 } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.maxOrderNotionalUsdt).toBe(2000);
    expect(r.config.accountPerS).toBe(10);
    expect(r.config.accountPerMin).toBe(100);
    expect(r.changes).toEqual([
      { key: 'max_order_notional_usdt', old: 1000, new: 2000 },
      { key: 'rate.account_per_s', old: 5, new: 10 },
    ]);
    expect(current.maxOrderNotionalUsdt).toBe(1000);
  });

  it('null turns a limit off, or gives a tuning key its default', () => {
    const r = mergeLimits(current, { max_order_notional_usdt: null, rate: { account_per_min: null }, reservation_ttl_ms: null });
    expect(r.ok && r.changes).toEqual([
      { key: 'max_order_notional_usdt', old: 1000, new: null },
      { key: 'rate.account_per_min', old: 100, new: null },
      { key: 'reservation_ttl_ms', old: 5000, new: 30000 },
    ]);
    expect(r.ok && r.config.maxOrderNotionalUsdt).toBe(Infinity);
  });

  it('max_order_qty merges per symbol (null removes one); lists replace', () => {
    const r = mergeLimits(current, { max_order_qty: { 'eth/usdt': 5, 'BTC/USDT': null }, symbols_blocked: ['SHIB/USDT'] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.section.max_order_qty).toEqual({ '*': 1, 'ETH/USDT': 5 });
    expect(r.changes).toEqual([
      { key: 'symbols_blocked', old: ['DOGE/USDT'], new: ['SHIB/USDT'] },
      { key: 'max_order_qty.BTC/USDT', old: 2, new: null },
      { key: 'max_order_qty.ETH/USDT', old: null, new: 5 },
    ]);
  });

  it('an empty body changes nothing', () => {
    const r = mergeLimits(current, {});
    expect(r.ok && r.changes).toEqual([]);
  });

  it('one bad value refuses the whole body (errors name the fields), nothing changes', () => {
    const before = JSON.stringify(current.section);
    const r = mergeLimits(current, { max_order_notional_usdt: 2000, rate: { account_per_s: 0 } });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.map((e) => e.path)).toContain('rate.account_per_s');
    expect(JSON.stringify(current.section)).toBe(before);
    expect(mergeLimits(current, { trading_state: 'HALTED' }).ok).toBe(false);
    expect(mergeLimits(current, { unknown_limit: 1 }).ok).toBe(false);
    expect(mergeLimits(current, 'x').ok).toBe(false);
  });

  it('a result that fails the start-up checks is refused too', () => {
    const r = mergeLimits(current, { trading_windows_utc: [['24:00', '01:00']] });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors[0].message).toMatch(/cannot start at 24:00/);
    const clash = mergeLimits(current, { max_order_qty: { 'btc/usdt': 3 } });
    expect(clash.ok).toBe(false);
  });

  it('merging into no section creates one', () => {
    const r = mergeLimits(NO_CONTROLS, { max_open_orders: 4 });
    expect(r.ok && r.config.present).toBe(true);
    expect(r.ok && r.config.anyOn).toBe(true);
    expect(r.ok && r.changes).toEqual([{ key: 'max_open_orders', old: null, new: 4 }]);
  });

  it('effectiveLimits shows every key, null = off', () => {
    const e = effectiveLimits(NO_CONTROLS);
    expect(e).toEqual({
      reduce_only_passes_halt: true,
      symbols_allowed: null,
      symbols_blocked: null,
      trading_windows_utc: null,
      max_order_qty: null,
      max_order_notional_usdt: null,
      price_collar_bps: null,
      max_market_age_ms: null,
      rate: { account_per_s: null, account_per_min: null, symbol_per_s: null, symbol_per_min: null },
      dedupe_window_s: null,
      reservation_ttl_ms: 30000,
      max_position_notional_usdt: null,
      max_gross_notional_usdt: null,
      max_open_orders: null,
      alert_utilization: 0.8,
    });
  });
});
