import type { GateEvent } from '../core/events.ts';

/**
 * JSONL record builders (service.md 4.1, 4.3). Each returns one complete line ending in "\n".
 * Non-finite numbers become null (JSON.stringify), never NaN/Infinity.
 */

/** `{ts_ns, run_id, event_code, symbol, cid, oid, side, order_type, price, qty, position_id, details, src}` */
export function eventLine(tsNs: string, runId: string, ev: GateEvent, detailsJson?: string): string {
  return (
    `{"ts_ns":${tsNs},"run_id":${JSON.stringify(runId)},"event_code":${JSON.stringify(ev.code)},` +
    `"symbol":${j(ev.symbol)},"cid":null,"oid":${j(ev.oid)},"side":${j(ev.side)},"order_type":null,` +
    `"price":${j(ev.price)},"qty":${j(ev.qty)},"position_id":null,` +
    `"details":${detailsJson ?? JSON.stringify(ev.details)},"src":${j(ev.src)}}\n`
  );
}

const j = (v: unknown): string => (v === undefined ? 'null' : (JSON.stringify(v) ?? 'null'));

/** ts_ns from an epoch value whose unit is guessed by magnitude (ns > 1e18, µs > 1e15, ms > 1e12, else s). */
export function guessTsNs(v: unknown, fallbackNs: string): string {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n) || n === 0) return fallbackNs;
  const abs = Math.abs(n);
  const ns = abs > 1e18 ? n : abs > 1e15 ? n * 1e3 : abs > 1e12 ? n * 1e6 : n * 1e9;
  return BigInt(Math.round(ns)).toString();
}

export interface OrderRecordFields {
  cid?: unknown;
  oid?: unknown;
  lifecycleState?: unknown;
  reasonCode?: unknown;
  reasonDetail?: unknown;
  reasonClass?: string | null;
  severity?: string | null;
  action?: string | null;
  /** our appended keys (service.md 4.3 "Ours") */
  extra: Record<string, unknown>;
}

/** The shared order-record mapping of service.md 4.3, keys in the reference's order, ours appended. */
export function orderLine(tsNs: string, runId: string, f: OrderRecordFields): string {
  const upper = typeof f.lifecycleState === 'string' && f.lifecycleState !== '' ? f.lifecycleState.toUpperCase() : null;
  let line =
    `{"ts_ns":${tsNs},"run_id":${JSON.stringify(runId)},"cid":${j(f.cid ?? null)},"oid":${j(f.oid ?? null)},` +
    `"position_id":null,"lifecycle_state":${j(upper)},"reason_code":${j(f.reasonCode ?? null)},` +
    `"reason_detail":${j(f.reasonDetail ?? null)},"reason_class":${j(f.reasonClass ?? null)},"severity":${j(f.severity ?? null)},` +
    `"action":${j(f.action ?? null)},"latency_ms":null,"spread_bps":null,"vol_std_bps":null,"governance_gate":null,"reward_tag":null`;
  for (const k in f.extra) line += `,${JSON.stringify(k)}:${j(f.extra[k])}`;
  return line + '}\n';
}

/** Exchange error codes (service.md 4.3): normalised code, severity, action. */
export const EXCHANGE_CODES: Record<string, [string, string, string]> = {
  '-1013': ['EXCHANGE_FILTER_PRICE', 'WARN', 'ABORT'],
  '-1021': ['EXCHANGE_TIMESTAMP', 'WARN', 'RETRY_SOFT'],
  '-2010': ['EXCHANGE_INSUFFICIENT_BALANCE', 'ERROR', 'ABORT'],
  '-2019': ['EXCHANGE_MARGIN_INSUFFICIENT', 'ERROR', 'ABORT'],
  '-4164': ['EXCHANGE_NOTIONAL_MIN', 'WARN', 'ABORT'],
};

/** Any other (or no) exchange code. */
export const EXCHANGE_UNKNOWN: [string, string, string] = ['EXCHANGE_UNKNOWN', 'WARN', 'ABORT'];

export function normaliseExchangeError(code: unknown): [string, string, string] {
  const key = code === null || code === undefined ? '' : String(code).trim();
  return EXCHANGE_CODES[key] ?? EXCHANGE_UNKNOWN;
}
