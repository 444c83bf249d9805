import { describe, expect, it } from 'vitest';
import { atrBps, atrPrice, atrWilder, BarBuilder, trueRange, type Bar } from '../../../src/runner/logic/bars.ts';
import { OfiWindow, ofiIncrement } from '../../../src/runner/logic/ofi.ts';
import { TradeTape } from '../../../src/runner/logic/trade-tape.ts';
import { ObiPersistence, regimeOf, TrendTracker } from '../../../src/runner/logic/trend.ts';
import type { Trade } from '../../../src/runner/logic/types.ts';
import { priceDispersionBps, RealizedVol } from '../../../src/runner/logic/volatility.ts';

describe('realised volatility (1 s log returns of mid, last 60 s)', () => {
  it('1e4·sqrt(Σ r²)', () => {
    const v = new RealizedVol();
    v.push(100, 0);
    v.push(101, 1000);
    v.push(100, 2000);
    // r1 = ln(1.01), r2 = ln(100/101) = −ln(1.01)
    expect(v.volBps(2000)).toBeCloseTo(1e4 * Math.SQRT2 * Math.log(1.01), 9);
  });
  it('the last mid of a second wins; quiet seconds carry the mid forward', () => {
    const v = new RealizedVol();
    v.push(100, 0);
    v.push(105, 500);
    v.push(101, 999);
    v.push(101, 1000);
    expect(v.volBps(1000)).toBe(0);
    const w = new RealizedVol();
    w.push(100, 0);
    w.push(101, 5000); // one return over the gap: the four quiet seconds return 0
    expect(w.volBps(5000)).toBeCloseTo(1e4 * Math.log(1.01), 9);
  });
  it('only returns ending inside the last 60 s count', () => {
    const v = new RealizedVol();
    v.push(100, 0);
    v.push(110, 1000);
    v.push(110, 61_000);
    expect(v.volBps(60_999)).toBeCloseTo(1e4 * Math.log(1.1), 9); // second 1 is still in (60, 0]
    expect(v.volBps(61_000)).toBe(0); // now the jump's second is the window base
  });
  it('0 with fewer than two sampled seconds; ignores bad mids', () => {
    const v = new RealizedVol();
    expect(v.volBps(0)).toBe(0);
    v.push(100, 0);
    v.push(NaN, 1000);
    v.push(0, 2000);
    expect(v.volBps(2000)).toBe(0);
  });
  it('keeps the price-dispersion measure as a diagnostic', () => {
    expect(priceDispersionBps([100, 102])).toBeCloseTo((1 / 102) * 1e4, 9); // pstdev 1
    expect(priceDispersionBps([100])).toBe(0);
    const v = new RealizedVol({ vol_window_ms: 60_000, sample_ms: 1000, dispersion_samples: 2 });
    v.push(50, 0);
    v.push(100, 1);
    v.push(102, 2);
    expect(v.dispersionBps()).toBeCloseTo((1 / 102) * 1e4, 9);
  });
});

