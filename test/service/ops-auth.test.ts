import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { http, startTestGate, type HttpResult, type TestGate } from '../helpers/gate.ts';
import { testHooks } from '../../src/testing/index.ts';

/**
 * Ops authentication (service.md 1.1, 1.2, D-1, D-2, D-3, D-9, D-10, D-38; docs/decisions.md): one active
 * token, 401 not configured / missing, 403 wrong (empty included), auth before path/body validation,
 * rotation revokes the old token at once and has a 30 s cooldown, placeholders and short tokens disable
 * ops, 10 failures per minute per address -> 429, and no token ever written anywhere.
 * Ops run on the main thread, so the gates here decide inline (pool size 0): they start in ~0.1 s.
 */

const T1 = 'ops-auth-token-A-0123456789abcdef';
const T2 = 'ops-auth-token-B-rotated-0123456789';
const T3 = 'ops-auth-token-C-never-set-0123456789';
const WRONG = 'ops-auth-wrong-token-0123456789abcdef';
const WRONG_SHORT = 'nope';
const ALIAS = 'ops-auth-alias-token-0123456789abcdef';
const YAML_TOKEN = 'ops-auth-yaml-token-0123456789abcdef';
const ALL_TOKENS = [T1, T2, T3, WRONG, ALIAS, YAML_TOKEN];

/** Every response body seen in this file (checked for leaked tokens at the end). */
const seen: string[] = [];
/** Everything the gate wrote to stderr (ops auth failures are logged there, D-38). */
const stderr: string[] = [];

async function call(gate: TestGate, method: string, path: string, token?: string | null, body?: unknown, raw?: { text: string; type: string }): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  if (token !== undefined && token !== null) headers['X-OPS-TOKEN'] = token;
  if (raw !== undefined) headers['Content-Type'] = raw.type;
  const r = await http(gate.url + path, method, { headers, body, raw: raw?.text });
  seen.push(r.text);
  return r;
}

const errCode = (r: HttpResult) => (r.json as { error?: { code?: string } } | undefined)?.error?.code;

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}
const metrics = async (gate: TestGate) => (await http(gate.url + '/metrics', 'GET')).text;

const CLEAN = {
  account: { mode: 'testnet' },
  order: { symbol: 'BTCUSDT', side: 'buy', qty: 0.5, price: 50000, base_notional: 100 },
  market: { latency_ms: 5, score: 0.5, a_bps: 5, b_bps: 10, slip_bps_est: 1, spread_bps: 3 },
};
const check = async (gate: TestGate) => {
  const r = await http(gate.url + '/pretrade/check', 'POST', { body: CLEAN });
  expect(r.status, r.text).toBe(200);
  return r.json as { allow: boolean; reason: string };
};

/** All files under a directory, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Every ops route with a request that succeeds given the right token. */
const ROUTES: Array<{ method: string; path: string; body?: unknown }> = [
  { method: 'GET', path: '/liveness' },
  { method: 'GET', path: '/readiness' },
  { method: 'POST', path: '/ops/cooloff/5' },
  { method: 'POST', path: '/ops/reset' },
  { method: 'POST', path: '/aurora/arm' },
  { method: 'GET', path: '/risk/snapshot' },
  { method: 'POST', path: '/risk/set', body: {} },
  { method: 'POST', path: '/ops/rotate_token', body: { new_token: T2 } },
];

const started: TestGate[] = [];
const stopped = new Set<TestGate>();
async function gateWith(env: Record<string, string>, yaml?: string): Promise<TestGate> {
  const g = await startTestGate({ AURORA_POOL_THREADS: '0', ...env }, yaml);
  started.push(g);
  return g;
}
async function stop(g: TestGate): Promise<boolean> {
  stopped.add(g);
  return g.stop();
}

beforeAll(() => {
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stderr.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write);
});
afterAll(async () => {
  vi.restoreAllMocks();
  for (const g of started) if (!stopped.has(g)) await g.stop();
});

