import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { http } from '../helpers/gate.ts';
import { allowBody, startLoad, summarize, type Outcome } from '../helpers/load.ts';
import { decisionsById, duplicates, inspectJournal } from '../helpers/process.ts';
import { startChildGate, type ChildGate } from './gate-process.ts';

/**
 * SIGKILL mid-load, then a restart on the same session directory (issue "Hardening": "SIGKILL mid-load →
 * every journal line parses, none doubled"). test/service/shutdown.test.ts kills once and inspects the
 * files the dead process left; here the gate is killed under load three times and restarted on the same
 * journal each time, as a supervisor would, then stopped cleanly. The journal of all four processes
 * together must have no torn line and no decision twice.
 *
 * What a SIGKILL may lose (docs/reliability.md, "SIGKILL under load": "lines still in the writer's ring are
 * lost (a kill is not a stop)"): a worker hands a batch's journal lines to the writer thread's shared-memory
 * ring before it publishes the replies, and the writer drains the rings ~1 ms behind (COALESCE_MS in
 * src/journal/writer-thread.ts). A line the writer has written is in the page cache and survives the
 * kill of the process (fsync matters only for power loss). So an answered decision can be missing only if
 * it was answered in the last moments before the process died: LOST_WINDOW_MS below. Observed: every lost
 * one was received 6 ms after to 88 ms before kill() was called (the process runs until the signal lands).
 * A request that got an error answer is never journaled; one that got no answer (the connection died with
 * the process) may or may not be. After the clean stop nothing may be missing.
 */

/**
 * How long before kill() a lost decision may have been answered: the writer's ~1 ms lag plus the time its
 * thread may wait for a core (2 cores shared with other test files: up to 88 ms seen while another fault
 * test ran). A writer that writes only at a clean stop (round 0 answers from ~700 ms before the kill on),
 * one that lags by this much, or a restart that truncates earlier processes' lines loses older ones.
 */
const LOST_WINDOW_MS = 500;