describe('1-minute bars and Wilder ATR(14)', () => {
  it('builds OHLCV from trades and closes a bar when its minute ends', () => {
    const b = new BarBuilder();
    b.addTrade(100, 1, 0);
    b.addTrade(102, 2, 30_000);
    b.addTrade(99, 1, 59_999);
    b.addTrade(101, 1, 60_000);
    expect(b.closed(60_000)).toEqual([{ startMs: 0, open: 100, high: 102, low: 99, close: 99, volume: 4 }]);
    expect(b.closed(119_999)).toHaveLength(1);
    expect(b.closed(120_000)).toHaveLength(2);
  });
  it('fills quiet minutes with flat zero-volume bars and drops late prints', () => {
    const b = new BarBuilder();
    b.addTrade(100, 1, 0);
    b.addTrade(101, 1, 60_000);
    b.addTrade(105, 1, 240_000);
    b.addTrade(1, 1, 10_000); // late print for a closed minute
    expect(b.closed(300_000).map((x) => [x.startMs, x.open, x.close, x.volume])).toEqual([
      [0, 100, 100, 1],
      [60_000, 101, 101, 1],
      [120_000, 101, 101, 0],
      [180_000, 101, 101, 0],
      [240_000, 105, 105, 1],
    ]);
  });
  it('takes ready bars (bar_1m lines) and keeps at most max_bars', () => {
    const b = new BarBuilder({ bar_ms: 60_000, max_bars: 3, atr_period: 14 });
    for (let i = 0; i < 5; i++) b.addBar({ startMs: i * 60_000, open: i, high: i, low: i, close: i, volume: 1 });
    expect(b.closed(1e9).map((x) => x.startMs)).toEqual([120_000, 180_000, 240_000]);
  });

  const flat = (i: number): Bar => ({ startMs: i * 60_000, open: 100, high: 101, low: 99, close: 100, volume: 1 });
  it('true range', () => {
    expect(trueRange(flat(1), 100)).toBe(2);
    expect(trueRange({ ...flat(1), high: 104, low: 104, close: 104 }, 100)).toBe(4); // gap up
    expect(trueRange({ ...flat(1), high: 97, low: 95 }, 100)).toBe(5); // gap down
  });
  it('is undefined with fewer than 15 bars; seed = mean TR of bars 1..14; then ATR += (TR − ATR)/14', () => {
    const bars = Array.from({ length: 14 }, (_, i) => flat(i));
    expect(atrWilder(bars)).toBeNull();
    bars.push(flat(14));
    expect(atrWilder(bars)).toBe(2);
    bars.push({ startMs: 15 * 60_000, open: 100, high: 110, low: 100, close: 105, volume: 1 }); // TR 10
    expect(atrWilder(bars)).toBeCloseTo(2 + 8 / 14, 12);
  });
  it('atr_bps falls back to vol_1m_bps; the exit ATR to mid·vol/1e4', () => {
    expect(atrBps(2, 10_000, 7)).toBe(2);
    expect(atrBps(null, 10_000, 7)).toBe(7);
    expect(atrBps(2, null, 7)).toBe(7);
    expect(atrPrice(null, 10_000, 7)).toBe(7);
    expect(atrPrice(3, 10_000, 7)).toBe(3);
  });
});

describe('best-level OFI', () => {
  it('increments: bid +q′ if up, q′ − q if unchanged, −q if down; ask mirrored and subtracted', () => {
    expect(ofiIncrement([100, 2], [101, 3], [100, 5], [101, 3])).toBe(3);
    expect(ofiIncrement([100, 2], [101, 3], [100.5, 4], [100.8, 2])).toBe(4 - 2); // bid up, ask down
    expect(ofiIncrement([100, 2], [101, 3], [99.5, 7], [101.5, 9])).toBe(-2 + 3); // bid down, ask up
    expect(ofiIncrement([100, 2], [101, 3], [100, 2], [101, 1])).toBe(2); // ask shrank at the same price
  });
  it('sums over 5 s and divides by the mean L1 depth, clamped', () => {
    const w = new OfiWindow();
    expect(w.value(0)).toBe(0);
    w.update([100, 2], [101, 3], 0);
    expect(w.value(0)).toBe(0); // first update has no predecessor
    w.update([100, 5], [101, 3], 100);
    expect(w.value(100)).toBeCloseTo(3 / ((2.5 + 4) / 2), 12);
    expect(w.value(5100)).toBeCloseTo(3 / 4, 12); // the t=0 update left the window
    expect(w.value(5101)).toBe(0);
    w.update([100, 50], [101, 3], 5200);
    expect(w.value(5200)).toBe(1);
  });
  it('an empty side breaks the chain', () => {
    const w = new OfiWindow();
    w.update([100, 2], [101, 3], 0);
    w.update(null, [101, 3], 10);
    w.update([100, 9], [101, 3], 20);
    expect(w.value(20)).toBe(0);
  });
});