describe('OPS_TOKEN configured', () => {
  let gate: TestGate;
  beforeAll(async () => {
    gate = await gateWith({ OPS_TOKEN: T1 });
  });
  // every case starts from a fresh gate state: the token, the rotation clock and the failure counts too
  beforeEach(() => testHooks(gate).resetState());

  for (const r of ROUTES) {
    it(`${r.method} ${r.path}: missing 401, wrong 403, empty 403, right 200`, async () => {
      const missing = await call(gate, r.method, r.path, undefined, r.body);
      expect(missing.status, missing.text).toBe(401);
      expect(errCode(missing)).toBe('missing_token');
      const wrong = await call(gate, r.method, r.path, WRONG, r.body);
      expect(wrong.status, wrong.text).toBe(403);
      expect(errCode(wrong)).toBe('forbidden');
      const wrongLength = await call(gate, r.method, r.path, WRONG_SHORT, r.body);
      expect(wrongLength.status, wrongLength.text).toBe(403);
      const empty = await call(gate, r.method, r.path, '', r.body);
      expect(empty.status, empty.text).toBe(403);
      expect(errCode(empty)).toBe('forbidden');
      const prefix = await call(gate, r.method, r.path, T1.slice(0, -1), r.body);
      expect(prefix.status, prefix.text).toBe(403);
      const right = await call(gate, r.method, r.path, T1, r.body);
      expect(right.status, right.text).toBe(200);
    });
  }

  it('authentication runs before path and body validation', async () => {
    const bad: Array<[string, string, unknown?, { text: string; type: string }?]> = [
      ['POST', '/risk/set', { dd_day_pct: 'x' }],
      ['POST', '/risk/set', undefined, { text: '{"dd_day_pct":', type: 'application/json' }],
      ['POST', '/risk/set', undefined, { text: '{}', type: 'text/plain' }],
      ['POST', '/ops/rotate_token', {}],
      ['POST', '/ops/cooloff/abc'],
      ['POST', '/aurora/toggle'],
    ];
    for (const [m, p, body, raw] of bad) {
      const r = await call(gate, m, p, undefined, body, raw);
      expect(r.status, `${m} ${p} without a token: ${r.text}`).toBe(401);
    }
    testHooks(gate).resetState(); // six failures so far: start the per-address count again
    for (const [m, p, body, raw] of bad) {
      const r = await call(gate, m, p, WRONG, body, raw);
      expect(r.status, `${m} ${p} with a wrong token: ${r.text}`).toBe(403);
    }
    testHooks(gate).resetState();
    // and with the right token the same requests are validated
    const statuses = [];
    for (const [m, p, body, raw] of bad) statuses.push((await call(gate, m, p, T1, body, raw)).status);
    expect(statuses).toEqual([422, 400, 415, 422, 422, 400]);
  });

  it('rotation: the new token works, the old one is revoked at once, 30 s cooldown, validation first', async () => {
    const m0 = metric(await metrics(gate), 'aurora_ops_token_rotations_total');
    const rot = await call(gate, 'POST', '/ops/rotate_token', T1, { new_token: `  ${T2}  ` });
    expect(rot.status, rot.text).toBe(200);
    expect(rot.json).toEqual({ status: 'ok' });
    expect((await call(gate, 'GET', '/liveness', T2)).status).toBe(200); // trimmed
    const old = await call(gate, 'GET', '/liveness', T1);
    expect(old.status, 'the previous token is revoked immediately (D-1)').toBe(403);
    // a second rotation within 30 s
    const again = await call(gate, 'POST', '/ops/rotate_token', T2, { new_token: T3 });
    expect(again.status, again.text).toBe(429);
    expect(errCode(again)).toBe('rotation_cooldown');
    // validation comes before the cooldown
    expect((await call(gate, 'POST', '/ops/rotate_token', T2, { new_token: 'too-short' })).status).toBe(400);
    expect((await call(gate, 'POST', '/ops/rotate_token', T2, { new_token: 'has whitespace inside 0123456789' })).status).toBe(400);
    expect((await call(gate, 'POST', '/ops/rotate_token', T2, { new_token: '' })).status).toBe(400);
    expect((await call(gate, 'POST', '/ops/rotate_token', T2, {})).status).toBe(422);
    // nothing of that changed the token
    expect((await call(gate, 'GET', '/liveness', T2)).status).toBe(200);
    expect((await call(gate, 'GET', '/liveness', T3)).status).toBe(403);
    expect(metric(await metrics(gate), 'aurora_ops_token_rotations_total') - m0).toBe(1);
  });

  it('a restart reverts to the configured token (the runtime token is not persisted)', async () => {
    const rot = await call(gate, 'POST', '/ops/rotate_token', T1, { new_token: T2 });
    expect(rot.status).toBe(200);
    const again = await gateWith({ OPS_TOKEN: T1 });
    expect((await call(again, 'GET', '/liveness', T1)).status).toBe(200);
    expect((await call(again, 'GET', '/liveness', T2)).status).toBe(403);
    await stop(again);
  });

  it('10 failed attempts within a minute: the next call is 429, even with the right token', async () => {
    const f0 = metric(await metrics(gate), 'aurora_ops_auth_fail_total');
    let failures = 0;
    for (let i = 0; i < 9; i++) {
      const r = await call(gate, 'GET', '/liveness', i % 2 === 0 ? undefined : WRONG);
      expect([401, 403]).toContain(r.status);
      failures++;
    }
    // nine failures: the right token still works
    expect((await call(gate, 'GET', '/liveness', T1)).status).toBe(200);
    const tenth = await call(gate, 'POST', '/ops/reset', '');
    expect(tenth.status).toBe(403);
    failures++;
    const limited = await call(gate, 'GET', '/liveness', T1);
    expect(limited.status, limited.text).toBe(429);
    expect(errCode(limited)).toBe('auth_rate_limited');
    expect((await call(gate, 'POST', '/ops/reset', T1)).status).toBe(429);
    expect((await call(gate, 'GET', '/liveness', WRONG)).status).toBe(429);
    // the rest of the gate is unaffected
    expect((await http(gate.url + '/health', 'GET')).status).toBe(200);
    expect((await check(gate)).allow).toBe(true);
    // every 401/403 was counted (service.md 1.1)
    expect(metric(await metrics(gate), 'aurora_ops_auth_fail_total') - f0).toBeGreaterThanOrEqual(failures);
  });

  it('aurora_ops_auth_fail_total counts each 401 and 403', async () => {
    const f0 = metric(await metrics(gate), 'aurora_ops_auth_fail_total');
    await call(gate, 'GET', '/liveness');
    await call(gate, 'GET', '/readiness', WRONG);
    await call(gate, 'POST', '/ops/reset', '');
    await call(gate, 'GET', '/liveness', T1); // a success is not counted
    expect(metric(await metrics(gate), 'aurora_ops_auth_fail_total') - f0).toBe(3);
  });

  describe('no state-changing endpoint works without the right token', () => {
    for (const [label, token] of [
      ['no token', undefined],
      ['a wrong token', WRONG],
    ] as const) {
      it(`${label}: cool-off, disarm, risk/set, rotate_token, reset change nothing`, async () => {
        const risk0 = (await call(gate, 'GET', '/risk/snapshot', T1)).text;
        const rejected = async (m: string, p: string, body?: unknown) => {
          const r = await call(gate, m, p, token, body);
          expect(r.status, `${m} ${p}: ${r.text}`).toBe(token === undefined ? 401 : 403);
        };
        await rejected('POST', '/ops/cooloff/600');
        expect(await check(gate)).toMatchObject({ allow: true }); // no cool-off
        await rejected('POST', '/aurora/disarm');
        expect(await check(gate)).toMatchObject({ allow: true }); // still armed
        await rejected('POST', '/risk/set', { size_scale: 0, dd_day_pct: 1, max_concurrent: 0 });
        expect((await call(gate, 'GET', '/risk/snapshot', T1)).text).toBe(risk0);
        expect(await check(gate)).toMatchObject({ allow: true });
        await rejected('POST', '/ops/rotate_token', { new_token: T3 });
        expect((await call(gate, 'GET', '/liveness', T1)).status).toBe(200);
        testHooks(gate).resetState(); // four failures so far; the T3 probe below is a fifth
        expect((await call(gate, 'GET', '/liveness', T3)).status).toBe(403);
        // a cool-off set with the token is not cleared by an unauthenticated reset or arm
        expect((await call(gate, 'POST', '/ops/cooloff/600', T1)).status).toBe(200);
        await rejected('POST', '/ops/reset');
        expect(await check(gate)).toMatchObject({ allow: false, reason: 'latency_cooloff' });
        expect((await call(gate, 'POST', '/aurora/disarm', T1)).status).toBe(200);
        await rejected('POST', '/aurora/arm');
        expect(await check(gate)).toMatchObject({ allow: false, reason: 'latency_disarmed' });
        const snap = await call(gate, 'POST', '/ops/reset', T1);
        expect((snap.json as { state: { armed: boolean; cooloff_until: number } }).state).toMatchObject({ armed: false, cooloff_until: 0 });
        expect((await call(gate, 'POST', '/aurora/arm', T1)).status).toBe(200);
        expect(await check(gate)).toMatchObject({ allow: true });
      });
    }
  });

  it('the token never appears in the journal, a response body or stderr', async () => {
    // one more rotation so the journal holds an OPS.TOKEN_ROTATE record
    expect((await call(gate, 'POST', '/ops/rotate_token', T1, { new_token: T2 })).status).toBe(200);
    expect(await stop(gate)).toBe(true);
    const files = filesUnder(gate.dir);
    expect(files.some((f) => f.endsWith('aurora_events.jsonl'))).toBe(true);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const t of ALL_TOKENS) expect(text.includes(t), `${t} in ${f}`).toBe(false);
    }
    const events = readFileSync(join(gate.sessionDir, 'aurora_events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event_code: string; details: Record<string, unknown> });
    const rotations = events.filter((e) => e.event_code === 'OPS.TOKEN_ROTATE');
    expect(rotations.length).toBeGreaterThanOrEqual(1);
    for (const e of rotations) expect(e.details.token_mask).toMatch(/^\*{4}.{4}$/);
    expect(rotations.at(-1)!.details.token_mask).toBe(`****${T2.slice(-4)}`);
    for (const body of seen) for (const t of ALL_TOKENS) expect(body.includes(t), `${t} in a response: ${body.slice(0, 200)}`).toBe(false);
    expect(stderr.some((l) => l.includes('ops auth failure'))).toBe(true);
    for (const line of stderr) for (const t of [...ALL_TOKENS, WRONG_SHORT]) expect(line.includes(t), `${t} on stderr: ${line}`).toBe(false);
  });
});

