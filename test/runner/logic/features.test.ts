import { describe, expect, it } from 'vitest';
import {
  absorption,
  clockOffsetFromSync,
  consensus,
  DEFAULT_FEATURES,
  effectiveSpreadBps,
  latencyMs,
  liquidityAhead,
  localTrapFlag,
  microBias,
  microPrice,
  obi,
  spreadBpsRaw,
  sweepScore,
  tfi,
  walkVwap,
} from '../../../src/runner/logic/features.ts';
import type { Aggressor, Level, Trade } from '../../../src/runner/logic/types.ts';

const tr = (id: string, price: number, qty: number, aggressor: Aggressor, exchTs: number | null = 0, recvTs = 0): Trade => ({
  id,
  price,
  qty,
  aggressor,
  exchTs,
  recvTs,
});

describe('OBI', () => {
  const bids: Level[] = [
    [100, 3],
    [99, 1],
  ];
  const asks: Level[] = [
    [101, 1],
    [102, 1],
  ];
  it('(ΣB − ΣA)/(ΣB + ΣA) over the first L levels', () => {
    expect(obi(bids, asks)).toBeCloseTo(2 / 6, 12); // 4 vs 2
    expect(obi(bids, asks, 1)).toBeCloseTo(0.5, 12); // 3 vs 1
  });
  it('counts only L = 5 levels', () => {
    const six: Level[] = [1, 2, 3, 4, 5, 6].map((i) => [100 - i, 1]);
    expect(obi(six, [[101, 5]])).toBe(0);
  });
  it('floors negative sizes at 0', () => {
    expect(obi([[100, -2], [99, 2]], [[101, 2]])).toBe(0);
  });
  it('is null on an empty side or zero depth', () => {
    expect(obi([], asks)).toBeNull();
    expect(obi(bids, [])).toBeNull();
    expect(obi([[100, 0]], [[101, 0]])).toBeNull();
  });
  it('is clamped to [-1, 1] (one-sided depth gives ±1)', () => {
    expect(obi([[100, 1]], [[101, 0]])).toBe(1);
    expect(obi([[100, 0]], [[101, 1]])).toBe(-1);
  });
});

describe('TFI', () => {
  it('by aggressor; sideless prints count on neither side', () => {
    expect(tfi([tr('1', 100, 2, 'buy'), tr('2', 100, 1, 'sell'), tr('3', 100, 5, null)])).toBeCloseTo(1 / 3, 12);
    expect(tfi([tr('1', 100, 2, 'sell')])).toBe(-1);
  });
  it('is null with no sided volume (no trades, zero qty, only sideless)', () => {
    expect(tfi([])).toBeNull();
    expect(tfi([tr('1', 100, 0, 'buy')])).toBeNull();
    expect(tfi([tr('1', 100, 3, null)])).toBeNull();
  });
});

describe('micro-price and micro_bias', () => {
  it('weights each side by the opposite L1 size', () => {
    // (100·3 + 102·1)/4 = 100.5; mid 101, spread 2 -> bias -0.25
    expect(microPrice([[100, 1]], [[102, 3]])).toBeCloseTo(100.5, 12);
    expect(microBias([[100, 1]], [[102, 3]])).toBeCloseTo(-0.25, 12);
    expect(microBias([[100, 3]], [[102, 1]])).toBeCloseTo(0.25, 12);
  });
  it('is the mid when both L1 sizes are 0', () => {
    expect(microPrice([[100, 0]], [[102, 0]])).toBe(101);
    expect(microBias([[100, 0]], [[102, 0]])).toBe(0);
  });
  it('zero spread: divides by mid·1e-6 (and micro equals mid, so 0)', () => {
    expect(microBias([[100, 1]], [[100, 3]])).toBe(0);
  });
  it('null on an empty side', () => {
    expect(microPrice([], [[101, 1]])).toBeNull();
    expect(microBias([[100, 1]], [])).toBeNull();
  });
});

describe('spreads', () => {
  it('raw spread in bps of mid', () => {
    expect(spreadBpsRaw([[99.99, 1]], [[100.01, 1]])).toBeCloseTo(2, 9);
    expect(spreadBpsRaw([[100, 1]], [[100, 1]])).toBe(0);
    expect(spreadBpsRaw([[0, 1]], [[0, 1]])).toBe(0); // mid 0
    expect(spreadBpsRaw([], [[100, 1]])).toBeNull();
  });

  const bids: Level[] = [[99.99, 0.002]];
  const asks: Level[] = [
    [100.01, 0.0005],
    [100.02, 0.001],
  ];
  it('effective spread walks the top 3 levels for order_size on each side', () => {
    // buy VWAP = (100.01·0.0005 + 100.02·0.0005)/0.001 = 100.015; sell 99.99; mid 100 -> 2.5 bps
    expect(effectiveSpreadBps(bids, asks, 0.001)).toBeCloseTo(2.5, 9);
  });
  it('a partial walk uses what it filled', () => {
    // buy fills 0.0015: (100.01·0.0005 + 100.02·0.001)/0.0015 = 100.016667 -> 2.6667 bps
    expect(effectiveSpreadBps(bids, asks, 1)).toBeCloseTo(((100.01 * 0.0005 + 100.02 * 0.001) / 0.0015 - 99.99) * 100, 9);
  });
  it('walks at most `levels` levels', () => {
    const deep: Level[] = [
      [101, 1],
      [102, 1],
      [103, 1],
      [104, 10],
    ];
    expect(walkVwap(deep, 5, 3)).toEqual({ vwap: 102, filled: 3 });
    expect(walkVwap(deep, 5, 4)).toEqual({ vwap: (101 + 102 + 103 + 2 * 104) / 5, filled: 5 });
    expect(walkVwap([[101, 0]], 1, 3)).toBeNull();
  });
  it('falls back to the raw spread when a walk fills nothing or order_size is 0', () => {
    expect(effectiveSpreadBps(bids, [[100.01, 0]], 0.001)).toBeCloseTo(2, 9);
    expect(effectiveSpreadBps(bids, asks, 0)).toBeCloseTo(2, 9);
    expect(effectiveSpreadBps([], asks, 0.001)).toBeNull();
  });
  it('zero spread and a deep enough L1 give 0', () => {
    expect(effectiveSpreadBps([[100, 1]], [[100, 1]], 0.5)).toBe(0);
  });
});

