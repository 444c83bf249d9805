import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGate } from '../helpers/gate.ts';
import { check, decisions, events, fill, journalWhen, ops, post, pre, startGateWith, type Json } from './helpers.ts';

/**
 * Every rule of controls.md §3 at service level (a real gate, worker threads, journal files): for each
 * rule one order the controls let through and one they refuse, with the exact reason, `hard_gate: true`,
 * `observability.controls` = {rule, limit, value, ...}, the §4 quotas, and one CONTROL.DENY journal
 * event per refusal. (Every limit at, below and above its value is unit-tested in test/core/controls.)
 * The trading-state rules and reduce-only orders: reduce-only.test.ts; idempotent replays:
 * idempotency.test.ts.
 */

const pad = (n: number) => String(n).padStart(2, '0');
/** "HH:MM" UTC of now + `minutes` (mod one day) */
function hhmm(minutes: number): string {
  const d = new Date(Date.now() + minutes * 60_000);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

const CONTROLS = {
  symbols_allowed: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'blockusdt'],
  symbols_blocked: ['BLOCKUSDT'],
  // open from 3 h ago to 3 h from now (wrapping midnight when it must)
  trading_windows_utc: [[hhmm(-180), hhmm(180)]],
  max_order_qty: { BTCUSDT: 5, '*': 100 },
  max_order_notional_usdt: 10_000,
  price_collar_bps: 50,
  max_market_age_ms: 1000,
  dedupe_window_s: 60,
  max_position_notional_usdt: 5000,
  max_gross_notional_usdt: 8000,
  max_open_orders: 5,
};

/** The refusal of `r`: reason, hard gate, no pipeline observability, the controls object. */
function expectDenied(r: Json, reason: string, controls: Json): void {
  expect(r.allow).toBe(false);
  expect(r.reason).toBe(reason);
  expect(r.hard_gate).toBe(true);
  expect(r.observability.reasons).toEqual([reason]);
  expect(r.observability.gate_state).toBeUndefined();
  expect(r.observability.controls).toMatchObject(controls);
  expect(Object.keys(r.quotas).sort()).toEqual(['account_exposure_left_usdt', 'open_orders_left', 'orders_ps_left', 'symbol_exposure_left_usdt', 'trades_pm_left']);
}

function expectAllowed(r: Json, reservedUsdt: number): void {
  expect(r.allow, JSON.stringify(r)).toBe(true);
  expect(r.reason).toBe('ok');
  expect(r.hard_gate).toBe(false);
  expect(r.observability.gate_state).toBe('PASS');
  expect(r.observability.controls).toEqual({ reserved_usdt: reservedUsdt, quotas: r.quotas });
}

