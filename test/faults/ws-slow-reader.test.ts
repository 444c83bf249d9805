import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { http } from '../helpers/gate.ts';
import { allowBody, startLoad } from '../helpers/load.ts';
import { startGateProcess, type GateProcess } from '../helpers/process.ts';
import { metricsText, metricValue, MiB, rssBytes } from './helpers.ts';

/**
 * A slow WebSocket reader (protocol.md "Backpressure": never buffer without bound; close with a clear code).
 * test/service/transport-guards.test.ts proves the 4008 close and its counter; this test measures the
 * memory side on a real gate process (default `ws.max_backpressure_bytes` = 1 MiB, pool size 2): rounds of
 * four clients that send checks as fast as they can and never read a reply. If replies were buffered
 * without bound, each client would pin up to ~100 MiB (150 000 replies of ~700 bytes). Bounded, what is
 * queued towards a client when it is closed is at most the gate's limit (uWS refuses beyond 2 x limit +
 * one frame) plus what the two kernel socket buffers hold — measured by the client once it reads again —
 * and the gate's RSS rises by far less than the unbounded figure during a round.
 * Long-run RSS behaviour (leaks) is the soak's question (`npm run soak`), not this test's.
 */

const ROUNDS = 3;
const CLIENTS = 4;
/** per client: an unbounded server would have to hold every reply to these */
const MAX_FRAMES = 150_000;
const FRAME = (id: number) => JSON.stringify({ id, op: 'pretrade.check', body: allowBody(`slow-${id}`) });
const LIMIT = MiB; // ws.max_backpressure_bytes (default)

/** The most the kernel can hold between the gate and a client that does not read: its send + their receive buffer. */
function kernelSocketBytes(): number {
  const max = (f: string) => Number(readFileSync(f, 'utf8').trim().split(/\s+/)[2]);
  return max('/proc/sys/net/ipv4/tcp_wmem') + max('/proc/sys/net/ipv4/tcp_rmem');
}

interface SlowClient {
  sent: number;
  /** reply bytes the client received after it resumed reading (what was queued towards it) */
  bytesAfterResume: number;
  close: Promise<{ code: number; reason: string }>;
  stop(): void;
}

/** Connects, stops reading at the TCP level, and sends frames (respecting its own send buffer) until stop(). */
async function slowClient(port: number): Promise<SlowClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  const sock = (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  sock.pause();
  const c: SlowClient = {
    sent: 0,
    bytesAfterResume: 0,
    close: new Promise((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() }))),
    stop: () => {
      stopped = true;
      ws.on('message', (d: Buffer) => (c.bytesAfterResume += d.length));
      sock.resume();
    },
  };
  ws.on('error', () => {
    /* 'close' follows */
  });
  let stopped = false;
  const pump = () => {
    if (stopped || ws.readyState !== WebSocket.OPEN) return;
    for (let i = 0; i < 200 && c.sent < MAX_FRAMES && ws.bufferedAmount < MiB; i++) ws.send(FRAME(c.sent++));
    setTimeout(pump, 2);
  };
  pump();
  return c;
}

let gate: GateProcess;
const figures = {
  baselineRss: 0,
  /** per round: peak RSS during the round minus RSS just before it */
  peakGrowth: [] as number[],
  afterRound: [] as number[],
  framesSent: [] as number[],
  unreadBytes: [] as number[],
  closeCodes: [] as number[],
  roundMs: [] as number[],
  closedCounter: 0,
};

