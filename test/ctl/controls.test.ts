import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { limitsBody, limitRows, limitsText, LIMIT_KEYS } from '../../src/ctl/commands/controls.ts';
import { UsageError } from '../../src/ctl/errors.ts';
import { captureIo } from '../../src/ctl/io.ts';
import { main } from '../../src/ctl/main.ts';
import type { LimitsResponse } from '../../src/schema/ops.ts';
import { testHooks } from '../../src/testing/index.ts';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';

/**
 * The desk-control commands of the operator CLI (docs/controls.md "ctl"): `trading-state`, `limits`,
 * `set-limit` — their pure parts, then against a real gate, each effect read back from the gate itself.
 */

describe('set-limit KEY=VALUE pairs (pure)', () => {
  it('numbers, dotted rate and max_order_qty keys, null/off, booleans, lists and windows', () => {
    expect(limitsBody(['max_order_notional_usdt=2000', 'rate.account_per_s=10', 'rate.symbol_per_min=off'])).toEqual({
      max_order_notional_usdt: 2000,
      rate: { account_per_s: 10, symbol_per_min: null },
    });
    expect(limitsBody(['max_order_qty.BTCUSDT=0.5', 'max_order_qty.*=100', 'max_order_qty.ETHUSDT=null'])).toEqual({ max_order_qty: { BTCUSDT: 0.5, '*': 100, ETHUSDT: null } });
    expect(limitsBody(['price_collar_bps=null', 'max_open_orders=OFF', 'dedupe_window_s=1e2'])).toEqual({ price_collar_bps: null, max_open_orders: null, dedupe_window_s: 100 });
    expect(limitsBody(['reduce_only_passes_halt=false'])).toEqual({ reduce_only_passes_halt: false });
    expect(limitsBody(['reduce_only_passes_halt=null'])).toEqual({ reduce_only_passes_halt: null });
    expect(limitsBody(['symbols_allowed=BTCUSDT, ETHUSDT', 'symbols_blocked=["DOGEUSDT"]'])).toEqual({ symbols_allowed: ['BTCUSDT', 'ETHUSDT'], symbols_blocked: ['DOGEUSDT'] });
    expect(limitsBody(['trading_windows_utc=08:00-16:00,20:00-02:00'])).toEqual({ trading_windows_utc: [['08:00', '16:00'], ['20:00', '02:00']] });
    expect(limitsBody(['trading_windows_utc=[["00:00","24:00"]]'])).toEqual({ trading_windows_utc: [['00:00', '24:00']] });
    expect(limitsBody(['rate=null', 'max_order_qty=off'])).toEqual({ rate: null, max_order_qty: null });
  });

  it('refuses what the gate would refuse anyway, or cannot mean anything, before any request (usage error)', () => {
    for (const bad of [
      ['max_order_notional_usdt'],
      ['=5'],
      ['max_order_notional=5'],
      ['trading_state=HALTED'],
      ['rate.per_hour=5'],
      ['rate=5'],
      ['max_order_qty=5'],
      ['max_order_qty.=5'],
      ['max_open_orders.x=5'],
      ['max_open_orders=ten'],
      ['max_open_orders=Infinity'],
      ['reduce_only_passes_halt=off'],
      ['reduce_only_passes_halt=yes'],
      ['trading_windows_utc=8-16'],
      ['symbols_blocked=[oops'],
      ['max_open_orders=5', 'max_open_orders=6'],
      ['rate=null', 'rate.account_per_s=5'],
      ['rate.account_per_s=5', 'rate=null'],
    ]) {
      expect(() => limitsBody(bad), bad.join(' ')).toThrow(UsageError);
    }
  });

  it('knows every key of the POST /ops/limits body (one source: the body schema)', () => {
    expect([...LIMIT_KEYS].sort()).toEqual(
      ['alert_utilization', 'dedupe_window_s', 'max_gross_notional_usdt', 'max_market_age_ms', 'max_open_orders', 'max_order_notional_usdt', 'max_order_qty', 'max_position_notional_usdt', 'price_collar_bps', 'rate', 'reduce_only_passes_halt', 'reservation_ttl_ms', 'symbols_allowed', 'symbols_blocked', 'trading_windows_utc'].sort(),
    );
  });
});

