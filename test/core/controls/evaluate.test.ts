/** controls.md §0, §3, §4: the whole rule sequence, idempotency, quotas, events, live limits. */
import { describe, expect, it } from 'vitest';
import { buildControlsConfig, mergeLimits, NO_CONTROLS, TS_HALTED, TS_REDUCING } from '../../../src/core/controls/config.ts';
import {
  checkControls,
  commitControls,
  CONTROL_EVENT_CODES,
  controlsObservability,
  controlsSnapshot,
  ControlsVerdict,
  LiveControls,
  publishControls,
  quotasObject,
  replayAnswer,
  setTradingState,
  V_DENY,
  V_PASS,
  V_REPLAY,
} from '../../../src/core/controls/evaluate.ts';
import { controlsFacts } from '../../../src/core/controls/facts.ts';
import { ControlsState } from '../../../src/core/controls/state.ts';
import { CONTROL_REASONS } from '../../../src/core/controls/rules.ts';
import { controlsQuotasValidator } from '../../../src/schema/controls.ts';
import { Desk, req, SMALL, T0 } from './helpers.ts';

describe('§0 parity: no controls section', () => {
  it('passes everything, touches no state, reports no quotas', () => {
    const d = new Desk(undefined);
    for (const over of [{}, { order: { qty: 1e9, symbol: 'ANY' } }, { market: { ts_ms: null, mid: null } }, { order: { client_order_id: 'x' } }]) {
      const v = d.check(over);
      expect(v.kind).toBe(V_PASS);
      expect(v.quotasOn).toBe(false);
      expect(controlsObservability(v)).toBeNull();
      expect(v.events).toEqual([]);
    }
    expect(d.st.accounts.count).toBe(0);
    expect(d.st.reservations.live).toBe(0);
    expect(d.st.dedupe.count).toBe(0);
  });
  it('an empty section is the same (no control on)', () => {
    const d = new Desk({ reservation_ttl_ms: 1000 });
    expect(d.check({ order: { qty: 1e9 } }).quotasOn).toBe(false);
    expect(d.st.reservations.live).toBe(0);
  });
  it('a verified reduce-only order passes the reference halts even with no section; an unverified one is treated as today', () => {
    const d = new Desk(undefined);
    d.position(2);
    const v = d.check({ order: { side: 'sell', qty: 2, reduce_only: true } });
    expect([v.kind, v.reduceOnlyVerified, v.passesHalts]).toEqual([V_PASS, true, true]);
    const u = d.check({ order: { side: 'sell', qty: 3, reduce_only: true } });
    expect([u.kind, u.reduceOnlyVerified, u.passesHalts]).toEqual([V_PASS, false, false]);
    const off = new Desk({ reduce_only_passes_halt: false });
    off.position(2);
    const w = off.check({ order: { side: 'sell', qty: 1, reduce_only: true } });
    expect([w.reduceOnlyVerified, w.passesHalts]).toEqual([true, false]);
  });
});

