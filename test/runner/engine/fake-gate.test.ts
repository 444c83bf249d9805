/**
 * The engine against an in-test fake gate (WebSocket + HTTP on one port, answers scripted per call)
 * on a seeded synthetic feed, with the real paper exchange, real client and real files: every
 * assertion is on summary.json and the runner's JSONL files (runner.md §4.6).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { quantiseDown } from '../../../src/runner/logic/sizing.ts';
import { canMove } from '../../../src/runner/engine/orders.ts';
import { denyPatch, startFakeGate, type FakeGate, type Script } from './fake-gate.ts';
import { readJsonl, run, syntheticFeed, testConfig } from './harness.ts';

let fake: FakeGate | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

async function withGate(script: Script, opts?: { posttradeOk?: boolean }): Promise<FakeGate> {
  fake = await startFakeGate(script, opts);
  return fake;
}

const LOT = 0.001; // the synthetic feed's lot step

describe('engine with a scripted gate', () => {
  test('allow: every check carries the full request; orders, fills, posttrade and files agree', async () => {
    const gate = await withGate(() => ({ kind: 'answer' }));
    const r = await run(testConfig(await syntheticFeed(), gate.wsUrl));
    const s = r.summary;
    expect(s.gate.tried).toBeGreaterThan(0);
    expect(s.gate.allowed).toBe(s.gate.tried);
    expect(s.gate.transport.ws).toBe(s.gate.tried);
    expect(gate.checks.length).toBe(s.gate.tried);

    // §1.8: every field the gate needs, with the runner's req_id scheme; entries and exits share it
    const orders = readJsonl(r, 'orders');
    const newOrders = new Map(orders.filter((o) => o.to === 'NEW').map((o) => [o.cid, o]));
    gate.checks.forEach((c, i) => {
      const b = c.body;
      expect(b.req_id).toBe(`${s.run_id}-${i + 1}`);
      expect(b.account).toEqual({ mode: 'paper', account_id: 'default' });
      expect(b.order.symbol).toBe('BTCUSDT');
      expect(['buy', 'sell']).toContain(b.order.side);
      expect(b.order.qty).toBeGreaterThan(0);
      expect(b.order.base_notional).toBeCloseTo(b.order.qty * b.order.price, 9);
      // controls.md §1: the order's id (the venue client id of the order it becomes), type, reduce-only
      expect(b.order.client_order_id).toMatch(new RegExp(`^${s.run_id}-o\\d+$`));
      expect(b.order.type).toBe('market'); // taker route: entries and exits are market orders
      expect(newOrders.get(b.order.client_order_id)).toMatchObject({ req_id: b.req_id, side: b.order.side, qty: b.order.qty }); // all allowed: each became that order
      expect(b.risk_tags).toEqual(['scalping', 'auto']);
      expect(b.fees_bps).toBeCloseTo(0.5 + 0.5, 12); // taker entry + taker exit from market_info
      const m = b.market;
      for (const k of ['score', 'a_bps', 'b_bps', 'slip_bps_est', 'spread_bps', 'latency_ms', 'mid']) expect(Number.isFinite(m[k]), k).toBe(true);
      expect(Number.isInteger(m.ts_ms)).toBe(true);
      expect(m.ts_ms).toBeLessThanOrEqual(b.ts); // the book the decision used, on the feed clock
      expect(b.ts - m.ts_ms).toBeCloseTo(m.latency_ms, 0);
      expect(['trend_pos', 'trend_neg', 'normal']).toContain(m.mode_regime);
      if (b.order.reduce_only === true) {
        // an exit: reduce-only close, no entry-only inputs
        expect(b.order.action).toBe('close');
        for (const k of ['trap_cancel_deltas', 'trap_add_deltas', 'trap_trades_cnt', 'obi_sign', 'tfi_sign', 'sprt_samples', 'pnl_today_pct', 'open_positions']) expect(k in m, k).toBe(false);
        return;
      }
      expect(b.order.reduce_only).toBe(false);
      expect(Number.isFinite(m.pnl_today_pct)).toBe(true);
      expect(m.score).toBeGreaterThanOrEqual(0.35); // side-aligned: a short is sent with a positive score
      expect(m.b_bps / m.a_bps).toBeCloseTo(1.2 / 0.8, 9); // a/b from the exit geometry (unless clamped)
      expect(m.trap_cancel_deltas).toHaveLength(5);
      expect(m.trap_add_deltas).toHaveLength(5);
      expect(Number.isInteger(m.trap_trades_cnt)).toBe(true);
      expect([-1, 0, 1]).toContain(m.obi_sign);
      expect([-1, 0, 1]).toContain(m.tfi_sign);
      expect(m.sprt_samples.length).toBeGreaterThan(0);
      expect(m.sprt_samples.length).toBeLessThanOrEqual(10);
      expect(Number.isInteger(m.open_positions)).toBe(true);
    });
    // one id per intent
    expect(new Set(gate.checks.map((c) => c.body.order.client_order_id)).size).toBe(gate.checks.length);

    // entries: one per allowed entry check (all taker, so all fill); every exit was asked first; flat at the end
    const entries = orders.filter((o) => o.to === 'NEW' && o.action === 'open');
    const exitOrders = orders.filter((o) => o.to === 'NEW' && o.action === 'close');
    expect(s.gate.exits.tried).toBeGreaterThan(0);
    expect(entries).toHaveLength(s.gate.allowed - s.gate.exits.allowed);
    expect(exitOrders).toHaveLength(s.gate.exits.allowed);
    expect(gate.checks.filter((c) => c.body.order.reduce_only === true)).toHaveLength(s.gate.exits.tried);
    expect(s.fills).toBeGreaterThan(0);
    expect(s.positions_open_at_end).toBe(0);
    expect(s.shutdown).toEqual({ reason: 'end_of_feed', flatten_ok: true, exit_code: 0 });

    // every transition in orders.jsonl is one the state machine allows
    for (const o of orders.filter((x) => 'to' in x && x.from !== null)) expect(canMove(o.from, o.to), `${o.from}->${o.to}`).toBe(true);

    // fills: files = summary = posttrade bodies (one per fill), closes carry pnl
    const fills = readJsonl(r, 'fills');
    expect(fills).toHaveLength(s.fills);
    expect(new Set(fills.map((f) => f.fill_id)).size).toBe(fills.length);
    const realized = fills.filter((f) => f.action === 'close').reduce((a, f) => a + f.realized, 0);
    expect(s.pnl.realized).toBeCloseTo(realized, 6);
    const perExit = Object.values(s.pnl.per_exit_reason).reduce((a, b) => a + b, 0);
    expect(perExit).toBeCloseTo(s.pnl.realized, 6);
    // one body per fill, plus the final record of an IOC cancelled after a partial fill
    const partialCancels = orders.filter((o) => o.to === 'CANCELLED' && o.filled > 0).length;
    expect(s.posttrade).toEqual({ sent: s.fills + partialCancels, failed: 0, dropped: 0 });
    expect(gate.posttrades).toHaveLength(s.fills + partialCancels);
    for (const p of gate.posttrades) {
      expect(p.body.symbol).toBe('BTCUSDT');
      expect(['filled', 'partially_filled', 'canceled']).toContain(p.body.status);
      expect(p.body.close).toBe(p.body.action === 'close');
      if (p.body.action === 'close' && p.body.status !== 'canceled') expect(typeof p.body.pnl_usdt).toBe('number');
      // controls.md §3/§5: the order's client_order_id (= cid) and the account, top level
      expect(p.body.client_order_id).toBe(p.body.cid);
      expect(p.body.account_id).toBe('default');
      expect(newOrders.has(p.body.client_order_id)).toBe(true);
    }
    const calls = readJsonl(r, 'gate_calls');
    expect(calls.map((c) => c.req_id)).toEqual(gate.checks.map((c) => c.body.req_id));
    expect(JSON.parse(readFileSync(r.summaryPath, 'utf8'))).toEqual(s);
  });

  test('deny by reason: nothing is placed; reasons are counted by family, logged in full', async () => {
    const gate = await withGate((_req, n) => ({ kind: 'answer', patch: denyPatch(n % 2 === 0 ? 'expected_return_gate' : 'spread_bps_too_wide:123.4') }));
    const r = await run(testConfig(await syntheticFeed(), gate.wsUrl));
    const s = r.summary;
    expect(s.gate.tried).toBeGreaterThan(2);
    expect(s.gate.allowed).toBe(0);
    expect(s.gate.denied).toBe(s.gate.tried);
    expect(s.gate.denied_by_reason).toEqual({
      expected_return_gate: Math.floor(s.gate.tried / 2),
      spread_bps_too_wide: Math.ceil(s.gate.tried / 2),
    });
    expect(s.orders.submitted).toBe(0);
    expect(s.fills).toBe(0);
    const calls = readJsonl(r, 'gate_calls');
    expect(calls.filter((c) => c.reason === 'spread_bps_too_wide:123.4')).toHaveLength(Math.ceil(s.gate.tried / 2));
    const denies = readJsonl(r, 'events').filter((e) => e.kind === 'deny');
    expect(denies).toHaveLength(s.gate.tried);
    expect(denies.every((e) => e.origin === 'gate' && Array.isArray(e.reasons))).toBe(true);
    // a deny is never retried: each check has a fresh req_id
    expect(new Set(gate.checks.map((c) => c.body.req_id)).size).toBe(gate.checks.length);
  });

  test('max_qty cuts the order: qty = quantise_down(min(qty, max_qty))', async () => {
    const gate = await withGate((req) => ({ kind: 'answer', patch: { max_qty: req.order.qty * 0.55 } }));
    const r = await run(testConfig(await syntheticFeed(), gate.wsUrl));
    const entries = readJsonl(r, 'orders').filter((o) => o.to === 'NEW' && o.action === 'open');
    expect(entries.length).toBeGreaterThan(0);
    const asked = new Map(gate.checks.map((c) => [c.body.req_id, c.body.order.qty as number]));
    for (const e of entries) {
      const q = asked.get(e.req_id)!;
      expect(e.qty).toBe(quantiseDown(q * 0.55, LOT));
      expect(e.qty).toBeLessThan(q);
    }
  });

  test('risk_scale scales the order; below the venue minimum it is a local SIZED_OUT_BY_GATE skip', async () => {
    // entry checks alternate 0.5 / 0.01 (exits: risk_scale sizes new risk, a close is not scaled)
    let k = 0;
    const gate = await withGate((req) => (req.order.reduce_only ? { kind: 'answer' } : { kind: 'answer', patch: { risk_scale: ++k % 2 === 1 ? 0.5 : 0.01 } }));
    const r = await run(testConfig(await syntheticFeed(), gate.wsUrl));
    const s = r.summary;
    const entries = readJsonl(r, 'orders').filter((o) => o.to === 'NEW' && o.action === 'open');
    const entryChecks = gate.checks.filter((c) => !c.body.order.reduce_only);
    const byReq = new Map(entryChecks.map((c, i) => [c.body.req_id, { qty: c.body.order.qty as number, n: i + 1 }]));
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) {
      const c = byReq.get(e.req_id)!;
      expect(c.n % 2).toBe(1); // only the 0.5 answers were placed
      expect(e.qty).toBe(quantiseDown(c.qty * 0.5, LOT));
    }
    // qty ~0.02 · 0.01 = 0.0002 < min_qty 0.001
    expect(s.skipped_local.SIZED_OUT_BY_GATE).toBe(Math.floor(entryChecks.length / 2));
    expect(entries).toHaveLength(Math.ceil(entryChecks.length / 2));
    // the gate allowed (and may have reserved for) each sized-out entry: released at once by a not-sent body
    const released = gate.posttrades.filter((p) => p.body.cancel_reason === 'not_sent:SIZED_OUT_BY_GATE');
    expect(released).toHaveLength(s.skipped_local.SIZED_OUT_BY_GATE);
    const sizedOut = new Set(entryChecks.filter((_c, i) => (i + 1) % 2 === 0).map((c) => c.body.order.client_order_id));
    for (const p of released) {
      expect(sizedOut.has(p.body.client_order_id)).toBe(true);
      expect(p.body).toMatchObject({ status: 'canceled', filled: 0, order_id: null, account_id: 'default', action: 'open' });
    }
    // every exit (asked of the gate, allowed) was placed whole: flat at the end
    expect(s.gate.exits.allowed).toBe(s.gate.exits.tried);
    expect(s.positions_open_at_end).toBe(0);
  });

  test('cooldown_ms: no new check for that symbol before it has passed (on the feed clock)', async () => {
    // every answer is a deny with a 20 s cool-down; without it this feed produces checks seconds apart
    const gate = await withGate(() => ({ kind: 'answer', patch: { ...denyPatch('cooldown_after_close_active'), cooldown_ms: 20_000 } }));
    const r = await run(testConfig(await syntheticFeed({ minutes: 4 }), gate.wsUrl));
    const calls = readJsonl(r, 'gate_calls');
    expect(calls.length).toBeGreaterThan(1);
    for (let i = 1; i < calls.length; i++) expect(calls[i].ts - calls[i - 1].ts).toBeGreaterThanOrEqual(20_000);
    expect(r.summary.skipped_local.cooldown).toBeGreaterThan(0);
  });

  test('ok:false is a deny gate_error:<code>, never an allow', async () => {
    const gate = await withGate(() => ({ kind: 'error', code: 'invalid_request' }));
    const r = await run(testConfig(await syntheticFeed(), gate.wsUrl));
    const s = r.summary;
    expect(s.gate.tried).toBeGreaterThan(0);
    expect(s.gate.errors).toEqual({ 'gate_error:invalid_request': s.gate.tried });
    expect(s.gate.denied_by_reason).toEqual({});
    expect(s.orders.submitted).toBe(0);
    expect(readJsonl(r, 'events').filter((e) => e.kind === 'deny').every((e) => e.origin === 'local')).toBe(true);
  });

  test('an answer past the deadline is gate_timeout; the late reply is counted and dropped', async () => {
    const gate = await withGate(() => ({ kind: 'answer', delayMs: 120 }));
    const r = await run(testConfig(await syntheticFeed({ minutes: 1.5 }), gate.wsUrl, { gate: { timeout_ms: 40 } }));
    const s = r.summary;
    expect(s.gate.tried).toBeGreaterThan(0);
    expect(s.gate.errors).toEqual({ gate_timeout: s.gate.tried });
    expect(s.gate.allowed).toBe(0);
    expect(s.orders.submitted).toBe(0);
    expect(s.gate.late_responses).toBeGreaterThan(0);
    const calls = readJsonl(r, 'gate_calls');
    expect(calls.every((c) => c.outcome === 'timeout' && c.rtt_ms >= 35)).toBe(true);
    // each intent: the check and one same-id retry (controls.md §5), then its id is released at the gate
    expect(s.gate.retries).toBe(s.gate.tried / 2);
    for (let i = 0; i < calls.length; i += 2) expect([calls[i].attempt, calls[i + 1].attempt, calls[i + 1].client_order_id]).toEqual([1, 2, calls[i].client_order_id]);
    const released = gate.posttrades.filter((p) => p.body.cancel_reason === 'not_sent:timeout').map((p) => p.body.client_order_id);
    expect(released).toEqual(calls.filter((c) => c.attempt === 2).map((c) => c.client_order_id));
  });

  test('socket dropped mid-call: that call is gate_unavailable, later calls go over HTTP or the new socket', async () => {
    const gate = await withGate((_req, n) => (n === 1 ? { kind: 'drop' } : { kind: 'answer' }));
    const r = await run(testConfig(await syntheticFeed(), gate.wsUrl));
    const s = r.summary;
    expect(s.gate.errors).toEqual({ gate_unavailable: 1 });
    expect(s.gate.allowed).toBe(s.gate.tried - 1);
    expect(s.gate.transport.ws + s.gate.transport.http).toBe(s.gate.tried);
    const first = readJsonl(r, 'gate_calls')[0];
    expect(first).toMatchObject({ outcome: 'unavailable', allow: false, reason: 'gate_unavailable' });
    expect(gate.checks.length).toBe(s.gate.tried); // never sent twice
  });

  test('posttrade the gate does not take: 3 attempts, then posttrade_unsent.jsonl', async () => {
    const gate = await withGate(() => ({ kind: 'answer' }), { posttradeOk: false });
    const r = await run(testConfig(await syntheticFeed(), gate.wsUrl, { posttrade: { retry_base_ms: 5 } }));
    const s = r.summary;
    expect(s.fills).toBeGreaterThan(0);
    expect(s.posttrade).toEqual({ sent: 0, failed: s.fills, dropped: 0 });
    const unsent = readJsonl(r, 'posttrade_unsent');
    expect(unsent).toHaveLength(s.fills);
    expect(unsent.every((u) => u.attempts === 3 && u.why === 'gate_error:unavailable')).toBe(true);
    expect(gate.posttrades).toHaveLength(3 * s.fills);
  });
});

describe('engine without a gate', () => {
  test('refused connections fail closed; gate.fail_open_in_paper lets a paper run trade', async () => {
    const port = await closedPort();
    const url = `ws://127.0.0.1:${port}/ws`;
    const feed = await syntheticFeed();
    const overrides = { gate: { startup_wait_ms: 100, connect_timeout_ms: 200 } };
    const closed = await run(testConfig(feed, url, overrides));
    expect(closed.summary.gate.tried).toBeGreaterThan(0);
    expect(closed.summary.gate.errors).toEqual({ gate_unavailable: closed.summary.gate.tried });
    expect(closed.summary.orders.submitted).toBe(0);

    const open = await run(testConfig(feed, url, { gate: { ...overrides.gate, fail_open_in_paper: true } }));
    expect(open.summary.gate.fail_open).toBe(open.summary.gate.tried);
    expect(open.summary.fills).toBeGreaterThan(0);
    expect(open.summary.posttrade.failed).toBe(open.summary.fills);
  });
});

describe('a bad feed line', () => {
  test('feed.on_invalid fail: the replay stops there, shuts down cleanly, exit code 3; skip: counted and replayed on', async () => {
    const lines = readFileSync(await syntheticFeed(), 'utf8').trimEnd().split('\n');
    const bad = Math.floor(lines.length * 0.6);
    lines[bad] = lines[bad].replace('"recv_ts":', '"recv_ts":"soon","was":');
    const feed = join(mkdtempSync(join(tmpdir(), 'runner-badfeed-')), 'feed.jsonl');
    writeFileSync(feed, lines.join('\n') + '\n');

    const failed = await run(testConfig(feed, 'stub'));
    expect(failed.summary.shutdown).toEqual({ reason: 'feed_error', flatten_ok: true, exit_code: 3 });
    expect(failed.summary.feed_events).toBe(bad); // every line before the bad one
    expect(failed.summary.positions_open_at_end).toBe(0);
    expect(failed.summary.errors['feed:FeedLineError']).toBe(1);
    const err = readJsonl(failed, 'events').find((e) => e.kind === 'error');
    expect(err?.message).toContain(`:${bad + 1}:`); // file:line of the bad line

    const skipped = await run(testConfig(feed, 'stub', { feed: { on_invalid: 'skip' } }));
    expect(skipped.summary.shutdown.exit_code).toBe(0);
    expect(skipped.summary.feed_events).toBe(lines.length - 1);
    expect(skipped.summary.errors.feed_lines_skipped).toBe(1);
  });
});

/** A port nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
