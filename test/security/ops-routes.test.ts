import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GateApp, type AppDeps } from '../../src/transport/app.ts';
import { startTestGate, type TestGate } from '../helpers/gate.ts';
import { FAILING_ADDRESSES, yamlWithAllowlist } from '../fuzz/config.ts';
import { call, fingerprint, metric } from '../fuzz/harness.ts';
import { RawConnection } from '../fuzz/raw-http.ts';
import { ROUTE_SPECS, routeOf } from '../fuzz/spec-model.ts';
import { WsClient } from '../helpers/ws.ts';

/**
 * Every ops and state-changing endpoint refuses a missing or wrong token and changes nothing
 * (service.md 1.1: 401 missing / not configured, 403 wrong). The list of endpoints is not trusted
 * to be complete: the routes the app REALLY registers are recorded (GateApp built on a recording
 * stand-in for uWebSockets.js) and must equal the documented table in test/fuzz/spec-model.ts, where
 * each route says whether it is ops. Wrong tokens come in every length (the digest compare must not
 * throw on a length mismatch, D-3) and from addresses of their own, so the per-address rate limit
 * (10 failures a minute) never answers in place of the authentication.
 */

const TOKEN = 'sec-routes-token-Mv3c-0123456789abcdef';
const RUNNER = 'sec-runner-token-Pq8x-0123456789abcdef';

/** Every (method, pattern) GateApp registers, recorded without a network. */
function registeredRoutes(): Array<[string, string]> {
  const seen: Array<[string, string]> = [];
  const app: Record<string, unknown> = new Proxy(
    {},
    {
      get: (_t, method: string) =>
        (pattern: unknown) => {
          if (typeof pattern === 'string') seen.push([method, pattern]);
          return app;
        },
    },
  );
  const uws = { App: () => app } as unknown as AppDeps['uws'];
  new GateApp({ uws, runnerToken: null } as unknown as AppDeps);
  return seen;
}

/** The documented table as (method, pattern) pairs, in uWS pattern syntax. */
function documentedRoutes(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const r of ROUTE_SPECS) {
    // a parameterised route: its sample with the last segment as a uWS parameter
    const pattern = typeof r.path === 'string' ? r.path : r.sample.replace(/\/[^/]+$/, '/:param');
    for (const m of r.methods) out.push([r.path === '/ws' ? 'ws' : m.toLowerCase(), pattern]);
  }
  // a plain GET of /ws (no upgrade) answers 426 upgrade_required; it reads no token and no body
  out.push(['get', '/ws']);
  // the fallback answers 404/405 for everything else, and reads no token and no body
  out.push(['any', '/*']);
  return out;
}

const key = ([m, p]: [string, string]) => `${m} ${p.replace(/:[A-Za-z_]+/g, ':param')}`;

describe('the ops surface is exactly the documented one', () => {
  it('the routes GateApp registers are the documented table (a new route must be classified there)', () => {
    const got = registeredRoutes().map(key).sort();
    const want = documentedRoutes().map(key).sort();
    expect(got.length, 'the recording stand-in saw the registrations').toBeGreaterThan(15);
    expect(got).toEqual(want);
  });

  it('every registered route that is not in the public list of api.md is an ops route', () => {
    const PUBLIC = new Set(['/', '/pretrade/check', '/posttrade/log', '/health', '/version', '/metrics', '/metrics/', '/openapi.json', '/predict', '/ws', '/*']);
    for (const [, pattern] of registeredRoutes()) {
      if (PUBLIC.has(pattern)) continue;
      const r = routeOf(pattern.replace(/:[a-z]+$/, 'x'));
      expect(r?.ops, `${pattern} is neither public nor ops in spec-model.ts`).toBe(true);
    }
  });
});

