import type { AntiChurnConfig } from './config.ts';
import { sideCode } from './anti-churn.ts';
import { truthy } from './pyvalue.ts';
import type { GateState } from '../shm/state/gate-state.ts';
import { canonicalSymbol, normalSide } from './symbol.ts';

export type PosttradeKind = 'success' | 'failed' | 'pending';

/** What a post-trade record says, after the reference's enrichment and classification (service.md 3.2). */
export interface PosttradeFacts {
  kind: PosttradeKind;
  /** the working copy: payload plus status/filled/average/id filled in from a CCXT `response` */
  work: Record<string, unknown>;
  symbol: string | null;
  side: string | null;
  status: unknown;
  /** `filled` as a number (numeric strings parsed, anything else 0: D-21) */
  filled: number;
  /** `qty or amount` */
  qty: unknown;
  orderId: unknown;
  /** the record signals a close (action "close", or truthy close/reduceOnly, top level or in response) */
  closing: boolean;
  /** a fill smaller than the order quantity */
  partial: boolean;
}

const SUCCESS_STATUS = new Set(['filled', 'partially_filled', 'partial', 'closed']);

function firstTruthy(...vs: unknown[]): unknown {
  for (const v of vs) if (truthy(v)) return v;
  return vs[vs.length - 1];
}

/** A number from a JSON value: numbers as is, numeric strings parsed, anything else NaN. */
export function numeric(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return NaN;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function classifyPosttrade(payload: Record<string, unknown>): PosttradeFacts {
  const work: Record<string, unknown> = { ...payload };
  const response = isObject(payload.response) ? payload.response : null;
  if (response !== null) {
    const info = isObject(response.info) ? response.info : {};
    if (!('status' in work)) work.status = firstTruthy(response.status, info.status);
    if (!('filled' in work)) work.filled = firstTruthy(response.filled, info.executedQty);
    if (!('average' in work)) work.average = firstTruthy(response.average, response.avg_price);
    if (!('id' in work)) work.id = firstTruthy(response.id, info.orderId);
  }
  const filledNum = numeric(work.filled);
  const filled = Number.isFinite(filledNum) ? filledNum : 0;
  let kind: PosttradeKind;
  if (truthy(work.error) || truthy(work.error_code) || truthy(work.error_msg)) kind = 'failed';
  else if ((typeof work.status === 'string' && SUCCESS_STATUS.has(work.status.toLowerCase())) || filled > 0) kind = 'success';
  else kind = 'pending';

  const closeIn = (o: Record<string, unknown>) =>
    (typeof o.action === 'string' && o.action.toLowerCase() === 'close') || truthy(o.close) || truthy(o.reduceOnly);
  const qty = firstTruthy(work.qty, work.amount);
  const qtyNum = numeric(qty);
  return {
    kind,
    work,
    symbol: canonicalSymbol(payload.symbol),
    side: normalSide(payload.side),
    status: work.status ?? null,
    filled,
    qty: qty ?? null,
    orderId: firstTruthy(work.order_id, work.id) ?? null,
    closing: closeIn(payload) || (response !== null && closeIn(response)),
    partial: 'filled' in work && Number.isFinite(qtyNum) && Number.isFinite(filledNum) && filledNum < qtyNum,
  };
}

export interface PosttradeEffect {
  /** epoch ms of the cool-down end when this record started one */
  cooldownUntilMs: number | null;
  nowMs: number;
}

/**
 * Applies a classified record to shared state (service.md 3.2 step 7, 3.3): success/failure feed the
 * reject-storm window; a success opens, refreshes or (on a close) clears the symbol's position, timed
 * by the server clock (D-24); a close that did not fail starts the per-symbol cool-down (D-23).
 */
export function applyPosttrade(state: GateState, cfg: AntiChurnConfig, f: PosttradeFacts, wallSec: number): PosttradeEffect {
  const now = state.tick(wallSec);
  const nowMs = Math.floor(now * 1000);
  if (f.kind !== 'pending') state.outcomes.push(now, f.kind === 'failed');
  let cooldownUntilMs: number | null = null;
  if (f.symbol !== null) {
    const table = state.symbols;
    if (f.kind === 'success') {
      if (f.closing) {
        const slot = table.find(f.symbol);
        if (slot >= 0) table.clearPosition(slot);
      } else {
        table.setPosition(table.upsert(f.symbol, nowMs), sideCode(f.side), nowMs);
      }
    }
    if (f.closing && f.kind !== 'failed' && cfg.cooldownAfterCloseMs > 0) {
      cooldownUntilMs = nowMs + cfg.cooldownAfterCloseMs;
      table.setCooldownUntilMs(table.upsert(f.symbol, nowMs), cooldownUntilMs);
    }
  }
  return { cooldownUntilMs, nowMs };
}
