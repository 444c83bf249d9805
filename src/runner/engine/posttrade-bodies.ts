import type { FillEvent, RejectCode } from '../exchange/types.ts';
import { failureBody, fillBody, type FailureCode, type OrderRef, type PosttradeBody } from '../logic/posttrade.ts';
import { canonicalSymbol } from '../logic/request.ts';
import type { TrackedOrder } from './orders.ts';

function ref(o: TrackedOrder, tsMs: number): OrderRef {
  return {
    tsMs,
    reqId: o.reqId,
    cid: o.cid,
    orderId: o.orderId,
    symbol: o.symbol,
    side: o.side,
    action: o.action,
    type: o.type,
    qty: o.qty,
    price: o.price,
    positionId: o.positionId,
    reason: o.reason,
  };
}

/** One body per fill (logic/posttrade.ts): cumulative filled/average/fees of the order after it. */
export function orderFillBody(o: TrackedOrder, f: FillEvent, tsMs: number, pnlUsdt: number | null): PosttradeBody {
  return fillBody({
    ...ref(o, tsMs),
    filled: o.filled,
    average: o.filled > 0 ? o.notional / o.filled : f.price,
    fees: o.fees,
    feeCurrency: f.feeCurrency,
    liquidity: f.liquidity,
    fillId: f.fillId,
    lastQty: f.qty,
    lastPrice: f.price,
    pnlUsdt,
  });
}

/** The venue's reject codes mapped onto the posttrade `error_code` set of runner.md §2.3. */
export function failureCodeOf(code: RejectCode | null): FailureCode {
  switch (code) {
    case 'rate_limited':
    case 'insufficient_balance':
    case 'min_notional':
    case 'timeout':
    case 'rejected':
    case 'unknown':
      return code;
    case null:
      return 'unknown';
    default:
      return 'rejected';
  }
}

/** One body per terminal failure (reject, expiry). */
export function orderFailureBody(o: TrackedOrder, tsMs: number, code: FailureCode, msg: string): PosttradeBody {
  return failureBody({ ...ref(o, tsMs), errorCode: code, errorMsg: msg, filled: o.filled });
}

/**
 * An order cancelled with nothing filled (a maker entry that timed out, an IOC with no liquidity):
 * no error fields and `filled: 0`, so the gate stores it without counting a fill or a failure. A
 * cancel after partial fills is not posted again: its fills were.
 */
export function orderCancelBody(o: TrackedOrder, tsMs: number, why: string): PosttradeBody {
  return {
    ts: Math.floor(tsMs),
    req_id: o.reqId,
    cid: o.cid,
    order_id: o.orderId,
    symbol: canonicalSymbol(o.symbol),
    side: o.side,
    action: o.action,
    close: o.action === 'close',
    reduceOnly: o.action === 'close',
    type: o.type,
    qty: o.qty,
    price: o.price,
    status: 'canceled',
    filled: 0,
    position_id: o.positionId,
    reason: o.reason,
    cancel_reason: why,
  };
}