describe('no token, no change', () => {
  let gate: TestGate;
  let stopped = false;
  let addr = 0;
  const nextAddress = () => FAILING_ADDRESSES[addr++ % FAILING_ADDRESSES.length];

  beforeAll(async () => {
    // ops auth failures go to stderr (D-38): one line each, not wanted in the test output
    const write = process.stderr.write.bind(process.stderr);
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) =>
      String(chunk).startsWith('ops auth failure') ? true : (write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stderr.write);
    gate = await startTestGate({ OPS_TOKEN: TOKEN, AURORA_POOL_THREADS: '0' }, yamlWithAllowlist(FAILING_ADDRESSES));
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    if (!stopped) await gate?.stop();
  });

  /** Wrong tokens of every length around the real one's, and far beyond it. */
  const WRONG: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['1 char', Buffer.from('x')],
    ['23 chars', Buffer.from('w'.repeat(23))],
    ['24 chars', Buffer.from('w'.repeat(24))],
    ['same length, last char changed', Buffer.from(TOKEN.slice(0, -1) + (TOKEN.endsWith('f') ? 'e' : 'f'))],
    ['the token plus one char', Buffer.from(`${TOKEN}x`)],
    ['the token minus one char', Buffer.from(TOKEN.slice(0, -1))],
    ['upper-cased', Buffer.from(TOKEN.toUpperCase())],
    ['1 000 chars', Buffer.from('k'.repeat(1000))],
    ['8 000 chars', Buffer.from('k'.repeat(8000))],
    ['non-ASCII bytes', Buffer.concat([Buffer.from(TOKEN.slice(0, 10)), Buffer.from([0xc3, 0xa9, 0xff, 0x80]), Buffer.from(TOKEN.slice(14))])],
  ];

  /** One raw request from a given source address, with the token header as exact bytes (or none). */
  async function send(from: string, method: string, path: string, token: Buffer | null, body?: string): Promise<{ status: number; code?: string }> {
    const c = new RawConnection(gate.port, { localAddress: from });
    try {
      const lines = [`${method} ${path} HTTP/1.1`, 'Host: x'];
      const b = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
      if (body !== undefined) lines.push('Content-Type: application/json', `Content-Length: ${b.length}`);
      const head = Buffer.from(`${lines.join('\r\n')}\r\n`);
      const tok = token === null ? Buffer.alloc(0) : Buffer.concat([Buffer.from('X-OPS-TOKEN: '), token, Buffer.from('\r\n')]);
      const r = await c.sendBytes(Buffer.concat([head, tok, Buffer.from('\r\n'), b]));
      return { status: r.status, code: r.status > 0 ? JSON.parse(r.body.toString()).error?.code : undefined };
    } finally {
      c.close();
    }
  }

  // each request would change state if it were authorised
  const CALLS: Array<{ method: string; path: string; body?: string }> = [
    { method: 'GET', path: '/liveness' },
    { method: 'GET', path: '/readiness' },
    { method: 'POST', path: '/ops/cooloff/86400' },
    { method: 'POST', path: '/ops/reset' },
    { method: 'POST', path: '/aurora/disarm' },
    { method: 'GET', path: '/risk/snapshot' },
    { method: 'POST', path: '/risk/set', body: '{"dd_day_pct":0.5,"max_concurrent":0,"size_scale":0}' },
    { method: 'POST', path: '/ops/rotate_token', body: '{"new_token":"an-attacker-chosen-token-0123456789"}' },
    { method: 'GET', path: '/ops/limits' },
    { method: 'POST', path: '/ops/limits', body: '{"max_order_notional_usdt":1,"rate":{"account_per_s":1}}' },
    { method: 'POST', path: '/ops/trading_state', body: '{"state":"HALTED"}' },
  ];

  it('the calls below cover every ops route', () => {
    const covered = new Set(CALLS.map((c) => routeOf(c.path)));
    expect(ROUTE_SPECS.filter((r) => r.ops && !covered.has(r)).map((r) => r.sample)).toEqual([]);
  });

  it('missing and wrong tokens of every length: 401 / 403, never a throw, and nothing changes', async () => {
    // a cool-off set with the token, so an unauthorised reset would show
    expect((await call(gate.port, 'POST', '/ops/cooloff/600', { token: TOKEN })).status).toBe(200);
    const before = await fingerprint(gate.port, TOKEN);
    const m0 = metric((await call(gate.port, 'GET', '/metrics')).text, 'aurora_ops_auth_fail_total');
    let refused = 0;
    for (const c of CALLS) {
      const from = nextAddress();
      const missing = await send(from, c.method, c.path, null, c.body);
      expect(missing, `${c.method} ${c.path} without a token`).toEqual({ status: 401, code: 'missing_token' });
      refused++;
      // 11 wrong tokens: split over two addresses (10 failures a minute per address)
      for (const [i, [what, tok]] of WRONG.entries()) {
        const r = await send(i < 5 ? from : nextAddress(), c.method, c.path, tok, c.body);
        expect(r, `${c.method} ${c.path} with a wrong token (${what})`).toEqual({ status: 403, code: 'forbidden' });
        refused++;
      }
      expect((await call(gate.port, 'GET', '/health')).status).toBe(200);
    }
    expect(await fingerprint(gate.port, TOKEN)).toEqual(before);
    expect((await call(gate.port, 'GET', '/liveness', { token: TOKEN })).status).toBe(200);
    expect((await call(gate.port, 'GET', '/liveness', { token: 'an-attacker-chosen-token-0123456789' })).status).toBe(403);
    const m1 = metric((await call(gate.port, 'GET', '/metrics')).text, 'aurora_ops_auth_fail_total');
    expect(m1 - m0).toBe(refused + 1);
  });

  it('the journal has no state-changing ops event from the refused calls', async () => {
    stopped = true;
    expect(await gate.stop()).toBe(true);
    const events = readFileSync(join(gate.sessionDir, 'aurora_events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event_code: string; details: Record<string, unknown> });
    const codes = events.map((e) => e.event_code);
    // the one authorised cool-off above; the two fingerprints' /aurora/arm (arm while armed)
    expect(codes.filter((c) => c === 'AURORA.COOL_OFF').length).toBe(1);
    expect(codes.filter((c) => c === 'AURORA.ARM_STATE').length).toBe(2);
    for (const c of ['OPS.RESET', 'RISK.UPDATE', 'OPS.TOKEN_ROTATE', 'AURORA.RESUME', 'LIMIT.UPDATE', 'TRADING_STATE']) expect(codes.filter((x) => x === c), c).toEqual([]);
    for (const e of events.filter((x) => x.event_code === 'AURORA.ARM_STATE')) expect((e.details.state as { armed: boolean }).armed).toBe(true);
  });
});

