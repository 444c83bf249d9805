import { describe, expect, test } from 'vitest';
import type { ExchangeEvent, FillEvent } from '../../../src/runner/exchange/types.ts';
import { canMove, isTerminal, OrderTracker, type OrderState, type TrackedOrder } from '../../../src/runner/engine/orders.ts';

const STATES: OrderState[] = ['NEW', 'SUBMITTED', 'ACKED', 'PARTIAL', 'FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED'];

function tracker() {
  const lines: Array<Record<string, unknown>> = [];
  const moves: string[] = [];
  let now = 1000;
  const t = new OrderTracker(
    (r) => lines.push(r),
    () => now,
    (from, to, code) => moves.push(`${from}->${to}${code ? `:${code}` : ''}`),
  );
  const add = (cid = 'r-o1'): TrackedOrder =>
    t.add({
      cid,
      accountId: 'default',
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'limit',
      action: 'open',
      reason: 'open',
      reqId: 'r-1',
      positionId: 'r-p1',
      qty: 0.01,
      price: 50_000,
      reduceOnly: false,
      createdMs: now,
      ackDeadlineMs: now + 2000,
      cancelAtMs: null,
    });
  return { t, add, lines, moves, tick: (ms: number) => (now += ms) };
}

const ids = { symbol: 'BTCUSDT', clientOrderId: 'r-o1', orderId: 'P-1' };
const fill = (fillId: string, qty: number, filled: number, remaining: number): FillEvent => ({
  type: 'fill',
  ts: 1,
  ...ids,
  fillId,
  side: 'buy',
  price: 50_000,
  qty,
  fee: 0.1,
  feeCurrency: 'USDT',
  liquidity: 'maker',
  filled,
  remaining,
  status: remaining > 0 ? 'partially_filled' : 'filled',
  reduceOnly: false,
});

