import type { CoreConfig } from '../core/config.ts';
import { applyPosttradeToControls, replayAnswer } from '../core/controls/evaluate.ts';
import type { GateEvent } from '../core/events.ts';
import { toDecisionInput, type DecisionInput } from '../core/inputs.ts';
import { ControlsContext, type Decision } from '../core/pipeline.ts';
import { applyPosttrade, classifyPosttrade, type PosttradeFacts } from '../core/posttrade.ts';
import type { GateState } from '../shm/state/gate-state.ts';
import { symbolKey } from '../shm/state/symbol-table.ts';
import { tsNsText } from '../journal/ts-ns.ts';
import { eventLine, guessTsNs, normaliseExchangeError, orderLine } from '../journal/records.ts';
import { deniedOrderLine, policyDecisionLine } from './decision-records.ts';
import { PosttradeLogRequest } from '../schema/posttrade.ts';
import { compileValidator } from '../schema/validate.ts';
import { WsRequest } from '../schema/ws.ts';
import { fail, invalidRequest, malformedJson, type Failure } from './errors.ts';
import { strictUtf8 } from './utf8.ts';
import type { JournalBatch } from '../journal/line-batch.ts';
import { decideLocked, encodeResponse, pretradeValidator, storeAnswerLocked, type Clock, type StateLock } from './pretrade.ts';
import { C_DENIED_ORDERS, C_REJECTED, C_SUCCESS } from '../shm/counters.ts';
import type { GateCounters } from './counters.ts';
import { FaultSite, throwIfInjected } from '../testing/faults.ts';

const posttradeValidator = compileValidator<PosttradeLogRequest>(PosttradeLogRequest);
const wsRequest = compileValidator<WsRequest>(WsRequest);

/** Request kinds carried in a ring record's `meta` (low byte). */
export const KIND_PRETRADE = 1;
export const KIND_POSTTRADE = 2;
export const KIND_WS = 3;

export interface Reply {
  status: number;
  body: string;
}

const OK_STATUS = '{"status":"ok"}';
const NO_EVENTS: readonly GateEvent[] = Object.freeze([]);
/** journal.on_write_error = fail_closed while the journal cannot be written: a check is refused, nothing decided */
const JOURNAL_UNAVAILABLE: Reply = {
  status: 503,
  body: '{"error":{"code":"journal_unavailable","message":"the journal cannot be written and journal.on_write_error is fail_closed"}}',
};
const NEVER = () => false;
const UNKNOWN_KIND: Reply = { status: 500, body: '{"error":{"code":"internal_error","message":"unknown request kind"}}' };
/** the error object of a request whose handling threw (GateService.internalError) */
const INTERNAL_ERROR_OBJECT = '{"code":"internal_error","message":"an internal error stopped the gate while handling this request; no decision was made for it (journaled as GATE.INTERNAL_ERROR)"}';
const INTERNAL_ERROR: Reply = { status: 500, body: `{"error":${INTERNAL_ERROR_OBJECT}}` };
/** bounds of a GATE.INTERNAL_ERROR event's text fields */
const MAX_ERROR_CHARS = 512;
const MAX_STACK_FRAMES = 8;
const MAX_FRAME_CHARS = 256;
const MAX_ID_CHARS = 256;
const MAX_DEPTH = 32;

/** Nesting depth of a parsed JSON value, stopping at `limit + 1` (D-8: nesting <= 32). */
export function depthExceeds(v: unknown, limit: number): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (limit <= 0) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (depthExceeds(v[i], limit - 1)) return true;
    return false;
  }
  for (const k in v as object) if (depthExceeds((v as Record<string, unknown>)[k], limit - 1)) return true;
  return false;
}


/**
 * Everything a worker (or the main thread at pool size 0) does with one request: parse, validate,
 * decide under the shared lock, encode the reply, and produce the journal lines. The critical section
 * holds only `decide`/`applyPosttrade` and the journal timestamp reservation (D23).
 */
export class GateService {
  private readonly cfg: CoreConfig;
  private readonly state: GateState;
  private readonly lock: StateLock;
  private readonly clock: Clock;
  private readonly runId: string;
  private readonly journal: JournalBatch;
  private readonly counters: GateCounters;
  /** the thread's counters slice; its fault word is used by src/testing only (src/testing/faults.ts) */
  private readonly faults: Float64Array;
  /** true while checks must be refused (fail_closed and the journal failing); asked once per check */
  private readonly refuseChecks: () => boolean;
  /** this thread's desk-controls context: live configuration view and reused verdict (controls.md) */
  private readonly cx: ControlsContext;

