import type { DecisionInput } from '../core/inputs.ts';
import type { Decision } from '../core/pipeline.ts';
import { eventLine, orderLine } from '../journal/records.ts';

/** `observability.reasons` of a decision (a deny can carry none). */
export const reasonsOf = (d: Decision): string[] => (d.observability.reasons as string[] | undefined) ?? [];

/**
 * The POLICY.DECISION event line of one answered check (service.md 4.1 step 9, ours: req_id, ws_id and
 * the decision's fields appended), around the observability JSON already encoded for the reply. An
 * idempotent replay (controls.md §3 rule 1) carries the original answer's fields and `"replay":true`
 * last; no other line has the key.
 */
export function policyDecisionLine(ts: string, runId: string, input: DecisionInput, d: Decision, obsJson: string, wsId: string | number | undefined, replay = false): string {
  const details =
    `{"decision":${d.allow ? '"EXECUTE"' : '"NO_OP"'},"reasons":${JSON.stringify(reasonsOf(d))},"mode":${JSON.stringify(input.mode)},` +
    `"observability":${obsJson},"req_id":${JSON.stringify(input.reqId)}${wsId === undefined ? '' : `,"ws_id":${JSON.stringify(wsId)}`},` +
    `"reason":${JSON.stringify(d.reason)},"allow":${d.allow},"max_qty":${JSON.stringify(d.maxQty)},"risk_scale":${JSON.stringify(d.riskScale)}${replay ? ',"replay":true' : ''}}`;
  return eventLine(ts, runId, { code: 'POLICY.DECISION', details: {}, symbol: input.symbol, side: input.side, qty: input.qty, price: input.price }, details);
}

/** The orders_denied.jsonl line of a deny (service.md 4.3). */
export function deniedOrderLine(ts: string, runId: string, input: DecisionInput, d: Decision): string {
  return orderLine(ts, runId, {
    reasonCode: d.reason,
    reasonClass: 'AURORA',
    severity: 'WARN',
    action: 'ABORT',
    extra: { symbol: input.symbol, side: input.side, qty: input.qty, price: input.price, reasons: reasonsOf(d), req_id: input.reqId },
  });
}
