import { describe, expect, it } from 'vitest';
import { AlphaScorer, DEFAULT_SIGNAL, isSoftExit, RobustScaler, ScoreHistory, sideAligned, type AlphaInputs } from '../../../src/runner/logic/signal.ts';

const all = (x: number | null): AlphaInputs => ({ OBI: x, TFI: x, ABSORB: x, MICRO_BIAS: x, OFI: x, TREND_ALIGN: x });

describe('robust scaler', () => {
  it('fixes the band at [-1, 1] for the first 29 samples', () => {
    const s = new RobustScaler();
    expect(s.push(0.5)).toBe(0.5);
    expect(s.push(3)).toBe(1);
    expect(s.push(-2)).toBe(-1);
    expect(s.push(null)).toBe(0);
  });
  it('uses p05/p95 (linear interpolation) from the 30th sample on', () => {
    const s = new RobustScaler();
    for (let i = 1; i <= 29; i++) s.push(i);
    // buffer 1..29 plus 10, sorted: p05 = 2.45 (h = 1.45), p95 = 27.55 (h = 27.55); 2·(10 − 15)/25.1
    expect(s.push(10)).toBeCloseTo((2 * (10 - 15)) / 25.1, 12);
  });
  it('gives 0 when p95 = p05', () => {
    const s = new RobustScaler();
    for (let i = 0; i < 29; i++) expect(s.push(7)).toBe(1);
    expect(s.push(7)).toBe(0);
  });
  it('rolls: the oldest sample leaves the buffer', () => {
    const s = new RobustScaler(3, 0);
    s.push(1);
    s.push(2);
    s.push(3);
    s.push(0); // buffer 2, 3, 0
    // buffer 3, 0, 2.5 -> sorted 0, 2.5, 3: p05 = 0.25, p95 = 2.95; 2·(2.5 − 1.6)/2.7
    expect(s.push(2.5)).toBeCloseTo((2 * (2.5 - 1.6)) / 2.7, 12);
    expect(s.count).toBe(3);
  });
});

describe('alpha score', () => {
  it('tanh of the weighted scaled features (defaults sum to 1)', () => {
    expect(new AlphaScorer().score(all(0.5)).score).toBeCloseTo(Math.tanh(0.5), 12);
    const r = new AlphaScorer().score({ ...all(0.5), OBI: null });
    expect(r.score).toBeCloseTo(Math.tanh(0.5 * 0.7), 12); // OBI (.30) enters as 0
    expect(r.scaled.OBI).toBe(0);
    expect(new AlphaScorer().score(all(5)).score).toBeCloseTo(Math.tanh(1), 12); // the ceiling ≈ 0.762
  });
  it('takes weights from config, not renormalised', () => {
    const p = { ...DEFAULT_SIGNAL, weights: { OBI: 2, TFI: 0, ABSORB: 0, MICRO_BIAS: 0, OFI: 0, TREND_ALIGN: -1 } };
    expect(new AlphaScorer(p).score({ ...all(0), OBI: 0.5, TREND_ALIGN: 0.5 }).score).toBeCloseTo(Math.tanh(0.5), 12);
  });
});

describe('entry intent with hysteresis', () => {
  const run = (scores: number[], p = DEFAULT_SIGNAL) => {
    const h = new ScoreHistory(p);
    for (const s of scores) h.push(s);
    return h.intent();
  };
  it('needs |score| >= entry now and the mean of the last 2 beyond it on the same side', () => {
    expect(run([0.3, 0.5])).toBe('buy'); // mean 0.4
    expect(run([0.5, 0.3])).toBeNull(); // current below
    expect(run([0.1, 0.5])).toBeNull(); // mean 0.3
    expect(run([-0.5, -0.4])).toBe('sell');
    expect(run([-0.5, 0.5])).toBeNull(); // flip: mean 0
    expect(run([0.5])).toBeNull(); // not yet reconfirmed
  });
  it('the dead zone never yields an intent (no Gen-2 sells on mild bullishness)', () => {
    for (const s of [0.2, 0.34, 0, -0.1, -0.34]) expect(run([s, s])).toBeNull();
  });
  it('thresholds from params; the threshold itself counts', () => {
    expect(run([0.35], { ...DEFAULT_SIGNAL, reconfirm_ticks: 1 })).toBe('buy');
    expect(run([0.25, 0.25], { ...DEFAULT_SIGNAL, entry_threshold: 0.2 })).toBe('buy');
  });
  it('keeps the last sprt.n scores and aligns them to the side', () => {
    const h = new ScoreHistory();
    for (let i = 1; i <= 12; i++) h.push(i / 100);
    expect(h.last()).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((i) => i / 100));
    expect(h.sprtSamples('sell')).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((i) => -i / 100));
    expect(h.last(2)).toEqual([0.11, 0.12]);
  });
  it('side-aligned score and soft exit', () => {
    expect(sideAligned('buy', 0.4)).toBe(0.4);
    expect(sideAligned('sell', -0.4)).toBe(0.4);
    expect(isSoftExit(0.04)).toBe(true);
    expect(isSoftExit(-0.04)).toBe(true);
    expect(isSoftExit(0.05)).toBe(false);
  });
});
