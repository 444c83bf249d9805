import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { LatencyHistogram } from '../../src/client/latency.ts';
import { checkBody } from './bodies.ts';

/**
 * Load drivers of the soak: constant-rate (open loop: request i is due at t0 + i/rate, and its latency
 * counts from then, so a stall of the gate shows as latency instead of silently lowering the rate) or
 * closed loop (as fast as the connections allow; used to measure the maximum rate).
 *
 * HTTP uses a minimal keep-alive HTTP/1.1 client on raw sockets, one request in flight per connection:
 * node:http costs several times more CPU per request, and on two shared cores the client must not be
 * what limits the run. Requests due while every connection is busy wait in a FIFO (their latency runs).
 */

/** Outcome of request i, kept for the journal check: 0 = not answered, 1 = 200, 2 = other status, 3 = no answer (connection error) */
export const ANSWER_NONE = 0;
export const ANSWER_200 = 1;
export const ANSWER_OTHER = 2;
const ANSWER_NET = 3;

interface WindowStats {
  /** requests sent / answered 200 / answered with another status / failed without an answer, in this window */
  sent: number;
  ok: number;
  non200: number;
  netErrors: number;
  /** latencies (µs) of the answers received in this window */
  lat: LatencyHistogram;
  /** requests due but not yet sent (every connection busy) at the end of the window */
  backlog: number;
  /** HTTP status / error code counts of non-200 answers in this window */
  codes: Record<string, number>;
}

export interface Driver {
  /** stats since the previous take() */
  take(): WindowStats;
  /** stop sending; resolves once every request sent has settled (bounded by `graceMs`) */
  stop(graceMs?: number): Promise<void>;
  /** per request index: ANSWER_* */
  readonly answers: Uint8Array;
  /** request indexes handed out so far (sent, or due and waiting for a connection): 0 .. issued-1 */
  issued(): number;
}

export interface DriverOptions {
  port: number;
  /** req_id prefix */
  prefix: string;
  /** requests per second; null = closed loop */
  rate: number | null;
  /** capacity of `answers` (requests beyond it are not sent) */
  maxRequests: number;
  /** HTTP: connections; WS: frames in flight in closed loop */
  connections: number;
}

class Recorder {
  sent = 0;
  ok = 0;
  non200 = 0;
  net = 0;
  lat = new LatencyHistogram('us');
  codes: Record<string, number> = {};
  take(backlog: number): WindowStats {
    const w: WindowStats = { sent: this.sent, ok: this.ok, non200: this.non200, netErrors: this.net, lat: this.lat, backlog, codes: this.codes };
    this.sent = this.ok = this.non200 = this.net = 0;
    this.lat = new LatencyHistogram('us');
    this.codes = {};
    return w;
  }
  answer(status: number, latUs: number, code?: string): void {
    this.lat.record(latUs);
    if (status === 200) this.ok++;
    else {
      this.non200++;
      const k = code ?? String(status);
      this.codes[k] = (this.codes[k] ?? 0) + 1;
    }
  }
}

/**
 * Schedules request indexes: constant rate from t0 (request i is due at t0 + i/rate, so request 0 at t0),
 * or "whenever asked" in closed loop. Exported for the tests.
 */
export class Schedule {
  issued = 0;
  constructor(
    private readonly rate: number | null,
    private readonly max: number,
    readonly t0: number = performance.now(),
  ) {}
  /** how many requests are due now (due time <= now) and not yet issued; consistent with at() */
  due(now: number): number {
    if (this.rate === null) return 0;
    return Math.max(0, Math.min(this.max, Math.floor(((now - this.t0) * this.rate) / 1000) + 1) - this.issued);
  }
  /** the time request i was due (its latency counts from here) */
  at(i: number, sentAt: number): number {
    return this.rate === null ? sentAt : this.t0 + (i * 1000) / this.rate;
  }
}

// ---------------------------------------------------------------------------------------------------------
// HTTP

interface Conn {
  sock: Socket;
  /** request in flight, or -1 */
  current: number;
  sentAt: number;
  buf: Buffer;
  open: boolean;
}

const CRLF2 = Buffer.from('\r\n\r\n');

