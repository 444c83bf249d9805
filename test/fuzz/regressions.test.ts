import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGate, type TestGate } from '../helpers/gate.ts';
import { call, metric } from './harness.ts';
import { RawConnection, runPool } from './raw-http.ts';
import { WsFuzzConn } from './ws-conn.ts';
import { WsClient } from '../helpers/ws.ts';

/**
 * Bugs the fuzz found, pinned as plain examples (the fuzz finds them again only by chance of the seed).
 */

const TOKEN = 'fuzz-regressions-token-0123456789abcdef';

describe('fuzz findings', () => {
  let gate: TestGate;
  beforeAll(async () => {
    gate = await startTestGate({ OPS_TOKEN: TOKEN, AURORA_POOL_THREADS: '0' });
  });
  afterAll(async () => {
    await gate.stop();
  });

  // A path parameter left empty matched nothing in uWS, and the fallback's route table then answered
  // "405 /ops/cooloff/ accepts POST" to a POST (Allow naming the very method used). api.md: 404.
  for (const path of ['/ops/cooloff/', '/aurora/']) {
    it(`POST ${path} (empty path parameter) -> 404 not_found, with or without the token`, async () => {
      for (const token of [undefined, TOKEN]) {
        const r = await call(gate.port, 'POST', path, { token });
        expect(r.status, r.text).toBe(404);
        expect(r.json.error.code).toBe('not_found');
      }
    });
  }

  // A plain GET /ws (no Upgrade header) fell through to the route table and got "405 /ws accepts GET"
  // with Allow: GET — a contradiction. It is a WebSocket endpoint: 426 with Upgrade: websocket.
  it('GET /ws without an upgrade -> 426 upgrade_required, and the WebSocket still works', async () => {
    const r = await fetch(`${gate.url}/ws`);
    expect(r.status).toBe(426);
    expect(r.headers.get('upgrade')).toBe('websocket');
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('upgrade_required');
    const ws = await WsClient.connect(gate.url);
    try {
      expect(await ws.request('ping', undefined, 'p')).toMatchObject({ id: 'p', ok: true });
    } finally {
      ws.socket.close();
    }
  });

  // A wrong method on /aurora/{mode} or /ops/cooloff/{sec} was counted under the raw URL as its route
  // label: every distinct junk path, unauthenticated, created one more Prometheus series (unbounded
  // memory and /metrics size). The label must be the route, not the URL.
  it('405s on parameterised routes are counted under the route, not one series per URL', async () => {
    const m0 = (await call(gate.port, 'GET', '/metrics')).text;
    const paths = Array.from({ length: 50 }, (_, i) => [`/aurora/junk-${i}`, `/ops/cooloff/${i}`]).flat();
    for (const p of paths) expect((await call(gate.port, 'GET', p)).status).toBe(405);
    const m1 = (await call(gate.port, 'GET', '/metrics')).text;
    const labels = new Set([...m1.matchAll(/^aurora_http_requests_total\{[^}]*route="([^"]*)"/gm)].map((m) => m[1]));
    expect([...labels].filter((l) => l.includes('junk') || /^\/ops\/cooloff\/\d/.test(l))).toEqual([]);
    const d = (route: string) => metric(m1, 'aurora_http_requests_total', { route, status: '405' }) - metric(m0, 'aurora_http_requests_total', { route, status: '405' });
    expect(d('/aurora')).toBe(50);
    expect(d('/ops/cooloff')).toBe(50);
  });
});

// A body starting with a UTF-8 byte order mark was decided when the main thread decoded it (TextDecoder
// drops a leading BOM) and refused 400 when a worker did (Buffer#toString keeps it, JSON.parse refuses
// it): the same request got 200 or 400 depending on load and on pool.threads. RFC 8259 8.1 allows
// either; the gate must pick one. It refuses, as the worker path (the production path) always did.
describe('a leading byte order mark gets the same answer on every path', () => {
  for (const threads of ['0', '1']) {
    it(`pool size ${threads}: HTTP and WebSocket, one at a time and 8 in flight`, async () => {
      const g = await startTestGate({ AURORA_POOL_THREADS: threads });
      try {
        const seen = new Set<string>();
        for (const n of [1, 8]) {
          const conns = Array.from({ length: n }, () => new RawConnection(g.port));
          const jobs = Array.from({ length: 80 }, (_, i) => i);
          await runPool(conns, jobs, async (c, i) => {
            const [path, body] = i % 2 === 0 ? ['/posttrade/log', '{"symbol":"X"}'] : ['/pretrade/check', '{"account":{},"order":{},"market":{}}'];
            const r = await c.send({ method: 'POST', path, headers: [['Content-Type', 'application/json']], body: Buffer.from(`\ufeff${body}`) });
            seen.add(`${r.status} ${JSON.parse(r.body.toString()).error?.code}`);
          });
          for (const c of conns) c.close();
        }
        expect([...seen]).toEqual(['400 malformed_json']);
        const ws = new WsFuzzConn(`ws://127.0.0.1:${g.port}/ws`);
        const o = await ws.send(Buffer.from('\ufeff{"id":1,"op":"ping"}'), false);
        ws.close();
        expect(o.kind === 'reply' && (o.json as { id: unknown; error?: { code: string } })).toMatchObject({ id: null, error: { code: 'malformed_json' } });
      } finally {
        await g.stop();
      }
    });
  }
});

// A token with a non-ASCII character could be set (by /ops/rotate_token or OPS_TOKEN) but never
// presented: HTTP header bytes do not round-trip to the same string (neither as UTF-8 nor as Latin-1),
// so a rotation to such a token locked every operator out of ops until a restart. Refused up front.
describe('ops tokens are printable ASCII', () => {
  const raw = async (port: number, method: string, path: string, token: Buffer, body?: string) => {
    const c = new RawConnection(port);
    try {
      const b = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
      const head = `${method} ${path} HTTP/1.1\r\nHost: x\r\nX-OPS-TOKEN: `;
      const tail = body === undefined ? '\r\n\r\n' : `\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n`;
      const r = await c.sendBytes(Buffer.concat([Buffer.from(head), token, Buffer.from(tail), b]));
      return { status: r.status, json: JSON.parse(r.body.toString() || 'null') };
    } finally {
      c.close();
    }
  };
  const NON_ASCII = 'ops-token-with-an-é-0123456789abcdef';

  it('rotating to a non-ASCII token is refused (400 invalid_token) and the old token keeps working', async () => {
    const g = await startTestGate({ OPS_TOKEN: TOKEN, AURORA_POOL_THREADS: '0' });
    try {
      const r = await raw(g.port, 'POST', '/ops/rotate_token', Buffer.from(TOKEN), JSON.stringify({ new_token: NON_ASCII }));
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('invalid_token');
      expect((await raw(g.port, 'GET', '/liveness', Buffer.from(TOKEN))).status).toBe(200);
    } finally {
      await g.stop();
    }
  });

  it('a non-ASCII OPS_TOKEN leaves ops not configured (401), like any other unusable token', async () => {
    const g = await startTestGate({ OPS_TOKEN: NON_ASCII, AURORA_POOL_THREADS: '0' });
    try {
      for (const bytes of [Buffer.from(NON_ASCII, 'utf8'), Buffer.from(NON_ASCII, 'latin1')]) {
        const r = await raw(g.port, 'GET', '/liveness', bytes);
        expect(r.status).toBe(401);
        expect(r.json.error.code).toBe('ops_token_not_configured');
      }
    } finally {
      await g.stop();
    }
  });
});

// Ops bodies were decoded leniently (invalid bytes became U+FFFD), so a /risk/set with a bad byte in
// any string was applied, and a new_token with one became a token nobody can send. api.md: 400
// invalid_utf8 for a body that is not UTF-8, as on the data routes.
describe('ops bodies must be valid UTF-8', () => {
  for (const [path, head, tail] of [
    ['/risk/set', '{"size_scale":0.125,"note":"', '"}'],
    ['/ops/rotate_token', '{"new_token":"a-perfectly-long-rotation-token-', '0123"}'],
  ] as const) {
    it(`${path} with a 0xFF byte inside a string -> 400 invalid_utf8, nothing applied`, async () => {
      const g = await startTestGate({ OPS_TOKEN: TOKEN, AURORA_POOL_THREADS: '0' });
      try {
        const risk0 = await call(g.port, 'GET', '/risk/snapshot', { token: TOKEN });
        const c = new RawConnection(g.port);
        const body = Buffer.concat([Buffer.from(head), Buffer.from([0xff]), Buffer.from(tail)]);
        const r = await c.send({ method: 'POST', path, headers: [['X-OPS-TOKEN', TOKEN], ['Content-Type', 'application/json']], body });
        c.close();
        expect(r.status, r.body.toString()).toBe(400);
        expect(JSON.parse(r.body.toString()).error.code).toBe('invalid_utf8');
        expect((await call(g.port, 'GET', '/risk/snapshot', { token: TOKEN })).text).toBe(risk0.text);
        expect((await call(g.port, 'GET', '/liveness', { token: TOKEN })).status).toBe(200);
      } finally {
        await g.stop();
      }
    });
  }
});

// A Content-Length above the limit was answered 413 with "Connection: close", but the socket stayed
// open (a uWS header alone does not close): the client could go on streaming the declared 100 MB.
// RFC 9112 9.6: a server that sends Connection: close closes after the response.
it('413 for a declared Content-Length above the limit closes the connection', async () => {
  const g = await startTestGate({ AURORA_POOL_THREADS: '0' });
  try {
    const r = await new Promise<{ text: string; closed: boolean }>((resolve) => {
      const s = connect(g.port, '127.0.0.1');
      let text = '';
      const timer = setTimeout(() => {
        s.destroy();
        resolve({ text, closed: false });
      }, 3000);
      s.on('data', (d) => (text += d.toString('latin1')));
      s.on('close', () => {
        clearTimeout(timer);
        resolve({ text, closed: true });
      });
      s.write('POST /pretrade/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n');
    });
    expect(r.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.text.match(/\r\nConnection: close\r\n/gi)?.length, 'one Connection: close header').toBe(1);
    expect(r.closed).toBe(true);
  } finally {
    await g.stop();
  }
});
