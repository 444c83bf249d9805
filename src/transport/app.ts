import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpResponse, TemplatedApp, us_listen_socket, WebSocket } from 'uWebSockets.js';
import type { GateService, Reply } from '../gate/service.ts';
import { KIND_POSTTRADE, KIND_PRETRADE, KIND_WS } from '../gate/service.ts';
import type { Ops, OpsReply } from '../gate/ops.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { ReplySink } from '../pool/dispatcher.ts';
import type { loadUws } from './uws.ts';
import { strictUtf8 } from '../gate/utf8.ts';
import { errorJson, isJsonContentType, readBody, readHead, readOpsHead, remoteAddress, scanFrameId, writeJson, type RequestHead } from './http-io.ts';

/** A request waiting for a worker's reply: an HTTP response, or a WebSocket connection. */
export class HttpPending {
  readonly kind = 0;
  aborted = false;
  constructor(
    readonly res: HttpResponse,
    readonly route: string,
    readonly t0: number,
  ) {}
}

export class WsConn {
  readonly kind = 1;
  closed = false;
  ws: WebSocket<WsConn> | null = null;
}

export type Target = HttpPending | WsConn;

/**
 * How requests get decided: handed to worker threads, or inline on this thread — always at pool size 0,
 * and (pool.inline_when_idle) when the gate is quiet: nothing in flight and the previous request arrived
 * at least `idleGapMs` earlier. That saves two thread hand-offs per request at low rates; the gap rule
 * keeps a burst (many requests read in one event-loop pass, each finding nothing in flight because the
 * previous one was decided inline) from piling onto the main thread instead of the workers.
 */
export interface Backend {
  /** queues a request for a worker; null at pool size 0 */
  submit: ((kind: number, body: Uint8Array, target: Target) => boolean) | null;
  /** requests handed to workers and not yet answered */
  inflight(): number;
  /** the main thread's own pipeline, or null when every request goes to a worker */
  inline: GateService | null;
  /** minimum time since the previous request's arrival for an inline decision, ms */
  idleGapMs: number;
  /** hands the inline decisions' journal lines to the writer (before the reply is written) */
  flush(): void;
}

export interface AppDeps {
  uws: ReturnType<typeof loadUws>;
  backend: Backend;
  ops: Ops;
  metrics: Metrics;
  maxBodyBytes: number;
  wsMaxPayloadBytes: number;
  wsMaxBackpressureBytes: number;
  wsIdleTimeoutS: number;
  runnerToken: string | null;
  /** counts a request refused before it reached the decision (400/413/415/422 at the transport) */
  countInvalid(): void;
  health(): unknown;
  readiness(): { ready: boolean; body: unknown };
  version(): string;
  index(): unknown;
  openapi(): string | null;
}

const OVERLOADED = errorJson('overloaded', 'every worker queue is full; retry shortly');
const SHUTTING_DOWN = errorJson('shutting_down', 'the gate is stopping; nothing was decided');

/**
 * A WebSocket error reply for a frame the main thread answers itself (overload, shutdown, a worker
 * that died): the frame is parsed here — only on these rare paths — so the reply carries its id.
 */
