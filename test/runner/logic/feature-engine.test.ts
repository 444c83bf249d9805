import { describe, expect, it } from 'vitest';
import { alphaInputs, FeatureEngine } from '../../../src/runner/logic/feature-engine.ts';
import type { Trade } from '../../../src/runner/logic/types.ts';

const trade = (id: string, price: number, qty: number, aggressor: 'buy' | 'sell' | null, t: number): Trade => ({ id, price, qty, aggressor, exchTs: t - 5, recvTs: t });

describe('feature engine (one symbol, events in, snapshot per decision tick)', () => {
  it('computes every feature of a small hand-checked book and tape', () => {
    const e = new FeatureEngine();
    expect(e.onDelta([[100, 1]], [[101, 1]], 0, 0)).toBe(false); // before the snapshot
    e.onSnapshot(
      [
        [100, 3],
        [99, 1],
      ],
      [
        [101, 1],
        [102, 1],
      ],
      -4,
      0,
    );
    expect(e.onTrade(trade('t1', 101, 2, 'buy', 500))).toBe(true);
    expect(e.onTrade(trade('t1', 101, 2, 'buy', 550))).toBe(false); // duplicate id
    e.onTrade(trade('t2', 100, 1, 'sell', 600));
    const s = e.tick(1000);
    expect(s.health).toBe('ok');
    expect(s.mid).toBe(100.5);
    expect(s.obi).toBeCloseTo(1 / 3, 12); // 4 vs 2
    expect(s.tfi).toBeCloseTo(1 / 3, 12); // 2 buy vs 1 sell
    expect(s.microPrice).toBeCloseTo((100 * 1 + 101 * 3) / 4, 12);
    expect(s.microBias).toBeCloseTo(0.25, 12);
    expect(s.spreadBpsRaw).toBeCloseTo((1 / 100.5) * 1e4, 9);
    expect(s.effSpreadBps).toBeCloseTo((1 / 100.5) * 1e4, 9); // 0.001 fills at L1
    expect(s.absorb).toEqual({ bid: 1, ask: 2, norm: -1 / 3 });
    expect(s.sweep).toBeCloseTo(1 / 100.5, 12); // prints 100 ms apart on exchange time
    expect(s.liquidityAheadBid).toBe(2);
    expect(s.vol1mBps).toBe(0);
    expect(s.atr).toBeNull();
    expect(s.atrBps).toBe(0); // falls back to vol
    expect(s.ofi).toBe(0);
    expect(s.trendAlign).toBe(0);
    expect(s.regime).toBe('normal');
    expect(s.consensus).toBe('long');
    expect(s.trapFlag).toBe(true); // |OBI| >= 0.2 and |TFI| >= 0.1
    expect(s.trap).toEqual({ cancel: [0, 0, 0, 0, 0], add: [0, 0, 0, 0, 0], tradesCnt: 2 });
    expect([s.obiSign, s.tfiSign]).toEqual([1, 1]);
    expect([s.bookExchTs, s.bookRecvTs]).toEqual([-4, 0]);
    expect(alphaInputs(s)).toEqual({ OBI: s.obi, TFI: s.tfi, ABSORB: -1 / 3, MICRO_BIAS: s.microBias, OFI: 0, TREND_ALIGN: 0 });

    e.onDelta([[100, 5]], [], 1195, 1200); // bid L1 grows by 2
    const s2 = e.tick(2000);
    expect(s2.ofi).toBeCloseTo(2 / ((2 + 3) / 2), 12);
    expect(s2.trap.add).toEqual([2, 0, 0, 0, 0]);
    expect(s2.trap.tradesCnt).toBe(2);
    expect(s2.obiPersist.pos).toBe(1);
    expect(s2.tfi).toBeCloseTo(1 / 3, 12); // trades still within 5 s
    expect(e.tick(5601).tfi).toBeNull(); // ... and now they are not
  });

  it('builds 1-minute bars from trades and reports ATR in price and bps', () => {
    const e = new FeatureEngine();
    e.onSnapshot([[100, 1]], [[101, 1]], 0, 0);
    for (let m = 0; m < 15; m++) {
      const t0 = m * 60_000;
      e.onTrade(trade(`a${m}`, 101, 1, 'buy', t0 + 10));
      e.onTrade(trade(`b${m}`, 102, 1, 'buy', t0 + 20));
      e.onTrade(trade(`c${m}`, 100, 1, 'sell', t0 + 30));
      e.onTrade(trade(`d${m}`, 101, 1, 'sell', t0 + 40));
    }
    expect(e.tick(14 * 60_000 + 100).atr).toBeNull(); // 14 closed bars
    const s = e.tick(15 * 60_000);
    expect(s.atr).toBe(2);
    expect(s.atrBps).toBeCloseTo((2 / 100.5) * 1e4, 9);
    expect(s.health).toBe('stale_book'); // no book update for 15 minutes
  });

  it('realised vol and trend follow the mid', () => {
    const e = new FeatureEngine();
    e.onSnapshot([[99.5, 1]], [[100.5, 1]], 0, 0); // mid 100
    e.tick(0);
    e.onDelta([[99.5, 0], [100.5, 1]], [[100.5, 0], [101.5, 1]], 1000, 1000); // mid 101
    const s = e.tick(1000);
    expect(s.vol1mBps).toBeCloseTo(1e4 * Math.log(1.01), 9);
    expect(s.trendAlign).toBe(1);
    expect(s.regime).toBe('trend_pos');
  });
});