describe('limits output (pure)', () => {
  const snap: LimitsResponse = {
    status: 'ok',
    trading_state: 'REDUCING',
    limits: {
      reduce_only_passes_halt: true,
      symbols_allowed: null,
      symbols_blocked: ['DOGEUSDT'],
      trading_windows_utc: [['08:00', '16:00']],
      max_order_qty: { BTCUSDT: 2 },
      max_order_notional_usdt: 2000,
      price_collar_bps: null,
      max_market_age_ms: null,
      rate: { account_per_s: 10, account_per_min: null, symbol_per_s: null, symbol_per_min: null },
      dedupe_window_s: null,
      reservation_ttl_ms: 30000,
      max_position_notional_usdt: null,
      max_gross_notional_usdt: 10000,
      max_open_orders: 4,
      alert_utilization: 0.8,
    },
    reservations_open: 1,
    lost_fills: 0,
    accounts: [
      {
        account_id: 'desk-a',
        open_orders: 1,
        reserved_usdt: 500,
        gross_positions_usdt: 1000.5,
        account_per_s_left: 9,
        account_per_min_left: null,
        utilization: { max_open_orders: 0.25, max_gross_notional_usdt: 0.15005 },
        positions: [
          { symbol: 'BTCUSDT', qty: 0.02, avg_price: 50025, notional_usdt: 1000.5, reserved_buy_usdt: 500, reserved_sell_usdt: 0, open_reservations: 1, symbol_per_s_left: null, symbol_per_min_left: null, utilization: null },
        ],
      },
    ],
  };

  it('flattens rate.* and max_order_qty.<symbol>; off for null; windows as HH:MM-HH:MM', () => {
    const rows = Object.fromEntries(limitRows(snap.limits));
    expect(rows).toMatchObject({
      'rate.account_per_s': '10',
      'rate.account_per_min': 'off',
      'max_order_qty.BTCUSDT': '2',
      symbols_blocked: 'DOGEUSDT',
      symbols_allowed: 'off',
      trading_windows_utc: '08:00-16:00',
      max_order_notional_usdt: '2000',
    });
  });

  it('a table per section: state, limits, accounts, positions', () => {
    const t = limitsText(snap);
    expect(t).toMatch(/^trading state {2}REDUCING\nreservations {3}1 open\n/);
    expect(t).toMatch(/ {2}max_order_notional_usdt +2000\n/);
    expect(t).toMatch(/ {2}account +open_orders +reserved_usdt +gross_usdt +util_open +util_gross +per_s_left +per_min_left\n {2}desk-a +1 +500 +1000\.50 +25\.0% +15\.0% +9 +-\n/);
    expect(t).toMatch(/ {2}desk-a +BTCUSDT +0\.02 +50025 +1000\.50 +500 +0 +1 +-\n/);
    expect(limitsText({ ...snap, accounts: [] })).toMatch(/accounts: none with control state yet/);
  });
});

const TOKEN = 'ctl-controls-token-0123456789abcdef';
const OPS = { 'X-OPS-TOKEN': TOKEN };
let gate: TestGate;

async function ctl(args: string[], env: Record<string, string> = { OPS_TOKEN: TOKEN }) {
  const c = captureIo();
  const code = await main([...args, '--url', gate.url], env, c);
  return { code, out: c.stdout(), err: c.stderr() };
}
const limitsNow = async () => (await http(`${gate.url}/ops/limits`, 'GET', { headers: OPS })).json as LimitsResponse;