describe('§3 the rule order: first hit wins', () => {
  it('removing one violation at a time walks every reason in §3 order', () => {
    const d = new Desk({
      dedupe_window_s: 60,
      symbols_allowed: ['BTC/USDT', 'ETH/USDT', 'XRP/USDT'],
      symbols_blocked: ['ETH/USDT'],
      trading_windows_utc: [['09:00', '17:00']],
      max_order_qty: { '*': 1 },
      max_order_notional_usdt: 1000,
      max_market_age_ms: 500,
      price_collar_bps: 100,
      rate: { account_per_s: 2, symbol_per_s: 1 },
      max_open_orders: 2,
      max_position_notional_usdt: 150,
      max_gross_notional_usdt: 250,
    }, { ...SMALL, dedupeIds: 64 });
    let n = 0;
    const id = () => `o${++n}`;
    const o = (order: Record<string, unknown>, market: Record<string, unknown> = {}) => ({ order: { client_order_id: id(), ...order }, market: { ts_ms: d.now, ...market } });
    const seen: string[] = [];
    const step = (over: object) => seen.push(d.reason(over));

    // 08:59:59.5 UTC, before the window: an order with id x1 is refused (and remembered)
    d.now = Date.UTC(2025, 0, 6, 8, 59, 59, 500);
    expect(d.reason(o({ client_order_id: 'x1' }))).toBe('outside_trading_window');
    step(o({ client_order_id: 'x1', qty: 0.5 }));
    d.st.tradingState = TS_HALTED;
    step(o({ reduce_only: true }));
    step(o({}));
    d.st.tradingState = TS_REDUCING;
    step(o({}));
    d.st.tradingState = 0;
    step(o({ symbol: 'SOL/USDT' }));
    step(o({ symbol: 'ETH/USDT' }));
    step(o({}));
    // 09:00:00.000: two allowed orders (account bucket now empty, BTC bucket empty, 2 open, 200 reserved)
    const t1 = Date.UTC(2025, 0, 6, 9, 0, 0);
    d.now = t1;
    expect(d.reason(o({ symbol: 'XRP/USDT', client_order_id: 'xr' }))).toBe('ok');
    expect(d.reason(o({ client_order_id: 'b1' }))).toBe('ok');
    step(o({ qty: 3 }));
    step(o({ price: 1500 }, { mid: 1500 }));
    step(o({ price: 150 }, { ts_ms: t1 - 501 }));
    step(o({ price: 150 }));
    step(o({}));
    d.now = t1 + 500;
    step(o({}));
    d.now = t1 + 1000;
    step(o({}));
    d.posttrade({ account_id: 'acc1', client_order_id: 'xr', status: 'canceled' });
    step(o({}));
    d.posttrade({ account_id: 'acc1', client_order_id: 'b1', status: 'canceled' });
    d.position(2, 100, 'acc1', 'XRP/USDT');
    step(o({}));
    d.position(-1, 100, 'acc1', 'XRP/USDT');
    step(o({}));
    expect(seen).toEqual([
      'duplicate_client_order_id',
      'reduce_only_would_increase',
      'trading_state_halted',
      'trading_state_reducing',
      'symbol_not_allowed',
      'symbol_blocked',
      'outside_trading_window',
      'order_qty_limit',
      'order_notional_limit',
      'market_data_stale',
      'price_collar',
      'throttle_account',
      'throttle_symbol',
      'open_orders_limit',
      'exposure_limit_symbol',
      'exposure_limit_account',
      'ok',
    ]);
    // CONTROL_REASONS (the metric label list) is in the same order
    expect(seen.slice(0, -1)).toEqual(CONTROL_REASONS.filter((r) => r !== 'reference_price_missing' && r !== 'controls_capacity_exhausted'));
  });

  it('reference_price_missing sits at the notional step (rule 4), before market data', () => {
    const d = new Desk({ max_order_notional_usdt: 1000, max_market_age_ms: 500 });
    expect(d.check({ order: { price: null }, market: { mid: null, ts_ms: null } }).denial).toMatchObject({ reason: 'reference_price_missing', rule: 'max_order_notional_usdt', value: null });
    expect(d.check({ order: { price: null }, market: { mid: null, mark_price: 500, ts_ms: null } }).denial?.reason).toBe('market_data_stale');
  });

  it('a denial carries a CONTROL.DENY event and observability.controls {rule, limit, value, ...}', () => {
    const d = new Desk({ max_order_notional_usdt: 1000 });
    const v = d.check({ order: { qty: 11, client_order_id: 'c9' } });
    expect(v.kind).toBe(V_DENY);
    expect(v.denial?.cooldownMs).toBe(0);
    expect(controlsObservability(v)).toEqual({ rule: 'max_order_notional_usdt', limit: 1000, value: 1100 });
    expect(v.events).toEqual([
      {
        code: 'CONTROL.DENY',
        symbol: 'BTC/USDT',
        side: 'buy',
        qty: 11,
        details: { reason: 'order_notional_limit', rule: 'max_order_notional_usdt', limit: 1000, value: 1100, account_id: 'acc1', client_order_id: 'c9' },
      },
    ]);
    for (const e of v.events) expect(CONTROL_EVENT_CODES).toContain(e.code);
  });
});