describe('unusable tokens disable ops (401 even with that token)', () => {
  const cases: Array<[string, Record<string, string>, string, string?]> = [
    ['OPS_TOKEN=change-me', { OPS_TOKEN: 'change-me' }, 'change-me'],
    ['OPS_TOKEN=CHANGE-ME', { OPS_TOKEN: 'CHANGE-ME' }, 'CHANGE-ME'],
    ['a 10-character OPS_TOKEN', { OPS_TOKEN: 'abcdefghij' }, 'abcdefghij'],
    ['a 23-character OPS_TOKEN', { OPS_TOKEN: 'x'.repeat(23) }, 'x'.repeat(23)],
    ['YAML security.ops_token change-me', {}, 'change-me', 'security:\n  ops_token: change-me\n'],
    ['a placeholder OPS_TOKEN with a usable alias (the next source is not tried)', { OPS_TOKEN: 'change-me', AURORA_OPS_TOKEN: ALIAS }, ALIAS],
    ['no token at all', {}, T1],
  ];
  for (const [label, env, token, yaml] of cases) {
    it(label, async () => {
      const g = await gateWith(env, yaml);
      for (const r of ROUTES) {
        const res = await call(g, r.method, r.path, token, r.body);
        expect(res.status, `${r.method} ${r.path}: ${res.text}`).toBe(401);
        expect(errCode(res)).toBe('ops_token_not_configured');
      }
      testHooks(g).resetState();
      expect((await call(g, 'GET', '/liveness')).status).toBe(401);
      expect((await check(g)).allow).toBe(true); // the rest of the gate works
      await stop(g);
    });
  }
});

