import { describe, expect, it } from 'vitest';
import { classifyPosttrade } from '../../../src/core/posttrade.ts';
import { failureBody, fillBody, type FillReport } from '../../../src/runner/logic/posttrade.ts';
import { PosttradeLogRequest } from '../../../src/schema/posttrade.ts';
import { compileValidator } from '../../../src/schema/validate.ts';

const validator = compileValidator<PosttradeLogRequest>(PosttradeLogRequest);

/** The open-fill example of runner.md §2.3. */
const openFill: FillReport = {
  tsMs: 1767225600420,
  reqId: 'r20260101-000001-42',
  cid: 'r20260101-000001-o7',
  accountId: 'desk-1',
  orderId: 'P-118',
  symbol: 'BTC/USDT',
  side: 'buy',
  action: 'open',
  type: 'limit',
  qty: 0.002,
  price: 50000.1,
  filled: 0.001,
  average: 50000.1,
  fees: 0.0000005,
  feeCurrency: 'BTC',
  liquidity: 'maker',
  fillId: 'F-1',
  lastQty: 0.001,
  lastPrice: 50000.1,
  positionId: 'r20260101-000001-p3',
  reason: 'open',
  pnlUsdt: 123, // ignored for opens
};

describe('posttrade bodies (§2.3 Ours)', () => {
  it('a partial open fill: the spec example plus the fill identity', () => {
    const body = fillBody(openFill);
    expect(body).toEqual({
      ts: 1767225600420,
      req_id: 'r20260101-000001-42',
      cid: 'r20260101-000001-o7',
      client_order_id: 'r20260101-000001-o7',
      account_id: 'desk-1',
      order_id: 'P-118',
      symbol: 'BTCUSDT',
      side: 'buy',
      action: 'open',
      close: false,
      reduceOnly: false,
      type: 'limit',
      qty: 0.002,
      price: 50000.1,
      status: 'partially_filled',
      filled: 0.001,
      average: 50000.1,
      fees: 0.0000005,
      fee_currency: 'BTC',
      liquidity: 'maker',
      fill_id: 'F-1',
      last_qty: 0.001,
      last_price: 50000.1,
      position_id: 'r20260101-000001-p3',
      reason: 'open',
      pnl_usdt: null,
    });
    expect(validator.check(body)).toBe(true);
    const facts = classifyPosttrade(body);
    expect(facts).toMatchObject({ kind: 'success', symbol: 'BTCUSDT', side: 'buy', closing: false, partial: true });
  });

  it('the completing fill is `filled` (with lot noise tolerated)', () => {
    const body = fillBody({ ...openFill, filled: 0.0019999999999999996, fillId: 'F-2' });
    expect(body.status).toBe('filled');
    expect(classifyPosttrade(body).kind).toBe('success');
  });

  it('a closing fill carries action/close/reduceOnly, the exit reason and the realised PnL', () => {
    const body = fillBody({ ...openFill, side: 'sell', action: 'close', type: 'market', filled: 0.002, reason: 'tp_ladder_1', pnlUsdt: 1.25, liquidity: 'taker' });
    expect(body).toMatchObject({ action: 'close', close: true, reduceOnly: true, status: 'filled', reason: 'tp_ladder_1', pnl_usdt: 1.25 });
    expect(validator.check(body)).toBe(true);
    expect(classifyPosttrade(body)).toMatchObject({ kind: 'success', closing: true, partial: false });
  });

  it('a failure carries error_code/error_msg and is filed as failed', () => {
    const body = failureBody({ ...openFill, filled: undefined, orderId: null, errorCode: 'min_notional', errorMsg: 'notional 4.9 < 5' });
    expect(body).toMatchObject({ status: 'rejected', filled: 0, error_code: 'min_notional', error_msg: 'notional 4.9 < 5', order_id: null, symbol: 'BTCUSDT' });
    expect(validator.check(body)).toBe(true);
    expect(classifyPosttrade(body).kind).toBe('failed');
    const timeout = failureBody({ ...openFill, errorCode: 'timeout', errorMsg: 'no ack in 2000 ms', filled: 0.001 });
    expect(timeout).toMatchObject({ status: 'expired', filled: 0.001 });
    expect(classifyPosttrade(timeout).kind).toBe('failed');
  });
});