describe('desk controls at service level: one allowed and one refused order per rule (controls.md §3)', () => {
  let gate: TestGate;
  let denials = 0;

  beforeAll(async () => {
    gate = await startGateWith({ controls: CONTROLS }, { threads: 1 });
  });
  afterAll(async () => {
    await gate?.stop();
  });

  const deny = async (body: Json, reason: string, controls: Json) => {
    const r = await pre(gate, body);
    expectDenied(r, reason, controls);
    denials++;
    return r;
  };

  it('an allowed order: quotas of §4 (null for the limits that are off), reservation in observability.controls', async () => {
    const r = await pre(gate, check({ account: 'allow', qty: 2, price: 100, cid: 'allow-1' }));
    expectAllowed(r, 200);
    expect(r.quotas).toEqual({
      trades_pm_left: null,
      symbol_exposure_left_usdt: 5000 - 200,
      account_exposure_left_usdt: 8000 - 200,
      orders_ps_left: null,
      open_orders_left: 4,
    });
  });

  it('rule 3: symbol_not_allowed, symbol_blocked (allow-list and restricted list, canonical symbols)', async () => {
    expectAllowed(await pre(gate, check({ account: 'sym', symbol: 'binance:ethusdt' })), 100);
    await deny(check({ account: 'sym', symbol: 'DOGEUSDT' }), 'symbol_not_allowed', { rule: 'symbols_allowed', limit: 4, value: 'DOGEUSDT' });
    await deny(check({ account: 'sym', symbol: 'BlockUSDT' }), 'symbol_blocked', { rule: 'symbols_blocked', limit: 1, value: 'BLOCKUSDT' });
  });

  it('rule 4: order_qty_limit (per symbol and "*"), order_notional_limit, reference_price_missing', async () => {
    expectAllowed(await pre(gate, check({ account: 'per-order', qty: 5 })), 500);
    await deny(check({ account: 'per-order', qty: 5.5 }), 'order_qty_limit', { rule: 'max_order_qty', limit: 5, value: 5.5, symbol: 'BTCUSDT' });
    await deny(check({ account: 'per-order', symbol: 'SOLUSDT', qty: 101 }), 'order_qty_limit', { rule: 'max_order_qty', limit: 100, value: 101 });
    expectAllowed(await pre(gate, check({ account: 'per-order2', symbol: 'SOLUSDT', qty: 40, price: 100 })), 4000);
    await deny(check({ account: 'per-order', symbol: 'SOLUSDT', qty: 60, price: 200, mid: 200 }), 'order_notional_limit', {
      rule: 'max_order_notional_usdt',
      limit: 10_000,
      value: 12_000,
    });
    await deny(check({ account: 'per-order', price: null, mid: null }), 'reference_price_missing', { rule: 'max_order_notional_usdt', limit: 10_000, value: null });
  });

  it('rule 5: market_data_stale (age, or no ts_ms), price_collar (limit orders only)', async () => {
    expectAllowed(await pre(gate, check({ account: 'md', tsMs: Date.now() - 200 })), 100);
    const stale = await deny(check({ account: 'md', tsMs: Date.now() - 5000 }), 'market_data_stale', { rule: 'max_market_age_ms', limit: 1000 });
    expect(stale.observability.controls.value).toBeGreaterThanOrEqual(5000);
    expect(stale.observability.controls.value).toBeLessThan(10_000);
    await deny(check({ account: 'md', tsMs: null }), 'market_data_stale', { rule: 'max_market_age_ms', limit: 1000, value: null });
    expectAllowed(await pre(gate, check({ account: 'md', price: 100.4 })), 100.4);
    const collar = await deny(check({ account: 'md', price: 101 }), 'price_collar', { rule: 'price_collar_bps', limit: 50, reference_price: 100, price: 101 });
    expect(collar.observability.controls.value).toBeCloseTo(100, 6);
    // a sell is collared below the reference; a market order is not collared
    await deny(check({ account: 'md', side: 'sell', price: 99 }), 'price_collar', { rule: 'price_collar_bps', limit: 50 });
    expectAllowed(await pre(gate, check({ account: 'md', side: 'sell', price: 101 })), 101);
    expectAllowed(await pre(gate, check({ account: 'md', type: 'market', price: 105 })), 105);
  });

  it('rule 7: open_orders_limit, exposure_limit_symbol, exposure_limit_account (reservations of allowed orders)', async () => {
    for (let i = 0; i < 5; i++) expectAllowed(await pre(gate, check({ account: 'open', cid: `open-${i}` })), 100);
    await deny(check({ account: 'open', cid: 'open-5' }), 'open_orders_limit', { rule: 'max_open_orders', limit: 5, value: 6 });
    // a final post-trade outcome of one of them frees a slot
    await post(gate, fill({ account: 'open', cid: 'open-0', status: 'canceled', qty: 0 }));
    expectAllowed(await pre(gate, check({ account: 'open', cid: 'open-6' })), 100);

    // symbol: 4 500 reserved, 4 500 more would make 9 000 > 5 000
    expectAllowed(await pre(gate, check({ account: 'exp', qty: 5, price: 900, mid: 900 })), 4500);
    await deny(check({ account: 'exp', qty: 5, price: 900, mid: 900 }), 'exposure_limit_symbol', {
      rule: 'max_position_notional_usdt',
      limit: 5000,
      value: 9000,
      position_usdt: 0,
      reserved_usdt: 4500,
      order_usdt: 4500,
    });
    // account: another symbol fits its own limit, but the account would hold 9 000 > 8 000
    await deny(check({ account: 'exp', symbol: 'ETHUSDT', qty: 5, price: 900, mid: 900 }), 'exposure_limit_account', {
      rule: 'max_gross_notional_usdt',
      limit: 8000,
      value: 9000,
    });
    const ok = await pre(gate, check({ account: 'exp', symbol: 'ETHUSDT', qty: 3, price: 900, mid: 900 }));
    expectAllowed(ok, 2700);
    expect(ok.quotas).toMatchObject({ symbol_exposure_left_usdt: 5000 - 2700, account_exposure_left_usdt: 8000 - 4500 - 2700, open_orders_left: 3 });
    // positions from fills count too: a fill of 4 000 on SOLUSDT leaves 1 000 of the account's 8 000
    await post(gate, fill({ account: 'exp2', symbol: 'SOLUSDT', qty: 40, price: 100 }));
    await deny(check({ account: 'exp2', symbol: 'SOLUSDT', qty: 11, price: 100 }), 'exposure_limit_symbol', { value: 5100, position_usdt: 4000 });
    expectAllowed(await pre(gate, check({ account: 'exp2', symbol: 'SOLUSDT', qty: 10, price: 100 })), 1000);
  });

  it('rule 1: the same client_order_id with a different order is refused duplicate_client_order_id', async () => {
    expectAllowed(await pre(gate, check({ account: 'dup', cid: 'dup-1', qty: 1 })), 100);
    await deny(check({ account: 'dup', cid: 'dup-1', qty: 2 }), 'duplicate_client_order_id', { rule: 'dedupe_window_s', limit: 60, value: 'dup-1' });
    // ids are per account: another account may use it
    expectAllowed(await pre(gate, check({ account: 'dup-other', cid: 'dup-1', qty: 2 })), 200);
  });

  it('a refusal runs no pipeline step (no HealthGuard sample), is journaled as CONTROL.DENY and in orders_denied', async () => {
    const samples = async () => ((await ops(gate, 'POST', '/ops/reset')).json as Json).state.samples as number;
    const s0 = await samples();
    await deny(check({ account: 'nostep', symbol: 'DOGEUSDT', market: { latency_ms: 999 } }), 'symbol_not_allowed', { rule: 'symbols_allowed' });
    expect(await samples()).toBe(s0);
    const evs = await journalWhen(gate, (e) => e.filter((x) => x.event_code === 'CONTROL.DENY').length >= denials);
    const denies = evs.filter((e) => e.event_code === 'CONTROL.DENY');
    expect(denies.length).toBe(denials);
    expect(denies.find((e) => e.details.reason === 'symbol_blocked')).toMatchObject({
      symbol: 'BLOCKUSDT',
      side: 'buy',
      details: { reason: 'symbol_blocked', rule: 'symbols_blocked', limit: 1, value: 'BLOCKUSDT', account_id: 'sym', client_order_id: null },
    });
    // the POLICY.DECISION of a refusal carries the same observability as the answer
    const last = decisions(events(gate)).at(-1)!;
    expect(last.details).toMatchObject({ decision: 'NO_OP', reason: 'symbol_not_allowed', observability: { reasons: ['symbol_not_allowed'], controls: { rule: 'symbols_allowed' } } });
  });
});

