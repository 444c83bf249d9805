import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { GateState } from '../../src/shm/state/gate-state.ts';
import { GateCounters, sliceCounter, sumCounter } from '../../src/gate/counters.ts';
import { C_INTERNAL_ERRORS } from '../../src/shm/counters.ts';
import type { StateLock } from '../../src/gate/pretrade.ts';
import { SYSTEM_CLOCK } from '../../src/gate/pretrade.ts';
import { GateService, KIND_POSTTRADE, KIND_PRETRADE, KIND_WS } from '../../src/gate/service.ts';
import { JournalBatch } from '../../src/journal/line-batch.ts';
import { FaultSite, setCountersFault, testHooks } from '../../src/testing/index.ts';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';
import { allowBody, posttradeBody } from '../helpers/load.ts';
import { decisionsById, inspectJournal } from '../helpers/process.ts';
import { WsClient } from '../helpers/ws.ts';
import { health, metricsText, metricValue } from './helpers.ts';

/**
 * A request whose handling throws (issue 12 item 2: a bug, a corrupt state word). Nothing in the core
 * throws on corrupt shared state (typed arrays clamp and ignore out-of-range access), so the throw is
 * injected through the test-only fault switch (`testHooks(gate).setFault`, src/testing) — a word in the
 * shared counters buffer, set for every thread of an in-process gate — at two points: inside the
 * critical section (state lock held) and after the request's first journal lines were added.
 *
 * Expected: the request is answered 500 `internal_error` (WebSocket: the envelope with its id, the
 * connection stays open); the worker and the process stay up; the lock is free; the request's partial
 * journal lines are rolled back (no POLICY.DECISION, no denied record, no POSTTRADE.LOG for it) and a
 * GATE.INTERNAL_ERROR event with its req_id is journaled and counted (`aurora_internal_errors_total`).
 * Identical on the inline path (pool 0) and in workers (pool 1 and 2, inline decisions off).
 */

const gates: TestGate[] = [];
afterEach(async () => {
  for (const g of gates.splice(0)) {
    await g.stop().catch(() => false);
    rmSync(g.dir, { recursive: true, force: true });
  }
});

/** A check denied by the spread guard: a SPREAD_GUARD_TRIP event and a denied record precede POLICY.DECISION. */
const spreadDenyBody = (reqId: string) => {
  const b = allowBody(reqId, { spread_bps: 1000 });
  (b.order as Record<string, unknown>).symbol = 'FAULTUSDT';
  return b;
};