const dirs: string[] = [];
const gates: ChildGate[] = [];
afterEach(async () => {
  for (const g of gates.splice(0)) {
    g.signal('SIGKILL');
    await g.waitExit(3000);
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempSession(): string {
  const d = mkdtempSync(join(tmpdir(), 'aurora-kill-'));
  dirs.push(d);
  return join(d, 'session');
}

async function start(session: string): Promise<ChildGate> {
  const g = await startChildGate(session, { AURORA_POOL_THREADS: '2' });
  gates.push(g);
  return g;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SIGKILL under load, restart on the same journal (child processes, pool size 2)', () => {
  it('three kills and restarts, then a clean stop: every line of every file parses, no decision doubled, nothing lost after the clean stop', async () => {
    const session = tempSession();
    const rounds: Array<{ outcomes: Outcome[]; inFlight: number; killAt: number }> = [];
    for (let round = 0; round < 3; round++) {
      const g = await start(session);
      const load = startLoad({ url: g.url, httpConnections: 16, wsConnections: 1, wsInFlight: 32, maxRequests: 200_000, maxDurationMs: 5000, prefix: `K${round}` });
      await sleep(700 + 300 * round);
      const inFlight = load.inFlight();
      const killAt = performance.now();
      g.signal('SIGKILL');
      expect((await g.waitExit(5000))?.signal).toBe('SIGKILL');
      gates.splice(gates.indexOf(g), 1);
      rounds.push({ outcomes: (await load.done).outcomes, inFlight, killAt });
    }
    const g = await start(session);
    const load = startLoad({ url: g.url, httpConnections: 16, wsConnections: 1, wsInFlight: 32, maxRequests: 200_000, maxDurationMs: 800, prefix: 'CLEAN' });
    const clean = (await load.done).outcomes;
    g.signal('SIGTERM');
    expect(await g.waitExit(8000), g.stderr()).toEqual({ code: 0, signal: null });

    const j = inspectJournal(session);
    expect(j.torn, 'torn lines across the kills and restarts').toEqual([]);
    expect(j.unterminated).toEqual([]);
    const byId = decisionsById(j.events);
    expect([...byId.entries()].filter(([, v]) => v.length > 1).map(([k]) => k), 'doubled POLICY.DECISION').toEqual([]);
    const deniedIds = j.denied.map((d) => d.req_id).filter((x): x is string => typeof x === 'string');
    expect(duplicates(deniedIds), 'doubled orders_denied lines').toEqual([]);
    const codes = j.events.map((e) => e.event_code);
    expect(codes.filter((c) => c === 'AURORA.STARTUP.OK'), 'one start-up record per process').toHaveLength(4);
    expect(new Set(j.events.map((e) => e.run_id)).size, 'one run_id per process').toBe(4);

    const lostIn = (os: Outcome[]) => os.filter((o) => o.op === 'check' && o.status === 200 && !byId.has(o.reqId));
    const summary = rounds.map((r, k) => {
      const s = summarize(r.outcomes);
      const lost = lostIn(r.outcomes);
      const oldest = lost.length === 0 ? '-' : `${Math.round(Math.max(...lost.map((o) => r.killAt - o.doneAt!)))} ms`;
      const decidedNotAnswered = r.outcomes.filter((o) => o.op === 'check' && o.status !== 200 && byId.has(o.reqId)).length;
      return `round ${k}: sent ${s.sent}, checks 200 ${s.checks200}, in flight at kill ${r.inFlight}, lost ${lost.length} (oldest answered ${oldest} before kill()), journaled-not-answered ${decidedNotAnswered}`;
    });
    const cs = summarize(clean);
    console.log(`[kill-restart] ${summary.join('; ')}; clean round: checks 200 ${cs.checks200}, lost ${lostIn(clean).length}; journal lines ${j.totalLines}`);
    for (const r of rounds) expect(summarize(r.outcomes).checks200).toBeGreaterThan(100);
    expect(cs.checks200).toBeGreaterThan(100);
    rounds.forEach((r, k) => {
      // the documented bound: only decisions still in the writer's ring when the process died are lost
      const early = lostIn(r.outcomes)
        .filter((o) => r.killAt - o.doneAt! > LOST_WINDOW_MS)
        .map((o) => `${o.reqId} answered ${Math.round(r.killAt - o.doneAt!)} ms before kill()`);
      expect(early.slice(0, 10), `round ${k}: answered decisions lost although answered > ${LOST_WINDOW_MS} ms before the SIGKILL`).toEqual([]);
      // a client told "error" (or "overloaded", "shutting_down") must not find the decision journaled
      const errorJournaled = r.outcomes
        .filter((o) => o.op === 'check' && o.netError === undefined && o.status !== 200 && byId.has(o.reqId))
        .map((o) => `${o.reqId}: ${o.status ?? 'ws'} ${o.errorCode}`);
      expect(errorJournaled.slice(0, 10), `round ${k}: POLICY.DECISION for a request answered with an error`).toEqual([]);
    });
    expect(lostIn(clean).length, 'after a clean stop every 200 check is journaled').toBe(0);
    expect(clean.filter((o) => o.status === 200 && o.op === 'check' && o.allow !== o.expectAllow).length).toBe(0);
  }, 90_000);

  // A write(2) of a large batch can be cut short by SIGKILL between pages (and power loss keeps only
  // what was fsynced): the file then ends inside a line. The next process must not glue its first
  // record onto that fragment (one torn line would hide a complete record).
  it('a journal file that ends inside a line (what a kill mid-write leaves): the restarted gate cuts the fragment and appends whole lines', async () => {
    const session = tempSession();
    mkdirSync(session, { recursive: true });
    const events = join(session, 'aurora_events.jsonl');
    const complete = JSON.stringify({ ts_ns: '1', run_id: 'earlier', event_code: 'AURORA.STARTUP.OK', details: {} }) + '\n';
    writeFileSync(events, complete);
    appendFileSync(events, '{"ts_ns":"2","run_id":"earlier","event_code":"POLICY.DECI');
    writeFileSync(join(session, 'orders_denied.jsonl'), '{"req_id":"half');

    const g = await start(session);
    const r = await http(`${g.url}/pretrade/check`, 'POST', { body: allowBody('after-restart', { score: -2 }) });
    expect(r.status).toBe(200);
    g.signal('SIGTERM');
    expect(await g.waitExit(8000)).toEqual({ code: 0, signal: null });

    const j = inspectJournal(session);
    expect(j.torn, 'no torn line after the restart').toEqual([]);
    expect(readFileSync(events, 'utf8').startsWith(complete), 'complete lines before the fragment are kept').toBe(true);
    expect(decisionsById(j.events).get('after-restart')).toHaveLength(1);
    expect(j.denied.map((d) => d.req_id)).toEqual(['after-restart']);
    expect(g.stderr()).toMatch(/incomplete last line/);
  });
});
