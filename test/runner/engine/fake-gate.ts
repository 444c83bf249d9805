import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

/** A pretrade request as the fake received it (over WS or HTTP). */
export interface Seen {
  transport: 'ws' | 'http';
  body: Record<string, any>;
  /** envelope id of a WS frame */
  id?: unknown;
}

/** What the fake does with one pretrade check (n counts checks from 1, across transports). */
export type Reply =
  | { kind: 'answer'; patch?: Record<string, unknown>; delayMs?: number }
  | { kind: 'error'; code: string }
  /** WS: close the socket without answering; HTTP: destroy the connection */
  | { kind: 'drop' }
  | { kind: 'silent' };

export type Script = (req: Record<string, any>, n: number, transport: 'ws' | 'http') => Reply;

export interface FakeGate {
  port: number;
  wsUrl: string;
  checks: Seen[];
  posttrades: Seen[];
  wsConnections: number;
  close(): Promise<void>;
}

/** A full allow for a request: max_qty echoes the qty, as the reference gate does. */
export function allowFor(req: Record<string, any>, patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    allow: true,
    max_qty: req.order?.qty ?? 0,
    risk_scale: 1,
    cooldown_ms: 0,
    reason: 'ok',
    hard_gate: false,
    quotas: { trades_pm_left: 10, symbol_exposure_left_usdt: 1000 },
    observability: { gate_state: 'PASS', reasons: [] },
    ...patch,
  };
}

/** A deny with a reason, shaped like the gate's. */
export function denyPatch(reason: string): Record<string, unknown> {
  return { allow: false, reason, observability: { gate_state: 'BLOCK', reasons: [reason] } };
}

/**
 * The gate's outside shape for engine tests (runner.md §4.6): WebSocket `/ws` (pretrade.check,
 * posttrade.log, ping) and HTTP `GET /health`, `POST /pretrade/check`, `POST /posttrade/log` on one
 * port, with pretrade answers scripted per call. `posttradeOk: false` answers posttrade with an error.
 */
export async function startFakeGate(script: Script, opts: { posttradeOk?: boolean } = {}): Promise<FakeGate> {
  const checks: Seen[] = [];
  const posttrades: Seen[] = [];
  const sockets = new Set<WebSocket>();
  const timers = new Set<NodeJS.Timeout>();
  const posttradeOk = opts.posttradeOk ?? true;
  let n = 0;
  const later = (ms: number, fn: () => void) => {
    if (!(ms > 0)) return fn();
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/health') return send(200, { status: 'ok' });
    readBody(req).then((text) => {
      const body = JSON.parse(text) as Record<string, any>;
      if (req.url === '/posttrade/log') {
        posttrades.push({ transport: 'http', body });
        return posttradeOk ? send(200, { status: 'ok' }) : send(503, { error: { code: 'unavailable' } });
      }
      if (req.url !== '/pretrade/check') return send(404, {});
      checks.push({ transport: 'http', body });
      const r = script(body, ++n, 'http');
      if (r.kind === 'silent') return;
      if (r.kind === 'drop') return req.socket.destroy();
      if (r.kind === 'error') return send(422, { error: { code: r.code, message: 'scripted' } });
      later(r.delayMs ?? 0, () => send(200, allowFor(body, r.patch)));
    }, () => send(400, {}));
  });
  const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false });
  const fake: FakeGate = {
    port: 0,
    wsUrl: '',
    checks,
    posttrades,
    wsConnections: 0,
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  wss.on('connection', (sock) => {
    fake.wsConnections++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id: unknown; op: string; body: Record<string, any> };
      const reply = (frame: unknown) => {
        if (sock.readyState === WebSocket.OPEN) sock.send(JSON.stringify(frame));
      };
      if (msg.op === 'ping') return reply({ id: msg.id, ok: true, body: { pong: true } });
      if (msg.op === 'posttrade.log') {
        posttrades.push({ transport: 'ws', body: msg.body, id: msg.id });
        return reply(posttradeOk ? { id: msg.id, ok: true, body: { status: 'ok' } } : { id: msg.id, ok: false, error: { code: 'unavailable', message: 'scripted' } });
      }
      checks.push({ transport: 'ws', body: msg.body, id: msg.id });
      const r = script(msg.body, ++n, 'ws');
      if (r.kind === 'silent') return;
      if (r.kind === 'drop') return sock.terminate();
      if (r.kind === 'error') return reply({ id: msg.id, ok: false, error: { code: r.code, message: 'scripted' } });
      later(r.delayMs ?? 0, () => reply({ id: msg.id, ok: true, body: allowFor(msg.body, r.patch) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  fake.port = (server.address() as AddressInfo).port;
  fake.wsUrl = `ws://127.0.0.1:${fake.port}/ws`;
  return fake;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
