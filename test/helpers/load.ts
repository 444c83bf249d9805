import { Agent, request } from 'node:http';
import WebSocket from 'ws';

export type Op = 'check' | 'posttrade';
export type Transport = 'http' | 'ws';

/** One request the generator sends: its body carries `req_id` so the journal can be matched. */
export interface RequestSpec {
  reqId: string;
  op: Op;
  /** the decision this body must get (null: not a decision, e.g. a post-trade record) */
  expectAllow: boolean | null;
  /** the reason a denied body must get (optional) */
  expectReason?: string;
  body: unknown;
}

/** What happened to one request. Exactly one of status / netError is set once it is settled. */
export interface Outcome {
  reqId: string;
  transport: Transport;
  op: Op;
  expectAllow: boolean | null;
  expectReason?: string;
  /** performance.now() */
  sentAt: number;
  doneAt: number | null;
  /** HTTP status; over WS 200 for `ok: true`, else the status is null and errorCode is set */
  status: number | null;
  allow?: boolean;
  reason?: string;
  /** error code of a non-200 answer (`error.code`), or of a WS `ok: false` */
  errorCode?: string;
  /** no answer: the connection was refused / reset / closed, or the request timed out */
  netError?: string;
}

export interface LoadOptions {
  /** http://127.0.0.1:PORT */
  url: string;
  /** keep-alive HTTP connections, one sequential request loop each */
  httpConnections: number;
  /** WebSocket connections (default 0) and requests kept in flight on each (default 32) */
  wsConnections?: number;
  wsInFlight?: number;
  /** hard bounds: total requests sent, and time from start (every loop ends by then) */
  maxRequests: number;
  maxDurationMs: number;
  /** per request (default 5 s): no answer by then = netError 'timeout' */
  requestTimeoutMs?: number;
  /** builds request number `n` (global sequence) for a transport; default: `mixedRequest` */
  make?: (n: number, transport: Transport, prefix: string) => RequestSpec;
  /** unique prefix for req_ids (default: random) */
  prefix?: string;
  /**
   * HTTP loop: stop after this many consecutive connection errors (default 2: the reset of the kept-alive
   * connection, then the refusal of a new one). ECONNREFUSED always ends the loop.
   */
  maxConsecutiveNetErrors?: number;
}

export interface LoadResult {
  outcomes: Outcome[];
  /** WS replies with `"id": null` that cannot be matched to a request (e.g. an `overloaded` refusal) */
  wsUnattributed: number;
  /** error codes of those unattributed replies */
  wsUnattributedCodes: Record<string, number>;
  /** WS close codes / reasons seen */
  wsCloses: Array<{ code: number; reason: string }>;
  elapsedMs: number;
}

export interface LoadHandle {
  readonly outcomes: Outcome[];
  sent(): number;
  /** requests that got any answer (status or WS error envelope) */
  answered(): number;
  /** requests sent and not settled */
  inFlight(): number;
  /** stop sending new requests (those in flight still settle) */
  stop(): void;
  readonly done: Promise<LoadResult>;
}

// ---------------------------------------------------------------------------------------------------------
// Bodies (all without a symbol: anti-churn is skipped, so the decision depends on the body alone; latency
// stays far below every guard so HealthGuard never trips; post-trade records are "pending" and feed no
// reject-storm statistics). See src/core/pipeline.ts.
// ---------------------------------------------------------------------------------------------------------

/** allowed: p = sigmoid(4) ~ 0.98, E[pi] = 0.98*20 - 0.02*5 - (1+1) ~ 17.5 bps > 2; slippage 1 <= 0.3*20 */
export function allowBody(reqId: string, market: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    req_id: reqId,
    account: { mode: 'paper' },
    order: { side: 'buy', qty: 1, price: 100, base_notional: 100 },
    market: { latency_ms: 5, slip_bps_est: 1, a_bps: 5, b_bps: 20, spread_bps: 5, score: 2, ...market },
    fees_bps: 1,
  };
}

/** denied by the expected-return gate: score -2 gives E[pi] < 0 (no state is touched) */
export function denyBody(reqId: string): Record<string, unknown> {
  return allowBody(reqId, { score: -2 });
}

/** a "pending" post-trade record (no status, no fill, no error): POSTTRADE.LOG + one orders.jsonl line */
export function posttradeBody(reqId: string): Record<string, unknown> {
  return { req_id: reqId, note: 'load', qty: 1, price: 100 };
}

