import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';
import { testHooks } from '../../src/testing/index.ts';
import { compileValidator } from '../../src/schema/validate.ts';
import { LimitsResponse, LimitsSetResponse, TradingStateResponse } from '../../src/schema/ops.ts';
import { AuroraEventRecord } from '../../src/schema/journal-records.ts';
import { checkBody, eventsOf, sleep, waitEvents } from './ops-helpers.ts';

/**
 * The desk-control ops endpoints against a real gate (controls.md §5, docs/controls.md): GET /ops/limits,
 * POST /ops/limits (merge, all or nothing, LIMIT.UPDATE per changed key), POST /ops/trading_state
 * (TRADING_STATE), their authentication, and that a refused body changes nothing.
 */

const TOKEN = 'controls-ops-token-0123456789abcdef';
const OPS = { 'X-OPS-TOKEN': TOKEN };
let gate: TestGate;

const getLimits = async () => {
  const r = await http(`${gate.url}/ops/limits`, 'GET', { headers: OPS });
  expect(r.status, r.text).toBe(200);
  return r.json as LimitsResponse;
};
const setLimits = (body: unknown, headers: Record<string, string> = OPS) => http(`${gate.url}/ops/limits`, 'POST', { headers, body });
const setState = (body: unknown, headers: Record<string, string> = OPS) => http(`${gate.url}/ops/trading_state`, 'POST', { headers, body });

const limitsShape = compileValidator(LimitsResponse);
const setShape = compileValidator(LimitsSetResponse);
const stateShape = compileValidator(TradingStateResponse);
const eventShape = compileValidator(AuroraEventRecord);

beforeAll(async () => {
  // ops auth failures go to stderr (D-38): one line each, not wanted in the test output
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) =>
    String(chunk).startsWith('ops auth failure') ? true : (write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stderr.write);
  gate = await startTestGate({
    OPS_TOKEN: TOKEN,
    AURORA_POOL_THREADS: '1',
    AURORA_CONTROLS_MAX_ORDER_NOTIONAL_USDT: '5000',
    AURORA_CONTROLS_RATE_ACCOUNT_PER_MIN: '600',
    AURORA_CONTROLS_MAX_OPEN_ORDERS: '50',
  });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await gate?.stop();
});
beforeEach(() => testHooks(gate).resetState());