  constructor(cfg: CoreConfig, state: GateState, lock: StateLock, clock: Clock, runId: string, journal: JournalBatch, counters: GateCounters, refuseChecks: () => boolean = NEVER) {
    this.cfg = cfg;
    this.state = state;
    this.lock = lock;
    this.clock = clock;
    this.runId = runId;
    this.journal = journal;
    this.counters = counters;
    this.faults = counters.slice;
    this.refuseChecks = refuseChecks;
    this.cx = new ControlsContext(cfg.controls);
  }

  /** HTTP `POST /pretrade/check` with the raw body text. */
  pretradeText(text: string): Reply {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return this.failure(malformedJson((err as Error).message));
    }
    return this.pretrade(body, undefined);
  }

  /** HTTP `POST /posttrade/log` with the raw body text. */
  posttradeText(text: string): Reply {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return this.failure(malformedJson((err as Error).message));
    }
    return this.posttrade(body);
  }

  /**
   * One request's raw bytes — an HTTP body (`KIND_PRETRADE`/`KIND_POSTTRADE`) or a WebSocket frame — the
   * single entry for workers and the main thread alike, so both decode and refuse the same way (two
   * decoders on the two paths once gave a BOM body 200 on one and 400 on the other).
   *
   * Never throws: a request whose handling throws (a bug, a corrupt state word) is answered 500
   * `internal_error` and journaled as GATE.INTERNAL_ERROR (`internalError`); the thread and the
   * connection carry on. The one catch for both paths lives here (no closure; a try costs nothing).
   */
  handleBytes(kind: number, bytes: Uint8Array): Reply {
    // this request's lines can be rolled back (a few number stores, no allocation)
    const mark = this.journal.mark();
    try {
      const text = strictUtf8(bytes);
      if (text === null) return this.invalidUtf8(kind === KIND_WS);
      switch (kind) {
        case KIND_PRETRADE:
          return this.pretradeText(text);
        case KIND_POSTTRADE:
          return this.posttradeText(text);
        case KIND_WS:
          return this.wsFrame(text);
        default:
          return UNKNOWN_KIND;
      }
    } catch (err) {
      return this.internalError(kind, bytes, err, mark);
    }
  }

  /**
   * A request whose handling threw. The state lock is already free (every critical section releases it
   * in a finally); the lines the request had added to the batch are rolled back, and what they counted
   * taken back, so nothing of it is half-journaled. Then the error is journaled as GATE.INTERNAL_ERROR
   * (req_id and WebSocket id when the bytes can be read, the error's message and first stack frames,
   * bounded) and counted (`aurora_internal_errors_total`), and the request answered 500
   * `internal_error` (WebSocket: the response envelope with the frame's id). Never throws. Whatever the
   * decision had already changed in the shared state before the throw stays changed.
   */
  private internalError(kind: number, bytes: Uint8Array, err: unknown, mark: number): Reply {
    this.counters.internalError();
    const ids = requestIds(kind, bytes);
    try {
      const added = this.journal.addedSince(mark);
      if (added !== null) this.takeBackCounts(added);
      const rolledBack = Math.max(0, this.journal.rollback(mark));
      const details: Record<string, unknown> = { op: ids.op, req_id: ids.reqId };
      if (ids.wsId !== undefined) details.ws_id = ids.wsId;
      Object.assign(details, describeError(err));
      details.rolled_back_lines = rolledBack;
      this.emit(tsNsText(this.errorTsUs()), { code: 'GATE.INTERNAL_ERROR', src: 'gate', details });
    } catch {
      // journaling the error failed too: the 500 and the counter are what is left
    }
    if (kind !== KIND_WS) return INTERNAL_ERROR;
    return { status: 500, body: `{"id":${ids.wsId === undefined ? 'null' : JSON.stringify(ids.wsId)},"ok":false,"error":${INTERNAL_ERROR_OBJECT}}` };
  }

  /** Undoes the counts of rolled-back lines (each counter is bumped right after its line is added). */
  private takeBackCounts(added: string[]): void {
    // JOURNAL_FILE_KEYS order: events, denied, success, failed, raw (raw lines count nothing)
    for (const line of lines(added[0])) {
      let code: unknown = undefined;
      let reason: unknown = undefined;
      try {
        const rec = JSON.parse(line) as { event_code?: unknown; details?: { reason?: unknown } };
        code = rec.event_code;
        reason = rec.details?.reason;
      } catch {
        /* not a line of ours */
      }
      if (typeof code === 'string') this.counters.takeBackEvent(code);
      if (code === 'CONTROL.DENY' && typeof reason === 'string') this.counters.takeBackControlDenial(reason);
    }
    this.counters.takeBack(C_DENIED_ORDERS, lines(added[1]).length);
    this.counters.takeBack(C_SUCCESS, lines(added[2]).length);
    this.counters.takeBack(C_REJECTED, lines(added[3]).length);
  }

  /** A journal timestamp for the error event, reserved under the lock like every other (µs). */
  private errorTsUs(): number {
    let us = NaN;
    this.lock.acquire();
    try {
      us = this.state.reserveTsUs(this.clock.wallSec(), 1);
    } finally {
      this.lock.release();
    }
    // a corrupt timestamp word must not make the error's own line unreadable
    return Number.isFinite(us) ? us : Math.floor(this.clock.wallSec() * 1e6);
  }

  /** A body or frame that is not valid UTF-8 (nothing decided). */
  invalidUtf8(ws: boolean): Reply {
    const f = fail(400, 'invalid_utf8', 'the body is not valid UTF-8');
    this.counters.invalid();
    return ws ? wsError('null', f) : { status: f.status, body: JSON.stringify(f.body) };
  }

  /** One WebSocket text frame: the envelope of protocol.md; the reply is the response envelope. */
  wsFrame(text: string): Reply {
    let env: unknown;
    try {
      env = JSON.parse(text);
    } catch (err) {
      this.counters.invalid();
      return wsError('null', malformedJson((err as Error).message));
    }
    if (!wsRequest.check(env)) {
      this.counters.invalid();
      return wsError('null', fail(400, 'invalid_envelope', 'a frame must be a JSON object {"id", "op", "body"} with a string (<= 256 characters) or integer id', wsRequest.errors(env)));
    }
    const e = env;
    const idJson = JSON.stringify(e.id);
    let r: Reply;
    switch (e.op) {
      case 'pretrade.check':
        r = this.pretrade(e.body, e.id);
        break;
      case 'posttrade.log':
        r = this.posttrade(e.body);
        break;
      case 'ping':
        return { status: 200, body: `{"id":${idJson},"ok":true,"body":{"pong":true,"ts_ms":${Date.now()}}}` };
      default:
        this.counters.invalid();
        return wsError(idJson, fail(400, 'unknown_op', `unknown op ${JSON.stringify(e.op) ?? 'undefined'}: use pretrade.check, posttrade.log or ping`));
    }
    if (r.status === 200) return { status: 200, body: `{"id":${idJson},"ok":true,"body":${r.body}}` };
    return { status: r.status, body: `{"id":${idJson},"ok":false,"error":${r.body.slice('{"error":'.length, -1)}}` };
  }

  pretrade(body: unknown, wsId: string | number | undefined): Reply {
    // here, not per transport: HTTP, WebSocket (envelope with the frame's id) and pool size 0 alike
    if (this.refuseChecks()) return JOURNAL_UNAVAILABLE;
    if (!pretradeValidator.check(body)) return this.failure(invalidRequest(pretradeValidator.errors(body)));
    // the desk controls' facts are computed here, outside the lock, while a control was on at this thread's last decision
    const input = toDecisionInput(body, this.cfg.defaultMode, this.cx.controlsOn);
    const { decision, firstTs } = decideLocked(this.cfg, this.state, this.lock, this.clock, input, true, this.faults, this.cx);
    if (decision.replayOf !== null) return this.replay(input, decision, firstTs, wsId);
    const obsJson = JSON.stringify(decision.observability);
    this.journalDecision(input, decision, obsJson, firstTs, wsId);
    const reply = encodeResponse(decision, obsJson);
    // a remembered client_order_id gets its answer text (controls.md §3 rule 1; a second short critical section)
    storeAnswerLocked(this.state, this.lock, input, this.cx, reply);
    // counted last: a request that throws before this point is not a decision (internalError)
    this.counters.decision(decision.allow);
    return { status: 200, body: reply };
  }

  /**
   * An idempotent replay (controls.md §3 rule 1): the original answer again with
   * `observability.idempotent_replay: true`, no new decision (not counted as one, no orders_denied line),
   * one POLICY.DECISION marked `replay: true` with this request's ids and the original's fields.
   */
  private replay(input: DecisionInput, d: Decision, firstTs: number, wsId: string | number | undefined): Reply {
    const text = replayAnswer(d.replayOf as string);
    const a = JSON.parse(text) as { allow: boolean; reason: string; max_qty: number; risk_scale: number; observability: Record<string, unknown> };
    let ts = firstTs;
    for (const ev of d.events) this.emit(tsNsText(ts++), ev);
    const original: Decision = { ...d, allow: a.allow, reason: a.reason, maxQty: a.max_qty, riskScale: a.risk_scale, observability: a.observability };
    this.journal.add('events', policyDecisionLine(tsNsText(ts), this.runId, input, original, JSON.stringify(a.observability), wsId, true));
    this.counters.event('POLICY.DECISION');
    return { status: 200, body: text };
  }

  private journalDecision(input: DecisionInput, d: Decision, obsJson: string, firstTs: number, wsId: string | number | undefined): void {
    let ts = firstTs;
    for (const ev of d.events) this.emit(tsNsText(ts++), ev);
    const decisionTs = tsNsText(ts);
    if (!d.allow) {
      this.journal.add('denied', deniedOrderLine(decisionTs, this.runId, input, d));
      this.counters.denied();
    }
    throwIfInjected(this.faults, FaultSite.AfterJournalLines);
    this.journal.add('events', policyDecisionLine(decisionTs, this.runId, input, d, obsJson, wsId));
    this.counters.event('POLICY.DECISION');
  }

  posttrade(body: unknown): Reply {
    if (!posttradeValidator.check(body)) return this.failure(invalidRequest(posttradeValidator.errors(body)));
    if (depthExceeds(body, MAX_DEPTH)) {
      return this.failure(fail(422, 'invalid_request', `the post-trade record is nested deeper than ${MAX_DEPTH} levels`, [{ path: '(body)', message: `must nest at most ${MAX_DEPTH} levels` }]));
    }
    const payload = body as Record<string, unknown>;
    const f = classifyPosttrade(payload);
    const dedupKey = f.kind === 'success' && f.orderId !== null ? symbolKey(`${String(f.orderId)}\u0000${String(f.status)}\u0000${f.filled}`) : 0;
    let duplicate = false;
    let cooldownUntilMs: number | null = null;
    let nowMs = 0;
    let firstTs: number;
    let controlEvents: readonly GateEvent[] = NO_EVENTS;
    this.lock.acquire();
    try {
      throwIfInjected(this.faults, FaultSite.Decide);
      duplicate = dedupKey !== 0 && this.state.recentSuccess.has(dedupKey);
      if (duplicate) {
        nowMs = Math.floor(this.state.tick(this.clock.wallSec()) * 1000);
      } else {
        if (dedupKey !== 0) this.state.recentSuccess.add(dedupKey);
        ({ cooldownUntilMs, nowMs } = applyPosttrade(this.state, this.cfg.antiChurn, f, this.clock.wallSec()));
        // desk controls (controls.md §3 post-trade part): positions per (account, symbol), reservations
        // shrunk or ended by client_order_id, expired ones swept (RESERVATION.EXPIRED)
        const cst = this.state.controls;
        controlEvents = applyPosttradeToControls(cst, this.cx.live.current(cst), payload, nowMs).events;
      }
      firstTs = this.state.reserveTsUs(nowMs / 1000, 4 + controlEvents.length);
    } finally {
      this.lock.release();
    }
    this.journalPosttrade(payload, f, duplicate, cooldownUntilMs, nowMs, firstTs, controlEvents);
    return { status: 200, body: OK_STATUS };
  }

  private journalPosttrade(
    payload: Record<string, unknown>,
    f: PosttradeFacts,
    duplicate: boolean,
    cooldownUntilMs: number | null,
    nowMs: number,
    firstTs: number,
    controlEvents: readonly GateEvent[],
  ): void {
    let ts = firstTs;
    // POSTTRADE.LOG: order fields lifted to the top level; ts_ns and src stay in details (D-20)
    const details: Record<string, unknown> = { ...payload };
    const lifted: Record<string, unknown> = {};
    for (const k of ['symbol', 'cid', 'oid', 'side', 'order_type', 'price', 'qty', 'position_id']) {
      if (k in details) {
        lifted[k] = details[k];
        delete details[k];
      }
    }
    this.emit(tsNsText(ts++), { code: 'POSTTRADE.LOG', details, symbol: lifted.symbol as string, side: lifted.side as string, qty: lifted.qty as number, price: lifted.price as number, oid: lifted.oid });
    const raw = 'ts_server' in payload ? payload : { ...payload, ts_server: nowMs };
    this.journal.add('raw', JSON.stringify(raw) + '\n');
    throwIfInjected(this.faults, FaultSite.AfterJournalLines);

    const w = f.work;
    const baseTs = guessTsNs(truthyOr(payload.ts, nowMs), `${nowMs}000000`);
    const common = { symbol: f.symbol, side: f.side, qty: f.qty, price: w.price ?? null };
    if (f.kind === 'failed') {
      const [code, severity, action] = normaliseExchangeError(w.error_code);
      this.journal.add('failed', orderLine(baseTs, this.runId, { oid: f.orderId, lifecycleState: w.status, reasonCode: code, reasonDetail: w.error_msg ?? null, reasonClass: 'EXCHANGE', severity, action, extra: common }));
      this.counters.rejected();
      this.emit(tsNsText(ts++), { code: 'ORDER.REJECT', src: 'api', symbol: f.symbol, oid: f.orderId, side: f.side, qty: f.qty as number, price: w.price as number, details: { reason_code: w.error_code ?? null, reason_detail: w.error_msg ?? null } });
    } else if (f.kind === 'success' && !duplicate) {
      const avg = w.average ?? w.avg_price ?? null;
      this.journal.add('success', orderLine(baseTs, this.runId, { oid: f.orderId, lifecycleState: w.status, extra: { ...common, fill_qty: w.filled ?? null, avg_price: avg, fees: w.fee ?? w.fees ?? null } }));
      this.counters.success();
      this.emit(tsNsText(ts++), { code: f.partial ? 'ORDER.PARTIAL' : 'ORDER.FILL', src: 'api', symbol: f.symbol, oid: f.orderId, side: f.side, qty: f.qty as number, price: (w.price ?? avg) as number, details: { fill_qty: w.filled ?? null } });
    }
    if (cooldownUntilMs !== null) {
      this.emit(tsNsText(ts++), { code: 'AURORA.COOL_OFF', src: 'api', symbol: f.symbol, details: { until_ms: cooldownUntilMs } });
    }
    for (const ev of controlEvents) this.emit(tsNsText(ts++), ev);
  }

  private emit(ts: string, ev: GateEvent): void {
    this.journal.add('events', eventLine(ts, this.runId, ev));
    this.counters.event(ev.code);
    // aurora_control_denials_total{rule}: counted where the CONTROL.DENY line is journaled
    if (ev.code === 'CONTROL.DENY') this.counters.controlDenial(ev.details.reason as string);
  }

  private failure(f: Failure): Reply {
    this.counters.invalid();
    return { status: f.status, body: JSON.stringify(f.body) };
  }
}

