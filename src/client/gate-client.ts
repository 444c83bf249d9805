import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { PosttradeLogRequest } from '../schema/posttrade.ts';
import { PretradeCheckResponse, type PretradeCheckRequest } from '../schema/pretrade.ts';
import { compileValidator } from '../schema/validate.ts';
import { backoffDelay } from './backoff.ts';
import { failClosed } from './fail-closed.ts';
import { LatencyHistogram, type LatencySummary } from './latency.ts';
import { resolveOptions, type GateClientOptions, type ResolvedOptions } from './options.ts';
import { denyFamily } from './reasons.ts';

export type Transport = 'ws' | 'http' | 'none';
/** How a call ended: answered by the gate over ws/http, or decided locally (fail-closed). */
export type Outcome = 'ws' | 'http' | 'timeout' | 'unavailable' | 'backpressure' | 'gate_error' | 'invalid_response';

export interface CheckResult {
  decision: PretradeCheckResponse;
  transport: Transport;
  outcome: Outcome;
  latencyMs: number;
}

export type LogResult =
  | { ok: true; transport: 'ws' | 'http'; latencyMs: number }
  | { ok: false; reason: string; transport: Transport; outcome: Outcome; latencyMs: number };

export interface GateClientStats {
  connected: boolean;
  inFlight: number;
  counters: {
    calls: number;
    ws: number;
    http: number;
    timeout: number;
    unavailable: number;
    backpressure: number;
    gate_error: number;
    invalid_response: number;
    /** WebSocket replies that arrived after their call had timed out (dropped) */
    late: number;
    /** WebSocket frames with an id this client never sent, or `id: null` error frames */
    unmatched: number;
    /** successful re-opens after the first connection */
    reconnects: number;
    reconnect_attempts: number;
    /** sockets dropped by the ping watchdog */
    ping_timeouts: number;
  };
  /** denials counted by reason family (`denyFamily`: the value after a colon dropped) */
  pretrade: { allowed: number; denied: number; denied_by_reason: Record<string, number> };
  posttrade: { ok: number; failed: number };
  latency: { all: LatencySummary; ws: LatencySummary; http: LatencySummary };
}

type Op = 'pretrade.check' | 'posttrade.log';

/** What a transport produced for one call, before it is turned into a decision. */
type Raw =
  | { kind: 'answer'; transport: 'ws' | 'http'; body: unknown }
  | { kind: 'gate_error'; transport: 'ws' | 'http'; reason: string }
  | { kind: 'fail'; transport: Transport; outcome: 'timeout' | 'unavailable' | 'backpressure' };

/** A WebSocket envelope id: the request's req_id where usable (runner.md 4.4), else a sequence number. */
type CallId = string | number;

interface Call {
  id: CallId;
  /** the socket the call was sent on, or null when it went over HTTP */
  sock: WebSocket | null;
  finish(r: Raw): void;
}

const ABANDONED_CAP = 65_536;
const validResponse = compileValidator<PretradeCheckResponse>(PretradeCheckResponse);

/**
 * The runner side of the gate (docs/client.md): one persistent WebSocket with id-matched calls,
 * per-call deadline, an in-flight bound, reconnect with full-jitter backoff, HTTP fallback while the
 * socket is down, and fail-closed denies. `check()` never rejects for transport problems.
 */
export class GateClient {
  readonly options: Readonly<ResolvedOptions>;
  private ws: WebSocket | null = null;
  private closed = false;
  private seq = 0;
  private pingSeq = 0;
  private missedPongs = 0;
  private attempt = 0;
  private everOpened = false;
  private openedAt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private readonly calls = new Map<CallId, Call>();
  /** ids that timed out while pending on the socket: a reply to one of them is `late` */
  private readonly abandoned = new Set<CallId>();
  /** `waitConnected` callers: told true when the socket opens, false when the client is closed */
  private readonly openWaiters = new Set<(open: boolean) => void>();
  private readonly c: GateClientStats['counters'] = {
    calls: 0, ws: 0, http: 0, timeout: 0, unavailable: 0, backpressure: 0, gate_error: 0, invalid_response: 0,
    late: 0, unmatched: 0, reconnects: 0, reconnect_attempts: 0, ping_timeouts: 0,
  };
  private readonly pre = { allowed: 0, denied: 0, denied_by_reason: {} as Record<string, number> };
  private readonly post = { ok: 0, failed: 0 };
  private readonly hAll = new LatencyHistogram();
  private readonly hWs = new LatencyHistogram();
  private readonly hHttp = new LatencyHistogram();

