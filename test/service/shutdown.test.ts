import { readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startLoad, summarize, type LoadResult, type Outcome } from '../helpers/load.ts';
import { decisionsById, duplicates, inspectJournal, startGateProcess, type ExitInfo, type GateProcess, type JournalReport } from '../helpers/process.ts';

/**
 * protocol.md "Process" and "Journal": SIGTERM/SIGINT -> stop accepting, answer what is in flight, flush
 * every journal line, exit 0 within 5 s; every answered pre-trade check has exactly one POLICY.DECISION,
 * none lost, doubled or torn. The gate runs as a child process (`node dist/main.mjs`, as `npm start`).
 */

const running: GateProcess[] = [];
afterEach(async () => {
  for (const g of running.splice(0)) {
    await g.kill();
    rmSync(g.dir, { recursive: true, force: true });
  }
});

async function start(env: Record<string, string>): Promise<GateProcess> {
  const g = await startGateProcess({ env });
  running.push(g);
  return g;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SignalRun {
  gate: GateProcess;
  exit: ExitInfo | null;
  /** ms from the signal to the exit */
  stopMs: number;
  result: LoadResult;
  journal: JournalReport;
  inFlightAtSignal: number;
  sentAfterSignal: number;
  tSignal: number;
}

/** 16 keep-alive HTTP connections + 1 WS connection (32 in flight) for `loadMs`, then `sig` under load. */
async function loadThenSignal(pool: number, sig: NodeJS.Signals, loadMs: number): Promise<SignalRun> {
  const gate = await start({ AURORA_POOL_THREADS: String(pool) });
  const load = startLoad({
    url: gate.url,
    httpConnections: 16,
    wsConnections: 1,
    wsInFlight: 32,
    maxRequests: 400_000,
    // load, then at most ~7 s of "keep sending until refused" (the gate must be gone within 5 s)
    maxDurationMs: loadMs + 7000,
    requestTimeoutMs: 6000,
    prefix: `${sig}-p${pool}`,
  });
  await sleep(loadMs);
  const inFlightAtSignal = load.inFlight();
  const sentAtSignal = load.sent();
  const tSignal = gate.signal(sig);
  const exit = await gate.waitExit(8000);
  const stopMs = exit === null ? Infinity : exit.at - tSignal;
  const result = await load.done;
  const journal = inspectJournal(gate.sessionDir);
  return { gate, exit, stopMs, result, journal, inFlightAtSignal, sentAfterSignal: load.sent() - sentAtSignal, tSignal };
}

function report(label: string, r: SignalRun): void {
  const s = summarize(r.result.outcomes);
  const stopped = r.gate.logs().find((l) => l.msg === 'stopped');
  console.log(
    `[${label}] exit=${JSON.stringify(r.exit && { code: r.exit.code, signal: r.exit.signal })} stop=${Math.round(r.stopMs)}ms ` +
      `sent=${s.sent} (after signal ${r.sentAfterSignal}, in flight at signal ${r.inFlightAtSignal}) 200=${s.ok200} ` +
      `checks200=${s.checks200} (allow ${s.allowed}, deny ${s.denied}) posttrade200=${s.posttrade200} ` +
      `non200=${JSON.stringify(s.non200)} net=${JSON.stringify(s.netErrors)} wsUnattributed=${JSON.stringify(r.result.wsUnattributedCodes)} ` +
      `checks200SentAfterSignal=${r.result.outcomes.filter((o) => o.op === 'check' && o.status === 200 && o.sentAt > r.tSignal).length} ` +
      `wsCloses=${JSON.stringify(r.result.wsCloses)} journalLines=${r.journal.totalLines} ` +
      `files=${JSON.stringify(Object.fromEntries(Object.values(r.journal.files).map((f) => [f.name, f.lines])))} ` +
      `gateStopped=${JSON.stringify(stopped && { lines_written: stopped.lines_written, unanswered: stopped.unanswered })}`,
  );
}

function summarizeBy<T>(xs: readonly T[], key: (x: T) => string): Record<string, number> {
  const m: Record<string, number> = {};
  for (const x of xs) m[key(x)] = (m[key(x)] ?? 0) + 1;
  return m;
}

const ids = (os: readonly Outcome[]) => os.map((o) => o.reqId);
const sorted = (xs: readonly string[]) => [...xs].sort();

/** The journal invariants of a clean stop (and the decision check), for the load of one run. */
function expectJournalConsistent(r: SignalRun, prefix: string): void {
  const { journal, result } = r;
  const outcomes = result.outcomes;

  // no torn line, every file ends with "\n"
  expect(journal.torn, 'torn journal lines').toEqual([]);
  expect(journal.unterminated, 'files not ending with a newline').toEqual([]);

  const checks = outcomes.filter((o) => o.op === 'check');
  const answered = checks.filter((o) => o.status === 200);
  const notDecided = checks.filter((o) => o.status !== 200); // non-200 answer, or no answer at all
  expect(answered.length, 'some checks were answered').toBeGreaterThan(100);

  // every answer is the decision its body must get
  const wrong = answered.filter((o) => o.allow !== o.expectAllow || (o.expectReason !== undefined && o.reason !== o.expectReason));
  expect(wrong.slice(0, 5), 'answers with a wrong decision').toEqual([]);

  // POLICY.DECISION of this run's requests: answered == journaled, as a count and as a set, no duplicate
  const byId = decisionsById(journal.events);
  const journaled = [...byId.keys()].filter((id) => id.startsWith(prefix));
  const doubled = [...byId.entries()].filter(([, v]) => v.length > 1).map(([k]) => k);
  expect(doubled, 'req_ids with more than one POLICY.DECISION').toEqual([]);
  const answeredIds = new Set(ids(answered));
  const journaledIds = new Set(journaled);
  const lost = ids(answered).filter((id) => !journaledIds.has(id));
  const extra = journaled.filter((id) => !answeredIds.has(id));
  if (lost.length > 0) {
    const lostOutcomes = answered.filter((o) => !journaledIds.has(o.reqId));
    const after = lostOutcomes.map((o) => Math.round(o.sentAt - r.tSignal));
    const answeredAfter = lostOutcomes.map((o) => Math.round((o.doneAt ?? 0) - r.tSignal));
    console.log(
      `[${prefix}] LOST ${lost.length} answered checks: sent ${Math.min(...after)}..${Math.max(...after)} ms after the signal, ` +
        `answered ${Math.min(...answeredAfter)}..${Math.max(...answeredAfter)} ms after it; transports ${JSON.stringify(summarizeBy(lostOutcomes, (o) => o.transport))}; ` +
        `all 200 checks answered after the signal: ${answered.filter((o) => (o.doneAt ?? 0) > r.tSignal).length}`,
    );
  }
  expect(lost.length, `answered checks without POLICY.DECISION (lost), e.g. ${lost.slice(0, 5).join(', ')}`).toBe(0);
  expect(extra.length, `POLICY.DECISION for checks that got no 200 answer, e.g. ${extra.slice(0, 5).join(', ')}`).toBe(0);
  expect(journaled.length).toBe(answered.length);
  expect(sorted(journaled)).toEqual(sorted(ids(answered)));

  // the journaled decision is the answered one
  const mismatch = answered.filter((o) => (byId.get(o.reqId)?.[0]?.details as Record<string, unknown> | undefined)?.allow !== o.allow);
  expect(mismatch.length, 'POLICY.DECISION allow differs from the answer').toBe(0);

  // requests that were not decided (refused/reset/503) have no POLICY.DECISION
  const decidedButUnanswered = notDecided.filter((o) => journaledIds.has(o.reqId));
  expect(decidedButUnanswered.length, 'unanswered/non-200 checks with a POLICY.DECISION').toBe(0);

  // each denied answer has exactly one orders_denied.jsonl line (matched by the appended req_id)
  const deniedIds = journal.denied.map((d) => d.req_id).filter((x): x is string => typeof x === 'string' && x.startsWith(prefix));
  expect(duplicates(deniedIds), 'doubled orders_denied lines').toEqual([]);
  expect(sorted(deniedIds)).toEqual(sorted(ids(answered.filter((o) => o.allow === false))));

  // post-trade records answered 200 have their POSTTRADE.LOG (details keep the req_id), none doubled
  const ptIds = journal.events
    .filter((e) => e.event_code === 'POSTTRADE.LOG')
    .map((e) => (e.details as Record<string, unknown>).req_id)
    .filter((x): x is string => typeof x === 'string' && x.startsWith(prefix));
  expect(duplicates(ptIds), 'doubled POSTTRADE.LOG').toEqual([]);
  const pt200 = ids(outcomes.filter((o) => o.op === 'posttrade' && o.status === 200));
  const ptSet = new Set(ptIds);
  expect(pt200.filter((id) => !ptSet.has(id)).length, 'answered post-trade records without POSTTRADE.LOG').toBe(0);

  // no request hung: every one settled with an answer or a connection error
  expect(outcomes.filter((o) => o.doneAt === null).length).toBe(0);
  expect(outcomes.filter((o) => o.netError === 'timeout').length, 'requests that timed out').toBe(0);
}

function expectCleanExit(r: SignalRun): void {
  expect(r.exit, `the gate did not exit within 8 s of the signal\nstderr:\n${r.gate.stderr()}`).not.toBeNull();
  expect({ code: r.exit!.code, signal: r.exit!.signal }, `stderr:\n${r.gate.stderr().slice(-2000)}`).toEqual({ code: 0, signal: null });
  expect(r.stopMs, 'exit within 5 s of the signal').toBeLessThanOrEqual(5000);
}

describe('stop under load (child process)', () => {
  for (const pool of [2, 0]) {
    it(`SIGTERM under load at pool size ${pool}: exit 0 within 5 s, answered == journaled, nothing torn`, async () => {
      const r = await loadThenSignal(pool, 'SIGTERM', 1500);
      report(`SIGTERM pool=${pool}`, r);
      expect(r.inFlightAtSignal, 'requests were in flight when the signal was sent').toBeGreaterThan(0);
      expectCleanExit(r);
      expectJournalConsistent(r, `SIGTERM-p${pool}`);
    });
  }

  it('SIGINT under load (pool size 2) behaves the same', async () => {
    const r = await loadThenSignal(2, 'SIGINT', 700);
    report('SIGINT pool=2', r);
    expect(r.inFlightAtSignal).toBeGreaterThan(0);
    expectCleanExit(r);
    expectJournalConsistent(r, 'SIGINT-p2');
  });

  it('a clean start/stop without traffic journals CONFIG.SWITCHED and AURORA.STARTUP.OK and exits 0', async () => {
    const gate = await start({ AURORA_POOL_THREADS: '2' });
    // the bundle (dist/main.mjs) finds package.json: it once looked two directories above dist/
    const version = (await (await fetch(`http://127.0.0.1:${gate.port}/version`)).json()) as { version: string };
    expect(version.version).toBe((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version);
    const t = gate.signal('SIGTERM');
    const exit = await gate.waitExit(8000);
    expect(exit, gate.stderr()).not.toBeNull();
    expect({ code: exit!.code, signal: exit!.signal }).toEqual({ code: 0, signal: null });
    expect(exit!.at - t).toBeLessThanOrEqual(5000);
    const j = inspectJournal(gate.sessionDir);
    expect(j.torn).toEqual([]);
    expect(j.unterminated).toEqual([]);
    const codes = j.events.map((e) => e.event_code);
    expect(codes.filter((c) => c === 'CONFIG.SWITCHED')).toHaveLength(1);
    expect(codes.filter((c) => c === 'AURORA.STARTUP.OK')).toHaveLength(1);
    expect(codes.indexOf('CONFIG.SWITCHED')).toBeLessThan(codes.indexOf('AURORA.STARTUP.OK'));
    expect(codes.filter((c) => c === 'POLICY.DECISION')).toHaveLength(0);
    const startup = j.events.find((e) => e.event_code === 'AURORA.STARTUP.OK')!;
    expect((startup.details as Record<string, unknown>).port).toBe(gate.port);
    const listening = gate.logs().filter((l) => l.msg === 'listening');
    expect(listening).toHaveLength(1);
    expect(listening[0].host).toBe('127.0.0.1');
  });

  it('SIGKILL under load: no torn line and no doubled decision (lost lines are counted, not failed)', async () => {
    const gate = await start({ AURORA_POOL_THREADS: '2' });
    const load = startLoad({ url: gate.url, httpConnections: 16, wsConnections: 1, wsInFlight: 32, maxRequests: 400_000, maxDurationMs: 6000, prefix: 'KILL' });
    await sleep(1000);
    const inFlight = load.inFlight();
    gate.signal('SIGKILL');
    const exit = await gate.waitExit(5000);
    const result = await load.done;
    expect(exit?.signal).toBe('SIGKILL');
    const j = inspectJournal(gate.sessionDir);

    // restart-free inspection: every line of every file parses; no req_id decided twice
    expect(j.torn, 'torn lines after SIGKILL').toEqual([]);
    const byId = decisionsById(j.events);
    expect([...byId.entries()].filter(([, v]) => v.length > 1).map(([k]) => k)).toEqual([]);

    const answered = result.outcomes.filter((o) => o.op === 'check' && o.status === 200);
    const lost = answered.filter((o) => !byId.has(o.reqId)).length;
    const unansweredButJournaled = result.outcomes.filter((o) => o.op === 'check' && o.status !== 200 && byId.has(o.reqId)).length;
    const s = summarize(result.outcomes);
    console.log(
      `[SIGKILL pool=2] in flight at kill=${inFlight} sent=${s.sent} checks200=${s.checks200} journaledDecisions=${byId.size} ` +
        `LOST (answered, no POLICY.DECISION)=${lost} journaled-but-unanswered=${unansweredButJournaled} ` +
        `unterminatedFiles=${JSON.stringify(j.unterminated)} journalLines=${j.totalLines} net=${JSON.stringify(s.netErrors)}`,
    );
    expect(answered.length).toBeGreaterThan(100);
  });
});