describe('against a real gate', () => {
  beforeAll(async () => {
    gate = await startTestGate({ OPS_TOKEN: TOKEN, AURORA_POOL_THREADS: '1', AURORA_CONTROLS_MAX_ORDER_NOTIONAL_USDT: '5000' });
  });
  afterAll(async () => {
    await gate?.stop();
  });
  beforeEach(() => testHooks(gate).resetState());

  it('trading-state: shows, sets (any case), says what it was; the gate agrees', async () => {
    const show = await ctl(['trading-state']);
    expect(show.code, show.err).toBe(0);
    expect(show.out).toBe('trading state: ACTIVE\n');
    const set = await ctl(['trading-state', 'halted']);
    expect(set.code, set.err).toBe(0);
    expect(set.out).toBe('trading state: HALTED (was ACTIVE)\n');
    expect((await limitsNow()).trading_state).toBe('HALTED');
    const same = await ctl(['trading-state', 'HALTED', '--json']);
    expect(same.code).toBe(0);
    expect(JSON.parse(same.out)).toEqual({ status: 'ok', state: 'HALTED', trading_state: 'HALTED', from: 'HALTED', changed: false });
    expect((await ctl(['trading-state', '--json'])).out).toBe(`${JSON.stringify({ trading_state: 'HALTED' }, null, 2)}\n`);
    expect((await ctl(['trading-state', 'ACTIVE'])).out).toBe('trading state: ACTIVE (was HALTED)\n');
  });

  it('trading-state with a bad state or two arguments: usage error (exit 2), no request', async () => {
    const bad = await ctl(['trading-state', 'PAUSED']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/expected ACTIVE, REDUCING or HALTED, got "PAUSED"/);
    expect(bad.err).toMatch(/usage: npm run ctl -- trading-state \[ACTIVE\|REDUCING\|HALTED\]/);
    expect((await ctl(['trading-state', 'ACTIVE', 'HALTED'])).code).toBe(2);
    expect((await limitsNow()).trading_state).toBe('ACTIVE');
  });

  it('set-limit applies every pair at once and prints what changed; limits shows it (table and --json)', async () => {
    const r = await ctl(['set-limit', 'max_order_notional_usdt=2000', 'rate.account_per_s=10', 'symbols_blocked=DOGEUSDT']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^changed:\n {2}key +old +new\n/);
    expect(r.out).toMatch(/ {2}max_order_notional_usdt +5000 +2000\n/);
    expect(r.out).toMatch(/ {2}rate\.account_per_s +off +10\n/);
    expect(r.out).toMatch(/ {2}symbols_blocked +off +DOGEUSDT\n/);
    const l = await limitsNow();
    expect(l.limits).toMatchObject({ max_order_notional_usdt: 2000, symbols_blocked: ['DOGEUSDT'], rate: { account_per_s: 10 } });

    const human = await ctl(['limits']);
    expect(human.code, human.err).toBe(0);
    expect(human.out).toMatch(/^trading state {2}ACTIVE\n/);
    expect(human.out).toMatch(/ {2}max_order_notional_usdt +2000\n/);
    expect(human.out).toMatch(/ {2}rate\.account_per_s +10\n/);
    expect(human.out).toMatch(/ {2}max_open_orders +off\n/);
    const json = await ctl(['limits', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual(await limitsNow());

    const off = await ctl(['set-limit', 'max_order_notional_usdt=off', 'rate.account_per_s=null']);
    expect(off.code, off.err).toBe(0);
    expect((await limitsNow()).limits).toMatchObject({ max_order_notional_usdt: null, rate: { account_per_s: null } });
    const none = await ctl(['set-limit', 'max_order_notional_usdt=null']);
    expect(none.out).toBe('no limit changed\n');
  });

  it('set-limit refused by the gate: exit 1 with the field named, nothing applied (all or nothing)', async () => {
    const before = await limitsNow();
    const r = await ctl(['set-limit', 'max_order_notional_usdt=100', 'price_collar_bps=-5']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/set-limit: the gate answered HTTP 422 invalid_request/);
    expect(r.err).toMatch(/ {2}price_collar_bps: /);
    expect(await limitsNow()).toEqual(before);
    const json = await ctl(['set-limit', 'rate.account_per_s=0', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out).error.details[0].path).toBe('rate.account_per_s');
  });

  it('set-limit usage errors: exit 2, nothing sent; no token: exit 2; wrong token: exit 1, never printed', async () => {
    const before = await limitsNow();
    const u = await ctl(['set-limit', 'max_order_notional=5']);
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/unknown key "max_order_notional"/);
    expect((await ctl(['set-limit'])).code).toBe(2);
    expect((await ctl(['limits'], {})).code).toBe(2);
    const wrong = 'ctl-controls-wrong-0123456789abcdef';
    const w = await ctl(['limits'], { OPS_TOKEN: wrong });
    expect(w.code).toBe(1);
    expect(w.err).toMatch(/HTTP 403 forbidden/);
    expect(w.out + w.err).not.toContain(wrong);
    expect(await limitsNow()).toEqual(before);
  });

  it('help: the three commands are listed and explain their keys', async () => {
    const g = await ctl(['--help']);
    for (const c of ['trading-state', 'limits', 'set-limit']) expect(g.out).toMatch(new RegExp(`\\n {2}${c} +\\S`));
    const h = await ctl(['set-limit', '--help']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/rate\.account_per_s/);
    expect(h.out).toMatch(/null or off turns a limit off/);
    expect(h.out).toMatch(/All or nothing/);
    expect((await ctl(['help', 'trading-state'])).out).toMatch(/REDUCING: only verified reduce-only orders pass/);
  });
});
