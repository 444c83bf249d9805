import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { http } from '../helpers/gate.ts';
import { allowBody, denyBody, posttradeBody } from '../helpers/load.ts';
import { decisionsById, inspectJournal, startGateProcess, type GateProcess } from '../helpers/process.ts';
import { eventually, health } from './helpers.ts';

/**
 * Issue 12 item 6b: under `journal.on_write_error: fail_closed`, a failing `orders_denied.jsonl` used to
 * be cleared only by a restart — no denial is decided while checks are refused, so the file was never
 * written again and `failing` never cleared. The writer now retries a failing file nothing is written to
 * (every second): reopen, a probe write cut off again, fsync — healthy only if all succeed, so a file that
 * still cannot be written does not flap to healthy.
 *
 * The fault is real (as in journal-size-limit.test.ts): the gate runs as a child process and `prlimit`
 * lowers its RLIMIT_FSIZE just above the size of orders_denied.jsonl, so the next denial's line fails
 * with EFBIG (a full disk's shape). aurora_events.jsonl rotates every 4 KiB here, so it stays under the
 * limit and only orders_denied.jsonl fails. Lifting the limit is the operator freeing space.
 */

const running: GateProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const g of running.splice(0)) {
    await g.kill();
    rmSync(g.dir, { recursive: true, force: true });
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Records of aurora_events.jsonl and its rotated archives (gzipped or plain), every line parsed. */
function allEvents(sessionDir: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const name of readdirSync(sessionDir).sort()) {
    if (!name.startsWith('aurora_events.') || name === 'aurora_events.jsonl') continue;
    const raw = readFileSync(join(sessionDir, name));
    const text = (name.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    for (const l of text.split('\n')) if (l !== '') out.push(JSON.parse(l) as Record<string, unknown>);
  }
  return out;
}

function setFsizeLimit(pid: number, bytes: number | 'unlimited'): void {
  execFileSync('prlimit', ['--pid', String(pid), `--fsize=${bytes}:`]);
}

const TOKEN = randomBytes(24).toString('hex');

interface Answer {
  reqId: string;
  status: number;
  allow?: boolean;
  code?: string;
}

async function check(url: string, reqId: string, deny = false): Promise<Answer> {
  const r = await http(`${url}/pretrade/check`, 'POST', { body: deny ? denyBody(reqId) : allowBody(reqId) });
  const j = (r.json ?? {}) as { allow?: boolean; error?: { code?: string } };
  return { reqId, status: r.status, allow: j.allow, code: j.error?.code };
}

async function readinessStatus(url: string): Promise<number> {
  return (await http(`${url}/readiness`, 'GET', { headers: { 'X-OPS-TOKEN': TOKEN } })).status;
}

describe('fail_closed with a failing orders_denied.jsonl', () => {
  it('stays refused while the file cannot be written (no flap), and heals without a restart once it can', async () => {
    const cfgDir = mkdtempSync(join(tmpdir(), 'aurora-retry-'));
    dirs.push(cfgDir);
    const yaml = join(cfgDir, 'gate.yaml');
    writeFileSync(yaml, 'journal:\n  on_write_error: fail_closed\n  events_max_bytes: 4096\n');
    const g = await startGateProcess({ env: { AURORA_POOL_THREADS: '2', AURORA_CONFIG: yaml, AURORA_LOG_LEVEL: 'warn', OPS_TOKEN: TOKEN } });
    running.push(g);
    const P = 'RT';
    const answers: Answer[] = [];
    // orders_denied.jsonl grows past the size aurora_events.jsonl rotates at
    for (let i = 0; i < 60; i++) answers.push(await check(g.url, `${P}-pre-${i}`, true));
    expect(answers.every((a) => a.status === 200 && a.allow === false)).toBe(true);
    const deniedPath = join(g.sessionDir, 'orders_denied.jsonl');
    await eventually(() => statSync(deniedPath).size > 16 * 1024, 2000);
    const limit = statSync(deniedPath).size + 100;
    expect(statSync(join(g.sessionDir, 'aurora_events.jsonl')).size, 'events stays below the limit').toBeLessThan(limit - 4096);

    setFsizeLimit(g.pid, limit);
    // the next denial's line does not fit: EFBIG, the file fails, checks are refused from then on
    const failing = await eventually(async () => {
      answers.push(await check(g.url, `${P}-mid-${answers.length}`, true));
      return (await health(g.url)).journal_failing === true;
    }, 3000, 20);
    expect(failing, 'orders_denied.jsonl failing').toBe(true);
    const refused = await check(g.url, `${P}-refused`, true);
    expect(refused).toMatchObject({ status: 503, code: 'journal_unavailable' });
    answers.push(refused);

    // the limit stays: retries run (every second) and fail; post-trade records keep the other files written
    const until = performance.now() + 2500;
    let samples = 0;
    while (performance.now() < until) {
      expect((await http(`${g.url}/posttrade/log`, 'POST', { body: posttradeBody(`${P}-pt-${samples}`) })).status).toBe(200);
      expect(await readinessStatus(g.url), 'still refused while the file cannot be written').toBe(503);
      expect((await health(g.url)).journal_failing).toBe(true);
      samples++;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(samples).toBeGreaterThan(5);

    // the operator frees space; no denial can be decided (refused), yet the gate heals by itself
    setFsizeLimit(g.pid, 'unlimited');
    const lifted = performance.now();
    const healed = await eventually(async () => (await readinessStatus(g.url)) === 200, 4000, 50);
    expect(healed, '/readiness 200 again without any write to orders_denied.jsonl').toBe(true);
    const healedMs = Math.round(performance.now() - lifted);
    expect((await health(g.url)).journal_failing).toBe(false);
    // checks follow within the gate's 50 ms watch of the writer's `failing` flag
    let n = 0;
    const decided = await eventually(async () => (await check(g.url, `${P}-back-${n++}`)).status === 200, 2000, 10);
    expect(decided, 'checks decided again').toBe(true);
    for (let i = 0; i < 10; i++) answers.push(await check(g.url, `${P}-post-${i}`, i % 2 === 0));
    expect(answers.slice(-10).every((a) => a.status === 200)).toBe(true);

    g.signal('SIGTERM');
    const exit = await g.waitExit(8000);
    expect(exit?.code, g.stderr().slice(-2000)).toBe(0);
    expect(g.stderr()).toMatch(/EFBIG/);
    expect(g.stderr()).toMatch(/orders_denied\.jsonl: writable again/);

    const j = inspectJournal(g.sessionDir);
    expect(j.torn, 'no torn line (short writes and probes are cut back)').toEqual([]);
    expect(j.unterminated).toEqual([]);
    const byId = decisionsById([...allEvents(g.sessionDir), ...j.events]);
    expect([...byId.values()].filter((v) => v.length > 1), 'doubled').toEqual([]);
    for (const a of answers.filter((x) => x.reqId.includes('-pre-') || x.reqId.includes('-post-'))) expect(byId.get(a.reqId)?.length, a.reqId).toBe(1);
    expect(byId.has(`${P}-refused`), 'a refused check has no POLICY.DECISION').toBe(false);
    const deniedIds = new Set(j.denied.map((d) => d.req_id));
    for (let i = 0; i < 10; i += 2) expect(deniedIds.has(`${P}-post-${i}`), `denied line of ${P}-post-${i}`).toBe(true);
    console.log(`[writer-retry] limit=${limit} B: refused through ${samples} readiness samples over 2.5 s; /readiness 200 ${healedMs} ms after the limit was lifted; torn=0 doubled=0`);
  });
});