beforeAll(async () => {
  gate = await startGateProcess({ env: { AURORA_POOL_THREADS: '2', AURORA_LOG_LEVEL: 'warn' } });
  // warm-up: JIT, heap and allocator reach their working size before the baseline is taken
  const load = startLoad({ url: gate.url, httpConnections: 8, wsConnections: 2, wsInFlight: 32, maxRequests: 30_000, maxDurationMs: 1500 });
  await load.done;
  await new Promise((r) => setTimeout(r, 500));
  figures.baselineRss = rssBytes(gate.pid);

  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now();
    const before = rssBytes(gate.pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(gate.pid))), 25);
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => slowClient(gate.port)));
    // until the gate has closed every client of this round (its counter), or the clients sent everything
    const want = (round + 1) * CLIENTS;
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const closed = metricValue(await metricsText(gate.url), 'aurora_ws_backpressure_closed_total');
      if (closed >= want || clients.every((c) => c.sent >= MAX_FRAMES) || performance.now() - t0 > 20_000) break;
    }
    for (const c of clients) c.stop();
    const closes = await Promise.all(clients.map((c) => Promise.race([c.close, new Promise<{ code: number }>((r) => setTimeout(() => r({ code: -1 }), 8000))])));
    clearInterval(sampler);
    figures.roundMs.push(performance.now() - t0);
    figures.peakGrowth.push(peak - before);
    figures.framesSent.push(...clients.map((c) => c.sent));
    figures.unreadBytes.push(...clients.map((c) => c.bytesAfterResume));
    figures.closeCodes.push(...closes.map((c) => c.code));
    await new Promise((r) => setTimeout(r, 300));
    figures.afterRound.push(rssBytes(gate.pid));
  }
  figures.closedCounter = metricValue(await metricsText(gate.url), 'aurora_ws_backpressure_closed_total');
  const mb = (b: number) => (b / MiB).toFixed(1);
  console.log(
    `[ws-slow-reader] baseline RSS ${mb(figures.baselineRss)} MiB; peak growth per round ${figures.peakGrowth.map(mb).join(', ')} MiB; ` +
      `RSS after each round ${figures.afterRound.map(mb).join(', ')} MiB; ` +
      `frames sent per client ${Math.min(...figures.framesSent)}..${Math.max(...figures.framesSent)}; ` +
      `reply bytes still queued towards a client at its close ${mb(Math.min(...figures.unreadBytes))}..${mb(Math.max(...figures.unreadBytes))} MiB ` +
      `(bound ${mb(2 * LIMIT + 64 * 1024 + kernelSocketBytes())} MiB); ` +
      `close codes ${JSON.stringify([...new Set(figures.closeCodes)])}; counter ${figures.closedCounter}; round ms ${figures.roundMs.map(Math.round).join(', ')}`,
  );
}, 120_000);

afterAll(async () => {
  if (gate) {
    await gate.kill();
    rmSync(gate.dir, { recursive: true, force: true });
  }
});

describe(`${ROUNDS} rounds of ${CLIENTS} WebSocket clients that never read (child process, ws.max_backpressure_bytes 1 MiB)`, () => {
  it('every client is closed with 4008 and counted, long before it could send all its frames', () => {
    expect(figures.closeCodes).toEqual(Array(ROUNDS * CLIENTS).fill(4008));
    expect(figures.closedCounter).toBe(ROUNDS * CLIENTS);
    expect(Math.max(...figures.framesSent), 'closed by the limit, not by running out of frames').toBeLessThan(MAX_FRAMES);
  });

  it('what is queued towards a client that does not read is bounded by the limit plus the kernel socket buffers', () => {
    const bound = 2 * LIMIT + 64 * 1024 + kernelSocketBytes();
    for (const b of figures.unreadBytes) expect(b).toBeLessThanOrEqual(bound);
    // and it did reach the limit: the close came from backpressure, not from anything else
    for (const b of figures.unreadBytes) expect(b).toBeGreaterThan(LIMIT);
  });

  it('the gate RSS rises by far less during a round than unread replies would need (>= 4 x 100 MiB unbounded)', () => {
    for (const g of figures.peakGrowth) expect(g).toBeLessThan(128 * MiB);
  });

  it('the gate keeps serving everyone else', async () => {
    const r = await http(`${gate.url}/pretrade/check`, 'POST', { body: allowBody('after-slow') });
    expect(r.status).toBe(200);
    expect((r.json as { allow: boolean }).allow).toBe(true);
  });
});