describe('absorption, sweep, liquidity ahead', () => {
  it('absorption: sells hit the bid, buys the ask; (bid − ask)/(bid + ask)', () => {
    expect(absorption([tr('1', 100, 3, 'sell'), tr('2', 100, 1, 'buy'), tr('3', 100, 9, null)])).toEqual({ bid: 3, ask: 1, norm: 0.5 });
    expect(absorption([])).toEqual({ bid: 0, ask: 0, norm: 0 });
  });
  it('sweep: price range of the trades within 100 ms of the newest, as a fraction of their centre', () => {
    const ts = [tr('a', 90, 1, 'buy', 1000), tr('b', 101, 1, 'buy', 1150), tr('c', 103, 1, 'buy', 1200)];
    expect(sweepScore(ts)).toBeCloseTo(2 / 102, 12);
    expect(sweepScore(ts, 250)).toBeCloseTo(13 / 96.5, 12);
    expect(sweepScore([tr('a', 100, 1, 'buy', 5)])).toBe(0);
    expect(sweepScore([])).toBe(0);
  });
  it('sweep uses the receive time when there is no exchange time', () => {
    const ts = [tr('a', 100, 1, 'buy', null, 0), tr('b', 104, 1, 'buy', null, 500)];
    expect(sweepScore(ts)).toBe(0);
    expect(sweepScore(ts, 500)).toBeCloseTo(4 / 102, 12);
  });
  it('liquidity ahead: mean size of the first 5 levels', () => {
    expect(liquidityAhead([[100, 2], [99, 4]])).toBe(3);
    expect(liquidityAhead([1, 2, 3, 4, 5, 6, 7].map((q) => [100 - q, q] as Level))).toBe(3);
    expect(liquidityAhead([])).toBe(0);
  });
});

describe('consensus and the local TRAP flag', () => {
  it('consensus needs OBI and TFI beyond their thresholds on the same side', () => {
    expect(consensus(0.2, 0.1)).toBe('long');
    expect(consensus(-0.25, -0.1)).toBe('short');
    expect(consensus(0.3, 0.05)).toBeNull();
    expect(consensus(0.3, -0.3)).toBeNull();
    expect(consensus(null, 0.5)).toBeNull();
  });
  it('flags when at least two of {|OBI| >= 0.2, sign(OBI) != sign(TFI), |TFI| >= 0.1} hold', () => {
    expect(localTrapFlag(0.3, 0.2)).toBe(true); // strong both ways, same sign: 2 of 3
    expect(localTrapFlag(0.3, -0.05)).toBe(true); // strong OBI + conflict
    expect(localTrapFlag(0.1, -0.05)).toBe(false); // conflict only
    expect(localTrapFlag(0.1, 0.15)).toBe(false); // strong TFI only
    expect(localTrapFlag(0.3, null)).toBe(true); // literal rule: TFI null has sign 0
    expect(localTrapFlag(null, null)).toBe(false);
    expect(localTrapFlag(0.1, 0.05, { ...DEFAULT_FEATURES, trap_flag_obi: 0.05 })).toBe(false); // 0.1 ok, signs agree, tfi weak
  });
});

describe('latency_ms', () => {
  it('t_send − (t_exch + offset), never a constant', () => {
    expect(latencyMs({ tSendMs: 1000, tExchMs: 900, tRecvMs: 980, clockOffsetMs: 50 })).toBe(50);
    expect(latencyMs({ tSendMs: 1007.4, tExchMs: 1000, tRecvMs: 1003, clockOffsetMs: 0 })).toBeCloseTo(7.4, 9);
  });
  it('falls back to t_send − t_recv without an exchange time', () => {
    expect(latencyMs({ tSendMs: 1000, tExchMs: null, tRecvMs: 980, clockOffsetMs: 50 })).toBe(20);
  });
  it('is floored at 0 when the offset overshoots', () => {
    expect(latencyMs({ tSendMs: 1000, tExchMs: 990, tRecvMs: 995, clockOffsetMs: 50 })).toBe(0);
  });
  it('clock offset from a sync round trip assumes a mid-flight server stamp', () => {
    expect(clockOffsetFromSync(1000, 5000, 1010)).toBe(-3995);
  });
});