describe('throttles (rule 6): token buckets over allowed orders, refused orders do not consume', () => {
  let gate: TestGate;
  beforeAll(async () => {
    gate = await startGateWith({ controls: { rate: { account_per_min: 6, symbol_per_min: 4 } } }, { threads: 0 });
  });
  afterAll(async () => {
    await gate?.stop();
  });

  it('throttle_symbol: the 5th order of one symbol in a minute; cooldown_ms = until a token is back', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await pre(gate, check({ account: 'ts' }));
      expectAllowed(r, 0);
      expect(r.quotas).toEqual({ trades_pm_left: 3 - i, symbol_exposure_left_usdt: null, account_exposure_left_usdt: null, orders_ps_left: null, open_orders_left: null });
    }
    const r = await pre(gate, check({ account: 'ts' }));
    expectDenied(r, 'throttle_symbol', { rule: 'rate.symbol_per_min', limit: 4 });
    expect(r.observability.controls.value).toBeCloseTo(4, 1);
    expect(r.cooldown_ms).toBeGreaterThan(10_000);
    expect(r.cooldown_ms).toBeLessThanOrEqual(15_000);
    // another symbol of the same account still has tokens
    expectAllowed(await pre(gate, check({ account: 'ts', symbol: 'ETHUSDT' })), 0);
  });

  it('throttle_account: the 7th order of an account in a minute, across symbols', async () => {
    for (let i = 0; i < 6; i++) expectAllowed(await pre(gate, check({ account: 'ta', symbol: i % 2 === 0 ? 'BTCUSDT' : 'ETHUSDT' })), 0);
    const r = await pre(gate, check({ account: 'ta', symbol: 'SOLUSDT' }));
    expectDenied(r, 'throttle_account', { rule: 'rate.account_per_min', limit: 6 });
    expect(r.cooldown_ms).toBeGreaterThan(5000);
    expect(r.cooldown_ms).toBeLessThanOrEqual(10_000);
    expect(r.quotas.trades_pm_left).toBe(0);
  });

  it('an order the pipeline refuses takes no token', async () => {
    for (let i = 0; i < 5; i++) expect((await pre(gate, check({ account: 'tp', market: { score: -2 } }))).reason).toBe('expected_return_gate');
    for (let i = 0; i < 4; i++) expectAllowed(await pre(gate, check({ account: 'tp' })), 0);
  });
});

describe('trading windows (rule 3): outside_trading_window, cooldown_ms to the next window', () => {
  let gate: TestGate;
  beforeAll(async () => {
    // one window starting in 2 hours, 1 hour long
    gate = await startGateWith({ controls: { trading_windows_utc: [[hhmm(120), hhmm(180)]] } }, { threads: 0 });
  });
  afterAll(async () => {
    await gate?.stop();
  });

  it('refuses new exposure outside the window; with no exposure rule on quotas are all null', async () => {
    const r = await pre(gate, check({ account: 'w' }));
    expectDenied(r, 'outside_trading_window', { rule: 'trading_windows_utc', limit: [[hhmm(120), hhmm(180)]] });
    expect(r.observability.controls.value).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(r.cooldown_ms).toBeGreaterThan(119 * 60_000 - 60_000);
    expect(r.cooldown_ms).toBeLessThanOrEqual(120 * 60_000);
    expect(Object.values(r.quotas)).toEqual([null, null, null, null, null]);
  });

  it('a verified reduce-only order passes the window rule (it opens no exposure)', async () => {
    await post(gate, fill({ account: 'w2', qty: 3 }));
    const r = await pre(gate, check({ account: 'w2', side: 'sell', qty: 2, reduceOnly: true }));
    expectAllowed(r, 0);
    // not verified (more than the position): refused before the window rule
    expectDenied(await pre(gate, check({ account: 'w2', side: 'sell', qty: 4, reduceOnly: true })), 'reduce_only_would_increase', { rule: 'reduce_only', limit: 3, value: 4 });
  });
});