  /** keep-alive pool for the HTTP fallback, at most `maxInFlight` sockets */
  private readonly agent: HttpAgent;
  /** the HTTP fallback's fixed parts, built once: target per op, request function, headers */
  private readonly httpTargets: Readonly<Record<Op, URL>>;
  private readonly httpSend: typeof httpRequest;
  /** content-type plus the caller's headers (which win, as they always did); content-length is per call */
  private readonly httpHeaders: Readonly<Record<string, string>>;

  constructor(opts: GateClientOptions = {}) {
    this.options = resolveOptions(opts);
    const https = this.options.httpUrl.startsWith('https:');
    const agentOpts = { keepAlive: true, maxSockets: this.options.maxInFlight, keepAliveMsecs: 1000 };
    this.agent = https ? new HttpsAgent(agentOpts) : new HttpAgent(agentOpts);
    this.httpTargets = {
      'pretrade.check': new URL(`${this.options.httpUrl}/pretrade/check`),
      'posttrade.log': new URL(`${this.options.httpUrl}/posttrade/log`),
    };
    this.httpSend = this.httpTargets['pretrade.check'].protocol === 'https:' ? httpsRequest : httpRequest;
    this.httpHeaders = { 'content-type': 'application/json', ...this.options.headers };
  }

  /** `new GateClient(opts)` + `start()`. Resolves even if the gate is down (calls then use HTTP or fail closed). */
  static async connect(opts: GateClientOptions = {}): Promise<GateClient> {
    const c = new GateClient(opts);
    await c.start();
    return c;
  }

  /**
   * Opens the socket and waits up to `startupWaitMs` for it; resolves true when connected, false on
   * timeout or when `close()` comes first. Never rejects.
   */
  async start(): Promise<boolean> {
    this.assertOpen();
    if (this.ws === null && this.reconnectTimer === null) this.connectSocket();
    return this.waitConnected(this.options.startupWaitMs);
  }

