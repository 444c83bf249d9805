import type { FillEvent, RejectCode } from '../exchange/types.ts';
import { cancelBody, failureBody, fillBody, type FailureCode, type OrderRef, type PosttradeBody } from '../logic/posttrade.ts';
import type { TrackedOrder } from './orders.ts';

function ref(o: TrackedOrder, tsMs: number): OrderRef {
  return {
    tsMs,
    reqId: o.reqId,
    cid: o.cid,
    accountId: o.accountId,
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
 * An order that ended CANCELLED. With nothing filled (a maker entry that timed out, an IOC with no
 * liquidity): no error fields and `filled: 0`, so the gate stores it without counting a fill or a
 * failure. After partial fills (an IOC remainder, a maker rest cancelled after a partial): the final
 * record of the order, with the cumulative `filled` and `average` — the gate ends the order's
 * reservation on it and applies fills it had skipped as partial (controls.md §3; `filled` is cumulative,
 * so nothing is counted twice).
 */
export function orderCancelBody(o: TrackedOrder, tsMs: number, why: string): PosttradeBody {
  return cancelBody({
    ...ref(o, tsMs),
    filled: o.filled,
    average: o.filled > 0 ? o.notional / o.filled : undefined,
    fees: o.fees,
    feeCurrency: o.feeCurrency,
    cancelReason: why,
  });
}

/** An order intent the gate was asked about and that never reached the venue (see `notSentBody`). */
export interface UnsentIntent {
  reqId: string;
  cid: string;
  accountId: string;
  symbol: string;
  side: 'buy' | 'sell';
  action: 'open' | 'close';
  type: 'market' | 'limit';
  qty: number;
  price: number;
  reason: string;
}

/**
 * An order the gate may have allowed (and reserved for) that the runner did not send: allowed but
 * sized out below the venue minimums, or a check that ended without an answer after it was sent
 * (timeout, socket lost). `status: canceled`, `filled: 0`, no order id: the gate ends the
 * reservation of `client_order_id` at once instead of after `reservation_ttl_ms` (controls.md §3),
 * and otherwise only stores it.
 */
export function notSentBody(i: UnsentIntent, tsMs: number, why: string): PosttradeBody {
  return cancelBody({
    tsMs,
    reqId: i.reqId,
    cid: i.cid,
    accountId: i.accountId,
    orderId: null,
    symbol: i.symbol,
    side: i.side,
    action: i.action,
    type: i.type,
    qty: i.qty,
    price: i.price,
    positionId: null,
    reason: i.reason,
    filled: 0,
    cancelReason: `not_sent:${why}`,
  });
}
