import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';
import { allowBody, denyBody, posttradeBody } from '../helpers/load.ts';
import { decisionsById, inspectJournal, REPO_ROOT } from '../helpers/process.ts';
import { WsClient } from '../helpers/ws.ts';
import { eventually, health, metricsText, metricValue } from './helpers.ts';

/**
 * Journal write failure at the service level (issue "Hardening"; docs/decisions.md `journal.on_write_error`;
 * docs/architecture.md "Failure handling"): a real gate whose session directory stops accepting one file's
 * writes. The fault is real, not mocked: `orders.jsonl` (opened on its first post-trade record) is made a
 * directory after start, so opening it fails with EISDIR for any user (root included); removing the
 * directory lets the next write succeed. A size limit (RLIMIT_FSIZE on the gate process) is the other
 * real fault, in journal-size-limit.test.ts.
 *
 * Expected (documented) behaviour:
 * - every failure is counted in `aurora_journal_write_errors_total{file}` and shown in `/health`
 *   (`journal_failing: true`) and `/readiness` (`journal_failing`, and 503 only with fail_closed);
 * - `continue`: checks keep being decided (200);
 * - `fail_closed`: checks answer 503 `journal_unavailable` (WebSocket: the response envelope with the
 *   frame's id, ok:false) and nothing is decided; post-trade records are still taken (they are what lets
 *   a failed file be retried); once a write succeeds again, checks are decided again.
 */

const TOKEN = randomBytes(24).toString('hex');
const FAIL_CLOSED = 'journal:\n  on_write_error: fail_closed\n';

const gates: TestGate[] = [];
afterEach(async () => {
  for (const g of gates.splice(0)) {
    await g.stop().catch(() => false);
    rmSync(g.dir, { recursive: true, force: true });
  }
});

async function start(pool: number, yaml?: string): Promise<TestGate> {
  const g = await startTestGate({ AURORA_POOL_THREADS: String(pool), OPS_TOKEN: TOKEN }, yaml);
  gates.push(g);
  return g;
}

const rawPath = (g: TestGate) => join(g.sessionDir, 'orders.jsonl');

async function check(g: TestGate, reqId: string, body = allowBody(reqId)): Promise<{ status: number; allow?: unknown; code?: unknown }> {
  const r = await http(`${g.url}/pretrade/check`, 'POST', { body });
  const j = (r.json ?? {}) as { allow?: unknown; error?: { code?: unknown } };
  return { status: r.status, allow: j.allow, code: j.error?.code };
}

async function posttrade(g: TestGate, reqId: string): Promise<number> {
  return (await http(`${g.url}/posttrade/log`, 'POST', { body: posttradeBody(reqId) })).status;
}

async function readiness(g: TestGate): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await http(`${g.url}/readiness`, 'GET', { headers: { 'X-OPS-TOKEN': TOKEN } });
  return { status: r.status, body: (r.json ?? {}) as Record<string, unknown> };
}

/** Makes orders.jsonl unopenable (a directory), sends one post-trade record, waits for /health to show it. */
async function breakRawFile(g: TestGate, reqId: string): Promise<void> {
  mkdirSync(rawPath(g));
  expect(await posttrade(g, reqId), 'a post-trade record is answered whatever the journal does').toBe(200);
  const failing = await eventually(async () => (await health(g.url)).journal_failing === true, 3000);
  expect(failing, '/health shows journal_failing after the write error').toBe(true);
}

/** Removes the directory again and sends post-trade records until /health shows the journal healthy. */
async function repairRawFile(g: TestGate, prefix: string): Promise<number> {
  rmSync(rawPath(g), { recursive: true });
  let n = 0;
  const ok = await eventually(async () => {
    expect(await posttrade(g, `${prefix}-${n++}`)).toBe(200);
    return (await health(g.url)).journal_failing === false;
  }, 3000, 50);
  expect(ok, '/health shows journal_failing: false once a write succeeded').toBe(true);
  return n;
}

async function wsFrame(g: TestGate, frame: Record<string, unknown>): Promise<Record<string, unknown>> {
  const ws = await WsClient.connect(g.url);
  try {
    await ws.sendRaw(JSON.stringify(frame));
    const m = await ws.next(3000);
    return m.json as Record<string, unknown>;
  } finally {
    await ws.close();
  }
}