/** The default mix: 10% post-trade, 30% denied, 60% allowed checks. */
export function mixedRequest(n: number, transport: Transport, prefix: string): RequestSpec {
  const reqId = `${prefix}-${transport}-${n}`;
  const k = n % 10;
  if (k === 0) return { reqId, op: 'posttrade', expectAllow: null, body: posttradeBody(reqId) };
  if (k <= 3) return { reqId, op: 'check', expectAllow: false, expectReason: 'expected_return_gate', body: denyBody(reqId) };
  return { reqId, op: 'check', expectAllow: true, expectReason: 'ok', body: allowBody(reqId) };
}

// ---------------------------------------------------------------------------------------------------------

function parseAnswer(o: Outcome, json: unknown): void {
  if (json === null || typeof json !== 'object') return;
  const j = json as Record<string, unknown>;
  if (o.status === 200) {
    if (typeof j.allow === 'boolean') o.allow = j.allow;
    if (typeof j.reason === 'string') o.reason = j.reason;
  } else {
    const e = j.error as Record<string, unknown> | undefined;
    if (e && typeof e.code === 'string') o.errorCode = e.code;
  }
}

function netCode(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code ?? err?.message ?? String(e);
}

/** One POST over the keep-alive agent; settles `o` (never rejects). */
function postOnce(agent: Agent, port: number, path: string, payload: string, timeoutMs: number, o: Outcome): Promise<void> {
  return new Promise<void>((resolve) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      o.doneAt = performance.now();
      resolve();
    };
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          settle(() => {
            o.status = res.statusCode ?? null;
            let json: unknown;
            try {
              json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              json = undefined;
            }
            parseAnswer(o, json);
          }),
        );
        res.on('error', (e) => settle(() => (o.netError = netCode(e))));
        res.on('aborted', () => settle(() => (o.netError = 'ECONNRESET')));
      },
    );
    req.setTimeout(timeoutMs, () => {
      settle(() => (o.netError = 'timeout'));
      req.destroy();
    });
    req.on('error', (e) => settle(() => (o.netError = netCode(e))));
    req.end(payload);
  });
}

/**
 * A bounded load generator: `httpConnections` keep-alive connections (node:http Agent, keepAlive,
 * maxSockets = httpConnections), each a loop of sequential POSTs, plus `wsConnections` WebSocket clients
 * keeping `wsInFlight` frames in flight each. Every loop ends at `maxDurationMs`, after `maxRequests`
 * requests in total, on stop(), or when its connection refuses (HTTP) / closes (WS).
 */