describe('trend alignment and OBI persistence', () => {
  it('EMAs of one-tick returns with α = 2/16 and 2/61; align = (sign fast + sign slow)/2', () => {
    const t = new TrendTracker();
    expect(t.align()).toBe(0);
    expect(t.regime()).toBe('normal');
    t.update(100);
    t.update(100.1); // r = 0.001 seeds both
    expect(t.align()).toBe(1);
    expect(t.regime()).toBe('trend_pos');
    t.update(99); // r = −0.010989
    const r2 = (99 - 100.1) / 100.1;
    expect(t.emaFast).toBeCloseTo(0.001 + (2 / 16) * (r2 - 0.001), 15);
    expect(t.emaSlow).toBeCloseTo(0.001 + (2 / 61) * (r2 - 0.001), 15);
    expect(t.align()).toBe(0); // fast < 0, slow > 0
    expect(t.regime()).toBe('normal');
    const d = new TrendTracker();
    d.update(100);
    d.update(99);
    expect(d.align()).toBe(-1);
    expect(d.regime()).toBe('trend_neg');
    expect(regimeOf(0.5)).toBe('trend_pos');
    expect(regimeOf(-0.5)).toBe('trend_neg');
  });
  it('shares of the last 5 OBI samples beyond ±0.20 (null counts as 0)', () => {
    const p = new ObiPersistence();
    expect(p.shares()).toEqual({ pos: 0, neg: 0 });
    for (const x of [0.3, 0.2, -0.25, null, 0.1]) p.push(x);
    expect(p.shares()).toEqual({ pos: 0.4, neg: 0.2 });
    p.push(-0.2); // 0.3 drops out
    expect(p.shares()).toEqual({ pos: 0.2, neg: 0.4 });
  });
});

describe('trade tape', () => {
  const t = (id: string, recvTs: number, qty = 1): Trade => ({ id, price: 100, qty, aggressor: 'buy', exchTs: recvTs - 2, recvTs });
  it('de-duplicates by id and windows inclusively on receive time', () => {
    const tape = new TradeTape();
    expect(tape.add(t('a', 1000))).toBe(true);
    expect(tape.add(t('a', 1200))).toBe(false);
    expect(tape.add(t('b', 3000))).toBe(true);
    expect(tape.window(6000, 5000).map((x) => x.id)).toEqual(['a', 'b']);
    expect(tape.window(6001, 5000).map((x) => x.id)).toEqual(['b']);
    expect(tape.window(2000, 5000).map((x) => x.id)).toEqual(['a']); // nothing from the future
  });
  it('keeps receive order for a late print and prunes by retention; ids are remembered longer', () => {
    const tape = new TradeTape({ retention_ms: 1000, id_retention_ms: 5000 });
    tape.add(t('a', 100));
    tape.add(t('c', 300));
    tape.add(t('b', 200));
    expect(tape.window(300, 1000).map((x) => x.id)).toEqual(['a', 'b', 'c']);
    tape.prune(1250);
    expect(tape.size).toBe(1);
    expect(tape.add(t('a', 1300))).toBe(false); // still remembered
    tape.prune(5300);
    expect(tape.add(t('a', 5400))).toBe(true);
  });
  it('rejects unusable prints', () => {
    const tape = new TradeTape();
    expect(tape.add({ ...t('x', 1), qty: -1 })).toBe(false);
    expect(tape.add({ ...t('y', 1), price: NaN })).toBe(false);
  });
});

describe('BarBuilder.closedAtr (cached)', () => {
  it('always equals atrWilder over closed(): trades into open and closed bars, bar_1m lines, trimming, clock running ahead', () => {
    const p = { bar_ms: 60_000, max_bars: 20, atr_period: 5 };
    const b = new BarBuilder(p);
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    let t = 0;
    let px = 100;
    for (let i = 0; i < 5000; i++) {
      const r = rnd();
      t += Math.floor(rnd() * 4000);
      px = Math.max(1, px + (rnd() - 0.5));
      if (r < 0.8) b.addTrade(px, rnd(), t);
      else if (r < 0.85) b.addTrade(px + 1, rnd(), t - 60_000); // a late print (into the last bar if it is the previous minute)
      else if (r < 0.9) {
        const start = Math.floor(t / 60_000) * 60_000 - 60_000; // a bar_1m line for the minute just ended
        b.addBar({ startMs: start, open: px, high: px + rnd(), low: px - rnd(), close: px, volume: 1 });
      }
      for (const now of [t, t + 30_000, t + 61_000]) {
        const want = atrWilder(b.closed(now), p.atr_period);
        expect(b.closedAtr(now)).toBe(want);
      }
    }
  });
});