describe('order state machine (runner.md §2.2)', () => {
  test('the allowed transitions, and terminal states have none', () => {
    const allowed = STATES.flatMap((a) => STATES.filter((b) => canMove(a, b)).map((b) => `${a}->${b}`));
    expect(allowed).toEqual([
      'NEW->SUBMITTED',
      'NEW->REJECTED',
      'SUBMITTED->ACKED',
      'SUBMITTED->PARTIAL',
      'SUBMITTED->FILLED',
      'SUBMITTED->CANCELLED',
      'SUBMITTED->REJECTED',
      'SUBMITTED->EXPIRED',
      'ACKED->PARTIAL',
      'ACKED->FILLED',
      'ACKED->CANCELLED',
      'ACKED->EXPIRED',
      'PARTIAL->PARTIAL',
      'PARTIAL->FILLED',
      'PARTIAL->CANCELLED',
      'PARTIAL->EXPIRED',
    ]);
    expect(STATES.filter(isTerminal)).toEqual(['FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED']);
  });

  test('ack, partial fills (de-duplicated by fill_id), fill; every step journaled', () => {
    const { t, add, lines, moves } = tracker();
    const o = add();
    t.move(o, 'SUBMITTED');
    t.apply({ type: 'ack', ts: 1, ...ids });
    expect(o.orderId).toBe('P-1');
    expect(t.apply(fill('F1', 0.004, 0.004, 0.006)).kind).toBe('fill');
    expect(t.apply(fill('F1', 0.004, 0.004, 0.006)).kind).toBe('noop'); // a duplicate report
    expect(o.filled).toBe(0.004);
    expect(t.apply(fill('F2', 0.006, 0.01, 0)).kind).toBe('fill');
    expect(o.state).toBe('FILLED');
    expect(o.fees).toBeCloseTo(0.2, 12);
    expect(o.notional / o.filled).toBe(50_000);
    expect(moves).toEqual(['NEW->SUBMITTED', 'SUBMITTED->ACKED', 'ACKED->PARTIAL', 'PARTIAL->FILLED']);
    expect(lines.map((l) => l.to)).toEqual(['NEW', 'SUBMITTED', 'ACKED', 'PARTIAL', 'FILLED']);
  });

  test('a fill after a cancel still counts (fills are the truth) and is journaled as late', () => {
    const { t, add, lines } = tracker();
    const o = add();
    t.move(o, 'SUBMITTED');
    t.apply({ type: 'ack', ts: 1, ...ids });
    expect(t.apply({ type: 'cancelled', ts: 2, ...ids, reason: 'user', filled: 0, cancelledQty: 0.01 }).kind).toBe('terminal');
    const u = t.apply(fill('F9', 0.002, 0.002, 0.008));
    expect(u).toMatchObject({ kind: 'fill', late: true });
    expect(o.state).toBe('CANCELLED');
    expect(o.filled).toBe(0.002);
    expect(t.late).toBe(1);
    expect(lines.at(-1)).toMatchObject({ event: 'late_fill', fill_id: 'F9' });
  });

  test('ack timeout: unknown to the venue → EXPIRED; a late ack is then reported, not applied', () => {
    const { t, add } = tracker();
    const o = add();
    t.move(o, 'SUBMITTED');
    expect(t.reconcile(o, undefined)).toBe('expired');
    expect(o.state).toBe('EXPIRED');
    expect(t.apply({ type: 'ack', ts: 3, ...ids })).toMatchObject({ kind: 'noop', late: true });
    expect(o.state).toBe('EXPIRED');
    expect(t.reconcile(o, undefined)).toBe('noop');
  });

  test('ack timeout: known to the venue → reconciled to its state', () => {
    const { t, add } = tracker();
    const o = add();
    t.move(o, 'SUBMITTED');
    const snap = {
      orderId: 'P-7', clientOrderId: 'r-o1', symbol: 'BTCUSDT', side: 'buy' as const, type: 'limit' as const, price: 50_000, qty: 0.01,
      filled: 0, avgPrice: null, fees: 0, status: 'open' as const, postOnly: false, reduceOnly: false, acceptedMs: 1, updatedMs: 1,
    };
    expect(t.reconcile(o, snap)).toBe('reconciled');
    expect(o.state).toBe('ACKED');
    expect(o.orderId).toBe('P-7');
    const o2 = add('r-o2');
    t.move(o2, 'SUBMITTED');
    t.reconcile(o2, { ...snap, clientOrderId: 'r-o2', status: 'rejected', rejectCode: 'min_notional' });
    expect(o2).toMatchObject({ state: 'REJECTED', rejectCode: 'min_notional' });
  });

  test('reject carries the venue code; events for unknown ids are counted, not applied', () => {
    const { t, add, moves } = tracker();
    const o = add();
    t.move(o, 'SUBMITTED');
    const ev: ExchangeEvent = { type: 'rejected', ts: 1, ...ids, code: 'post_only_would_take', message: 'x' };
    expect(t.apply(ev).kind).toBe('terminal');
    expect(moves.at(-1)).toBe('SUBMITTED->REJECTED:post_only_would_take');
    expect(t.apply({ type: 'ack', ts: 1, symbol: 'BTCUSDT', clientOrderId: 'nobody', orderId: 'P-0' }).order).toBeNull();
    expect(t.unknown).toBe(1);
    expect(t.working()).toEqual([]);
  });
});

describe('working orders (the open set)', () => {
  test('orders leave it when they reach a final state, whichever way; the rest stay in placement order', () => {
    const { t, add } = tracker();
    const a = add('r-o1');
    const b = add('r-o2');
    const c = add('r-o3');
    const d = add('r-o4');
    expect(t.working()).toEqual([a, b, c, d]);
    for (const o of [a, b, c, d]) t.move(o, 'SUBMITTED');
    t.apply(fill('f1', 0.01, 0.01, 0)); // r-o1
    t.apply({ type: 'cancelled', ts: 1, ...ids, clientOrderId: 'r-o3', reason: 'user', filled: 0, cancelledQty: 0.01 });
    expect(t.reconcile(d, undefined)).toBe('expired');
    expect(t.working()).toEqual([b]);
    expect(t.workingCount).toBe(1);
    expect(t.move(b, 'PARTIAL')).toBe(true);
    expect(t.working()).toEqual([b]);
    t.move(b, 'FILLED');
    expect(t.working()).toEqual([]);
    expect(t.move(b, 'CANCELLED')).toBe(false); // a refused move changes nothing
    expect(t.working()).toEqual([]);
  });
});