describe('§3 rule 2 with controls on: trading state and reduce-only', () => {
  const cfg = { max_gross_notional_usdt: 150, trading_windows_utc: [['13:00', '14:00']] as [string, string][], max_order_qty: { '*': 5 } };
  it('an unverified reduce-only order is refused in ACTIVE', () => {
    const d = new Desk(cfg);
    d.now = Date.UTC(2025, 0, 6, 13, 30);
    d.position(2);
    expect(d.check({ order: { side: 'sell', qty: 2.5, reduce_only: true } }).denial).toMatchObject({ reason: 'reduce_only_would_increase', limit: 2, value: 2.5 });
    expect(d.reason({ order: { side: 'buy', qty: 1, reduce_only: true } })).toBe('reduce_only_would_increase');
  });
  it('a verified one passes HALTED / REDUCING, the window and the exposure rules, reserves nothing, but not the qty limit', () => {
    const d = new Desk(cfg); // T0 = 12:00: outside the window; gross 200 > 150 already
    d.position(2);
    d.st.tradingState = TS_HALTED;
    const v = d.check({ order: { side: 'sell', qty: 2, reduce_only: true } });
    expect([v.kind, v.reduceOnlyVerified, v.passesHalts, v.reservedUsdt]).toEqual([V_PASS, true, true, 0]);
    expect(d.st.reservations.live).toBe(0);
    d.st.tradingState = TS_REDUCING;
    expect(d.reason({ order: { side: 'sell', qty: 1, reduce_only: true } })).toBe('ok');
    expect(d.reason({ order: { side: 'buy', qty: 1 } })).toBe('trading_state_reducing');
    d.position(8);
    expect(d.reason({ order: { side: 'sell', qty: 6, reduce_only: true } })).toBe('order_qty_limit');
  });
  it('reduce_only_passes_halt: false refuses verified reduce-only orders in HALTED and REDUCING', () => {
    const d = new Desk({ ...cfg, reduce_only_passes_halt: false });
    d.position(2);
    d.st.tradingState = TS_HALTED;
    const v = d.check({ order: { side: 'sell', qty: 1, reduce_only: true } });
    expect([v.denial?.reason, v.reduceOnlyVerified, v.passesHalts]).toEqual(['trading_state_halted', true, false]);
    d.st.tradingState = TS_REDUCING;
    expect(d.reason({ order: { side: 'sell', qty: 1, reduce_only: true } })).toBe('trading_state_reducing');
  });
  it('positions are per account: another account has nothing to reduce', () => {
    const d = new Desk(cfg);
    d.position(2);
    expect(d.reason({ account: { account_id: 'acc2' }, order: { side: 'sell', qty: 1, reduce_only: true } })).toBe('reduce_only_would_increase');
  });
  it('setTradingState journals TRADING_STATE {from, to, source} on a change only', () => {
    const st = ControlsState.create(SMALL, 0, false);
    expect(setTradingState(st, 'HALTED', 'ops')).toEqual({ code: 'TRADING_STATE', details: { from: 'ACTIVE', to: 'HALTED', source: 'ops' } });
    expect(st.tradingState).toBe(TS_HALTED);
    expect(setTradingState(st, 'HALTED', 'ops')).toBeNull();
  });
});