function wsErrorEnvelope(frame: Uint8Array | null, errorBody: string): string {
  let id = 'null';
  if (frame !== null) {
    try {
      const env = JSON.parse(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8')) as { id?: unknown };
      if (typeof env.id === 'string' || (typeof env.id === 'number' && Number.isSafeInteger(env.id))) id = JSON.stringify(env.id);
    } catch {
      /* not JSON: id stays null */
    }
  }
  return `{"id":${id},"ok":false,"error":${errorBody.slice('{"error":'.length, -1)}}`;
}
const EMPTY_BODY = errorJson('invalid_request', 'the request needs a JSON body', [{ path: '(body)', message: 'is required' }]);

/** Routes and the methods they answer (for 405 vs 404). */
const ROUTES: Array<[RegExp, string[]]> = [
  [/^\/$/, ['GET']],
  [/^\/pretrade\/check$/, ['POST']],
  [/^\/posttrade\/log$/, ['POST']],
  [/^\/health$/, ['GET']],
  [/^\/version$/, ['GET']],
  [/^\/metrics\/?$/, ['GET', 'HEAD']],
  [/^\/liveness$/, ['GET']],
  [/^\/readiness$/, ['GET']],
  [/^\/openapi\.json$/, ['GET']],
  [/^\/ops\/cooloff\/[^/]+$/, ['POST']],
  [/^\/ops\/reset$/, ['POST']],
  [/^\/aurora\/[^/]+$/, ['POST']],
  [/^\/risk\/snapshot$/, ['GET']],
  [/^\/risk\/set$/, ['POST']],
  [/^\/ops\/rotate_token$/, ['POST']],
  [/^\/predict$/, ['POST']],
  [/^\/ws$/, ['GET']],
];

/**
 * The uWebSockets.js application: every endpoint of service.md and the `/ws` WebSocket of protocol.md.
 * Correct uWS use: onAborted on every async response, cork around writes made outside a uWS callback,
 * body and frame limits, JSON errors with stable codes.
 */
export class GateApp {
  readonly app: TemplatedApp;
  private readonly d: AppDeps;
  private listenSocket: us_listen_socket | null = null;
  private readonly conns = new Set<WsConn>();
  wsBackpressureClosed = 0;
  /** set when the process stops: new requests are answered 503 shutting_down, never half-journaled */
  stopping = false;
  readonly sink: ReplySink<Target>;
  private readonly runnerDigest: Buffer | null;
  /** arrival time of the previous decided request (performance.now ms), for Backend.idleGapMs */
  private lastArrival = -Infinity;

  constructor(deps: AppDeps) {
    this.d = deps;
    this.runnerDigest = deps.runnerToken === null ? null : createHash('sha256').update(deps.runnerToken).digest();
    this.sink = {
      deliver: (targets, statuses, bodies, n) => this.replyBatch(targets, statuses, bodies, n),
      fail: (t, status, body, request) => this.reply(t, status, t.kind === 1 ? wsErrorEnvelope(request, body) : body),
    };
    this.app = deps.uws.App();
    this.routes();
  }

  get wsConnections(): number {
    return this.conns.size;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (sock) => {
        if (sock === false) return reject(new Error(`cannot listen on ${host}:${port}`));
        this.listenSocket = sock;
        resolve(this.d.uws.us_socket_local_port(sock as never));
      });
    });
  }

  /** Stops accepting connections; open ones keep being answered. */
  stopListening(): void {
    if (this.listenSocket !== null) this.d.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
  }

  /** Closes every WebSocket (after in-flight requests were answered). */
  closeWebSockets(): void {
    for (const c of this.conns) c.ws?.end(1001, 'server shutting down');
  }

  /** Delivers a worker's reply (outside uWS callbacks, so corked). */
  private reply(t: Target, status: number, body: Uint8Array | string): void {
    if (t.kind === 0) {
      if (t.aborted) return;
      const route = t.route;
      this.d.metrics.http(route, status);
      if (route === '/pretrade/check') this.d.metrics.pretradeLatency((performance.now() - t.t0) * 1000);
      current.res = t.res;
      current.status = status;
      current.body = body;
      t.res.cork(writeCurrent);
      current.res = null;
      current.body = '';
      return;
    }
    if (t.closed || t.ws === null) return;
    currentWs.ws = t.ws;
    currentWs.body = body;
    t.ws.cork(sendCurrentWs);
    currentWs.ws = null;
    currentWs.body = '';
    this.checkBackpressure(t);
  }

  /** The service to decide this request on this thread now, or null to hand it to a worker. */
  private inlineNow(now: number): GateService | null {
    const b = this.d.backend;
    const gap = now - this.lastArrival;
    this.lastArrival = now;
    if (b.submit === null || (b.inline !== null && gap >= b.idleGapMs && b.inflight() === 0)) return b.inline;
    return null;
  }

  /** A worker batch: consecutive replies to one WebSocket go out under one cork (one write). */
  private replyBatch(targets: Target[], statuses: Int32Array, bodies: Uint8Array[], n: number): void {
    let i = 0;
    while (i < n) {
      const t = targets[i];
      let j = i + 1;
      if (t.kind === 1) while (j < n && targets[j] === t) j++;
      if (j - i === 1 || t.kind === 0 || t.closed || t.ws === null) {
        for (let k = i; k < j; k++) this.reply(t, statuses[k], bodies[k]);
      } else {
        wsRun.ws = t.ws;
        wsRun.bodies = bodies;
        wsRun.from = i;
        wsRun.to = j;
        wsRun.limit = this.d.wsMaxBackpressureBytes;
        t.ws.cork(sendWsRun);
        wsRun.ws = null;
        wsRun.bodies = NO_BODIES;
        this.checkBackpressure(t);
      }
      i = j;
    }
  }

  private checkBackpressure(c: WsConn): void {
    if (c.ws !== null && !c.closed && c.ws.getBufferedAmount() > this.d.wsMaxBackpressureBytes) {
      this.wsBackpressureClosed++;
      c.closed = true;
      c.ws.end(4008, 'backpressure: the client is not reading its replies');
    }
  }

  private authRunner(res: HttpResponse, head: RequestHead): boolean {
    if (this.runnerDigest === null) return true;
    const t = head.runnerToken;
    const ok = t !== undefined && timingSafeEqual(createHash('sha256').update(t).digest(), this.runnerDigest);
    if (!ok) writeJson(res, 401, errorJson('runner_token_required', 'a valid X-RUNNER-TOKEN header is required'));
    return ok;
  }

  /** POST /pretrade/check and /posttrade/log: read the body, then decide (worker or inline). */
  private decided(route: string, kind: number) {
    return (res: HttpResponse, req: import('uWebSockets.js').HttpRequest) => {
      const t0 = performance.now();
      const head = readHead(req, this.runnerDigest !== null);
      if (!this.authRunner(res, head)) return this.d.metrics.http(route, 401);
      if (!isJsonContentType(head.contentType)) {
        this.d.countInvalid();
        this.d.metrics.http(route, 415);
        return writeJson(res, 415, errorJson('unsupported_media_type', `Content-Type must be application/json, got ${JSON.stringify(head.contentType)}`));
      }
      if (head.contentLength > this.d.maxBodyBytes) {
        this.d.countInvalid();
        this.d.metrics.http(route, 413);
        return writeJson(res, 413, errorJson('body_too_large', `the body exceeds ${this.d.maxBodyBytes} bytes`), ['Connection', 'close']);
      }
      const pending = new HttpPending(res, route, t0);
      readBody(
        res,
        this.d.maxBodyBytes,
        () => (pending.aborted = true),
        (body) => this.dispatch(kind, body, pending),
        () => this.finish(pending, 413, errorJson('body_too_large', `the body exceeds ${this.d.maxBodyBytes} bytes`)),
      );
    };
  }

  private dispatch(kind: number, body: Uint8Array, p: HttpPending): void {
    if (this.stopping) return this.finish(p, 503, SHUTTING_DOWN);
    if (body.length === 0) return this.finish(p, 422, EMPTY_BODY);
    const b = this.d.backend;
    const service = this.inlineNow(p.t0);
    if (service === null) {
      if (!b.submit!(kind, body, p)) this.finish(p, 503, OVERLOADED);
      return;
    }
    const r: Reply = service.handleBytes(kind, body);
    b.flush();
    this.reply(p, r.status, r.body);
  }

  private finish(p: HttpPending, status: number, body: string): void {
    if (status >= 400 && status < 500) this.d.countInvalid();
    this.reply(p, status, body);
  }

  /** Ops routes: authenticate first (before path/body validation, as in the reference). */
  private ops(route: string, handler: (res: HttpResponse, params: string[], head: RequestHead) => void, paramCount = 0) {
    return (res: HttpResponse, req: import('uWebSockets.js').HttpRequest) => {
      const head = readOpsHead(req);
      const params: string[] = [];
      for (let i = 0; i < paramCount; i++) params.push(req.getParameter(i) ?? '');
      if (this.stopping) {
        this.d.metrics.http(route, 503);
        return writeJson(res, 503, SHUTTING_DOWN);
      }
      const f = this.d.ops.authorize(head.opsToken, remoteAddress(res));
      if (f !== null) {
        this.d.metrics.http(route, f.status);
        return writeJson(res, f.status, JSON.stringify(f.body));
      }
      handler(res, params, head);
    };
  }

  private opsReply(res: HttpResponse, route: string, r: OpsReply): void {
    this.d.metrics.http(route, r.status);
    writeJson(res, r.status, JSON.stringify(r.body));
  }

  /** Ops routes with a JSON body. */
  private opsWithBody(route: string, handle: (body: unknown) => OpsReply) {
    return this.ops(route, (res, _p, head) => {
      if (!isJsonContentType(head.contentType)) {
        return this.opsReply(res, route, { status: 415, body: JSON.parse(errorJson('unsupported_media_type', 'Content-Type must be application/json')) });
      }
      let aborted = false;
      readBody(
        res,
        this.d.maxBodyBytes,
        () => (aborted = true),
        (bytes) => {
          if (aborted) return;
          let body: unknown = undefined;
          if (bytes.length > 0) {
            const text = strictUtf8(bytes);
            if (text === null) {
              return res.cork(() => this.opsReply(res, route, { status: 400, body: { error: { code: 'invalid_utf8', message: 'the body is not valid UTF-8' } } }));
            }
            try {
              body = JSON.parse(text);
            } catch (err) {
              return res.cork(() => this.opsReply(res, route, { status: 400, body: { error: { code: 'malformed_json', message: `the body is not valid JSON: ${(err as Error).message}` } } }));
            }
          }
          const r = handle(body);
          res.cork(() => this.opsReply(res, route, r));
        },
        () => res.cork(() => this.opsReply(res, route, { status: 413, body: { error: { code: 'body_too_large', message: 'the body is too large' } } })),
      );
    });
  }

  private routes(): void {
    const a = this.app;
    const m = this.d.metrics;
    const get = (path: string, fn: (res: HttpResponse) => void) =>
      a.get(path, (res) => {
        fn(res);
      });

    a.post('/pretrade/check', this.decided('/pretrade/check', KIND_PRETRADE));
    a.post('/posttrade/log', this.decided('/posttrade/log', KIND_POSTTRADE));

    get('/health', (res) => {
      m.http('/health', 200);
      writeJson(res, 200, JSON.stringify(this.d.health()));
    });
    get('/version', (res) => {
      m.http('/version', 200);
      writeJson(res, 200, JSON.stringify({ version: this.d.version() }));
    });
    get('/', (res) => {
      m.http('/', 200);
      writeJson(res, 200, JSON.stringify(this.d.index()));
    });
    get('/openapi.json', (res) => {
      const doc = this.d.openapi();
      m.http('/openapi.json', doc === null ? 404 : 200);
      if (doc === null) writeJson(res, 404, errorJson('not_found', 'no OpenAPI document in this build'));
      else writeJson(res, 200, doc);
    });
    const metrics = (res: HttpResponse, isHead: boolean) => {
      let aborted = false;
      res.onAborted(() => (aborted = true));
      m.http('/metrics', 200);
      this.d.metrics.text().then(
        (text) => {
          if (!aborted) res.cork(() => res.writeStatus('200 OK').writeHeader('Content-Type', this.d.metrics.contentType).end(isHead ? '' : text));
        },
        (err: Error) => {
          if (!aborted) res.cork(() => writeJson(res, 500, errorJson('metrics_failed', err.message)));
        },
      );
    };
    for (const p of ['/metrics', '/metrics/']) {
      a.get(p, (res) => metrics(res, false));
      a.head(p, (res) => metrics(res, true));
    }

    a.get('/liveness', this.ops('/liveness', (res) => this.opsReply(res, '/liveness', { status: 200, body: { ok: true } })));
    a.get(
      '/readiness',
      this.ops('/readiness', (res) => {
        const r = this.d.readiness();
        this.opsReply(res, '/readiness', { status: r.ready ? 200 : 503, body: r.body });
      }),
    );
    a.post('/ops/cooloff/:sec', this.ops('/ops/cooloff', (res, [sec]) => this.opsReply(res, '/ops/cooloff', this.d.ops.cooloff(sec)), 1));
    a.post('/ops/reset', this.ops('/ops/reset', (res) => this.opsReply(res, '/ops/reset', this.d.ops.reset())));
    a.post('/aurora/:mode', this.ops('/aurora', (res, [mode]) => this.opsReply(res, '/aurora', this.d.ops.arm(mode)), 1));
    a.get('/risk/snapshot', this.ops('/risk/snapshot', (res) => this.opsReply(res, '/risk/snapshot', this.d.ops.riskSnapshot())));
    a.post('/risk/set', this.opsWithBody('/risk/set', (body) => this.d.ops.riskSet(body)));
    a.post('/ops/rotate_token', this.opsWithBody('/ops/rotate_token', (body) => this.d.ops.rotateToken(body)));
    a.post('/predict', (res) => {
      m.http('/predict', 503);
      writeJson(res, 503, errorJson('model_unavailable', 'the gate serves no prediction model'));
    });

    this.websocket();
    // a plain GET of /ws (no Upgrade): uWS yields it to the routes after the WebSocket one
    a.get('/ws', (res) => {
      m.http('/ws', 426);
      writeJson(res, 426, errorJson('upgrade_required', '/ws is a WebSocket endpoint: send Connection: Upgrade, Upgrade: websocket'), ['Upgrade', 'websocket']);
    });

    a.any('/*', (res, req) => {
      const url = req.getUrl();
      const method = req.getMethod().toUpperCase();
      const known = ROUTES.find(([re]) => re.test(url));
      if (known === undefined) {
        m.http('unknown', 404);
        return writeJson(res, 404, errorJson('not_found', `no route ${method} ${url}`));
      }
      // the route as label, never the raw URL: junk paths must not create one series each
      m.http(url.startsWith('/ops/cooloff/') ? '/ops/cooloff' : url.startsWith('/aurora/') ? '/aurora' : url, 405);
      writeJson(res, 405, errorJson('method_not_allowed', `${url} accepts ${known[1].join(', ')}`), ['Allow', known[1].join(', ')]);
    });
  }

  private websocket(): void {
    const d = this.d;
    // uWS buffers a frame up to maxPayloadLength before the message handler sees it, and closes the TCP
    // connection without a close frame above it (the client sees 1006; our close handler gets 1006
    // "Received too big message" — uWS 20.30 cannot send 1009). So uWS gets the transport cap, and the
    // configured ws.max_payload_bytes is checked here, where a frame over it can be answered like HTTP's
    // 413: an error envelope with the frame's id, the connection kept open.
    const hardCap = Math.max(WS_TRANSPORT_CAP_BYTES, d.wsMaxPayloadBytes);
    const tooLarge = errorJson('body_too_large', `the frame exceeds ws.max_payload_bytes (${d.wsMaxPayloadBytes} bytes)`);
    this.app.ws<WsConn>('/ws', {
      maxPayloadLength: hardCap,
      idleTimeout: d.wsIdleTimeoutS,
      maxBackpressure: d.wsMaxBackpressureBytes * 2 + d.wsMaxPayloadBytes,
      closeOnBackpressureLimit: 1 as never,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        const head = readHead(req, this.runnerDigest !== null);
        if (!this.authRunner(res, head)) return;
        res.upgrade<WsConn>(
          new WsConn(),
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) => {
        const c = ws.getUserData();
        c.ws = ws;
        this.conns.add(c);
      },
      message: (ws, message, isBinary) => {
        const c = ws.getUserData();
        if (message.byteLength > d.wsMaxPayloadBytes) {
          d.countInvalid();
          const id = isBinary ? 'null' : scanFrameId(new Uint8Array(message));
          ws.send(`{"id":${id},"ok":false,"error":${tooLarge.slice('{"error":'.length, -1)}}`, false);
          this.checkBackpressure(c);
          return;
        }
        if (isBinary) {
          d.countInvalid();
          ws.send(`{"id":null,"ok":false,"error":${JSON.stringify({ code: 'binary_frame', message: 'send JSON as text frames' })}}`, false);
          return;
        }
        const b = d.backend;
        const frame = new Uint8Array(message);
        if (this.stopping) {
          ws.send(wsErrorEnvelope(frame, SHUTTING_DOWN), false);
          return;
        }
        const service = this.inlineNow(performance.now());
        if (service === null) {
          if (!b.submit!(KIND_WS, frame, c)) ws.send(wsErrorEnvelope(frame, OVERLOADED), false);
          return;
        }
        const r = service.handleBytes(KIND_WS, frame);
        b.flush();
        ws.send(r.body, false);
        this.checkBackpressure(c);
      },
      close: (ws, code, message) => {
        const c = ws.getUserData();
        c.closed = true;
        c.ws = null;
        this.conns.delete(c);
        // a frame above the transport cap: uWS dropped the connection itself (see above); still a refused frame
        if (code === 1006 && Buffer.from(message).toString('latin1') === UWS_TOO_BIG) d.countInvalid();
      },
    });
  }
}

