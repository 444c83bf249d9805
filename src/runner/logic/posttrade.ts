import { canonicalSymbol } from './request.ts';
import type { Side } from './types.ts';

/** `error_code` of a failed order (§2.3 Ours). */
export type FailureCode = 'rejected' | 'rate_limited' | 'insufficient_balance' | 'min_notional' | 'timeout' | 'unknown';

export type OrderAction = 'open' | 'close';
export type OrderType = 'market' | 'limit';

/** Common identity of an order in every posttrade body. */
export interface OrderRef {
  tsMs: number;
  /** the pretrade req_id the order came from (an exit's own req_id or the opening one) */
  reqId: string;
  /** deterministic client order id `<run_id>-o<seq>`: sent as `cid` and as `client_order_id` (controls.md §3) */
  cid: string;
  /** the account the gate keeps positions and reservations under (top-level `account_id`) */
  accountId: string;
  orderId: string | null;
  symbol: string;
  side: Side;
  action: OrderAction;
  type: OrderType;
  /** ordered quantity, base */
  qty: number;
  /** limit price, or the reference price of a market order */
  price: number;
  positionId: string | null;
  /** `open`, or the exit rule that closed (ExitReason) */
  reason: string;
}

export interface FillReport extends OrderRef {
  /** cumulative filled quantity of the order after this fill */
  filled: number;
  /** average price of the cumulative fill */
  average: number;
  /** cumulative fees of the order, in `feeCurrency` */
  fees: number;
  feeCurrency: string;
  liquidity: 'maker' | 'taker';
  /** this fill event */
  fillId: string;
  lastQty: number;
  lastPrice: number;
  /** realised, fee-inclusive PnL of a closing fill, quote; null for opens */
  pnlUsdt: number | null;
}

export interface FailureReport extends OrderRef {
  errorCode: FailureCode;
  errorMsg: string;
  /** quantity filled before the failure (a cancelled remainder), default 0 */
  filled?: number;
}

/** A body for `/posttrade/log` (the gate accepts any object; these are the keys it reads, §2.3). */
export type PosttradeBody = Record<string, unknown>;

const closeFlags = (action: OrderAction) => ({ close: action === 'close', reduceOnly: action === 'close' });

/** The order's identity, in the gate's keys: the same leading fields in every body (key order kept). */
function orderFields(r: OrderRef): PosttradeBody {
  return {
    ts: Math.floor(r.tsMs),
    req_id: r.reqId,
    cid: r.cid,
    client_order_id: r.cid,
    account_id: r.accountId,
    order_id: r.orderId,
    symbol: canonicalSymbol(r.symbol),
    side: r.side,
    action: r.action,
    ...closeFlags(r.action),
    type: r.type,
    qty: r.qty,
    price: r.price,
  };
}

/** An order that ended cancelled (`filled` cumulative; `average`, `fees`, `feeCurrency` when it filled). */
export interface CancelReport extends OrderRef {
  filled: number;
  average?: number;
  fees?: number;
  feeCurrency?: string;
  cancelReason: string;
}

/** The final `status: canceled` record of an order: the gate ends its reservation on it. */
export function cancelBody(r: CancelReport): PosttradeBody {
  return {
    ...orderFields(r),
    status: 'canceled',
    filled: r.filled,
    ...(r.filled > 0 ? { average: r.average, fees: r.fees, fee_currency: r.feeCurrency } : {}),
    position_id: r.positionId,
    reason: r.reason,
    cancel_reason: r.cancelReason,
  };
}

/** Fill quantities are compared with a relative tolerance: lot arithmetic leaves binary noise. */
function isComplete(filled: number, qty: number): boolean {
  return filled >= qty * (1 - 1e-9);
}

/**
 * One body per fill event (§2.3 Ours): status `filled` once the cumulative fill covers the order,
 * else `partially_filled` (the gate then emits ORDER.PARTIAL); closes carry `action: close`,
 * `close`/`reduceOnly` true and `pnl_usdt`.
 */
export function fillBody(r: FillReport): PosttradeBody {
  return {
    ...orderFields(r),
    status: isComplete(r.filled, r.qty) ? 'filled' : 'partially_filled',
    filled: r.filled,
    average: r.average,
    fees: r.fees,
    fee_currency: r.feeCurrency,
    liquidity: r.liquidity,
    fill_id: r.fillId,
    last_qty: r.lastQty,
    last_price: r.lastPrice,
    position_id: r.positionId,
    reason: r.reason,
    pnl_usdt: r.action === 'close' ? r.pnlUsdt : null,
  };
}

/** One body per terminal failure: `error_code` / `error_msg` make the gate file it as failed. */
export function failureBody(r: FailureReport): PosttradeBody {
  return {
    ...orderFields(r),
    status: r.errorCode === 'timeout' ? 'expired' : 'rejected',
    filled: r.filled ?? 0,
    position_id: r.positionId,
    reason: r.reason,
    error_code: r.errorCode,
    error_msg: r.errorMsg,
  };
}
