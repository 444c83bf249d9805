import { describe, expect, it } from 'vitest';
import { Position, type Fill } from '../../../src/runner/logic/position.ts';

const fill = (fillId: string, side: 'buy' | 'sell', qty: number, price: number, feeQuote: number, tsMs: number): Fill => ({ fillId, side, qty, price, feeQuote, tsMs });

describe('position from fills', () => {
  it('FIFO, fee-inclusive realised PnL through adds, a partial close, a flip and a full close', () => {
    const p = new Position();
    expect(p.side).toBeNull();
    expect(p.applyFill(fill('f1', 'buy', 1, 100, 0.1, 10))).toMatchObject({ applied: true, openedQty: 1, realized: 0 });
    p.applyFill(fill('f2', 'buy', 1, 102, 0.1, 20));
    expect(p.qty).toBe(2);
    expect(p.avgEntry).toBe(101);
    expect(p.openedAtMs).toBe(10);

    // 1 @100: 4 − 0.1 − 0.1 = 3.8; 0.5 @102: 1 − 0.05 − 0.05 = 0.9
    const r = p.applyFill(fill('f3', 'sell', 1.5, 104, 0.15, 30));
    expect(r.realized).toBeCloseTo(4.7, 12);
    expect(r.closedQty).toBe(1.5);
    expect(p.qty).toBeCloseTo(0.5, 12);
    expect(p.avgEntry).toBe(102);
    expect(p.unrealized(103)).toBeCloseTo(0.5 - 0.05, 12); // marked to mid, net of the open lot's entry fee

    expect(p.applyFill(fill('f3', 'sell', 1.5, 104, 0.15, 31)).applied).toBe(false); // duplicate fill id

    // flip: close 0.5 @101 (−0.5 − 0.05 − 0.05), open 1.0 short @101 carrying 0.1 of the fee
    const flip = p.applyFill(fill('f4', 'sell', 1.5, 101, 0.15, 40));
    expect(flip.realized).toBeCloseTo(-0.6, 12);
    expect(flip).toMatchObject({ closedQty: 0.5, openedQty: 1 });
    expect(p.side).toBe('SHORT');
    expect(p.qty).toBeCloseTo(-1, 12);
    expect(p.openedAtMs).toBe(40);
    expect(p.unrealized(100)).toBeCloseTo(1 - 0.1, 12);
    expect(p.exposure(100)).toBeCloseTo(100, 9);

    expect(p.applyFill(fill('f5', 'buy', 1, 99, 0.1, 50)).realized).toBeCloseTo(2 - 0.1 - 0.1, 12);
    expect(p.side).toBeNull();
    expect(p.qty).toBe(0);
    expect(p.avgEntry).toBeNull();
    expect(p.openedAtMs).toBeNull();
    expect(p.unrealized(123)).toBe(0);

    // independent check: realised equals the net cash flow minus all fees once flat
    const cash = -100 - 102 + 1.5 * 104 + 1.5 * 101 - 99;
    expect(p.realized).toBeCloseTo(cash - 0.6, 9);
    expect(p.feesPaid).toBeCloseTo(0.6, 12);
  });

  it('realised + unrealised track the account while open', () => {
    const p = new Position();
    p.applyFill(fill('a', 'sell', 2, 50, 0.2, 1));
    p.applyFill(fill('b', 'buy', 0.5, 48, 0.05, 2));
    // cash so far: +100 − 24 − fees 0.25; the open 1.5 short marked at 49 costs 73.5 to close
    expect(p.realized + p.unrealized(49)).toBeCloseTo(100 - 24 - 0.25 - 1.5 * 49, 9);
  });

  it('ignores unusable fills', () => {
    const p = new Position();
    expect(p.applyFill(fill('x', 'buy', 0, 100, 0, 1)).applied).toBe(false);
    expect(p.applyFill(fill('y', 'buy', 1, NaN, 0, 1)).applied).toBe(false);
    expect(p.applyFill(fill('z', 'buy', 1, 100, NaN, 1))).toMatchObject({ applied: true });
    expect(p.feesPaid).toBe(0);
  });
});
