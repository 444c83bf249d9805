/**
 * The runner's side of the desk controls (controls.md §5, issue 13): client_order_id / reduce_only /
 * type / mid / ts_ms on every check and the id plus account_id on every post-trade body, same-id retries
 * after a timeout, exits asked of the gate (refused → backoff and EXIT.STUCK; unreachable → sent only
 * when the runner's own fills confirm a reduce-only close), quotas pausing entries but never exits, and
 * denials by rule in the summary. Expected numbers are worked out by hand in the comments.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { EngineContext } from '../../../src/runner/engine/context.ts';
import { exitSetback, ledgerConfirms } from '../../../src/runner/engine/exit-gate.ts';
import type { TrackedOrder } from '../../../src/runner/engine/orders.ts';
import { notSentBody, orderCancelBody } from '../../../src/runner/engine/posttrade-bodies.ts';
import { QuotaGuard, readQuotas } from '../../../src/runner/engine/quota-guard.ts';
import { SymbolState } from '../../../src/runner/engine/symbol-state.ts';
import type { GateAnswer } from '../../../src/runner/gate/port.ts';
import { isControlDenial, STUB_QUOTAS, stubDecide } from '../../../src/runner/gate/index.ts';
import { DEFAULT_RUNNER_CONFIG } from '../../../src/runner/config/defaults.ts';
import { ExitEngine } from '../../../src/runner/logic/exits.ts';
import { formatSummaryTable } from '../../../src/runner/report/table.ts';
import { SummaryCollector } from '../../../src/runner/report/summary.ts';
import type { PretradeCheckRequest, PretradeCheckResponse } from '../../../src/schema/pretrade.ts';
import { denyPatch, startFakeGate, type FakeGate, type Script } from './fake-gate.ts';
import { readJsonl, run, syntheticFeed, testConfig } from './harness.ts';

let fake: FakeGate | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});
async function withGate(script: Script): Promise<FakeGate> {
  fake = await startFakeGate(script);
  return fake;
}

// ---------------------------------------------------------------------------------------------------
describe('quota guard (hand-computed)', () => {
  const T = 10_000;

  test('an exhausted throttle quota pauses every symbol for max(cooldown_ms, 1000 ms); the reference constant never does', () => {
    const g = new QuotaGuard();
    expect(g.onAllow('BTCUSDT', STUB_QUOTAS, 0, T, false)).toBeNull();
    expect(g.blocked('BTCUSDT', 1e6, T)).toBeNull(); // 1e12 left
    expect(g.onAllow('BTCUSDT', { orders_ps_left: 0, trades_pm_left: 4, open_orders_left: 2, symbol_exposure_left_usdt: null, account_exposure_left_usdt: null }, 0, T, false)).toBe('orders_ps_left');
    expect(g.blocked('ETHUSDT', 10, T + 999)).toBe('orders_ps_left'); // account-wide: other symbols too
    expect(g.blocked('ETHUSDT', 10, T + 1000)).toBeNull(); // T + max(0, 1000)
    expect(g.onAllow('BTCUSDT', { trades_pm_left: 0 }, 2500, T + 2000, false)).toBe('trades_pm_left');
    expect(g.blocked('BTCUSDT', 10, T + 4499)).toBe('trades_pm_left'); // T + 2000 + max(2500, 1000)
    expect(g.blocked('BTCUSDT', 10, T + 4500)).toBeNull();
    expect(g.pauses).toEqual({ orders_ps_left: 1, trades_pm_left: 1 });
  });

  test('null = limit off; an answer with room ends a pause early', () => {
    const g = new QuotaGuard();
    expect(g.onAllow('BTCUSDT', { trades_pm_left: null, orders_ps_left: null, open_orders_left: null, symbol_exposure_left_usdt: null, account_exposure_left_usdt: null }, 0, T, false)).toBeNull();
    expect(g.blocked('BTCUSDT', 1e9, T)).toBeNull();
    g.onAllow('BTCUSDT', { open_orders_left: 0 }, 0, T, false);
    expect(g.blocked('BTCUSDT', 1, T + 100)).toBe('open_orders_left');
    // an exit's answer 200 ms later reports room on the account buckets: the pause is over
    expect(g.onAllow('BTCUSDT', { open_orders_left: 1, orders_ps_left: 3 }, 0, T + 200, true)).toBeNull();
    expect(g.blocked('BTCUSDT', 1, T + 201)).toBeNull();
  });

  test('exposure left: an entry of more notional than is left is held while the quota is fresh (limits are inclusive)', () => {
    const g = new QuotaGuard();
    g.onAllow('BTCUSDT', { account_exposure_left_usdt: 300, symbol_exposure_left_usdt: 250 }, 0, T, false);
    expect(g.blocked('ETHUSDT', 300, T + 10)).toBeNull(); // exactly the room left passes
    expect(g.blocked('ETHUSDT', 300.01, T + 10)).toBe('account_exposure_left_usdt');
    expect(g.blocked('BTCUSDT', 260, T + 10)).toBe('symbol_exposure_left_usdt');
    expect(g.blocked('ETHUSDT', 260, T + 10)).toBeNull(); // the symbol quota is BTCUSDT's
    expect(g.blocked('BTCUSDT', 260, T + 1000)).toBeNull(); // stale after the pause span: ask again
    // zero symbol exposure pauses that symbol only; an exit's symbol quota (closing side) is ignored
    g.onAllow('BTCUSDT', { symbol_exposure_left_usdt: 0 }, 0, T + 2000, false);
    expect(g.blocked('BTCUSDT', 1, T + 2001)).toBe('symbol_exposure_left_usdt');
    expect(g.blocked('ETHUSDT', 1, T + 2001)).toBeNull();
    g.onAllow('ETHUSDT', { symbol_exposure_left_usdt: 0 }, 0, T + 2000, true);
    expect(g.blocked('ETHUSDT', 1, T + 2001)).toBeNull();
  });

  test('desk-limit refusals pause: account ones every symbol, symbol ones their symbol; other reasons none', () => {
    const g = new QuotaGuard();
    expect(g.onDeny('BTCUSDT', 'expected_return_gate', 5000, T)).toBeNull();
    expect(g.onDeny('BTCUSDT', 'throttle_symbol', 300, T)).toBe('throttle_symbol');
    expect(g.blocked('BTCUSDT', 1, T + 999)).toBe('throttle_symbol'); // max(300, 1000)
    expect(g.blocked('ETHUSDT', 1, T + 999)).toBeNull();
    expect(g.onDeny('ETHUSDT', 'throttle_account', 4000, T)).toBe('throttle_account');
    expect(g.blocked('SOLUSDT', 1, T + 3999)).toBe('throttle_account');
    expect(g.blocked('SOLUSDT', 1, T + 4000)).toBeNull();
    // a second refusal inside a running pause extends it without counting a new pause
    expect(g.onDeny('ETHUSDT', 'exposure_limit_account', 6000, T + 1000)).toBeNull();
    expect(g.blocked('SOLUSDT', 1, T + 6999)).toBe('exposure_limit_account'); // named after the refusal that set its end
    expect(g.blocked('SOLUSDT', 1, T + 7000)).toBeNull();
    expect(g.pauses).toEqual({ throttle_symbol: 1, throttle_account: 1 });
  });

  test('readQuotas keeps the five keys, numbers or null', () => {
    expect(readQuotas({ trades_pm_left: 3, orders_ps_left: null, open_orders_left: 'x', other: 1 })).toEqual({ trades_pm_left: 3, orders_ps_left: null, open_orders_left: null });
    expect(readQuotas(null)).toEqual({});
  });
});

// ---------------------------------------------------------------------------------------------------
describe('summary: denials by rule', () => {
  const answer = (d: Partial<PretradeCheckResponse>, outcome: GateAnswer['outcome'] = 'ws'): GateAnswer => ({
    decision: {
      allow: false,
      max_qty: 1,
      risk_scale: 1,
      cooldown_ms: 0,
      reason: 'ok',
      hard_gate: false,
      quotas: { trades_pm_left: 999, symbol_exposure_left_usdt: 1e12 },
      observability: { reasons: [] },
      ...d,
    },
    transport: outcome === 'unavailable' ? 'none' : 'ws',
    outcome,
    rttMs: 1,
  });

  test('the controls’ codes apart from the reference families; exits counted apart too', () => {
    const s = new SummaryCollector();
    s.gateCall(answer({ allow: true }), false);
    s.gateCall(answer({ reason: 'throttle_account', observability: { reasons: ['throttle_account'] } }), false);
    s.gateCall(answer({ reason: 'throttle_account' }), false);
    s.gateCall(answer({ reason: 'spread_bps_too_wide:123.4' }), false);
    s.gateCall(answer({ reason: 'expected_return_gate' }), false, true); // an exit
    s.gateCall(answer({ reason: 'reduce_only_would_increase' }), false, true); // an exit
    s.gateCall(answer({ reason: 'some_new_rule', observability: { reasons: [], controls: { rule: 'x', limit: 1, value: 2 } } as never }), false);
    s.gateCall(answer({ allow: true }), false, true);
    s.gateCall(answer({ reason: 'gate_unavailable' }, 'unavailable'), false, true);
    const b = s.build({
      runId: 'r', mode: 'replay', seed: 1, feed: null, gateUrl: 'x', startedAt: new Date(0), endedAt: new Date(0),
      feedStartMs: null, feedEndMs: null, realized: 0, unrealized: 0, positionsOpen: 0, reconnects: 0, late: 0,
      quotaPauses: { throttle_account: 2 }, shutdown: { reason: 'end_of_feed', flatten_ok: true, exit_code: 0 },
    });
    // 9 calls: 2 allowed (1 entry, 1 exit); 7 denied, of which 1 fail-closed
    expect(b.gate).toMatchObject({ tried: 9, allowed: 2, denied: 7 });
    expect(b.gate.denied_by_reason).toEqual({ expected_return_gate: 1, reduce_only_would_increase: 1, some_new_rule: 1, spread_bps_too_wide: 1, throttle_account: 2 });
    expect(b.gate.denied_by_rule).toEqual({
      controls: { reduce_only_would_increase: 1, some_new_rule: 1, throttle_account: 2 },
      reference: { expected_return_gate: 1, spread_bps_too_wide: 1 },
    });
    expect(b.gate.exits).toEqual({ tried: 4, allowed: 1, denied: 3, denied_by_reason: { expected_return_gate: 1, gate_unavailable: 1, reduce_only_would_increase: 1 }, sent_gate_unavailable: 0 });
    expect(b.gate.errors).toEqual({ gate_unavailable: 1 });
    expect(b.gate.quota_pauses).toEqual({ throttle_account: 2 });
    const table = formatSummaryTable(b);
    expect(table).toMatch(/denied by rule: controls\s+throttle_account 2\n\s+reduce_only_would_increase 1\n\s+some_new_rule 1/);
    expect(table).toMatch(/denied by rule: reference\s+expected_return_gate 1\n\s+spread_bps_too_wide 1/);
    expect(table).toMatch(/orders tried \(gate checks\)\s+9 \(entries 5, exits 4; same-id retries 0\)/);
    expect(table).toMatch(/entry pauses by quota\s+throttle_account 2/);
    expect(isControlDenial('market_data_stale', {})).toBe(true);
    expect(isControlDenial('latency_halt', { reasons: [] })).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------
describe('post-trade bodies carry client_order_id and account_id', () => {
  const order = (over: Partial<TrackedOrder>): TrackedOrder =>
    ({
      cid: 'r1-o7', accountId: 'desk-1', orderId: 'P-3', symbol: 'BTCUSDT', side: 'buy', type: 'market', action: 'open', reason: 'open',
      reqId: 'r1-12', positionId: 'r1-p2', qty: 0.01, price: 50_000, reduceOnly: false, state: 'CANCELLED', filled: 0, notional: 0,
      fees: 0, feeCurrency: 'USDT', liquidity: null, createdMs: 0, updatedMs: 0, ackDeadlineMs: 0, cancelAtMs: null,
      cancelRequested: false, querying: false, rejectCode: null, detail: null, ...over,
    }) as TrackedOrder;

  test('a cancel with nothing filled, and the final record of an IOC cancelled after a partial fill', () => {
    expect(orderCancelBody(order({}), 1000.9, 'ioc_remainder')).toEqual({
      ts: 1000, req_id: 'r1-12', cid: 'r1-o7', client_order_id: 'r1-o7', account_id: 'desk-1', order_id: 'P-3', symbol: 'BTCUSDT',
      side: 'buy', action: 'open', close: false, reduceOnly: false, type: 'market', qty: 0.01, price: 50_000, status: 'canceled',
      filled: 0, position_id: 'r1-p2', reason: 'open', cancel_reason: 'ioc_remainder',
    });
    // 0.004 filled for 200.02 USDT → average 50005; cumulative fees 0.1
    const partial = orderCancelBody(order({ filled: 0.004, notional: 200.02, fees: 0.1, action: 'close', reason: 'sl', side: 'sell' }), 2000, 'ioc_remainder');
    expect(partial).toMatchObject({ status: 'canceled', filled: 0.004, fees: 0.1, fee_currency: 'USDT', close: true, reduceOnly: true, client_order_id: 'r1-o7', account_id: 'desk-1' });
    expect(partial.average).toBeCloseTo(50_005, 9);
  });

  test('an allowed order never sent (sized out, or a check without a verdict) releases its id', () => {
    const b = notSentBody(
      { reqId: 'r1-13', cid: 'r1-o8', accountId: 'default', symbol: 'btc/usdt', side: 'sell', action: 'open', type: 'limit', qty: 0.002, price: 50_001, reason: 'open' },
      3000,
      'timeout',
    );
    expect(b).toEqual({
      ts: 3000, req_id: 'r1-13', cid: 'r1-o8', client_order_id: 'r1-o8', account_id: 'default', order_id: null, symbol: 'BTCUSDT', side: 'sell',
      action: 'open', close: false, reduceOnly: false, type: 'limit', qty: 0.002, price: 50_001, status: 'canceled', filled: 0, position_id: null,
      reason: 'open', cancel_reason: 'not_sent:timeout',
    });
  });
});

// ---------------------------------------------------------------------------------------------------
describe('exit pieces', () => {
  test('the stub allows a reduce-only close (its rules are entry-quality rules) and answers the reference quotas', () => {
    const close: PretradeCheckRequest = {
      ts: 1, req_id: 'r-9', account: { mode: 'paper', account_id: 'default' },
      order: { symbol: 'BTCUSDT', side: 'sell', qty: 0.003, price: 50_000, reduce_only: true, action: 'close' },
      market: { score: -0.9, a_bps: 8, b_bps: 12, slip_bps_est: 0.5, spread_bps: 250, latency_ms: 400 }, // every entry rule would deny
      fees_bps: 1,
    };
    expect(stubDecide(close)).toMatchObject({ allow: true, reason: 'ok', max_qty: 0.003, quotas: { trades_pm_left: 999, symbol_exposure_left_usdt: 1e12 } });
    expect(stubDecide({ ...close, order: { ...close.order, reduce_only: false } }).allow).toBe(false);
  });

  test('backoff after refusals: base · 2^(k−1) capped, at least the refusal’s cooldown_ms up to the cap; EXIT.STUCK at exit_alert_after', () => {
    let now = 0;
    const events: Array<Record<string, unknown>> = [];
    const summary = new SummaryCollector();
    const cfg = { ...DEFAULT_RUNNER_CONFIG, execution: { ...DEFAULT_RUNNER_CONFIG.execution, exit_retry_base_ms: 250, exit_retry_max_ms: 5000, exit_alert_after: 5 } };
    const ctx = { cfg, clock: { nowMs: () => now }, summary, journal: { write: (_f: string, r: Record<string, unknown>) => events.push(r) } } as unknown as EngineContext;
    const st = new SymbolState('BTCUSDT', cfg);
    const waits = [0, 0, 0, 0, 0, 0].map(() => exitSetback(ctx, st, { why: 'trading_state_halted', cooldownMs: 0, full: true }));
    expect(waits).toEqual([250, 500, 1000, 2000, 4000, 5000]);
    expect(events.filter((e) => e.code === 'EXIT.STUCK')).toHaveLength(1); // at the 5th, once
    expect(st.exitStuck).toBe(true);
    const st2 = new SymbolState('BTCUSDT', cfg);
    now = 1000;
    expect(exitSetback(ctx, st2, { why: 'throttle_account', cooldownMs: 3000, full: true })).toBe(3000); // max(250, 3000)
    expect(st2.exitRetryAtMs).toBe(4000);
    expect(exitSetback(ctx, st2, { why: 'outside_trading_window', cooldownMs: 3_600_000, full: true })).toBe(5000); // cooldown capped at exit_retry_max_ms
  });

  test('the runner’s own fills confirm a reduce-only close: closing side, qty within the position', () => {
    const st = new SymbolState('BTCUSDT', DEFAULT_RUNNER_CONFIG);
    expect(ledgerConfirms(st, 'sell', 0.001)).toBe(false); // flat
    st.position.applyFill({ fillId: 'f1', side: 'buy', qty: 0.004, price: 50_000, feeQuote: 0, tsMs: 1 });
    expect(ledgerConfirms(st, 'sell', 0.004)).toBe(true);
    expect(ledgerConfirms(st, 'sell', 0.005)).toBe(false); // would flip the position
    expect(ledgerConfirms(st, 'buy', 0.001)).toBe(false); // would increase it
  });

  test('a refused ladder slice is planned again (undoSlice); nothing is lost', () => {
    // entry 100, ATR 1, qty 1: level 1 at 20 bps sells 0.25
    const x = new ExitEngine({ side: 'LONG', entry: 100, qty: 1, atr: 1, openedAtMs: 0, feesPerUnit: 0.01 });
    const at = (ms: number, bid: number) => x.update({ nowMs: ms, bid, ask: bid + 0.05, score: null, remainingQty: 1 }).action;
    expect(at(1000, 100.25)).toEqual({ kind: 'exit', qty: 0.25, reason: 'tp_ladder_1', full: false });
    expect(at(1100, 100.25)).toEqual({ kind: 'hold' });
    x.undoSlice();
    expect(at(1200, 100.25)).toEqual({ kind: 'exit', qty: 0.25, reason: 'tp_ladder_1', full: false });
    // level 2 (40 bps): cumulative 0.6 → slice 0.35
    expect(at(1300, 100.45)).toEqual({ kind: 'exit', qty: 0.35, reason: 'tp_ladder_2', full: false });
  });
});

// ---------------------------------------------------------------------------------------------------
describe('engine with a scripted gate: ids, retries, exits, quotas', () => {
  test('a check that timed out is sent again with the same client_order_id and a byte-identical order', async () => {
    // the first check answers after 200 ms (deadline 60 ms); every later one at once
    const gate = await withGate((_req, n) => (n === 1 ? { kind: 'answer', delayMs: 200 } : { kind: 'answer' }));
    const r = await run(testConfig(await syntheticFeed(), gate.wsUrl, { gate: { timeout_ms: 60 } }));
    const s = r.summary;
    const [first, retry] = gate.checks.map((c) => c.body);
    expect(retry.order).toEqual(first.order); // same client_order_id, same everything
    expect(retry.order.client_order_id).toBe(`${s.run_id}-o1`);
    expect([first.req_id, retry.req_id]).toEqual([`${s.run_id}-1`, `${s.run_id}-2`]);
    expect(s.gate.retries).toBe(1);
    expect(s.gate.errors).toEqual({ gate_timeout: 1 });
    // the retry's allow placed one order under that id; every other intent got its own id
    const placed = readJsonl(r, 'orders').filter((o) => o.to === 'NEW');
    expect(placed.filter((o) => o.cid === first.order.client_order_id)).toHaveLength(1);
    expect(placed[0]).toMatchObject({ cid: `${s.run_id}-o1`, req_id: `${s.run_id}-2` });
    const ids = gate.checks.slice(1).map((c) => c.body.order.client_order_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(gate.posttrades.some((p) => String(p.body.cancel_reason).startsWith('not_sent'))).toBe(false); // answered: nothing to release
    const calls = readJsonl(r, 'gate_calls');
    expect(calls.slice(0, 2).map((c) => [c.attempt, c.outcome, c.client_order_id])).toEqual([
      [1, 'timeout', `${s.run_id}-o1`],
      [2, 'ws', `${s.run_id}-o1`],
    ]);
  });

  test('exits are asked of the gate: a refused exit backs off and is asked again; only an allowed one is sent', async () => {
    // entry checks: the 2nd is refused throttle_account with cooldown_ms 4000; exit checks: the 1st is refused throttle_account
    let entries = 0;
    let exits = 0;
    const gate = await withGate((req) => {
      if (req.order.reduce_only === true) return ++exits === 1 ? { kind: 'answer', patch: denyPatch('throttle_account') } : { kind: 'answer' };
      return ++entries === 2 ? { kind: 'answer', patch: { ...denyPatch('throttle_account'), cooldown_ms: 4000 } } : { kind: 'answer' };
    });
    const r = await run(testConfig(await syntheticFeed(), gate.wsUrl));
    const s = r.summary;
    const calls = readJsonl(r, 'gate_calls');
    const exitCalls = calls.filter((c) => c.kind === 'exit');
    const orders = readJsonl(r, 'orders').filter((o) => o.to === 'NEW');
    const events = readJsonl(r, 'events');

    // the refused exit: journaled, not sent, asked again 250 ms later (exit_retry_base_ms · 2^0; cooldown 0)
    expect(exitCalls[0]).toMatchObject({ allow: false, reason: 'throttle_account', reduce_only: true, type: 'market' });
    const denied = events.find((e) => e.kind === 'exit_denied')!;
    expect(denied).toMatchObject({ origin: 'gate', reason: 'throttle_account', client_order_id: exitCalls[0].client_order_id, retry_in_ms: 250, failures: 1 });
    expect(orders.some((o) => o.cid === exitCalls[0].client_order_id)).toBe(false);
    // asked again on the first book update at or after +250 ms, well inside the entries' 1000 ms pause
    expect(exitCalls[1].ts - exitCalls[0].ts).toBeGreaterThanOrEqual(250);
    expect(exitCalls[1].ts - exitCalls[0].ts).toBeLessThan(1000);
    expect(exitCalls[1].allow).toBe(true);
    expect(exitCalls[1].client_order_id).not.toBe(exitCalls[0].client_order_id); // a refused intent is done: a new id
    // exits are never held back by a quota pause: the refusal paused entries until +1000 ms, the exit went at +250 ms
    expect(orders.find((o) => o.cid === exitCalls[1].client_order_id)).toMatchObject({ action: 'close', req_id: exitCalls[1].req_id });
    // every exit order is one the gate allowed under its own id
    const allowedExitIds = new Set(exitCalls.filter((c) => c.allow).map((c) => c.client_order_id));
    const exitOrders = orders.filter((o) => o.action === 'close');
    expect(exitOrders.length).toBe(allowedExitIds.size);
    for (const o of exitOrders) expect(allowedExitIds.has(o.cid)).toBe(true);

    // the refused entry: no entry check for 4000 ms (the pause), the intents meanwhile skipped as quota_exhausted
    const entryCalls = calls.filter((c) => c.kind === 'entry');
    const t2 = entryCalls[1].ts;
    expect(entryCalls[1].reason).toBe('throttle_account');
    expect(entryCalls[2].ts - t2).toBeGreaterThanOrEqual(4000);
    const quotaSkips = events.filter((e) => e.kind === 'skip' && e.reason === 'quota_exhausted');
    expect(quotaSkips.length).toBeGreaterThan(0);
    expect(quotaSkips.filter((e) => e.ts >= t2 && e.ts < t2 + 4000).length).toBe(s.skipped_local.quota_exhausted - quotaSkips.filter((e) => e.ts < t2 || e.ts >= t2 + 4000).length);
    expect(quotaSkips.every((e) => e.quota === 'throttle_account')).toBe(true);
    expect(s.skipped_local.cooldown ?? 0).toBe(0); // a desk-limit refusal's wait is the quota pause, not a symbol cool-down
    expect(s.gate.denied_by_rule.controls).toEqual({ throttle_account: 2 });
    expect(s.gate.exits).toMatchObject({ denied: 1, denied_by_reason: { throttle_account: 1 }, sent_gate_unavailable: 0 });
    expect(s.positions_open_at_end).toBe(0);
  });

  test('exits the gate always refuses: backoff, EXIT.STUCK, the position is never forgotten (exit code 2)', async () => {
    const gate = await withGate((req) => (req.order.reduce_only === true ? { kind: 'answer', patch: denyPatch('reduce_only_would_increase') } : { kind: 'answer' }));
    const cfg = testConfig(await syntheticFeed(), gate.wsUrl, { execution: { exit_alert_after: 3, exit_retry_base_ms: 100, exit_retry_max_ms: 400 } });
    const r = await run(cfg);
    const s = r.summary;
    const events = readJsonl(r, 'events');
    const denied = events.filter((e) => e.kind === 'exit_denied');
    // waits 100, 200, 400, then capped at 400
    expect(denied.slice(0, 5).map((e) => e.retry_in_ms)).toEqual([100, 200, 400, 400, 400]);
    const exitCalls = readJsonl(r, 'gate_calls').filter((c) => c.kind === 'exit');
    for (let i = 1; i < Math.min(exitCalls.length, 4); i++) expect(exitCalls[i].ts - exitCalls[i - 1].ts).toBeGreaterThanOrEqual([100, 200, 400][i - 1]);
    expect(events.filter((e) => e.kind === 'alert' && e.code === 'EXIT.STUCK')).toHaveLength(1);
    expect(s.errors.exit_stuck).toBe(1);
    expect(readJsonl(r, 'orders').filter((o) => o.to === 'NEW' && o.action === 'close')).toHaveLength(0);
    expect(s.orders.submitted).toBe(1); // one entry; entries stay blocked while the exit is stuck
    expect(s.gate.denied_by_rule).toEqual({ controls: { reduce_only_would_increase: s.gate.exits.tried }, reference: {} });
    expect(s.positions_open_at_end).toBe(1);
    expect(s.shutdown).toMatchObject({ flatten_ok: false, exit_code: 2 });
  });

  test('the gate unreachable for an exit: sent when the runner’s fills confirm it (EXIT.GATE_UNAVAILABLE); a gate error waits', async () => {
    // exit checks: the socket is dropped (ws) or the connection destroyed (http) → gate_unavailable
    const gate = await withGate((req) => (req.order.reduce_only === true ? { kind: 'drop' } : { kind: 'answer' }));
    const r = await run(testConfig(await syntheticFeed(), gate.wsUrl));
    const s = r.summary;
    const alerts = readJsonl(r, 'events').filter((e) => e.kind === 'alert' && e.code === 'EXIT.GATE_UNAVAILABLE');
    expect(alerts.length).toBeGreaterThan(0);
    expect(s.gate.exits.sent_gate_unavailable).toBe(alerts.length);
    expect(s.gate.exits.denied_by_reason).toEqual({ gate_unavailable: s.gate.exits.tried });
    const closes = readJsonl(r, 'orders').filter((o) => o.to === 'NEW' && o.action === 'close');
    expect(closes.map((o) => o.cid)).toEqual(alerts.map((a) => a.client_order_id));
    for (const a of alerts) expect(a).toMatchObject({ outcome: 'unavailable', gate_reason: 'gate_unavailable' });
    expect(s.positions_open_at_end).toBe(0);

    // ok:false is an answer from a reachable gate: the exit waits (backoff) and is asked again
    await fake!.close();
    let exits = 0;
    const gate2 = await withGate((req) => (req.order.reduce_only === true && ++exits % 2 === 1 ? { kind: 'error', code: 'invalid_request' } : { kind: 'answer' }));
    const r2 = await run(testConfig(await syntheticFeed(), gate2.wsUrl));
    const ev2 = readJsonl(r2, 'events');
    expect(ev2.some((e) => e.code === 'EXIT.GATE_UNAVAILABLE')).toBe(false);
    const waited = ev2.filter((e) => e.kind === 'exit_denied');
    expect(waited.length).toBeGreaterThan(0);
    expect(waited.every((e) => e.origin === 'local' && e.reason === 'gate_error:invalid_request')).toBe(true);
    // no verdict: the next attempt (same side and qty) is the same intent — same client_order_id, byte-identical order
    const [errored, next] = gate2.checks.filter((c) => c.body.order.reduce_only === true).map((c) => c.body);
    expect(next.order).toEqual(errored.order);
    expect(next.req_id).not.toBe(errored.req_id);
    expect(readJsonl(r2, 'orders').find((o) => o.to === 'NEW' && o.cid === errored.order.client_order_id)).toMatchObject({ action: 'close', req_id: next.req_id });
    expect(r2.summary.positions_open_at_end).toBe(0);
  });

  test('a quota at 0 in an exit’s answer pauses entries, never the next exit', async () => {
    // every exit answer says the account's order throttle is empty; entry answers carry the reference quotas
    // (trades_pm_left and symbol_exposure_left_usdt stay numbers: the client's response schema still
    // requires the reference pair to be numbers, see the report on issue 13)
    const quotas = { trades_pm_left: 5, orders_ps_left: 0, open_orders_left: 3, symbol_exposure_left_usdt: 800, account_exposure_left_usdt: null };
    const gate = await withGate((req) => (req.order.reduce_only === true ? { kind: 'answer', patch: { quotas } } : { kind: 'answer' }));
    const r = await run(testConfig(await syntheticFeed({ minutes: 4 }), gate.wsUrl));
    const calls = readJsonl(r, 'gate_calls');
    // after each exit answer at t, no entry check before t + 1000 ms (QUOTA_PAUSE_MS, cooldown 0)
    const exitTimes = calls.filter((c) => c.kind === 'exit').map((c) => c.ts as number);
    expect(exitTimes.length).toBeGreaterThan(0);
    for (const e of calls.filter((c) => c.kind === 'entry')) {
      for (const t of exitTimes) expect(e.ts < t || e.ts >= t + 1000, `entry at ${e.ts} inside the pause after ${t}`).toBe(true);
    }
    expect(r.summary.gate.quota_pauses.orders_ps_left).toBeGreaterThan(0);
    // exits were never skipped: every exit the engine wanted was asked and allowed, and the run ends flat
    expect(r.summary.gate.exits.allowed).toBe(r.summary.gate.exits.tried);
    expect(r.summary.positions_open_at_end).toBe(0);
  });
});

describe('market.ts_ms on the gate clock (replays)', () => {
  test('keeps the age the runner saw and re-bases it on the wall clock', async () => {
    const { onGateClock } = await import('../../../src/runner/gate/client-gate.ts');
    // a replay 11 months back: book stamped 40 ms before the runner's virtual "now"
    const req = { ts: 1_700_000_000_040, account: {}, order: { symbol: 'BTCUSDT' }, market: { ts_ms: 1_700_000_000_000, mid: 100 } };
    const out = onGateClock(req as never, 1_730_000_000_000) as unknown as typeof req;
    expect(out.market).toEqual({ ts_ms: 1_729_999_999_960, mid: 100 });
    expect(out.ts).toBe(1_730_000_000_000);
    expect(req.market.ts_ms).toBe(1_700_000_000_000); // the caller's object is not changed
    // no ts_ms: unchanged
    const bare = { ts: 5, market: {} };
    expect(onGateClock(bare as never, 99)).toBe(bare);
  });
});