describe('the runner token guards the data routes when configured (security.runner_token)', () => {
  let gate: TestGate;
  beforeAll(async () => {
    gate = await startTestGate({ AURORA_RUNNER_TOKEN: RUNNER, AURORA_POOL_THREADS: '0' });
  });
  afterAll(async () => {
    await gate?.stop();
  });

  const CHECK = '{"account":{},"order":{"symbol":"SEC"},"market":{"latency_ms":1}}';

  it('pretrade, posttrade and the WebSocket upgrade refuse a missing or wrong X-RUNNER-TOKEN; nothing is decided', async () => {
    const m0 = (await call(gate.port, 'GET', '/metrics')).text;
    for (const tok of [null, '', 'x', RUNNER.slice(0, -1), `${RUNNER}x`, 'r'.repeat(5000)]) {
      for (const [path, body] of [['/pretrade/check', CHECK], ['/posttrade/log', '{"symbol":"SEC","status":"filled","filled":1,"order_id":"sec-1"}']]) {
        const c = new RawConnection(gate.port);
        const headers: Array<[string, string]> = [['Content-Type', 'application/json']];
        if (tok !== null) headers.push(['X-RUNNER-TOKEN', tok]);
        const r = await c.send({ method: 'POST', path, headers, body: Buffer.from(body) });
        c.close();
        expect(r.status, `${path} with ${JSON.stringify(tok?.slice(0, 20))}`).toBe(401);
        expect(JSON.parse(r.body.toString()).error.code).toBe('runner_token_required');
      }
      const headers: Record<string, string> = tok === null ? {} : { 'X-RUNNER-TOKEN': tok };
      await expect(WsClient.connect(gate.url, { headers }), 'WebSocket upgrade').rejects.toThrow(/HTTP 401/);
    }
    const m1 = (await call(gate.port, 'GET', '/metrics')).text;
    for (const name of ['aurora_pretrade_requests_total', 'aurora_orders_success_total']) expect(metric(m1, name), name).toBe(metric(m0, name));
    expect(metric(m1, 'aurora_events_emitted_total', { code: 'POSTTRADE.LOG' })).toBe(metric(m0, 'aurora_events_emitted_total', { code: 'POSTTRADE.LOG' }));
  });

  it('the right runner token works on HTTP and WebSocket', async () => {
    const c = new RawConnection(gate.port);
    const r = await c.send({ method: 'POST', path: '/pretrade/check', headers: [['Content-Type', 'application/json'], ['X-RUNNER-TOKEN', RUNNER]], body: Buffer.from(CHECK) });
    c.close();
    expect(r.status, r.body.toString()).toBe(200);
    const ws = await WsClient.connect(gate.url, { headers: { 'X-RUNNER-TOKEN': RUNNER } });
    const env = await ws.request('pretrade.check', JSON.parse(CHECK));
    await ws.close();
    expect(env.ok, env.text).toBe(true);
  });
});