describe('§4 quotas', () => {
  it('what every limit leaves after an allow; null for limits that are off; counts are integers', () => {
    const d = new Desk({ rate: { account_per_min: 10, symbol_per_min: 4, account_per_s: 3 }, max_open_orders: 5, max_position_notional_usdt: 1000, max_gross_notional_usdt: 2500 });
    d.position(3, 100, 'acc1', 'ETH/USDT'); // gross 300
    d.position(-1, 100); // BTC short 1 @ 100
    const v = d.check({ order: { qty: 2, price: 100 } }); // buy 2 BTC: 200 reserved
    expect(v.kind).toBe(V_PASS);
    expect(v.reservedUsdt).toBe(200);
    expect(quotasObject(v)).toEqual({
      trades_pm_left: 3, // min(10 − 1, 4 − 1)
      symbol_exposure_left_usdt: 700, // 1000 − |−100| − 200 reserved buy
      account_exposure_left_usdt: 1900, // 2500 − (300 + 100) − 200
      orders_ps_left: 2,
      open_orders_left: 4,
    });
    expect(controlsQuotasValidator.check(quotasObject(v))).toBe(true);
    expect(controlsObservability(v)).toEqual({ reserved_usdt: 200, quotas: quotasObject(v) });
    const w = d.check({ order: { qty: 1, price: 100 } }, 250); // 250 ms later: 0.75 of a per-s token back
    expect(quotasObject(w)).toEqual({ trades_pm_left: 2, symbol_exposure_left_usdt: 600, account_exposure_left_usdt: 1800, orders_ps_left: 1, open_orders_left: 3 });
  });
  it('a denial reports what is left without consuming; limits off are null', () => {
    const d = new Desk({ max_order_qty: { '*': 1 }, rate: { symbol_per_s: 2 } });
    expect(d.reason()).toBe('ok');
    const v = d.check({ order: { qty: 2 } });
    expect(v.denial?.reason).toBe('order_qty_limit');
    expect(quotasObject(v)).toEqual({ trades_pm_left: null, symbol_exposure_left_usdt: null, account_exposure_left_usdt: null, orders_ps_left: 1, open_orders_left: null });
  });
});

describe('§3 rule 1: idempotency', () => {
  const cfg = { dedupe_window_s: 10, max_gross_notional_usdt: 1e6, rate: { account_per_s: 100 } };
  it('same id, byte-identical order → the original answer, no new decision, no new reservation or token', () => {
    const d = new Desk(cfg);
    const first = d.check({ order: { client_order_id: 'r1' } });
    expect(first.kind).toBe(V_PASS);
    const used = d.st.accounts.bucketUsed(0, 6, 100, 1000, d.now);
    const v = d.check({ order: { client_order_id: 'r1' } }, 9_999);
    expect(v.kind).toBe(V_REPLAY);
    expect(v.replayBody).toBe('{"allow":true,"reason":"ok","observability":{"reasons":[]}}');
    expect(v.quotasOn).toBe(false);
    expect(d.st.reservations.live).toBe(1);
    expect(d.st.accounts.bucketUsed(0, 6, 100, 1000, d.now)).toBeLessThanOrEqual(used);
    expect(replayAnswer(v.replayBody as string)).toBe('{"allow":true,"reason":"ok","observability":{"reasons":[],"idempotent_replay":true}}');
  });
  it('a denied original is replayed as the denial', () => {
    const d = new Desk({ ...cfg, max_order_qty: { '*': 1 } });
    expect(d.reason({ order: { client_order_id: 'r1', qty: 2 } })).toBe('order_qty_limit');
    expect(d.check({ order: { client_order_id: 'r1', qty: 2 } }).replayBody).toContain('"reason":"order_qty_limit"');
  });
  it('same id, different order → duplicate_client_order_id (also for a one-character change)', () => {
    const d = new Desk(cfg);
    d.check({ order: { client_order_id: 'r1' } });
    const v = d.check({ order: { client_order_id: 'r1', qty: 1.0000001 } }, 5000);
    expect(v.denial).toMatchObject({ reason: 'duplicate_client_order_id', rule: 'dedupe_window_s', limit: 10, value: 'r1', details: { first_seen_ms: T0 } });
    expect(d.reason({ order: { client_order_id: 'r1', side: 'sell' } })).toBe('duplicate_client_order_id');
  });
  it('the window: age < window replays; age = window is a new decision', () => {
    const d = new Desk(cfg);
    d.check({ order: { client_order_id: 'r1' } });
    expect(d.reason({ order: { client_order_id: 'r1' } }, 9_999)).toBe('replay');
    expect(d.reason({ order: { client_order_id: 'r1' } }, 1)).toBe('ok');
    expect(d.st.reservations.live).toBe(2);
  });
  it('ids are per account', () => {
    const d = new Desk(cfg);
    d.check({ order: { client_order_id: 'r1' } });
    expect(d.reason({ account: { account_id: 'acc2' }, order: { client_order_id: 'r1', qty: 3 } })).toBe('ok');
  });
  it('a retry while the first answer is not stored yet is refused (in flight), never decided twice', () => {
    const d = new Desk(cfg);
    const f = controlsFacts(req({ order: { client_order_id: 'r1' } }));
    const v = new ControlsVerdict();
    checkControls(d.cfg, d.st, f, d.now, v);
    commitControls(d.cfg, d.st, f, d.now, v, true);
    const w = new ControlsVerdict();
    checkControls(d.cfg, d.st, f, d.now, w);
    expect(w.denial).toMatchObject({ reason: 'duplicate_client_order_id', cooldownMs: 1, details: { in_flight: true } });
  });
  it('the order hash covers the order object only', () => {
    const a = controlsFacts(req({ order: { client_order_id: 'r1' }, market: { mid: 1 } }));
    const b = controlsFacts(req({ order: { client_order_id: 'r1' }, market: { mid: 2 } }));
    const c = controlsFacts(req({ order: { client_order_id: 'r1', qty: 2 } }));
    expect(a.orderHash).toBe(b.orderHash);
    expect(a.orderHash).not.toBe(c.orderHash);
    expect(controlsFacts(req({ order: { client_order_id: 'r1' } }), '{"raw":1}').orderHash).not.toBe(a.orderHash);
  });
});

