import { describe, expect, it } from 'vitest';
import { RealClock, VirtualClock } from '../../../src/runner/clock.ts';
import { seededRandom as ClientSeededRandom } from '../../../src/client/index.ts';
import { Rng as RunnerRng } from '../../../src/runner/rng.ts';
import { logGamma, Rng, seededRandom } from '../../../src/util/rng.ts';

function moments(draw: () => number, n: number): { mean: number; variance: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    s += x;
    s2 += x * x;
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean };
}

describe('Rng', () => {
  it('same seed ⇒ same sequence; another seed ⇒ another sequence', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 1000 }, () => a.nextU32());
    expect(Array.from({ length: 1000 }, () => b.nextU32())).toEqual(xs);
    const c = new Rng(43);
    const ys = Array.from({ length: 1000 }, () => c.nextU32());
    expect(ys.filter((y, i) => y === xs[i]).length).toBeLessThan(3);
    expect(new Set(xs).size).toBe(1000);
  });

  it('is the same algorithm as when the committed sample was generated (sfc32 via splitmix32; pinned draws)', () => {
    const r = new Rng(42);
    expect(Array.from({ length: 4 }, () => r.nextU32())).toEqual([1028872839, 2516511472, 400437680, 853279530]);
    const f = new Rng(42).fork('book');
    expect([f.nextU32(), f.nextU32()]).toEqual([529338339, 1392393533]);
    // the runner's import path is the same module
    expect(RunnerRng).toBe(Rng);
  });

  it('seededRandom(seed) (client jitter, test inputs) draws Rng(seed).next()', () => {
    const a = seededRandom(42);
    const b = new Rng(42);
    expect(Array.from({ length: 100 }, () => a())).toEqual(Array.from({ length: 100 }, () => b.next()));
    expect(ClientSeededRandom).toBe(seededRandom);
  });

  it('fork(label) is stable whatever the parent drew, and differs per label', () => {
    const p1 = new Rng(7);
    const p2 = new Rng(7);
    for (let i = 0; i < 100; i++) p2.next();
    const f1 = p1.fork('book');
    const f2 = p2.fork('book');
    const seq = Array.from({ length: 50 }, () => f1.next());
    expect(Array.from({ length: 50 }, () => f2.next())).toEqual(seq);
    const other = new Rng(7).fork('flow');
    expect(Array.from({ length: 50 }, () => other.next())).not.toEqual(seq);
  });

  it('uniform is in [0, 1) with mean 1/2 and variance 1/12; int covers its inclusive range evenly', () => {
    const r = new Rng(1);
    let outside = 0;
    const m = moments(() => {
      const x = r.next();
      if (!(x >= 0 && x < 1)) outside++;
      return x;
    }, 100_000);
    expect(outside).toBe(0);
    expect(m.mean).toBeCloseTo(0.5, 2);
    expect(m.variance).toBeCloseTo(1 / 12, 2);
    const counts = new Map<number, number>();
    for (let i = 0; i < 60_000; i++) {
      const k = r.int(-2, 3);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3]);
    for (const c of counts.values()) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it('normal, exponential, gamma and poisson have their textbook mean and variance', () => {
    const r = new Rng(2024);
    const n = 200_000;
    const normal = moments(() => r.normal(3, 2), n);
    expect(normal.mean).toBeCloseTo(3, 1);
    expect(normal.variance / 4).toBeCloseTo(1, 1);

    const exp = moments(() => r.exponential(4), n);
    expect(exp.mean).toBeCloseTo(0.25, 2);
    expect(exp.variance / 0.0625).toBeCloseTo(1, 1);

    for (const [k, theta] of [
      [0.5, 2],
      [2, 0.5],
      [9, 1.5],
    ]) {
      const g = moments(() => r.gamma(k, theta), n);
      expect(g.mean / (k * theta)).toBeCloseTo(1, 1);
      expect(g.variance / (k * theta * theta)).toBeCloseTo(1, 1);
    }

    // Small λ (product method) and large λ (PTRS): mean = variance = λ.
    for (const lambda of [0.05, 4, 50, 400]) {
      const p = moments(() => r.poisson(lambda), n);
      expect(p.mean / lambda).toBeCloseTo(1, 1);
      expect(p.variance / lambda).toBeCloseTo(1, 1);
    }
    expect(r.poisson(0)).toBe(0);
  });

  it('rejects impossible parameters', () => {
    const r = new Rng(0);
    expect(() => r.exponential(0)).toThrow(RangeError);
    expect(() => r.gamma(0)).toThrow(RangeError);
    expect(() => r.poisson(-1)).toThrow(RangeError);
    expect(() => r.int(3, 2)).toThrow(RangeError);
    expect(() => new Rng(Number.NaN)).toThrow(RangeError);
  });

  it('logGamma matches known values', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(logGamma(101)).toBeCloseTo(363.73937555556347, 9); // ln(100!)
  });
});

describe('clocks', () => {
  it('VirtualClock moves only when told, forward only', () => {
    const c = new VirtualClock(1767225600000);
    expect(c.nowMs()).toBe(1767225600000);
    expect(c.monoMs()).toBe(0);
    c.advanceTo(1767225600250);
    c.advanceTo(1767225600250);
    c.advanceBy(5);
    expect(c.nowMs()).toBe(1767225600255);
    expect(c.monoMs()).toBe(255);
    expect(() => c.advanceTo(1767225600254)).toThrow(/backwards/);
    expect(() => c.advanceBy(-1)).toThrow(RangeError);
    expect(() => c.advanceTo(Number.NaN)).toThrow(RangeError);
    expect(c.nowMs()).toBe(1767225600255);
  });

  it('RealClock reads the wall and a monotonic clock', () => {
    const c = new RealClock();
    expect(Math.abs(c.nowMs() - Date.now())).toBeLessThan(50);
    const a = c.monoMs();
    expect(c.monoMs()).toBeGreaterThanOrEqual(a);
  });
});
