import type { CoreConfig } from '../core/config.ts';
import type { GateEvent } from '../core/events.ts';
import { toDecisionInput, type DecisionInput } from '../core/inputs.ts';
import type { Decision } from '../core/pipeline.ts';
import { applyPosttrade, classifyPosttrade, type PosttradeFacts } from '../core/posttrade.ts';
import type { GateState } from '../core/state/gate-state.ts';
import { symbolKey } from '../core/state/symbol-table.ts';
import { tsNsText } from '../journal/ts-ns.ts';
import { eventLine, guessTsNs, normaliseExchangeError, orderLine } from '../journal/records.ts';
import { deniedOrderLine, policyDecisionLine } from './decision-records.ts';
import { PosttradeLogRequest } from '../schema/posttrade.ts';
import { compileValidator } from '../schema/validate.ts';
import { WsRequest } from '../schema/ws.ts';
import { fail, invalidRequest, malformedJson, type Failure } from './errors.ts';
import { strictUtf8 } from './utf8.ts';
import type { JournalBatch } from '../journal/line-batch.ts';
import { decideLocked, encodeResponse, pretradeValidator, type Clock, type StateLock } from './pretrade.ts';
import type { GateCounters } from './counters.ts';

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
/** journal.on_write_error = fail_closed while the journal cannot be written: a check is refused, nothing decided */
const JOURNAL_UNAVAILABLE: Reply = {
  status: 503,
  body: '{"error":{"code":"journal_unavailable","message":"the journal cannot be written and journal.on_write_error is fail_closed"}}',
};
const NEVER = () => false;
const UNKNOWN_KIND: Reply = { status: 500, body: '{"error":{"code":"internal_error","message":"unknown request kind"}}' };
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
  /** true while checks must be refused (fail_closed and the journal failing); asked once per check */
  private readonly refuseChecks: () => boolean;

  constructor(cfg: CoreConfig, state: GateState, lock: StateLock, clock: Clock, runId: string, journal: JournalBatch, counters: GateCounters, refuseChecks: () => boolean = NEVER) {
    this.cfg = cfg;
    this.state = state;
    this.lock = lock;
    this.clock = clock;
    this.runId = runId;
    this.journal = journal;
    this.counters = counters;
    this.refuseChecks = refuseChecks;
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
   */
  handleBytes(kind: number, bytes: Uint8Array): Reply {
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
    const input = toDecisionInput(body, this.cfg.defaultMode);
    const { decision, firstTs } = decideLocked(this.cfg, this.state, this.lock, this.clock, input, true);
    const obsJson = JSON.stringify(decision.observability);
    this.journalDecision(input, decision, obsJson, firstTs, wsId);
    this.counters.decision(decision.allow);
    return { status: 200, body: encodeResponse(decision, obsJson) };
  }

  private journalDecision(input: DecisionInput, d: Decision, obsJson: string, firstTs: number, wsId: string | number | undefined): void {
    let ts = firstTs;
    for (const ev of d.events) this.emit(tsNsText(ts++), ev);
    const decisionTs = tsNsText(ts);
    if (!d.allow) {
      this.counters.denied();
      this.journal.add('denied', deniedOrderLine(decisionTs, this.runId, input, d));
    }
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
    this.lock.acquire();
    try {
      duplicate = dedupKey !== 0 && this.state.recentSuccess.has(dedupKey);
      if (duplicate) {
        nowMs = Math.floor(this.state.tick(this.clock.wallSec()) * 1000);
      } else {
        if (dedupKey !== 0) this.state.recentSuccess.add(dedupKey);
        ({ cooldownUntilMs, nowMs } = applyPosttrade(this.state, this.cfg.antiChurn, f, this.clock.wallSec()));
      }
      firstTs = this.state.reserveTsUs(nowMs / 1000, 4);
    } finally {
      this.lock.release();
    }
    this.journalPosttrade(payload, f, duplicate, cooldownUntilMs, nowMs, firstTs);
    return { status: 200, body: OK_STATUS };
  }

  private journalPosttrade(payload: Record<string, unknown>, f: PosttradeFacts, duplicate: boolean, cooldownUntilMs: number | null, nowMs: number, firstTs: number): void {
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

    const w = f.work;
    const baseTs = guessTsNs(truthyOr(payload.ts, nowMs), `${nowMs}000000`);
    const common = { symbol: f.symbol, side: f.side, qty: f.qty, price: w.price ?? null };
    if (f.kind === 'failed') {
      const [code, severity, action] = normaliseExchangeError(w.error_code);
      this.journal.add('failed', orderLine(baseTs, this.runId, { oid: f.orderId, lifecycleState: w.status, reasonCode: code, reasonDetail: w.error_msg ?? null, reasonClass: 'EXCHANGE', severity, action, extra: common }));
      this.emit(tsNsText(ts++), { code: 'ORDER.REJECT', src: 'api', symbol: f.symbol, oid: f.orderId, side: f.side, qty: f.qty as number, price: w.price as number, details: { reason_code: w.error_code ?? null, reason_detail: w.error_msg ?? null } });
      this.counters.rejected();
    } else if (f.kind === 'success' && !duplicate) {
      const avg = w.average ?? w.avg_price ?? null;
      this.journal.add('success', orderLine(baseTs, this.runId, { oid: f.orderId, lifecycleState: w.status, extra: { ...common, fill_qty: w.filled ?? null, avg_price: avg, fees: w.fee ?? w.fees ?? null } }));
      this.emit(tsNsText(ts++), { code: f.partial ? 'ORDER.PARTIAL' : 'ORDER.FILL', src: 'api', symbol: f.symbol, oid: f.orderId, side: f.side, qty: f.qty as number, price: (w.price ?? avg) as number, details: { fill_qty: w.filled ?? null } });
      this.counters.success();
    }
    if (cooldownUntilMs !== null) {
      this.emit(tsNsText(ts++), { code: 'AURORA.COOL_OFF', src: 'api', symbol: f.symbol, details: { until_ms: cooldownUntilMs } });
    }
  }

  private emit(ts: string, ev: GateEvent): void {
    this.journal.add('events', eventLine(ts, this.runId, ev));
    this.counters.event(ev.code);
  }

  private failure(f: Failure): Reply {
    this.counters.invalid();
    return { status: f.status, body: JSON.stringify(f.body) };
  }
}

function truthyOr(v: unknown, fallback: number): unknown {
  return v === null || v === undefined || v === 0 || v === '' || v === false ? fallback : v;
}

function wsError(idJson: string, f: Failure): Reply {
  return { status: f.status, body: `{"id":${idJson},"ok":false,"error":${JSON.stringify(f.body.error)}}` };
}
