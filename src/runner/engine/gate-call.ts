import type { PretradeCheckRequest } from '../../schema/pretrade.ts';
import type { GateAnswer } from '../gate/port.ts';
import { requestId } from '../logic/request.ts';
import type { EngineContext } from './context.ts';

/**
 * How many times a check that timed out is sent again at once with the same `client_order_id` and a
 * byte-identical `order` object (new `req_id`, `ts` and `latency_ms`): a gate that decided the first
 * one answers the retry with that decision (controls.md §3 rule 1, §5), so one intent is never decided
 * twice; a gate that never saw it decides it now.
 */
export const TIMEOUT_RETRIES = 1;

export type CheckKind = 'entry' | 'exit';

export interface GateCheck {
  answer: GateAnswer;
  /** the request of the last call (its req_id is the one the answer belongs to) */
  req: PretradeCheckRequest;
  /** calls made (1 + retries) */
  calls: number;
}

/** `ws`/`http`/`stub`: the gate decided; anything else is the client's fail-closed verdict. */
export function answered(a: GateAnswer): boolean {
  return a.outcome === 'ws' || a.outcome === 'http' || a.outcome === 'stub';
}

/**
 * One pretrade check: the call, then up to TIMEOUT_RETRIES same-id retries after a `gate_timeout`.
 * Every call is counted in the summary and written to `gate_calls.jsonl`.
 */
export async function askGate(ctx: EngineContext, req: PretradeCheckRequest, kind: CheckKind, inWarmup: () => boolean): Promise<GateCheck> {
  let cur = req;
  for (let calls = 1; ; calls++) {
    const a = await ctx.gate.check(cur);
    ctx.summary.gateCall(a, kind === 'entry' && inWarmup(), kind === 'exit');
    journalCall(ctx, cur, a, kind, calls);
    if (a.outcome !== 'timeout' || calls > TIMEOUT_RETRIES) return { answer: a, req: cur, calls };
    ctx.summary.gate.retries++;
    cur = retryOf(ctx, cur);
  }
}

/** The same check again: same order object (same client_order_id), new req_id and ts, latency grown by the wait. */
function retryOf(ctx: EngineContext, req: PretradeCheckRequest): PretradeCheckRequest {
  const ts = Math.floor(ctx.clock.nowMs());
  const market = { ...req.market };
  const lat = market.latency_ms;
  if (typeof lat === 'number' && typeof req.ts === 'number') market.latency_ms = lat + Math.max(0, ts - req.ts);
  return { ...req, ts, req_id: requestId(ctx.runId, ++ctx.seq.req), market };
}

function journalCall(ctx: EngineContext, req: PretradeCheckRequest, a: GateAnswer, kind: CheckKind, attempt: number): void {
  const d = a.decision;
  const o = req.order as Record<string, unknown>;
  ctx.journal.write('gate_calls', {
    ts: ctx.clock.nowMs(),
    req_id: req.req_id,
    kind,
    client_order_id: o.client_order_id ?? null,
    attempt,
    symbol: req.order.symbol,
    side: req.order.side,
    type: o.type ?? null,
    reduce_only: req.order.reduce_only ?? false,
    qty: req.order.qty,
    price: req.order.price,
    sent: a.transport !== 'none',
    transport: a.transport,
    outcome: a.outcome,
    rtt_ms: Number(a.rttMs.toFixed(3)),
    allow: d.allow,
    reason: d.reason,
    reasons: d.observability.reasons,
    max_qty: d.max_qty,
    risk_scale: d.risk_scale,
    cooldown_ms: d.cooldown_ms,
    hard_gate: d.hard_gate,
    quotas: answered(a) ? (d.quotas ?? null) : null,
    controls: answered(a) ? ((d.observability as Record<string, unknown>).controls ?? null) : null,
    latency_ms: req.market.latency_ms,
    score: req.market.score,
  });
}