/**
 * Frames up to this size (or ws.max_payload_bytes when larger) are read whole and, when over
 * ws.max_payload_bytes, answered `body_too_large`; larger ones make uWS drop the connection.
 */
export const WS_TRANSPORT_CAP_BYTES = 1024 * 1024;
/** uWS's close reason when a frame passes maxPayloadLength (WebSocketProtocol ERR_TOO_BIG_MESSAGE). */
const UWS_TOO_BIG = 'Received too big message';

/** Reply being written inside a cork callback: cork runs synchronously, so one shared slot and one
 * function replace a closure per reply. */
const current: { res: HttpResponse | null; status: number; body: Uint8Array | string } = { res: null, status: 200, body: '' };
function writeCurrent(): void {
  writeJson(current.res!, current.status, current.body);
}

const NO_BODIES: Uint8Array[] = [];
const wsRun: { ws: WebSocket<WsConn> | null; bodies: Uint8Array[]; from: number; to: number; limit: number } = { ws: null, bodies: NO_BODIES, from: 0, to: 0, limit: 0 };
/** Sends a run of replies; stops at the backpressure limit (the caller then closes with 4008, before
 * uWS's own hard limit would drop the connection without a code). */
function sendWsRun(): void {
  const ws = wsRun.ws!;
  for (let k = wsRun.from; k < wsRun.to; k++) {
    ws.send(wsRun.bodies[k], false);
    if (ws.getBufferedAmount() > wsRun.limit) return;
  }
}

const currentWs: { ws: WebSocket<WsConn> | null; body: Uint8Array | string } = { ws: null, body: '' };
function sendCurrentWs(): void {
  currentWs.ws!.send(currentWs.body, false);
}

