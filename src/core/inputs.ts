import type { PretradeCheckRequest } from '../schema/pretrade.ts';
import { controlsFacts, type ControlsFacts } from './controls/facts.ts';
import { given, toFloat, toFloatList, toFloatPresent, toInt, truthy } from './pyvalue.ts';
import { canonicalSymbol, normalSide } from './symbol.ts';

/**
 * The pipeline's inputs, converted once from a validated request (gate.md 3.1 / 1.4): the six scalars
 * as "value, or 0.0 when falsy", optional inputs as "present and not null", lists element-wise.
 * Pure and outside any lock: workers do this in parallel before touching shared state.
 */
export interface DecisionInput {
  latencyMs: number;
  slipBps: number;
  aBps: number;
  bBps: number;
  spreadBps: number;
  score: number;
  feesBps: number;
  baseNotional: number;
  /** echoed as max_qty */
  qty: number;
  price: number | null;
  mode: string | null;
  /** canonical symbol, or null (anti-churn skipped) */
  symbol: string | null;
  /** lower-cased side, or null */
  side: string | null;
  /** D-11: the request closes a position (order.reduce_only or order.action == "close") */
  closing: boolean;
  trap: { cancel: number[]; add: number[]; trades: number } | null;
  obiSign: number | null;
  tfiSign: number | null;
  sprtSamples: number[] | null;
  pnlTodayPct: number | null;
  openPositions: number | null;
  dqStale: boolean;
  dqCrossed: boolean;
  dqAbnormalSpread: boolean;
  /** ICP: `float(market.aci or 0)`, or NaN when not numeric */
  aci: number;
  reqId: string | null;
  /**
   * What the desk controls read (controls.md §1), strings hashed outside the lock — computed here when
   * the caller expects a control to be on (`withControls`) or the order is reduce-only (§0's halt
   * pass-through needs its position), else null: with every control off nothing reads it, and the
   * pipeline computes it (inside the lock) in the rare case the caller's expectation was stale.
   */
  controls: ControlsFacts | null;
  /** the validated request (for `controlsFacts` when `controls` is null) */
  request: PretradeCheckRequest;
}

export function toDecisionInput(req: PretradeCheckRequest, defaultMode: string, withControls = false): DecisionInput {
  const { account, order, market } = req;
  const m = market as Record<string, unknown>;
  const o = order as Record<string, unknown>;
  const trapGiven = given(market.trap_cancel_deltas) && given(market.trap_add_deltas) && given(market.trap_trades_cnt);
  const dq = market.dq;
  return {
    latencyMs: toFloat(market.latency_ms),
    slipBps: toFloat(market.slip_bps_est),
    aBps: toFloat(market.a_bps),
    bBps: toFloat(market.b_bps),
    spreadBps: toFloat(market.spread_bps),
    score: toFloat(market.score),
    feesBps: toFloat(req.fees_bps),
    baseNotional: 'base_notional' in o ? toFloat(order.base_notional) : toFloat(order.notional),
    qty: toFloat(order.qty),
    price: given(order.price) ? toFloatPresent(order.price) : null,
    mode: 'mode' in (account as object) ? (account.mode ?? null) : defaultMode,
    symbol: canonicalSymbol(truthy(order.symbol) ? order.symbol : m.symbol),
    side: normalSide(order.side),
    closing: order.reduce_only === true || (typeof order.action === 'string' && order.action.toLowerCase() === 'close'),
    trap: trapGiven
      ? {
          cancel: toFloatList(market.trap_cancel_deltas as unknown[]),
          add: toFloatList(market.trap_add_deltas as unknown[]),
          trades: toInt(market.trap_trades_cnt),
        }
      : null,
    obiSign: given(market.obi_sign) ? toInt(market.obi_sign) : null,
    tfiSign: given(market.tfi_sign) ? toInt(market.tfi_sign) : null,
    sprtSamples: given(market.sprt_samples) ? toFloatList(market.sprt_samples as unknown[]) : null,
    pnlTodayPct: given(market.pnl_today_pct) ? toFloatPresent(market.pnl_today_pct) : null,
    openPositions: given(market.open_positions) ? toInt(market.open_positions) : null,
    dqStale: dq ? truthy((dq as Record<string, unknown>).stale_book) : false,
    dqCrossed: dq ? truthy((dq as Record<string, unknown>).crossed_book) : false,
    dqAbnormalSpread: dq ? truthy((dq as Record<string, unknown>).abnormal_spread) : false,
    aci: aciValue(m.aci),
    reqId: req.req_id ?? null,
    controls: withControls || order.reduce_only === true ? controlsFacts(req) : null,
    request: req,
  };
}

function aciValue(v: unknown): number {
  if (!truthy(v)) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return 1;
  if (typeof v === 'string') {
    const n = Number(v);
    return v.trim() === '' ? NaN : n;
  }
  return NaN;
}