describe('the service split: a pipeline denial after the controls consumes nothing', () => {
  it('check → (pipeline denies) → commit(false): no token, no reservation, the id remembered', () => {
    const d = new Desk({ rate: { account_per_s: 1 }, max_open_orders: 1, dedupe_window_s: 5 });
    const f = controlsFacts(req({ order: { client_order_id: 'p1' } }));
    const v = new ControlsVerdict();
    checkControls(d.cfg, d.st, f, d.now, v);
    expect(v.kind).toBe(V_PASS);
    commitControls(d.cfg, d.st, f, d.now, v, false);
    expect(v.reservedUsdt).toBe(0);
    expect(d.st.reservations.live).toBe(0);
    expect(v.dedupeRecord).toBeGreaterThanOrEqual(0);
    expect(quotasObject(v)).toMatchObject({ orders_ps_left: 1, open_orders_left: 1 });
    expect(d.reason({ order: { client_order_id: 'p2' } })).toBe('ok');
  });
});

describe('LIMIT.NEAR: once per crossing of alert_utilization', () => {
  it('fires when an allow crosses the threshold, not again while above, again after dropping below', () => {
    const d = new Desk({ max_open_orders: 5, alert_utilization: 0.6 });
    const near = () => d.check({ order: { client_order_id: `n${d.now}` } }, 1).events.filter((e) => e.code === 'LIMIT.NEAR');
    expect(near()).toEqual([]); // 1/5
    expect(near()).toEqual([]); // 2/5
    const e = near(); // 3/5 = 0.6
    expect(e).toEqual([{ code: 'LIMIT.NEAR', symbol: null, details: { account_id: 'acc1', limit: 'max_open_orders', value: 3, max: 5, utilization: 0.6, threshold: 0.6 } }]);
    expect(near()).toEqual([]); // 4/5
    d.posttrade({ account_id: 'acc1', client_order_id: `n${T0 + 1}`, status: 'canceled' });
    d.posttrade({ account_id: 'acc1', client_order_id: `n${T0 + 2}`, status: 'canceled' });
    expect(near()).toEqual([]); // 3/5 but still flagged: re-armed only when a decision sees it below
    d.posttrade({ account_id: 'acc1', client_order_id: `n${T0 + 3}`, status: 'canceled' });
    d.posttrade({ account_id: 'acc1', client_order_id: `n${T0 + 4}`, status: 'canceled' });
    expect(near()).toEqual([]); // 2/5: below, re-armed
    expect(near().length).toBe(1); // 3/5: crossed again
  });
  it('per symbol exposure', () => {
    const d = new Desk({ max_position_notional_usdt: 1000 });
    d.position(7.5); // 750
    const v = d.check({ order: { qty: 0.5 } }); // 800 = 0.8
    expect(v.events).toEqual([{ code: 'LIMIT.NEAR', symbol: 'BTC/USDT', details: { account_id: 'acc1', limit: 'max_position_notional_usdt', value: 800, max: 1000, utilization: 0.8, threshold: 0.8 } }]);
  });
});

