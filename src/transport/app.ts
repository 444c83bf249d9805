import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, WebSocket } from 'uWebSockets.js';
import { KIND_POSTTRADE, KIND_PRETRADE, KIND_WS } from '../gate/service.ts';
import type { Ops, OpsReply } from '../gate/ops.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { isRefusal, SHUTTING_DOWN, type Decider } from '../pool/decide.ts';
import type { ReplySink } from '../pool/dispatcher.ts';
import type { loadUws } from './uws.ts';
import { strictUtf8 } from '../gate/utf8.ts';
import { errorJson, isJsonContentType, readBody, readHead, readOpsHead, remoteAddress, scanFrameId, writeJson, type RequestHead } from './http-io.ts';
import { allowOf, indexBody, matchRoute, methodsOf, paramsOf, ROUTES, UNKNOWN_ROUTE_LABEL, type Method, type OpsHandler, type PublicHandler, type Route, type RunnerHandler } from './routes.ts';

/** A request waiting for a worker's reply: an HTTP response, or a WebSocket connection. */
export class HttpPending {
  readonly kind = 0;
  aborted = false;
  constructor(
    readonly res: HttpResponse,
    /** the route's metric label */
    readonly route: string,
    readonly t0: number,
    /** a check: its arrival-to-reply time feeds aurora_pretrade_latency_* */
    readonly timed: boolean,
  ) {}
}

export class WsConn {
  readonly kind = 1;
  closed = false;
  ws: WebSocket<WsConn> | null = null;
}

export type Target = HttpPending | WsConn;

export interface AppDeps {
  uws: ReturnType<typeof loadUws>;
  /** where each request is decided (inline or a worker), and the journal-before-reply rule */
  decider: Decider<Target>;
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
  openapi(): string | null;
}

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

/**
 * The uWebSockets.js application: every route of the route table (routes.ts) and the `/ws` WebSocket of
 * protocol.md. It moves bytes: reads headers, bodies and frames, refuses what is malformed at the
 * transport (content type, size, empty body, binary frames), hands the rest to the Decider
 * (pool/decide.ts: inline or a worker, journal before reply) and writes what comes back.
 * Correct uWS use: onAborted on every async response, cork around writes made outside a uWS callback,
 * body and frame limits, JSON errors with stable codes.
 */
export class GateApp {
  readonly app: TemplatedApp;
  private readonly d: AppDeps;
  private listenSocket: us_listen_socket | null = null;
  private readonly conns = new Set<WsConn>();
  wsBackpressureClosed = 0;
  readonly sink: ReplySink<Target>;
  private readonly runnerDigest: Buffer | null;

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
      if (t.timed) this.d.metrics.pretradeLatency((performance.now() - t.t0) * 1000);
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
    return (res: HttpResponse, req: HttpRequest) => {
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
      const pending = new HttpPending(res, route, t0, kind === KIND_PRETRADE);
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
    const decider = this.d.decider;
    // an empty body is refused here, unless the gate is stopping (then the decider's 503 comes first)
    if (body.length === 0 && !decider.stopping) return this.finish(p, 422, EMPTY_BODY);
    const r = decider.decide(kind, body, p, p.t0);
    if (r !== null) this.reply(p, r.status, r.body);
  }

  private finish(p: HttpPending, status: number, body: string): void {
    if (status >= 400 && status < 500) this.d.countInvalid();
    this.reply(p, status, body);
  }

