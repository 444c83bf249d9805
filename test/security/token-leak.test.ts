import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../fuzz/harness.ts';
import { RawConnection } from '../fuzz/raw-http.ts';
import { startGateProcess, type GateProcess } from '../helpers/process.ts';
import { WsClient } from '../helpers/ws.ts';

/**
 * Tokens never reach a log line, a journal file or a reply (service.md 1.2 "never write the full
 * token anywhere"): a real gate process at AURORA_LOG_LEVEL=debug gets ops calls with the right token,
 * wrong ones, a rotation (after which the old one is wrong), refused rotations, and data calls with a
 * right and a wrong runner token. Then every byte it wrote — stdout, stderr, every file under its
 * temp dir (session journal included) — and every reply is searched for each token and for its first
 * 8 characters. (OPS.TOKEN_ROTATE keeps the last 4 characters as `token_mask` by design, service.md 1.2.)
 */

// distinctive first 8 characters, so a partial leak is found too
const T1 = 'Lk9vQ2mZ-first-ops-token-7h3s9d0f';
const T2 = 'Rt5wX8cN-rotated-ops-token-4k2j8g1a';
const WRONG = 'Wq3eB7yU-wrong-ops-token-9p6o5i4u';
const WRONG_SHORT = 'Zx4cV6bN';
const REFUSED_SHORT = 'Sh0rtT0kQ-too-short';
const REFUSED_SPACE = 'Sp4ceTok en-0123456789abcdefgh';
const RUNNER = 'Ru7nN3rT-runner-token-0123456789ab';
const RUNNER_WRONG = 'Rw2oN9gX-wrong-runner-0123456789ab';
const SECRETS = [T1, T2, WRONG, WRONG_SHORT, REFUSED_SHORT, REFUSED_SPACE, RUNNER, RUNNER_WRONG];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('tokens never appear in logs, journal or replies (debug logging)', () => {
  let gate: GateProcess;
  const replies: string[] = [];

  beforeAll(async () => {
    gate = await startGateProcess({ env: { OPS_TOKEN: T1, AURORA_RUNNER_TOKEN: RUNNER, AURORA_LOG_LEVEL: 'debug' } });
  });
  afterAll(async () => {
    await gate?.kill();
  });

  const ops = async (method: string, path: string, token?: string, body?: unknown) => {
    const r = await call(gate.port, method, path, { token, body });
    replies.push(r.text);
    return r.status;
  };
  const data = async (path: string, runner: string | undefined, body: unknown) => {
    const c = new RawConnection(gate.port);
    const headers: Array<[string, string]> = [['Content-Type', 'application/json']];
    if (runner !== undefined) headers.push(['X-RUNNER-TOKEN', runner]);
    const r = await c.send({ method: 'POST', path, headers, body: Buffer.from(JSON.stringify(body)) });
    c.close();
    replies.push(r.body.toString());
    return r.status;
  };

  it('ops and data calls with right, wrong, rotated and refused tokens behave as documented', async () => {
    expect(await ops('GET', '/liveness', T1)).toBe(200);
    expect(await ops('GET', '/readiness', T1)).toBe(200);
    expect(await ops('GET', '/liveness', WRONG)).toBe(403);
    expect(await ops('GET', '/risk/snapshot', WRONG_SHORT)).toBe(403);
    expect(await ops('POST', '/ops/reset')).toBe(401);
    expect(await ops('POST', '/ops/rotate_token', T1, { new_token: REFUSED_SHORT })).toBe(400);
    expect(await ops('POST', '/ops/rotate_token', T1, { new_token: REFUSED_SPACE })).toBe(400);
    expect(await ops('POST', '/ops/rotate_token', T1, { new_token: T2 })).toBe(200);
    expect(await ops('GET', '/liveness', T1)).toBe(403); // the old token is revoked
    expect(await ops('GET', '/liveness', T2)).toBe(200);
    expect(await ops('POST', '/ops/rotate_token', T2, { new_token: WRONG })).toBe(429); // cooldown
    expect(await ops('POST', '/risk/set', T2, { size_scale: 1 })).toBe(200);
    const check = { req_id: 'leak-1', account: {}, order: { symbol: 'LEAK', side: 'buy', qty: 1 }, market: { latency_ms: 1 } };
    expect(await data('/pretrade/check', RUNNER, check)).toBe(200);
    expect(await data('/pretrade/check', RUNNER_WRONG, check)).toBe(401);
    expect(await data('/posttrade/log', RUNNER, { symbol: 'LEAK', status: 'new', note: 'x' })).toBe(200);
    await expect(WsClient.connect(gate.url, { headers: { 'X-RUNNER-TOKEN': RUNNER_WRONG } })).rejects.toThrow(/401/);
    const ws = await WsClient.connect(gate.url, { headers: { 'X-RUNNER-TOKEN': RUNNER } });
    expect((await ws.request('ping')).ok).toBe(true);
    await ws.close();
  });

  it('after a clean stop, no token (nor its first 8 characters) is in stdout, stderr, any file or any reply', async () => {
    gate.signal('SIGTERM');
    expect((await gate.waitExit(8000))?.code).toBe(0);
    const sources: Array<[string, string]> = [
      ['stdout', gate.stdout()],
      ['stderr', gate.stderr()],
      ...filesUnder(gate.dir).map((f): [string, string] => [f, readFileSync(f, 'latin1')]),
      ...replies.map((r, i): [string, string] => [`reply ${i}`, r]),
    ];
    // not vacuous: the logs and the journal were written, the refusals were logged
    expect(gate.stdout()).toMatch(/"msg":"listening"/);
    expect(gate.stderr()).toMatch(/ops auth failure/);
    expect(sources.some(([n, t]) => n.endsWith('aurora_events.jsonl') && t.includes('OPS.TOKEN_ROTATE'))).toBe(true);
    const leaks: string[] = [];
    for (const s of SECRETS) {
      for (const needle of [s, s.slice(0, 8)]) {
        for (const [name, text] of sources) if (text.includes(needle)) leaks.push(`${JSON.stringify(needle)} in ${name}`);
      }
    }
    expect(leaks).toEqual([]);
    // the rotation is journaled with the documented mask only
    const events = readFileSync(join(gate.sessionDir, 'aurora_events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event_code: string; details: Record<string, unknown> });
    expect(events.filter((e) => e.event_code === 'OPS.TOKEN_ROTATE').map((e) => e.details.token_mask)).toEqual([`****${T2.slice(-4)}`]);
  });
});