describe('token sources', () => {
  it('alias only (AURORA_OPS_TOKEN): works, and OPS.TOKEN.ALIAS_USED is journaled once', async () => {
    const g = await gateWith({ AURORA_OPS_TOKEN: ALIAS });
    for (let i = 0; i < 3; i++) expect((await call(g, 'GET', '/liveness', ALIAS)).status).toBe(200);
    expect((await call(g, 'GET', '/liveness')).status).toBe(401);
    expect((await call(g, 'GET', '/liveness', WRONG)).status).toBe(403);
    expect(await stop(g)).toBe(true);
    const events = readFileSync(join(g.sessionDir, 'aurora_events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event_code: string; details: unknown });
    const alias = events.filter((e) => e.event_code === 'OPS.TOKEN.ALIAS_USED');
    expect(alias.length, 'once per process (D-9)').toBe(1);
    expect(alias[0].details).toEqual({ alias: 'AURORA_OPS_TOKEN' });
    for (const f of filesUnder(g.dir)) expect(readFileSync(f, 'utf8').includes(ALIAS), f).toBe(false);
  });

  it('YAML only (security.ops_token): works', async () => {
    const g = await gateWith({}, `security:\n  ops_token: ${YAML_TOKEN}\n`);
    expect((await call(g, 'GET', '/liveness', YAML_TOKEN)).status).toBe(200);
    expect((await call(g, 'GET', '/liveness', WRONG)).status).toBe(403);
    expect((await call(g, 'GET', '/liveness')).status).toBe(401);
    expect(await stop(g)).toBe(true);
    for (const f of filesUnder(g.dir).filter((f) => !f.endsWith('config.yaml'))) expect(readFileSync(f, 'utf8').includes(YAML_TOKEN), f).toBe(false);
  });

  it('one active token: OPS_TOKEN beats the alias and YAML, which are then refused', async () => {
    const g = await gateWith({ OPS_TOKEN: T1, AURORA_OPS_TOKEN: ALIAS }, `security:\n  ops_token: ${YAML_TOKEN}\n`);
    expect((await call(g, 'GET', '/liveness', T1)).status).toBe(200);
    expect((await call(g, 'GET', '/liveness', ALIAS)).status).toBe(403);
    expect((await call(g, 'GET', '/liveness', YAML_TOKEN)).status).toBe(403);
    // after a rotation only the new token works (D-1)
    expect((await call(g, 'POST', '/ops/rotate_token', T1, { new_token: T2 })).status).toBe(200);
    for (const [t, want] of [
      [T2, 200],
      [T1, 403],
      [ALIAS, 403],
      [YAML_TOKEN, 403],
    ] as const) {
      expect((await call(g, 'GET', '/liveness', t)).status, t).toBe(want);
    }
    await stop(g);
  });

  it('security.allowlist is enforced: an address outside it gets 403 even with the right token (D-10)', async () => {
    const g = await gateWith({ OPS_TOKEN: T1 }, "security:\n  allowlist: ['10.9.8.7']\n");
    const r = await call(g, 'GET', '/liveness', T1);
    expect(r.status, r.text).toBe(403);
    expect((await call(g, 'POST', '/ops/cooloff/600', T1)).status).toBe(403);
    expect((await check(g)).allow).toBe(true);
    await stop(g);
  });
});