  /** Resolves true once the socket is open; false after `ms`, or when the client is (being) closed. */
  waitConnected(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(t);
        this.openWaiters.delete(done);
        resolve(v);
      };
      const t = setTimeout(() => done(!this.closed && this.connected), ms);
      this.openWaiters.add(done);
    });
  }

  get connected(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** The gate's decision, or a fail-closed deny. Rejects only when the client is closed. */
  async check(req: PretradeCheckRequest): Promise<PretradeCheckResponse> {
    return (await this.checkDetailed(req)).decision;
  }

  /** `check()` with the transport, outcome and latency of the call (for the runner's summary). */
  async checkDetailed(req: PretradeCheckRequest): Promise<CheckResult> {
    this.assertOpen();
    const t0 = performance.now();
    const raw = await this.call('pretrade.check', req, req.req_id);
    const latencyMs = performance.now() - t0;
    let decision: PretradeCheckResponse;
    let outcome: Outcome;
    if (raw.kind === 'answer') {
      if (!this.options.validateResponses || validResponse.check(raw.body)) {
        decision = raw.body as PretradeCheckResponse;
        outcome = raw.transport;
      } else {
        decision = failClosed('gate_invalid_response');
        outcome = 'invalid_response';
      }
    } else if (raw.kind === 'gate_error') {
      decision = failClosed(raw.reason);
      outcome = 'gate_error';
    } else {
      decision = failClosed(this.failReason(raw.outcome));
      outcome = raw.outcome;
    }
    this.account(outcome, raw.transport, latencyMs);
    if (decision.allow) this.pre.allowed++;
    else {
      this.pre.denied++;
      // by family: reasons carry values (`spread_bps_too_wide:90.0`), the full reason would grow the map without bound
      const family = denyFamily(decision.reason);
      this.pre.denied_by_reason[family] = (this.pre.denied_by_reason[family] ?? 0) + 1;
    }
    return { decision, transport: raw.transport, outcome, latencyMs };
  }

  /** Sends one posttrade record (`posttrade.log`). Never rejects for transport problems; no retry queue. */
  async log(record: PosttradeLogRequest): Promise<LogResult> {
    this.assertOpen();
    const t0 = performance.now();
    const raw = await this.call('posttrade.log', record);
    const latencyMs = performance.now() - t0;
    let res: LogResult;
    if (raw.kind === 'answer') {
      const ok = typeof raw.body === 'object' && raw.body !== null && (raw.body as { status?: unknown }).status === 'ok';
      res = ok
        ? { ok: true, transport: raw.transport, latencyMs }
        : { ok: false, reason: 'gate_invalid_response', transport: raw.transport, outcome: 'invalid_response', latencyMs };
    } else if (raw.kind === 'gate_error') {
      res = { ok: false, reason: raw.reason, transport: raw.transport, outcome: 'gate_error', latencyMs };
    } else {
      res = { ok: false, reason: this.failReason(raw.outcome), transport: raw.transport, outcome: raw.outcome, latencyMs };
    }
    this.account(res.ok ? (res.transport as Outcome) : res.outcome, res.transport, latencyMs);
    if (res.ok) this.post.ok++;
    else this.post.failed++;
    return res;
  }

  stats(): GateClientStats {
    return {
      connected: this.connected,
      inFlight: this.calls.size,
      counters: { ...this.c },
      pretrade: { ...this.pre, denied_by_reason: { ...this.pre.denied_by_reason } },
      posttrade: { ...this.post },
      latency: { all: this.hAll.summary(), ws: this.hWs.summary(), http: this.hHttp.summary() },
    };
  }

  /** Stops reconnecting, settles every pending call as `gate_unavailable`, closes the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.stopPing();
    for (const call of [...this.calls.values()]) call.finish({ kind: 'fail', transport: call.sock ? 'ws' : 'http', outcome: 'unavailable' });
    for (const w of [...this.openWaiters]) w(false);
    this.agent.destroy();
    const sock = this.ws;
    this.ws = null;
    if (sock && sock.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          sock.terminate();
          resolve();
        }, 1000);
        sock.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        if (sock.readyState === WebSocket.CONNECTING) sock.terminate();
        else sock.close(1000, 'client closing');
      });
    }
  }

  // ---------------------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new Error('GateClient is closed');
  }

  private failReason(o: 'timeout' | 'unavailable' | 'backpressure'): string {
    return o === 'timeout' ? this.options.failClosedReason : o === 'unavailable' ? 'gate_unavailable' : 'gate_backpressure';
  }

  private account(outcome: Outcome, transport: Transport, ms: number): void {
    this.c.calls++;
    this.c[outcome]++;
    this.hAll.record(ms);
    if (outcome === 'ws') this.hWs.record(ms);
    else if (outcome === 'http') this.hHttp.record(ms);
    else if (outcome === 'gate_error' && transport === 'ws') this.hWs.record(ms);
    else if (outcome === 'gate_error' && transport === 'http') this.hHttp.record(ms);
  }

  /** One call on exactly one transport; settles exactly once (answer, gate error, or local failure). */
  private call(op: Op, body: unknown, reqId?: unknown): Promise<Raw> {
    if (this.calls.size >= this.options.maxInFlight) return Promise.resolve({ kind: 'fail', transport: 'none', outcome: 'backpressure' });
    // the envelope id is the req_id (gate journal and runner logs then share one key); a req_id that is
    // not a usable id (too long, 'ping-…', or already pending/abandoned) falls back to a sequence number
    const usable = typeof reqId === 'string' && reqId.length > 0 && reqId.length <= 256 && !reqId.startsWith('ping-') && !this.calls.has(reqId) && !this.abandoned.has(reqId);
    const id: CallId = usable ? reqId : ++this.seq;
    return new Promise<Raw>((resolve) => {
      let settled = false;
      let abort: AbortController | null = null;
      const sock = this.connected ? this.ws : null;
      const call: Call = {
        id,
        sock,
        finish: (r: Raw) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.calls.delete(id);
          if (abort && r.kind === 'fail') abort.abort();
          resolve(r);
        },
      };
      // the deadline starts here: callers take t0 synchronously just before, so nothing has elapsed yet
      const timer = setTimeout(() => {
        if (call.sock) this.abandon(id);
        call.finish({ kind: 'fail', transport: call.sock ? 'ws' : this.options.httpFallback ? 'http' : 'none', outcome: 'timeout' });
      }, this.options.timeoutMs);
      this.calls.set(id, call);

      if (sock) {
        // no write callback: the socket is OPEN here, and a failed write tears it down, so onClose
        // settles this call as `unavailable` (never resent on HTTP: no double decision)
        sock.send(JSON.stringify({ id, op, body }));
      } else if (this.options.httpFallback) {
        abort = new AbortController();
        this.httpCall(op, body, abort.signal).then(call.finish, () => call.finish({ kind: 'fail', transport: 'http', outcome: 'unavailable' }));
      } else {
        call.finish({ kind: 'fail', transport: 'none', outcome: 'unavailable' });
      }
    });
  }

  private abandon(id: CallId): void {
    this.abandoned.add(id);
    if (this.abandoned.size > ABANDONED_CAP) {
      const oldest = this.abandoned.values().next().value;
      if (oldest !== undefined) this.abandoned.delete(oldest);
    }
  }

  private httpCall(op: Op, body: unknown, signal: AbortSignal): Promise<Raw> {
    const payload = Buffer.from(JSON.stringify(body), 'utf8');
    const unavailable: Raw = { kind: 'fail', transport: 'http', outcome: 'unavailable' };
    return new Promise<Raw>((resolve) => {
      // refused, reset, or aborted by the deadline (the timer has then already settled the call)
      const fail = () => resolve(unavailable);
      const req = this.httpSend(
        this.httpTargets[op],
        {
          method: 'POST',
          agent: this.agent,
          signal,
          headers: { 'content-length': String(payload.length), ...this.httpHeaders },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('aborted', fail);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status === 200) {
              let parsed: unknown;
              try {
                parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
              } catch {
                parsed = undefined;
              }
              resolve({ kind: 'answer', transport: 'http', body: parsed });
            } else if (status >= 400 && status < 500) resolve({ kind: 'gate_error', transport: 'http', reason: `gate_http_${status}` });
            else resolve(unavailable);
          });
        },
      );
      req.on('error', fail);
      req.end(payload);
    });
  }

  /** Drops idle keep-alive HTTP sockets (they may point at a gate that is gone); busy ones finish. */
  private dropIdleHttpSockets(): void {
    for (const list of Object.values(this.agent.freeSockets)) for (const s of list ?? []) s.destroy();
  }

  // --- socket lifecycle ------------------------------------------------------------------------

  private connectSocket(): void {
    this.reconnectTimer = null;
    if (this.closed) return;
    const sock = new WebSocket(this.options.url, {
      headers: this.options.headers,
      perMessageDeflate: false,
      handshakeTimeout: this.options.connectTimeoutMs,
    });
    this.ws = sock;
    sock.on('open', () => {
      if (this.closed || this.ws !== sock) return;
      this.openedAt = performance.now();
      if (this.everOpened) this.c.reconnects++;
      this.everOpened = true;
      this.missedPongs = 0;
      this.dropIdleHttpSockets(); // the socket is back: new calls use it
      this.startPing(sock);
      for (const w of [...this.openWaiters]) w(true);
    });
    sock.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (!isBinary) this.onFrame(data.toString());
    });
    sock.on('error', () => {
      /* 'close' follows */
    });
    sock.on('close', () => this.onClose(sock));
  }

  private onFrame(text: string): void {
    this.missedPongs = 0;
    let msg: { id?: unknown; ok?: unknown; body?: unknown; error?: { code?: unknown } };
    try {
      msg = JSON.parse(text);
    } catch {
      this.c.unmatched++;
      return;
    }
    if (typeof msg !== 'object' || msg === null) {
      this.c.unmatched++;
      return;
    }
    const id = msg.id;
    if (typeof id === 'string' && id.startsWith('ping-')) return;
    const call = typeof id === 'number' || typeof id === 'string' ? this.calls.get(id) : undefined;
    if (!call || call.sock === null) {
      if ((typeof id === 'number' || typeof id === 'string') && this.abandoned.delete(id)) this.c.late++;
      else this.c.unmatched++;
      return;
    }
    if (msg.ok === true) call.finish({ kind: 'answer', transport: 'ws', body: msg.body });
    else {
      const code = typeof msg.error?.code === 'string' ? msg.error.code : 'unknown';
      call.finish({ kind: 'gate_error', transport: 'ws', reason: `gate_error:${code}` });
    }
  }

  private onClose(sock: WebSocket): void {
    sock.removeAllListeners('message');
    if (this.ws === sock) this.ws = null;
    this.stopPing();
    // calls pending on this socket cannot be answered any more; they may have been decided, so they
    // are not resent on HTTP (a call is never sent on both transports)
    for (const call of [...this.calls.values()]) if (call.sock === sock) call.finish({ kind: 'fail', transport: 'ws', outcome: 'unavailable' });
    this.abandoned.clear();
    if (this.closed) return;
    this.dropIdleHttpSockets(); // the fallback starts with fresh connections
    if (this.openedAt > 0 && performance.now() - this.openedAt >= this.options.reconnectResetMs) this.attempt = 0;
    this.openedAt = 0;
    const delay = backoffDelay(this.attempt++, { baseMs: this.options.reconnectBaseMs, maxMs: this.options.reconnectMaxMs }, this.options.random);
    this.c.reconnect_attempts++;
    this.reconnectTimer = setTimeout(() => this.connectSocket(), delay);
    this.reconnectTimer.unref();
  }

  private startPing(sock: WebSocket): void {
    this.stopPing();
    if (this.options.pingMs <= 0) return;
    this.pingTimer = setInterval(() => {
      if (this.ws !== sock || sock.readyState !== WebSocket.OPEN) return;
      if (this.missedPongs >= 2) {
        this.c.ping_timeouts++;
        sock.terminate();
        return;
      }
      this.missedPongs++;
      sock.send(JSON.stringify({ id: `ping-${++this.pingSeq}`, op: 'ping' }), () => {});
    }, this.options.pingMs);
    this.pingTimer.unref();
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }
}