/** Fails instead of hanging when the gate does not answer (a lock left held would block the next request). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

const post = (g: TestGate, path: string, body: unknown) => within(http(`${g.url}${path}`, 'POST', { body }), 5000, `POST ${path}`);

const FAILED_IDS = ['f-http-decide', 'f-http-lines', 'f-ws', 'f-post-decide', 'f-post-lines'];

describe.each([0, 1, 2])('a request whose handling throws, pool %i', (pool) => {
  it('is answered 500 internal_error, journaled as GATE.INTERNAL_ERROR with nothing half-journaled, and the gate carries on', async () => {
    const g = await startTestGate({ AURORA_POOL_THREADS: String(pool), AURORA_POOL_INLINE_WHEN_IDLE: pool === 0 ? 'true' : 'false' });
    gates.push(g);
    const hooks = testHooks(g);
    const counters = hooks.counters();
    const workers = (await health(g.url)).workers;
    expect(workers).toBe(pool === 0 ? 'inline' : pool);
    expect((await post(g, '/pretrade/check', allowBody('warm-1'))).status).toBe(200);

    // HTTP: a throw inside the critical section, then one after the request's first journal lines
    hooks.setFault(FaultSite.Decide);
    const decideFault = await post(g, '/pretrade/check', allowBody('f-http-decide'));
    expect(decideFault.status).toBe(500);
    expect(Object.keys((decideFault.json as { error: object }).error).sort()).toEqual(['code', 'message']);
    expect((decideFault.json as { error: { code: string } }).error.code).toBe('internal_error');
    hooks.setFault(FaultSite.AfterJournalLines);
    const linesFault = await post(g, '/pretrade/check', spreadDenyBody('f-http-lines'));
    expect(linesFault.status).toBe(500);
    expect((linesFault.json as { error: { code: string } }).error.code).toBe('internal_error');

    // WebSocket: the error envelope with the frame's id, then a normal answer on the same connection
    const ws = await WsClient.connect(g.url);
    try {
      hooks.setFault(FaultSite.Decide);
      const bad = await within(ws.request('pretrade.check', allowBody('f-ws'), 'ws-1'), 5000, 'ws-1');
      expect(bad.id).toBe('ws-1');
      expect(bad.ok).toBe(false);
      expect(bad.error?.code).toBe('internal_error');
      hooks.clearFault();
      const good = await within(ws.request('pretrade.check', allowBody('ok-ws'), 'ws-2'), 5000, 'ws-2');
      expect(good.ok).toBe(true);
      expect((good.body as { allow: unknown }).allow).toBe(true);
      expect(ws.isOpen).toBe(true);
    } finally {
      await ws.close();
    }

    // post-trade: a throw inside its critical section, then one after its POSTTRADE.LOG and raw lines
    hooks.setFault(FaultSite.Decide);
    const postDecide = await post(g, '/posttrade/log', posttradeBody('f-post-decide'));
    expect(postDecide.status).toBe(500);
    expect((postDecide.json as { error: { code: string } }).error.code).toBe('internal_error');
    hooks.setFault(FaultSite.AfterJournalLines);
    expect((await post(g, '/posttrade/log', posttradeBody('f-post-lines'))).status).toBe(500);

    // fault removed: decided at once (the lock is free), same workers, nothing restarted
    hooks.clearFault();
    const after = await post(g, '/pretrade/check', allowBody('after-1'));
    expect(after.status).toBe(200);
    expect((after.json as { allow: unknown }).allow).toBe(true);
    expect((await post(g, '/posttrade/log', posttradeBody('after-post'))).status).toBe(200);
    expect((await health(g.url)).workers).toBe(workers);

    const m = await metricsText(g.url);
    expect(metricValue(m, 'aurora_internal_errors_total')).toBe(5);
    expect(metricValue(m, 'aurora_events_emitted_total', { code: 'GATE.INTERNAL_ERROR' })).toBe(5);
    expect(metricValue(m, 'aurora_events_emitted_total', { code: 'POLICY.DECISION' })).toBe(3);
    expect(metricValue(m, 'aurora_events_emitted_total', { code: 'POSTTRADE.LOG' })).toBe(1);
    // the rolled-back lines' counts were taken back with them
    expect(metricValue(m, 'aurora_events_emitted_total', { code: 'SPREAD_GUARD_TRIP' })).toBeNaN();
    expect(metricValue(m, 'aurora_orders_denied_total')).toBe(0);
    expect(metricValue(m, 'aurora_pretrade_requests_total', { decision: 'allow' }) + metricValue(m, 'aurora_pretrade_requests_total', { decision: 'deny' })).toBe(3);
    expect(metricValue(m, 'aurora_http_requests_total', { route: '/pretrade/check', status: '500' })).toBe(2);
    // the faults hit the thread that decides: the main thread at pool 0, a worker otherwise
    expect(sumCounter(counters, C_INTERNAL_ERRORS)).toBe(5);
    expect(sliceCounter(counters, 0, C_INTERNAL_ERRORS)).toBe(pool === 0 ? 5 : 0);
    if (pool > 0) expect(metricValue(m, 'aurora_pool_decisions_total', { thread: 'worker' })).toBe(3);

    expect(await g.stop()).toBe(true);
    const j = inspectJournal(g.sessionDir);
    expect(j.torn).toEqual([]);
    const errors = j.events.filter((e) => e.event_code === 'GATE.INTERNAL_ERROR');
    const byId = new Map(errors.map((e) => [(e.details as { req_id: unknown }).req_id, e.details as Record<string, unknown>]));
    expect([...byId.keys()].sort()).toEqual([...FAILED_IDS].sort());
    for (const [id, d] of byId) {
      expect(d.error, String(id)).toMatch(/^InjectedFault: injected test fault at site (decide|after_journal_lines)$/);
      const stack = d.stack as string[];
      expect(stack.length, String(id)).toBeGreaterThan(0);
      expect(stack.length, String(id)).toBeLessThanOrEqual(8);
      for (const frame of stack) expect(frame.length).toBeLessThanOrEqual(256);
    }
    expect(byId.get('f-ws')!.ws_id).toBe('ws-1');
    expect(byId.get('f-ws')!.op).toBe('pretrade.check');
    expect(byId.get('f-http-decide')!.ws_id).toBeUndefined();
    expect(byId.get('f-post-decide')!.op).toBe('posttrade.log');
    expect(byId.get('f-http-lines')!.rolled_back_lines).toBe(2); // SPREAD_GUARD_TRIP + the denied record
    expect(byId.get('f-post-lines')!.rolled_back_lines).toBe(2); // POSTTRADE.LOG + the raw line
    expect(byId.get('f-http-decide')!.rolled_back_lines).toBe(0);

    // nothing half-journaled: no trace of a failed request but its GATE.INTERNAL_ERROR
    const decisions = decisionsById(j.events);
    expect([...decisions.keys()].sort()).toEqual(['after-1', 'ok-ws', 'warm-1']);
    expect(j.events.filter((e) => e.event_code === 'SPREAD_GUARD_TRIP')).toEqual([]);
    expect(j.denied).toEqual([]);
    const logged = j.events.filter((e) => e.event_code === 'POSTTRADE.LOG').map((e) => (e.details as { req_id?: unknown }).req_id);
    expect(logged).toEqual(['after-post']);
    const raw = (j.files['orders.jsonl']?.records ?? []).map((r) => r.req_id);
    expect(raw).toEqual(['after-post']);
  });
});

describe('GateService alone: the lock and the batch after a throw', () => {
  /** A lock that counts: acquire/release must balance after every request. */
  class CountingLock implements StateLock {
    held = 0;
    acquired = 0;
    acquire(): void {
      this.held++;
      this.acquired++;
    }
    release(): void {
      this.held--;
    }
  }

  function service() {
    const cfg = loadConfig({}, tmpdir());
    const lock = new CountingLock();
    const journal = new JournalBatch();
    const buffer = GateCounters.allocate(1);
    const counters = new GateCounters(buffer, 0);
    const svc = new GateService(cfg.core, GateState.create(cfg.service.stateSizes, cfg.core.risk, false), lock, SYSTEM_CLOCK, 'unit', journal, counters);
    return { svc, lock, journal, buffer };
  }
  const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

  it('releases the lock, keeps the earlier requests of the batch, and drops only the failed one', () => {
    const { svc, lock, journal, buffer } = service();
    expect(svc.handleBytes(KIND_PRETRADE, bytes(allowBody('u-1'))).status).toBe(200);
    const before = journal.events;
    const linesBefore = journal.lines;
    for (const site of [FaultSite.Decide, FaultSite.AfterJournalLines]) {
      setCountersFault(buffer, site);
      for (const [kind, body] of [
        [KIND_PRETRADE, spreadDenyBody(`u-f${site}`)],
        [KIND_POSTTRADE, posttradeBody(`u-p${site}`)],
        [KIND_WS, { id: 7, op: 'pretrade.check', body: spreadDenyBody(`u-w${site}`) }],
      ] as const) {
        const r = svc.handleBytes(kind, bytes(body));
        expect(r.status).toBe(500);
        expect(lock.held).toBe(0);
        if (kind === KIND_WS) expect(JSON.parse(r.body)).toMatchObject({ id: 7, ok: false, error: { code: 'internal_error' } });
      }
    }
    setCountersFault(buffer, FaultSite.Off);
    expect(lock.acquired).toBeGreaterThan(6);
    // the earlier request's lines are intact; each failure left exactly one line: its GATE.INTERNAL_ERROR
    expect(journal.events.startsWith(before)).toBe(true);
    const added = journal.events.slice(before.length).trimEnd().split('\n').map((l) => JSON.parse(l) as { event_code: string });
    expect(added.map((e) => e.event_code)).toEqual(Array(6).fill('GATE.INTERNAL_ERROR'));
    expect(journal.lines).toBe(linesBefore + 6);
    expect(journal.denied + journal.raw).toBe('');
    expect(svc.handleBytes(KIND_PRETRADE, bytes(allowBody('u-2'))).status).toBe(200);
    expect(lock.held).toBe(0);
  });

  it('JournalBatch.rollback drops only the lines added since the mark, and only while the mark is current', () => {
    const b = new JournalBatch();
    b.add('events', 'a\n');
    b.add('raw', 'r\n');
    const m = b.mark();
    b.add('events', 'b\n');
    b.add('denied', 'd\n');
    expect(b.addedSince(m)).toEqual(['b\n', 'd\n', '', '', '']);
    expect(b.rollback(m)).toBe(2);
    expect([b.events, b.denied, b.raw, b.lines, [...b.perFile]]).toEqual(['a\n', '', 'r\n', 2, [1, 0, 0, 0, 1]]);
    const stale = b.mark();
    b.clear();
    b.add('events', 'c\n');
    expect(b.rollback(stale)).toBe(-1);
    expect(b.addedSince(stale)).toBeNull();
    expect(b.events).toBe('c\n');
  });
});