function truthyOr(v: unknown, fallback: number): unknown {
  return v === null || v === undefined || v === 0 || v === '' || v === false ? fallback : v;
}

/** The lines of a batch text ('' = none), each without its newline. */
function lines(text: string): string[] {
  return text === '' ? [] : text.slice(0, -1).split('\n');
}

/** What the error path can read back of a request: the req_id, the WebSocket id and the op (or nulls). */
function requestIds(kind: number, bytes: Uint8Array): { reqId: string | null; wsId: string | number | undefined; op: string | null } {
  let reqId: string | null = null;
  let wsId: string | number | undefined = undefined;
  let op: string | null = kind === KIND_PRETRADE ? 'pretrade.check' : kind === KIND_POSTTRADE ? 'posttrade.log' : null;
  try {
    const text = strictUtf8(bytes);
    let body: unknown = text === null ? undefined : JSON.parse(text);
    if (kind === KIND_WS) {
      const env = isObject(body) ? body : {};
      const id = env.id;
      if ((typeof id === 'string' && id.length <= MAX_ID_CHARS) || (typeof id === 'number' && Number.isSafeInteger(id))) wsId = id;
      if (typeof env.op === 'string') op = env.op.slice(0, 64);
      body = env.body;
    }
    if (isObject(body) && typeof body.req_id === 'string') reqId = body.req_id.slice(0, MAX_ID_CHARS);
  } catch {
    /* unreadable: the ids stay unknown */
  }
  return { reqId, wsId, op };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `error` ("Name: message") and `stack` (the first frames) of a thrown value, bounded. */
function describeError(err: unknown): { error: string; stack: string[] } {
  try {
    if (err instanceof Error) {
      const stack: string[] = [];
      if (typeof err.stack === 'string') {
        for (const l of err.stack.split('\n')) {
          const t = l.trim();
          if (!t.startsWith('at ')) continue;
          stack.push(t.slice(0, MAX_FRAME_CHARS));
          if (stack.length === MAX_STACK_FRAMES) break;
        }
      }
      return { error: `${err.name}: ${err.message}`.slice(0, MAX_ERROR_CHARS), stack };
    }
    return { error: `non-Error thrown: ${String(err)}`.slice(0, MAX_ERROR_CHARS), stack: [] };
  } catch {
    return { error: 'an unprintable value was thrown', stack: [] };
  }
}

function wsError(idJson: string, f: Failure): Reply {
  return { status: f.status, body: `{"id":${idJson},"ok":false,"error":${JSON.stringify(f.body.error)}}` };
}