describe('journal write failure in a running gate', () => {
  it('continue (the default): counted in /metrics, shown in /health and /readiness (still 200), checks keep being decided; it heals', async () => {
    const g = await start(2);
    expect((await check(g, 'C-before')).status).toBe(200);
    await breakRawFile(g, 'C-break');

    const m = await metricsText(g.url);
    expect(metricValue(m, 'aurora_journal_write_errors_total', { file: 'raw' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(m, 'aurora_journal_write_errors_total', { file: 'events' })).toBe(0);
    const rd = await readiness(g);
    expect(rd.status, 'continue: the gate stays ready').toBe(200);
    expect(rd.body.journal_failing).toBe(true);

    // decisions go on, over both transports
    expect(await check(g, 'C-during-allow')).toMatchObject({ status: 200, allow: true });
    expect(await check(g, 'C-during-deny', denyBody('C-during-deny'))).toMatchObject({ status: 200, allow: false });
    const env = await wsFrame(g, { id: 'C-ws', op: 'pretrade.check', body: allowBody('C-ws') });
    expect(env).toMatchObject({ id: 'C-ws', ok: true, body: { allow: true } });
    // a post-trade record while the file is broken: answered, its raw line lost (counted)
    expect(await posttrade(g, 'C-lost')).toBe(200);
    // the answer means the line was handed to the writer thread, not yet written: wait for its attempt
    let errorsBefore = 0;
    await eventually(async () => (errorsBefore = metricValue(await metricsText(g.url), 'aurora_journal_write_errors_total', { file: 'raw' })) >= 2, 3000);
    expect(errorsBefore).toBeGreaterThanOrEqual(2);

    const probes = await repairRawFile(g, 'C-heal');
    expect((await readiness(g)).body.journal_failing).toBe(false);
    expect(await g.stop()).toBe(true);

    const j = inspectJournal(g.sessionDir);
    expect(j.torn).toEqual([]);
    const byId = decisionsById(j.events);
    for (const id of ['C-before', 'C-during-allow', 'C-during-deny', 'C-ws']) expect(byId.get(id)?.length, id).toBe(1);
    // orders.jsonl holds only the records written after the repair (at least the last probe)
    const raw = readFileSync(rawPath(g), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { req_id: string });
    expect(raw.length).toBeGreaterThanOrEqual(1);
    expect(raw.length).toBeLessThanOrEqual(probes);
    expect(raw.every((r) => r.req_id.startsWith('C-heal-'))).toBe(true);
  });

  for (const pool of [2, 0]) {
    it(`fail_closed at pool size ${pool}: checks answer 503 journal_unavailable (WS: envelope with the id), nothing decided; readiness 503; decided again after the journal heals`, async () => {
      const g = await start(pool, FAIL_CLOSED);
      const P = `F${pool}`;
      expect(await check(g, `${P}-before`)).toMatchObject({ status: 200, allow: true });
      await breakRawFile(g, `${P}-break`);

      const m0 = await metricsText(g.url);
      expect(metricValue(m0, 'aurora_journal_write_errors_total', { file: 'raw' })).toBeGreaterThanOrEqual(1);
      const decided0 = metricValue(m0, 'aurora_pretrade_requests_total', { decision: 'allow' }) + metricValue(m0, 'aurora_pretrade_requests_total', { decision: 'deny' });
      const h = await health(g.url);
      expect(h.journal_failing).toBe(true);
      const rd = await readiness(g);
      expect(rd.status, 'fail_closed: not ready while the journal fails').toBe(503);
      expect(rd.body.journal_failing).toBe(true);

      // HTTP checks: refused, whatever they would have decided
      for (let i = 0; i < 5; i++) {
        expect(await check(g, `${P}-refused-${i}`, i % 2 ? denyBody(`${P}-refused-${i}`) : undefined)).toMatchObject({ status: 503, code: 'journal_unavailable' });
      }
      // WebSocket: protocol.md's response envelope, with the frame's id
      const env = await wsFrame(g, { id: `${P}-ws-refused`, op: 'pretrade.check', body: allowBody(`${P}-ws-refused`) });
      expect(env).toMatchObject({ id: `${P}-ws-refused`, ok: false, error: { code: 'journal_unavailable' } });
      // a ping needs no journal
      expect(await wsFrame(g, { id: 7, op: 'ping' })).toMatchObject({ id: 7, ok: true });
      // nothing was decided: the decision counters did not move
      const m1 = await metricsText(g.url);
      const decided1 = metricValue(m1, 'aurora_pretrade_requests_total', { decision: 'allow' }) + metricValue(m1, 'aurora_pretrade_requests_total', { decision: 'deny' });
      expect(decided1).toBe(decided0);
      expect(metricValue(m1, 'aurora_http_requests_total', { route: '/pretrade/check', status: '503' })).toBe(5);

      await repairRawFile(g, `${P}-heal`);
      // the gate notices the successful write within its 50 ms watch period (the bound here is loose:
      // the suite shares 2 cores; what matters is that it heals at all)
      let last: Awaited<ReturnType<typeof check>> = { status: 0 };
      let n = 0;
      const back = await eventually(async () => (last = await check(g, `${P}-after-${n++}`)).status === 200, 3000, 10);
      expect(back, `decided again once the journal writes (last answer ${JSON.stringify(last)})`).toBe(true);
      expect(last).toMatchObject({ status: 200, allow: true });
      expect((await readiness(g)).status).toBe(200);
      expect(await g.stop()).toBe(true);

      const j = inspectJournal(g.sessionDir);
      expect(j.torn).toEqual([]);
      const byId = decisionsById(j.events);
      expect(byId.get(`${P}-before`)?.length).toBe(1);
      expect(byId.get(`${P}-after-${n - 1}`)?.length).toBe(1);
      const refused = [...byId.keys()].filter((id) => id.includes('refused') || (id.startsWith(`${P}-after-`) && id !== `${P}-after-${n - 1}`));
      expect(refused, 'refused checks have no POLICY.DECISION').toEqual([]);
    });
  }
});

describe('a journal that cannot be opened at start-up', () => {
  it('stops start-up with exit code 3 and a message naming the file (never serves without a journal)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aurora-faults-'));
    try {
      const session = join(dir, 'session');
      mkdirSync(join(session, 'orders_denied.jsonl'), { recursive: true });
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/main.mjs')], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: dir, AURORA_PORT: '0', AURORA_SESSION_DIR: session, AURORA_POOL_THREADS: '1' },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.status, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/cannot open the journal files/);
      expect(r.stderr).toMatch(/orders_denied\.jsonl/);
      expect(r.stdout).not.toMatch(/"listening"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
