import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { denyFamily as clientDenyFamily } from '../../src/client/index.ts';
import { GateClient } from '../../src/client/gate-client.ts';
import { denyFamily as runnerDenyFamily } from '../../src/runner/gate/reasons.ts';
import type { PretradeCheckRequest } from '../../src/schema/pretrade.ts';

/** GateClient against small local fakes (no gate): reason counting, close() racing start(), HTTP fallback. */

const REQ: PretradeCheckRequest = {
  account: { mode: 'testnet' },
  order: { side: 'buy', qty: 1 },
  market: { latency_ms: 5, score: 0.5, a_bps: 5, b_bps: 10, slip_bps_est: 1, spread_bps: 3 },
};
const deny = (reason: string) => ({
  allow: false, max_qty: 0, risk_scale: 0, cooldown_ms: 0, reason, hard_gate: true,
  quotas: { trades_pm_left: 0, symbol_exposure_left_usdt: 0 }, observability: { reasons: [reason] },
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A WebSocket server on /ws answering every call through `answer`. */
async function fakeWsGate(answer: (msg: { id: unknown; op: string; body: unknown }, n: number) => unknown): Promise<number> {
  const server: Server = createServer();
  const wss = new WebSocketServer({ server, path: '/ws' });
  let n = 0;
  wss.on('connection', (sock: WebSocket) =>
    sock.on('message', (d) => {
      const msg = JSON.parse(d.toString());
      if (msg.op === 'ping') return;
      sock.send(JSON.stringify(answer(msg, n++)));
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as AddressInfo).port;
}

async function client(opts: ConstructorParameters<typeof GateClient>[0]): Promise<GateClient> {
  const c = new GateClient(opts);
  cleanups.push(() => c.close());
  return c;
}

describe('denied_by_reason counts by reason family', () => {
  it('reasons carrying values share one row; gate_error codes stay apart', async () => {
    const port = await fakeWsGate((msg, n) =>
      n < 50
        ? { id: msg.id, ok: true, body: deny(`spread_bps_too_wide:${(90 + n / 10).toFixed(1)}`) }
        : { id: msg.id, ok: false, error: { code: n % 2 === 0 ? 'invalid_request' : 'overloaded' } },
    );
    const c = await client({ url: `ws://127.0.0.1:${port}/ws`, httpFallback: false });
    expect(await c.start()).toBe(true);
    for (let i = 0; i < 54; i++) await c.check({ ...REQ, req_id: `r-${i}` });
    const s = c.stats().pretrade;
    expect(s.denied).toBe(54);
    expect(s.denied_by_reason).toEqual({ spread_bps_too_wide: 50, 'gate_error:invalid_request': 2, 'gate_error:overloaded': 2 });
  });

  it('one denyFamily, shared by the client and the runner', () => {
    expect(runnerDenyFamily).toBe(clientDenyFamily);
    expect(clientDenyFamily('trap_guard:z=4.00')).toBe('trap_guard');
    expect(clientDenyFamily('gate_timeout')).toBe('gate_timeout');
    expect(clientDenyFamily('gate_error:invalid_request')).toBe('gate_error:invalid_request');
  });
});

describe('close() racing start() / waitConnected()', () => {
  /** Accepts TCP and never answers the upgrade: the socket stays CONNECTING. */
  async function blackHole(): Promise<number> {
    const socks: Socket[] = [];
    const server = createNetServer((s) => void socks.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      for (const s of socks) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });
    return (server.address() as AddressInfo).port;
  }

  it('pending start() and waitConnected() resolve false when the client is closed first', async () => {
    const port = await blackHole();
    const c = await client({ url: `ws://127.0.0.1:${port}/ws`, startupWaitMs: 5000, connectTimeoutMs: 5000 });
    const started = c.start();
    const waited = c.waitConnected(5000);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    await c.close();
    expect(await started).toBe(false);
    expect(await waited).toBe(false);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(await c.waitConnected(5000)).toBe(false); // after close: at once
  });

  it('a connected client that is closed: waitConnected() is false', async () => {
    const port = await fakeWsGate((msg) => ({ id: msg.id, ok: true, body: deny('x') }));
    const c = await client({ url: `ws://127.0.0.1:${port}/ws` });
    expect(await c.start()).toBe(true);
    expect(await c.waitConnected(10)).toBe(true);
    await c.close();
    expect(await c.waitConnected(10)).toBe(false);
  });
});

describe('HTTP fallback (targets and headers built once)', () => {
  it('each op goes to its path with the JSON headers and the caller\'s own headers', async () => {
    const seen: Array<{ url: string | undefined; headers: IncomingMessage['headers']; body: string }> = [];
    const server = createServer((req, res) => {
      if (req.url === '/ws') return void res.writeHead(404).end(); // the socket never opens
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        seen.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(req.url === '/pretrade/check' ? deny('latency_guard') : { status: 'ok' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    });
    const port = (server.address() as AddressInfo).port;
    // no /ws there: the socket never opens, every call goes over HTTP
    const c = await client({ url: `ws://127.0.0.1:${port}/ws`, startupWaitMs: 50, headers: { 'x-runner': 'r1' } });
    await c.start();
    const r = await c.checkDetailed(REQ);
    expect(r.outcome).toBe('http');
    expect(r.decision.reason).toBe('latency_guard');
    const l = await c.log({ req_id: 'p-1' } as never);
    expect(l.ok).toBe(true);
    expect(seen.map((s) => s.url)).toEqual(['/pretrade/check', '/posttrade/log']);
    for (const s of seen) {
      expect(s.headers['content-type']).toBe('application/json');
      expect(s.headers['x-runner']).toBe('r1');
      expect(Number(s.headers['content-length'])).toBe(Buffer.byteLength(s.body));
    }
    expect(JSON.parse(seen[0]!.body)).toEqual(REQ);
  });
});