export function startLoad(opts: LoadOptions): LoadHandle {
  const url = new URL(opts.url);
  const port = Number(url.port);
  const prefix = opts.prefix ?? `L${Math.random().toString(36).slice(2, 8)}`;
  const make = opts.make ?? mixedRequest;
  const timeoutMs = opts.requestTimeoutMs ?? 5000;
  const maxNetErrors = opts.maxConsecutiveNetErrors ?? 2;
  const t0 = performance.now();
  const hardEnd = t0 + opts.maxDurationMs;
  const outcomes: Outcome[] = [];
  let seq = 0;
  let answered = 0;
  let settled = 0;
  let stopped = false;
  let wsUnattributed = 0;
  const wsUnattributedCodes: Record<string, number> = {};
  const wsCloses: LoadResult['wsCloses'] = [];

  const canSend = () => !stopped && seq < opts.maxRequests && performance.now() < hardEnd;
  const next = (transport: Transport): { spec: RequestSpec; o: Outcome } => {
    const spec = make(seq++, transport, prefix);
    const o: Outcome = {
      reqId: spec.reqId,
      transport,
      op: spec.op,
      expectAllow: spec.expectAllow,
      expectReason: spec.expectReason,
      sentAt: performance.now(),
      doneAt: null,
      status: null,
    };
    outcomes.push(o);
    return { spec, o };
  };
  const settledOne = (o: Outcome) => {
    settled++;
    if (o.netError === undefined) answered++;
  };

  const agent = new Agent({ keepAlive: true, maxSockets: opts.httpConnections, maxFreeSockets: opts.httpConnections });
  const httpLoop = async (): Promise<void> => {
    let netErrors = 0;
    while (canSend()) {
      const { spec, o } = next('http');
      const path = spec.op === 'check' ? '/pretrade/check' : '/posttrade/log';
      await postOnce(agent, port, path, JSON.stringify(spec.body), timeoutMs, o);
      settledOne(o);
      if (o.netError !== undefined) {
        netErrors++;
        if (o.netError === 'ECONNREFUSED' || netErrors >= maxNetErrors) return;
      } else netErrors = 0;
    }
  };

  const wsLoop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const window = opts.wsInFlight ?? 32;
      const pending = new Map<string, Outcome>();
      let outstanding = 0;
      let closed = false;
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      const hard = setTimeout(() => ws.terminate(), Math.max(0, hardEnd - performance.now()) + timeoutMs);
      const finish = () => {
        clearTimeout(hard);
        for (const o of pending.values()) {
          o.netError = closed ? 'ws_closed' : 'timeout';
          o.doneAt = performance.now();
          settledOne(o);
        }
        pending.clear();
        resolve();
      };
      const fill = () => {
        while (!closed && ws.readyState === WebSocket.OPEN && outstanding < window && canSend()) {
          const { spec, o } = next('ws');
          pending.set(spec.reqId, o);
          outstanding++;
          ws.send(JSON.stringify({ id: spec.reqId, op: spec.op === 'check' ? 'pretrade.check' : 'posttrade.log', body: spec.body }));
        }
        if (!closed && outstanding === 0 && !canSend()) ws.close(1000, 'load done');
      };
      ws.on('open', fill);
      ws.on('message', (data: WebSocket.RawData) => {
        outstanding = Math.max(0, outstanding - 1);
        let env: Record<string, unknown> | null = null;
        try {
          env = JSON.parse(data.toString()) as Record<string, unknown>;
        } catch {
          /* not JSON: unattributed */
        }
        const id = env?.id;
        const o = typeof id === 'string' ? pending.get(id) : undefined;
        if (o === undefined || env === null) {
          wsUnattributed++;
          const code = String((env?.error as Record<string, unknown> | undefined)?.code ?? 'unparsable');
          wsUnattributedCodes[code] = (wsUnattributedCodes[code] ?? 0) + 1;
        } else {
          pending.delete(o.reqId);
          o.doneAt = performance.now();
          if (env.ok === true) {
            o.status = 200;
            parseAnswer(o, env.body);
          } else {
            const e = env.error as Record<string, unknown> | undefined;
            o.errorCode = typeof e?.code === 'string' ? e.code : 'unknown';
          }
          settledOne(o);
        }
        fill();
      });
      ws.on('error', () => {
        /* 'close' follows */
      });
      ws.on('close', (code: number, reason: Buffer) => {
        closed = true;
        wsCloses.push({ code, reason: reason.toString() });
        finish();
      });
      // a stop() while idle: close once nothing is outstanding (bounded by `hard`)
      const idle = setInterval(() => {
        if (closed) return clearInterval(idle);
        if (!canSend() && outstanding === 0 && ws.readyState === WebSocket.OPEN) ws.close(1000, 'load done');
      }, 20);
      ws.once('close', () => clearInterval(idle));
    });

  const loops: Promise<void>[] = [];
  for (let i = 0; i < opts.httpConnections; i++) loops.push(httpLoop());
  for (let i = 0; i < (opts.wsConnections ?? 0); i++) loops.push(wsLoop());
  const done = Promise.all(loops).then(() => {
    agent.destroy();
    return { outcomes, wsUnattributed, wsUnattributedCodes, wsCloses, elapsedMs: performance.now() - t0 };
  });

  return {
    outcomes,
    sent: () => seq,
    answered: () => answered,
    inFlight: () => seq - settled,
    stop: () => {
      stopped = true;
    },
    done,
  };
}

/** Waits (bounded) until `cond()` holds; returns whether it did. */
export async function waitFor(cond: () => boolean, timeoutMs: number, stepMs = 10): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

/** Summary counts of a run. */
export function summarize(outcomes: readonly Outcome[]) {
  const s = {
    sent: outcomes.length,
    ok200: 0,
    checks200: 0,
    allowed: 0,
    denied: 0,
    posttrade200: 0,
    non200: {} as Record<string, number>,
    netErrors: {} as Record<string, number>,
    wrongDecision: 0,
  };
  for (const o of outcomes) {
    if (o.netError !== undefined) s.netErrors[o.netError] = (s.netErrors[o.netError] ?? 0) + 1;
    else if (o.status === 200) {
      s.ok200++;
      if (o.op === 'check') {
        s.checks200++;
        if (o.allow) s.allowed++;
        else s.denied++;
        if (o.expectAllow !== null && o.allow !== o.expectAllow) s.wrongDecision++;
      } else s.posttrade200++;
    } else {
      const k = `${o.status ?? 'ws'}:${o.errorCode ?? '?'}`;
      s.non200[k] = (s.non200[k] ?? 0) + 1;
    }
  }
  return s;
}