export function startHttpDriver(o: DriverOptions): Driver {
  const answers = new Uint8Array(o.maxRequests);
  const rec = new Recorder();
  const sched = new Schedule(o.rate, o.maxRequests);
  const backlog: number[] = [];
  let backlogHead = 0;
  const idle: Conn[] = [];
  const conns: Conn[] = [];
  let stopped = false;
  let inflight = 0;

  const send = (c: Conn, i: number): void => {
    const body = checkBody(o.prefix, i);
    c.current = i;
    c.sentAt = performance.now();
    inflight++;
    rec.sent++;
    c.sock.write(`POST /pretrade/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  };

  const nextFor = (c: Conn): void => {
    if (stopped || !c.open) return;
    if (backlogHead < backlog.length) {
      send(c, backlog[backlogHead++]);
      if (backlogHead > 4096 && backlogHead * 2 > backlog.length) {
        backlog.splice(0, backlogHead);
        backlogHead = 0;
      }
    } else if (o.rate === null && sched.issued < o.maxRequests) send(c, sched.issued++);
    else idle.push(c);
  };

  const settle = (c: Conn, status: number, code?: string): void => {
    const i = c.current;
    c.current = -1;
    inflight--;
    const now = performance.now();
    if (status < 0) {
      answers[i] = ANSWER_NET;
      rec.net++;
    } else {
      answers[i] = status === 200 ? ANSWER_200 : ANSWER_OTHER;
      rec.answer(status, (now - sched.at(i, c.sentAt)) * 1000, code);
    }
  };

  const onData = (c: Conn, chunk: Buffer): void => {
    c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
    for (;;) {
      const end = c.buf.indexOf(CRLF2);
      if (end < 0) return;
      const head = c.buf.toString('latin1', 0, end);
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const len = m ? Number(m[1]) : 0;
      if (c.buf.length < end + 4 + len) return;
      const status = Number(head.slice(9, 12));
      let code: string | undefined;
      if (status !== 200) code = `${status}:${/"code":"([^"]+)"/.exec(c.buf.toString('utf8', end + 4, end + 4 + len))?.[1] ?? '?'}`;
      c.buf = c.buf.subarray(end + 4 + len);
      if (c.current >= 0) settle(c, status, code);
      nextFor(c);
    }
  };

  const open = (): Conn => {
    const c: Conn = { sock: connect({ host: '127.0.0.1', port: o.port, noDelay: true }), current: -1, sentAt: 0, buf: Buffer.alloc(0), open: false };
    c.sock.on('connect', () => {
      c.open = true;
      nextFor(c);
    });
    c.sock.on('data', (d: Buffer) => onData(c, d));
    c.sock.on('error', () => {
      /* 'close' follows */
    });
    c.sock.on('close', () => {
      c.open = false;
      const k = idle.indexOf(c);
      if (k >= 0) idle.splice(k, 1);
      if (c.current >= 0) settle(c, -1);
      if (!stopped) setTimeout(() => conns.splice(conns.indexOf(c), 1, open()), 100);
    });
    return c;
  };
  for (let k = 0; k < o.connections; k++) conns.push(open());

  const tick = (): void => {
    if (stopped) return;
    let n = sched.due(performance.now());
    while (n-- > 0) {
      const i = sched.issued++;
      const c = idle.pop();
      if (c !== undefined && c.open) send(c, i);
      else backlog.push(i);
    }
    setTimeout(tick, 1);
  };
  if (o.rate !== null) tick();

  return {
    answers,
    issued: () => sched.issued,
    take: () => rec.take(backlog.length - backlogHead),
    async stop(graceMs = 5000) {
      stopped = true;
      const end = performance.now() + graceMs;
      while (inflight > 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
      for (const c of conns) c.sock.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// WebSocket: one connection; frames carry the request index as their id

export async function startWsDriver(o: DriverOptions): Promise<Driver> {
  const answers = new Uint8Array(o.maxRequests);
  const rec = new Recorder();
  const sched = new Schedule(o.rate, o.maxRequests);
  // send times are needed only in closed loop (at a constant rate latency counts from the due time)
  const sentAt = new Float64Array(o.rate === null ? o.maxRequests : 0);
  const ws = new WebSocket(`ws://127.0.0.1:${o.port}/ws`, { perMessageDeflate: false });
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  let stopped = false;
  let inflight = 0;
  let closed = false;

  const send = (i: number): void => {
    if (o.rate === null) sentAt[i] = performance.now();
    inflight++;
    rec.sent++;
    ws.send(`{"id":${i},"op":"pretrade.check","body":${checkBody(o.prefix, i)}}`);
  };
  ws.on('message', (data: Buffer) => {
    const text = data.toString('utf8');
    const i = Number(text.slice(6, text.indexOf(',')));
    if (!Number.isInteger(i) || i < 0 || i >= o.maxRequests) return;
    inflight--;
    const ok = text.includes('"ok":true');
    answers[i] = ok ? ANSWER_200 : ANSWER_OTHER;
    rec.answer(ok ? 200 : 503, (performance.now() - sched.at(i, sentAt[i])) * 1000, ok ? undefined : `ws:${/"code":"([^"]+)"/.exec(text)?.[1] ?? '?'}`);
    if (o.rate === null && !stopped && sched.issued < o.maxRequests) send(sched.issued++);
  });
  ws.on('error', () => {
    /* 'close' follows */
  });
  ws.on('close', () => {
    closed = true;
    for (let i = 0; i < sched.issued; i++) if (answers[i] === ANSWER_NONE) (answers[i] = ANSWER_NET), rec.net++;
    inflight = 0;
  });

  const tick = (): void => {
    if (stopped || closed) return;
    let n = sched.due(performance.now());
    // the socket's own send buffer is the backlog here; a stalled gate shows as latency
    while (n-- > 0) send(sched.issued++);
    setTimeout(tick, 1);
  };
  if (o.rate === null) for (let k = 0; k < o.connections && sched.issued < o.maxRequests; k++) send(sched.issued++);
  else tick();

  return {
    answers,
    issued: () => sched.issued,
    // backlog: frames still in the client's own send buffer (approximate: ~600 bytes a frame)
    take: () => rec.take(Math.round(ws.bufferedAmount / 600)),
    async stop(graceMs = 5000) {
      stopped = true;
      const end = performance.now() + graceMs;
      while (inflight > 0 && !closed && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
      ws.terminate();
    },
  };
}