describe('authentication: the ops token, like every ops route', () => {
  it('no token 401 missing_token, a wrong one 403 forbidden, on all three; nothing changes', async () => {
    const before = await getLimits();
    const calls = [
      () => http(`${gate.url}/ops/limits`, 'GET', { headers: {} }),
      () => setLimits({ max_order_notional_usdt: 1 }, {}),
      () => setState({ state: 'HALTED' }, {}),
    ];
    for (const c of calls) {
      const r = await c();
      expect(r.status).toBe(401);
      expect((r.json as { error: { code: string } }).error.code).toBe('missing_token');
    }
    const wrong = { 'X-OPS-TOKEN': 'wrong-token-0123456789abcdefgh' };
    for (const r of [await http(`${gate.url}/ops/limits`, 'GET', { headers: wrong }), await setLimits({ max_order_notional_usdt: 1 }, wrong), await setState({ state: 'HALTED' }, wrong)]) {
      expect(r.status).toBe(403);
      expect((r.json as { error: { code: string } }).error.code).toBe('forbidden');
    }
    expect(await getLimits()).toEqual(before);
  });

  it('wrong methods answer 405 with the Allow header', async () => {
    const put = await fetch(`${gate.url}/ops/limits`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST');
    const get = await fetch(`${gate.url}/ops/trading_state`, { method: 'GET' });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});

describe('GET /ops/limits', () => {
  it('the effective limits (configured ones set, the rest null), the trading state, no account yet', async () => {
    const body = await getLimits();
    expect(limitsShape.check(body), JSON.stringify(limitsShape.errors(body))).toBe(true);
    expect(body.status).toBe('ok');
    expect(body.trading_state).toBe('ACTIVE');
    expect(body.limits).toMatchObject({
      max_order_notional_usdt: 5000,
      rate: { account_per_s: null, account_per_min: 600, symbol_per_s: null, symbol_per_min: null },
      max_open_orders: 50,
      max_gross_notional_usdt: null,
      reservation_ttl_ms: 30000,
      alert_utilization: 0.8,
      reduce_only_passes_halt: true,
      symbols_allowed: null,
    });
    expect(body.reservations_open).toBe(0);
    expect(body.accounts).toEqual([]);
  });
});

describe('GET /ops/limits after decisions', () => {
  const check = async (opts: Parameters<typeof checkBody>[0]) => {
    const r = await http(`${gate.url}/pretrade/check`, 'POST', { body: checkBody(opts) });
    expect(r.status, r.text).toBe(200);
    return r.json as { allow: boolean; reason: string };
  };

  it('per account: open orders, reservations, positions from post-trade fills, bucket levels, utilisation', async () => {
    expect((await check({ account: 'desk-a', cid: 'a-1', qty: 0.02, price: 50000 })).allow).toBe(true);
    expect((await check({ account: 'desk-a', cid: 'a-2', symbol: 'ETHUSDT', qty: 0.5, price: 3000 })).allow).toBe(true);
    // a-1 fills: the reservation ends, the position takes it over
    const fill = { account_id: 'desk-a', client_order_id: 'a-1', symbol: 'BTCUSDT', side: 'buy', status: 'closed', filled: 0.02, average: 50000, order_id: 'x-1' };
    expect((await http(`${gate.url}/posttrade/log`, 'POST', { body: fill })).status).toBe(200);
    const body = await getLimits();
    expect(limitsShape.check(body), JSON.stringify(limitsShape.errors(body))).toBe(true);
    expect(body.reservations_open).toBe(1);
    expect(body.accounts).toHaveLength(1);
    const a = body.accounts[0];
    expect(a).toMatchObject({ account_id: 'desk-a', open_orders: 1, reserved_usdt: 1500, gross_positions_usdt: 1000, account_per_min_left: 598, account_per_s_left: null });
    expect(a.utilization.max_open_orders).toBeCloseTo(1 / 50, 9);
    expect(a.utilization.max_gross_notional_usdt).toBeNull();
    const bySymbol = Object.fromEntries(a.positions.map((p) => [p.symbol, p]));
    expect(bySymbol.BTCUSDT).toMatchObject({ qty: 0.02, avg_price: 50000, notional_usdt: 1000, reserved_buy_usdt: 0, open_reservations: 0 });
    expect(bySymbol.ETHUSDT).toMatchObject({ qty: 0, avg_price: null, notional_usdt: 0, reserved_buy_usdt: 1500, open_reservations: 1 });
  });

  it('a reservation past reservation_ttl_ms is ended by GET /ops/limits itself (a quiet gate), journaled RESERVATION.EXPIRED', async () => {
    expect((await setLimits({ reservation_ttl_ms: 200 })).status).toBe(200);
    const n0 = eventsOf(gate, 'RESERVATION.EXPIRED').length;
    expect((await check({ account: 'desk-t', cid: 't-1' })).allow).toBe(true);
    expect((await getLimits()).reservations_open).toBe(1);
    await sleep(300);
    const after = await getLimits();
    expect(after.reservations_open).toBe(0);
    expect(after.accounts[0]).toMatchObject({ account_id: 'desk-t', open_orders: 0, reserved_usdt: 0 });
    const ev = (await waitEvents(gate, 'RESERVATION.EXPIRED', n0 + 1)).slice(n0);
    expect(ev).toHaveLength(1);
    expect(ev[0].details).toMatchObject({ account_id: 'desk-t', client_order_id: 't-1', notional_usdt: 500 });
    expect(ev[0].details.age_ms as number).toBeGreaterThanOrEqual(200);
    expect(eventShape.check(ev[0]), JSON.stringify(eventShape.errors(ev[0]))).toBe(true);
  });
});

describe('POST /ops/limits', () => {
  it('merges a partial object, answers the new effective limits, journals one LIMIT.UPDATE per changed key', async () => {
    const n0 = eventsOf(gate, 'LIMIT.UPDATE').length;
    const r = await setLimits({ max_order_notional_usdt: 2000, rate: { account_per_s: 10 } });
    expect(r.status, r.text).toBe(200);
    const body = r.json as LimitsSetResponse;
    expect(setShape.check(body), JSON.stringify(setShape.errors(body))).toBe(true);
    expect(body.limits.max_order_notional_usdt).toBe(2000);
    // rate merges key by key: account_per_min stays
    expect(body.limits.rate).toEqual({ account_per_s: 10, account_per_min: 600, symbol_per_s: null, symbol_per_min: null });
    expect(body.limits.max_open_orders).toBe(50);
    expect(body.changes).toEqual([
      { key: 'max_order_notional_usdt', old: 5000, new: 2000 },
      { key: 'rate.account_per_s', old: null, new: 10 },
    ]);
    // every later reader sees it
    expect((await getLimits()).limits).toEqual(body.limits);
    const lines = await waitEvents(gate, 'LIMIT.UPDATE', n0 + 2);
    const mine = lines.slice(n0);
    expect(mine.map((e) => e.details)).toEqual([
      { key: 'max_order_notional_usdt', old: 5000, new: 2000, token_mask: `****${TOKEN.slice(-4)}` },
      { key: 'rate.account_per_s', old: null, new: 10, token_mask: `****${TOKEN.slice(-4)}` },
    ]);
    for (const e of mine) expect(eventShape.check(e), JSON.stringify(eventShape.errors(e))).toBe(true);
    expect(mine[0].ts_ns).toBeLessThan(mine[1].ts_ns);
  });

  it('null turns a limit off (a tuning key gets its default back); lists replace; max_order_qty merges per symbol', async () => {
    let r = await setLimits({ max_order_notional_usdt: null, reservation_ttl_ms: 5000, symbols_blocked: ['DOGEUSDT'], max_order_qty: { BTCUSDT: 2, '*': 100 } });
    expect(r.status, r.text).toBe(200);
    let l = (r.json as LimitsSetResponse).limits;
    expect(l.max_order_notional_usdt).toBeNull();
    expect(l.reservation_ttl_ms).toBe(5000);
    expect(l.symbols_blocked).toEqual(['DOGEUSDT']);
    expect(l.max_order_qty).toEqual({ BTCUSDT: 2, '*': 100 });
    r = await setLimits({ reservation_ttl_ms: null, symbols_blocked: ['XRPUSDT', 'ADAUSDT'], max_order_qty: { BTCUSDT: null, ETHUSDT: 3 } });
    expect(r.status, r.text).toBe(200);
    l = (r.json as LimitsSetResponse).limits;
    expect(l.reservation_ttl_ms).toBe(30000);
    expect(l.symbols_blocked).toEqual(['XRPUSDT', 'ADAUSDT']);
    expect(l.max_order_qty).toEqual({ '*': 100, ETHUSDT: 3 });
    expect((r.json as LimitsSetResponse).changes.map((c) => c.key).sort()).toEqual(['max_order_qty.BTCUSDT', 'max_order_qty.ETHUSDT', 'reservation_ttl_ms', 'symbols_blocked']);
  });

  it('a body that changes nothing answers 200 with no changes and journals nothing', async () => {
    const n0 = eventsOf(gate, 'LIMIT.UPDATE').length;
    const r = await setLimits({ max_order_notional_usdt: 5000 });
    expect(r.status, r.text).toBe(200);
    expect((r.json as LimitsSetResponse).changes).toEqual([]);
    await sleep(150);
    expect(eventsOf(gate, 'LIMIT.UPDATE').length).toBe(n0);
  });

  const BAD: Array<[string, unknown, string]> = [
    ['a negative limit', { max_order_notional_usdt: -1 }, 'max_order_notional_usdt'],
    ['a rate of 0', { rate: { account_per_s: 0 } }, 'rate.account_per_s'],
    ['a fractional rate', { rate: { symbol_per_min: 1.5 } }, 'rate.symbol_per_min'],
    ['a string for a number', { max_open_orders: '10' }, 'max_open_orders'],
    ['an unknown key', { max_order_notional: 10 }, 'max_order_notional'],
    ['an unknown rate key', { rate: { per_hour: 10 } }, 'rate.per_hour'],
    ['trading_state (its own endpoint)', { trading_state: 'HALTED' }, 'trading_state'],
    ['a bad window', { trading_windows_utc: [['25:00', '26:00']] }, 'trading_windows_utc.0.0'],
    ['alert_utilization above 1', { alert_utilization: 1.5 }, 'alert_utilization'],
    ['not an object', [1, 2], '(body)'],
    ['a valid key next to a bad one', { max_order_notional_usdt: 10, price_collar_bps: -5 }, 'price_collar_bps'],
  ];
  for (const [what, body, path] of BAD) {
    it(`refuses ${what}: 422 naming ${path}; GET /ops/limits identical before and after, no LIMIT.UPDATE`, async () => {
      const before = await getLimits();
      const n0 = eventsOf(gate, 'LIMIT.UPDATE').length;
      const r = await setLimits(body);
      expect(r.status, r.text).toBe(422);
      const e = (r.json as { error: { code: string; details: Array<{ path: string; message: string }> } }).error;
      expect(e.code).toBe('invalid_request');
      expect(e.details.map((d) => d.path), JSON.stringify(e.details)).toContain(path);
      expect(await getLimits()).toEqual(before);
      await sleep(100);
      expect(eventsOf(gate, 'LIMIT.UPDATE').length).toBe(n0);
    });
  }

  it('refuses what only the built configuration can check (an empty window): 422, nothing changes', async () => {
    const before = await getLimits();
    const r = await setLimits({ trading_windows_utc: [['10:00', '10:00']] });
    expect(r.status, r.text).toBe(422);
    expect(r.text).toMatch(/empty window/);
    expect(await getLimits()).toEqual(before);
  });

  it('transport refusals: 400 malformed JSON, 400 invalid UTF-8, 415 not JSON, 413 too large, 422 empty body — nothing changes', async () => {
    const before = await getLimits();
    const malformed = await http(`${gate.url}/ops/limits`, 'POST', { headers: { ...OPS, 'Content-Type': 'application/json' }, raw: '{"max_order_notional_usdt": 1' });
    expect(malformed.status).toBe(400);
    expect((malformed.json as { error: { code: string } }).error.code).toBe('malformed_json');
    const utf8 = await fetch(`${gate.url}/ops/limits`, { method: 'POST', headers: { ...OPS, 'Content-Type': 'application/json' }, body: new Uint8Array([0x7b, 0xff, 0x7d]) });
    expect(utf8.status).toBe(400);
    const ct = await http(`${gate.url}/ops/limits`, 'POST', { headers: { ...OPS, 'Content-Type': 'text/plain' }, raw: '{"max_order_notional_usdt": 1}' });
    expect(ct.status).toBe(415);
    const big = await http(`${gate.url}/ops/limits`, 'POST', { headers: OPS, body: { symbols_blocked: Array.from({ length: 4000 }, (_, i) => `SYMBOL-NUMBER-${i}-USDT`) } });
    expect(big.status).toBe(413);
    const empty = await http(`${gate.url}/ops/limits`, 'POST', { headers: { ...OPS, 'Content-Type': 'application/json' }, raw: '' });
    expect(empty.status).toBe(422);
    expect(await getLimits()).toEqual(before);
  });
});

describe('POST /ops/trading_state', () => {
  it('sets the state, answers it, journals TRADING_STATE {from, to, source}; the same state again changes and journals nothing', async () => {
    const n0 = eventsOf(gate, 'TRADING_STATE').length;
    const r = await setState({ state: 'HALTED' });
    expect(r.status, r.text).toBe(200);
    expect(stateShape.check(r.json)).toBe(true);
    expect(r.json).toEqual({ status: 'ok', state: 'HALTED', trading_state: 'HALTED', from: 'ACTIVE', changed: true });
    expect((await getLimits()).trading_state).toBe('HALTED');
    const again = await setState({ state: 'HALTED' });
    expect(again.json).toMatchObject({ trading_state: 'HALTED', from: 'HALTED', changed: false });
    const r2 = await setState({ state: 'REDUCING' });
    expect(r2.json).toMatchObject({ trading_state: 'REDUCING', from: 'HALTED', changed: true });
    const lines = (await waitEvents(gate, 'TRADING_STATE', n0 + 2)).slice(n0);
    await sleep(100);
    expect(eventsOf(gate, 'TRADING_STATE').length).toBe(n0 + 2);
    expect(lines.map((e) => e.details)).toEqual([
      { from: 'ACTIVE', to: 'HALTED', source: 'ops' },
      { from: 'HALTED', to: 'REDUCING', source: 'ops' },
    ]);
    for (const e of lines) expect(eventShape.check(e), JSON.stringify(eventShape.errors(e))).toBe(true);
  });

  it('refuses anything but {"state": ACTIVE|REDUCING|HALTED} with 422 naming the field; nothing changes', async () => {
    for (const [body, path] of [
      [{ state: 'PAUSED' }, 'state'],
      [{ state: 'halted' }, 'state'],
      [{}, 'state'],
      [{ state: 'HALTED', extra: 1 }, 'extra'],
      ['HALTED', '(body)'],
    ] as Array<[unknown, string]>) {
      const r = await setState(body);
      expect(r.status, JSON.stringify(body)).toBe(422);
      const details = (r.json as { error: { details: Array<{ path: string }> } }).error.details;
      expect(details.map((d) => d.path), JSON.stringify(body)).toContain(path);
    }
    expect((await getLimits()).trading_state).toBe('ACTIVE');
  });
});