describe('live limits shared by every thread (POST /ops/limits)', () => {
  it('a merge published by one thread is picked up by another at its next decision', () => {
    const d = new Desk({ max_order_notional_usdt: 1000 });
    const worker = new LiveControls();
    const other = new ControlsState(d.st.ctl.buffer, 0, SMALL);
    expect(worker.current(other).maxOrderNotionalUsdt).toBe(1000);
    const same = worker.current(other);
    expect(worker.current(other)).toBe(same); // no rebuild without a new generation
    const m = mergeLimits(d.cfg, { max_order_notional_usdt: 50 });
    expect(m.ok).toBe(true);
    if (!m.ok) return;
    publishControls(d.st, m.config);
    const cfg = worker.current(other);
    expect(cfg.maxOrderNotionalUsdt).toBe(50);
    const v = new ControlsVerdict();
    checkControls(cfg, other, controlsFacts(req()), T0, v);
    expect(v.denial?.reason).toBe('order_notional_limit');
    publishControls(d.st, NO_CONTROLS);
    expect(worker.current(other).anyOn).toBe(false);
  });
});

describe('GET /ops/limits snapshot', () => {
  it('effective limits, trading state, per account positions / reservations / buckets / utilisation', () => {
    const d = new Desk({ max_open_orders: 4, rate: { account_per_s: 5 }, max_gross_notional_usdt: 1000 });
    d.position(2, 100);
    d.check({ order: { client_order_id: 's1', qty: 1, price: 100 } });
    const s = controlsSnapshot(d.st, d.cfg, d.now);
    expect(s).toMatchObject({ trading_state: 'ACTIVE', reservations_open: 1, lost_fills: 0 });
    expect((s.limits as Record<string, unknown>).max_open_orders).toBe(4);
    expect(s.accounts).toEqual([
      {
        account_id: 'acc1',
        open_orders: 1,
        reserved_usdt: 100,
        gross_positions_usdt: 200,
        account_per_s_left: 4,
        account_per_min_left: null,
        utilization: { max_open_orders: 0.25, max_gross_notional_usdt: 0.3 },
        positions: [
          { symbol: 'BTC/USDT', qty: 2, avg_price: 100, notional_usdt: 200, reserved_buy_usdt: 100, reserved_sell_usdt: 0, open_reservations: 1, symbol_per_s_left: null, symbol_per_min_left: null, utilization: null },
        ],
      },
    ]);
  });
});

describe('replayAnswer', () => {
  it('adds idempotent_replay as the last key of observability', () => {
    expect(replayAnswer('{"allow":false,"observability":{"reasons":["x"]}}')).toBe('{"allow":false,"observability":{"reasons":["x"],"idempotent_replay":true}}');
    expect(replayAnswer('{"a":1,"observability":{}}')).toBe('{"a":1,"observability":{"idempotent_replay":true}}');
  });
});

describe('controlsFacts (§1)', () => {
  it('account "default" when absent or empty; type from price; symbol canonical, from market.symbol when order has none', () => {
    const a = controlsFacts({ account: {}, order: { side: 'BUY', qty: '2', price: 0 }, market: { symbol: 'binance:btc/usdt', mark_price: 50 } });
    expect(a).toMatchObject({ accountId: 'default', symbol: 'BTC/USDT', side: 1, qty: 2, isLimit: false, clientOrderId: null, idKey: 0, orderHash: 0 });
    expect(Number.isNaN(a.mid) && a.markPrice === 50 && Number.isNaN(a.tsMs)).toBe(true);
    expect(controlsFacts({ account: { account_id: '' }, order: { price: 10 }, market: {} })).toMatchObject({ accountId: 'default', isLimit: true, side: 0, symbol: null, symKey: 0 });
    expect(controlsFacts({ account: {}, order: { price: 10, type: 'market' }, market: {} }).isLimit).toBe(false);
    expect(controlsFacts({ account: {}, order: { type: 'limit' }, market: {} }).isLimit).toBe(true);
  });
});