  /** Ops routes: authenticate first (before path/body validation, as in the reference). */
  private ops(route: string, handler: (res: HttpResponse, params: string[], head: RequestHead) => void, paramCount = 0) {
    return (res: HttpResponse, req: HttpRequest) => {
      const head = readOpsHead(req);
      const params: string[] = [];
      for (let i = 0; i < paramCount; i++) params.push(req.getParameter(i) ?? '');
      if (this.d.decider.stopping) {
        this.d.metrics.http(route, 503);
        return writeJson(res, 503, SHUTTING_DOWN.body);
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
  private opsWithBody(route: string, handle: (body: unknown, head: RequestHead) => OpsReply) {
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
          const r = handle(body, head);
          res.cork(() => this.opsReply(res, route, r));
        },
        () => res.cork(() => this.opsReply(res, route, { status: 413, body: { error: { code: 'body_too_large', message: 'the body is too large' } } })),
      );
    });
  }

  /** Registers every route of the table, then the fallback that answers 404 / 405 from the same table. */
  private routes(): void {
    const a = this.app;
    for (const r of ROUTES) {
      // the WebSocket first: a plain GET of its path (no Upgrade) is yielded to the GET route after it
      if (r.handler === 'ws') this.websocket(r.path);
      for (const method of methodsOf(r)) register(a, method, r.path, this.handler(r, method));
    }
    a.any('/*', (res, req) => this.fallback(res, req));
  }

  /** The uWS handler of a route and method: the auth class decides the wrapper (ops: token check first). */
  private handler(r: Route, method: Method): UwsHandler {
    switch (r.auth) {
      case 'public':
        return this.publicHandler(r.handler, r.label, method);
      case 'runner':
        return this.runnerHandler(r.handler, r.label);
      case 'ops':
        return this.opsHandler(r.handler, r.label, paramsOf(r).length, method);
    }
  }

  private publicHandler(h: PublicHandler, label: string, method: Method): UwsHandler {
    const m = this.d.metrics;
    switch (h) {
      case 'health':
        return (res) => {
          m.http(label, 200);
          writeJson(res, 200, JSON.stringify(this.d.health()));
        };
      case 'version':
        return (res) => {
          m.http(label, 200);
          writeJson(res, 200, JSON.stringify({ version: this.d.version() }));
        };
      case 'index':
        return (res) => {
          m.http(label, 200);
          writeJson(res, 200, JSON.stringify(indexBody(this.d.version())));
        };
      case 'openapi':
        return (res) => {
          const doc = this.d.openapi();
          m.http(label, doc === null ? 404 : 200);
          if (doc === null) writeJson(res, 404, errorJson('not_found', 'no OpenAPI document in this build'));
          else writeJson(res, 200, doc);
        };
      case 'metrics': {
        const isHead = method === 'HEAD';
        return (res) => {
          let aborted = false;
          res.onAborted(() => (aborted = true));
          m.http(label, 200);
          m.text().then(
            (text) => {
              if (!aborted) res.cork(() => res.writeStatus('200 OK').writeHeader('Content-Type', m.contentType).end(isHead ? '' : text));
            },
            (err: Error) => {
              if (!aborted) res.cork(() => writeJson(res, 500, errorJson('metrics_failed', err.message)));
            },
          );
        };
      }
      case 'predict':
        return (res) => {
          m.http(label, 503);
          writeJson(res, 503, errorJson('model_unavailable', 'the gate serves no prediction model'));
        };
    }
  }

  private runnerHandler(h: RunnerHandler, label: string): UwsHandler {
    switch (h) {
      case 'pretrade':
        return this.decided(label, KIND_PRETRADE);
      case 'posttrade':
        return this.decided(label, KIND_POSTTRADE);
      case 'ws':
        // a plain GET of /ws (no Upgrade): uWS yields it here from the WebSocket route
        return (res) => {
          this.d.metrics.http(label, 426);
          writeJson(res, 426, errorJson('upgrade_required', '/ws is a WebSocket endpoint: send Connection: Upgrade, Upgrade: websocket'), ['Upgrade', 'websocket']);
        };
    }
  }

  private opsHandler(h: OpsHandler, label: string, params: number, method: Method): UwsHandler {
    const ops = this.d.ops;
    switch (h) {
      case 'liveness':
        return this.ops(label, (res) => this.opsReply(res, label, { status: 200, body: { ok: true } }));
      case 'readiness':
        return this.ops(label, (res) => {
          const r = this.d.readiness();
          this.opsReply(res, label, { status: r.ready ? 200 : 503, body: r.body });
        });
      case 'cooloff':
        return this.ops(label, (res, [sec]) => this.opsReply(res, label, ops.cooloff(sec)), params);
      case 'reset':
        return this.ops(label, (res) => this.opsReply(res, label, ops.reset()));
      case 'arm':
        return this.ops(label, (res, [mode]) => this.opsReply(res, label, ops.arm(mode)), params);
      case 'riskSnapshot':
        return this.ops(label, (res) => this.opsReply(res, label, ops.riskSnapshot()));
      case 'riskSet':
        return this.opsWithBody(label, (body) => ops.riskSet(body));
      case 'rotateToken':
        return this.opsWithBody(label, (body) => ops.rotateToken(body));
      case 'limits':
        if (method === 'GET') return this.ops(label, (res) => this.opsReply(res, label, ops.limits()));
        return this.opsWithBody(label, (body, head) => ops.setLimits(body, head.opsToken));
      case 'tradingState':
        return this.opsWithBody(label, (body) => ops.tradingState(body));
    }
  }

  /** No route for this method and path: 405 with the route's Allow header when the path is known, else 404. */
  private fallback(res: HttpResponse, req: HttpRequest): void {
    const m = this.d.metrics;
    const url = req.getUrl();
    const method = req.getMethod().toUpperCase();
    const r = matchRoute(url);
    if (r === undefined) {
      m.http(UNKNOWN_ROUTE_LABEL, 404);
      return writeJson(res, 404, errorJson('not_found', `no route ${method} ${url}`));
    }
    // the route as label, never the raw URL: junk paths must not create one series each
    m.http(r.wrongMethodLabel ?? r.label, 405);
    const allow = allowOf(r);
    writeJson(res, 405, errorJson('method_not_allowed', `${url} accepts ${allow}`), ['Allow', allow]);
  }

  private websocket(path: string): void {
    const d = this.d;
    // uWS buffers a frame up to maxPayloadLength before the message handler sees it, and closes the TCP
    // connection without a close frame above it (the client sees 1006; our close handler gets 1006
    // "Received too big message" — uWS 20.30 cannot send 1009). So uWS gets the transport cap, and the
    // configured ws.max_payload_bytes is checked here, where a frame over it can be answered like HTTP's
    // 413: an error envelope with the frame's id, the connection kept open.
    const hardCap = Math.max(WS_TRANSPORT_CAP_BYTES, d.wsMaxPayloadBytes);
    const tooLarge = errorJson('body_too_large', `the frame exceeds ws.max_payload_bytes (${d.wsMaxPayloadBytes} bytes)`);
    this.app.ws<WsConn>(path, {
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
        const frame = new Uint8Array(message);
        const r = d.decider.decide(KIND_WS, frame, c, performance.now());
        if (r === null) return; // a worker has it
        if (isRefusal(r)) {
          ws.send(wsErrorEnvelope(frame, r.body), false);
          return;
        }
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

type UwsHandler = (res: HttpResponse, req: HttpRequest) => void;

function register(a: TemplatedApp, method: Method, path: string, fn: UwsHandler): void {
  switch (method) {
    case 'GET':
      a.get(path, fn);
      return;
    case 'HEAD':
      a.head(path, fn);
      return;
    case 'POST':
      a.post(path, fn);
      return;
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

