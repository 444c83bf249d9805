import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CONTROL_REASONS } from '../../src/core/controls/rules.ts';
import { UTILIZATION_TOP_ACCOUNTS } from '../../src/metrics/controls.ts';
import { testHooks } from '../../src/testing/index.ts';
import { metric } from '../fuzz/harness.ts';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';
import { checkBody } from './ops-helpers.ts';

/**
 * The desk-control metrics on a live gate (docs/controls.md "Metrics"): aurora_control_denials_total{rule}
 * summed over every thread, aurora_limit_utilization{account,limit} (bounded: top accounts only),
 * aurora_trading_state, aurora_reservations_open — values after real decisions.
 */

const TOKEN = 'controls-metrics-token-0123456789abcdef';
const OPS = { 'X-OPS-TOKEN': TOKEN };
let gate: TestGate;

const scrape = async () => (await http(`${gate.url}/metrics`, 'GET')).text;
async function check(opts: Parameters<typeof checkBody>[0]) {
  const r = await http(`${gate.url}/pretrade/check`, 'POST', { body: checkBody(opts) });
  expect(r.status, r.text).toBe(200);
  return r.json as { allow: boolean; reason: string };
}
const series = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

beforeAll(async () => {
  gate = await startTestGate({
    OPS_TOKEN: TOKEN,
    // two workers and no inline decisions: denials are counted on worker threads and summed at scrape
    AURORA_POOL_THREADS: '2',
    AURORA_POOL_INLINE_WHEN_IDLE: '0',
    AURORA_CONTROLS_MAX_ORDER_NOTIONAL_USDT: '1000',
    AURORA_CONTROLS_MAX_OPEN_ORDERS: '4',
    AURORA_CONTROLS_MAX_GROSS_NOTIONAL_USDT: '10000',
  });
});
afterAll(async () => {
  await gate?.stop();
});
beforeEach(() => testHooks(gate).resetState());

describe('desk-control metrics', () => {
  it('every denial reason is exported (bounded label set), trading state 0, nothing reserved, no utilisation series yet', async () => {
    const m = await scrape();
    const rules = series(m, 'aurora_control_denials_total').map((l) => /rule="([^"]+)"/.exec(l)![1]);
    expect(rules.sort()).toEqual([...CONTROL_REASONS].sort());
    expect(m).toMatch(/^# TYPE aurora_control_denials_total counter$/m);
    expect(metric(m, 'aurora_trading_state')).toBe(0);
    expect(metric(m, 'aurora_reservations_open')).toBe(0);
    expect(series(m, 'aurora_limit_utilization')).toEqual([]);
    expect(m).toMatch(/^# TYPE aurora_limit_utilization gauge$/m);
  });

  it('after decisions: denials by rule (summed over the worker threads), reservations open, utilisation per account', async () => {
    const m0 = await scrape();
    const d0 = (rule: string) => metric(m0, 'aurora_control_denials_total', { rule });
    // two allowed orders of 500 USDT each (a reservation each), three refused by the notional limit
    for (const cid of ['m-1', 'm-2']) expect(await check({ account: 'desk-a', cid, qty: 0.01, price: 50000 })).toMatchObject({ allow: true });
    for (let i = 0; i < 3; i++) expect(await check({ account: 'desk-a', cid: `big-${i}`, qty: 1, price: 50000 })).toMatchObject({ allow: false, reason: 'order_notional_limit' });
    const m = await scrape();
    expect(metric(m, 'aurora_control_denials_total', { rule: 'order_notional_limit' }) - d0('order_notional_limit')).toBe(3);
    expect(metric(m, 'aurora_control_denials_total') - metric(m0, 'aurora_control_denials_total')).toBe(3);
    expect(metric(m, 'aurora_reservations_open')).toBe(2);
    expect(metric(m, 'aurora_limit_utilization', { account: 'desk-a', limit: 'max_open_orders' })).toBeCloseTo(2 / 4, 9);
    expect(metric(m, 'aurora_limit_utilization', { account: 'desk-a', limit: 'max_gross_notional_usdt' })).toBeCloseTo(1000 / 10000, 9);
    // max_position_notional_usdt is off: no series for it
    expect(series(m, 'aurora_limit_utilization').filter((l) => l.includes('max_position_notional_usdt'))).toEqual([]);
    // the journal and the denial metric agree
    expect(metric(m, 'aurora_events_emitted_total', { code: 'CONTROL.DENY' }) - metric(m0, 'aurora_events_emitted_total', { code: 'CONTROL.DENY' })).toBe(3);
  });

  it('trading state: the gauge follows POST /ops/trading_state, and its denials are counted', async () => {
    const m0 = await scrape();
    expect((await http(`${gate.url}/ops/trading_state`, 'POST', { headers: OPS, body: { state: 'REDUCING' } })).status).toBe(200);
    expect(metric(await scrape(), 'aurora_trading_state')).toBe(1);
    expect((await http(`${gate.url}/ops/trading_state`, 'POST', { headers: OPS, body: { state: 'HALTED' } })).status).toBe(200);
    expect(await check({ account: 'desk-a', cid: 'h-1' })).toMatchObject({ allow: false, reason: 'trading_state_halted' });
    const m = await scrape();
    expect(metric(m, 'aurora_trading_state')).toBe(2);
    expect(metric(m, 'aurora_control_denials_total', { rule: 'trading_state_halted' }) - metric(m0, 'aurora_control_denials_total', { rule: 'trading_state_halted' })).toBe(1);
  });

  it(`utilisation is exported for the ${UTILIZATION_TOP_ACCOUNTS} most utilised accounts only`, async () => {
    // 25 accounts; account i holds i % 4 + 1 open orders
    for (let i = 0; i < 25; i++) {
      for (let k = 0; k <= i % 4; k++) expect((await check({ account: `acct-${String(i).padStart(2, '0')}`, cid: `u-${i}-${k}`, symbol: 'ETHUSDT', qty: 0.1, price: 3000 })).allow).toBe(true);
    }
    const m = await scrape();
    const accounts = new Set(series(m, 'aurora_limit_utilization').map((l) => /account="([^"]+)"/.exec(l)![1]));
    expect(accounts.size).toBe(UTILIZATION_TOP_ACCOUNTS);
    // the most utilised (4 of 4 open orders: i % 4 = 3) are all in
    for (const i of [3, 7, 11, 15, 19, 23]) expect(accounts.has(`acct-${String(i).padStart(2, '0')}`), String(i)).toBe(true);
    // the least utilised (1 of 4) fill the rest only after every fuller one
    const ones = [...accounts].filter((a) => Number(a.slice(5)) % 4 === 0);
    expect(ones.length).toBe(UTILIZATION_TOP_ACCOUNTS - 18);
    expect(metric(m, 'aurora_limit_utilization', { account: 'acct-03', limit: 'max_open_orders' })).toBe(1);
  });
});
