import { describe, expect, it } from 'vitest';
import { DEFAULT_EXITS, ExitEngine, type ExitOpen, type ExitParams, type ExitTick } from '../../../src/runner/logic/exits.ts';

// entry 100, ATR 1: SL 99.2 / TP 101.2 for a long (R unit 0.8); ladder at 100.2 / 100.4 / 100.7;
// breakeven from 100.64 (0.8 R) at 100 + 0.01 fees + 2 bps = 100.03; trail armed from 100.4 (0.5 R), px − 0.8
const LONG: ExitOpen = { side: 'LONG', entry: 100, qty: 1, atr: 1, openedAtMs: 0, feesPerUnit: 0.01 };
const SHORT: ExitOpen = { ...LONG, side: 'SHORT' };
const NO_LADDER: ExitParams = { ...DEFAULT_EXITS, tp_levels_bps: [], tp_sizes: [] };

const tick = (nowMs: number, bid: number, ask: number, remainingQty: number, score: number | null = null): ExitTick => ({ nowMs, bid, ask, remainingQty, score });

describe('exit engine geometry', () => {
  it('initial SL/TP from the ATR multiples, mirrored for shorts', () => {
    const l = new ExitEngine(LONG);
    expect(l.initialStop).toBeCloseTo(99.2, 12);
    expect(l.takeProfit).toBeCloseTo(101.2, 12);
    const s = new ExitEngine(SHORT);
    expect(s.initialStop).toBeCloseTo(100.8, 12);
    expect(s.takeProfit).toBeCloseTo(98.8, 12);
  });
  it('refuses an unknown ATR and scale-in', () => {
    expect(() => new ExitEngine({ ...LONG, atr: 0 })).toThrow(RangeError);
    expect(() => new ExitEngine({ ...LONG, atr: NaN })).toThrow(RangeError);
    expect(() => new ExitEngine(LONG, { ...DEFAULT_EXITS, scale_in_enabled: true })).toThrow(RangeError);
  });
});

describe('hard SL / TP on the touch price', () => {
  it('long: bid at the stop -> sl (even with the ask far above)', () => {
    expect(new ExitEngine(LONG).update(tick(1, 99.21, 99.5, 1)).action.kind).toBe('hold');
    expect(new ExitEngine(LONG).update(tick(1, 99.2, 99.5, 1)).action).toEqual({ kind: 'exit', qty: 1, reason: 'sl', full: true });
  });
  it('long: bid at the take-profit -> tp for everything (checked before the ladder)', () => {
    expect(new ExitEngine(LONG).update(tick(1, 101.2, 101.3, 1)).action).toEqual({ kind: 'exit', qty: 1, reason: 'tp', full: true });
  });
  it('short: the ask is the touch price', () => {
    expect(new ExitEngine(SHORT).update(tick(1, 100.7, 100.79, 1)).action.kind).toBe('hold');
    expect(new ExitEngine(SHORT).update(tick(1, 100.7, 100.8, 1)).action).toMatchObject({ reason: 'sl', qty: 1 });
    expect(new ExitEngine(SHORT).update(tick(1, 98.7, 98.8, 1)).action).toMatchObject({ reason: 'tp', qty: 1 });
  });
});

describe('long: TP ladder, breakeven, then the breakeven stop', () => {
  it('runs the sequence with slices of the initial qty and R against the initial stop', () => {
    const e = new ExitEngine(LONG);
    expect(e.update(tick(1000, 100.0, 100.1, 1))).toMatchObject({ action: { kind: 'hold' }, stopKind: 'initial' });

    let u = e.update(tick(2000, 100.25, 100.3, 1)); // 25 bps
    expect(u.action).toEqual({ kind: 'exit', qty: 0.25, reason: 'tp_ladder_1', full: false });
    expect(u.stopKind).toBe('initial');

    u = e.update(tick(2500, 100.25, 100.3, 1)); // not filled yet: the level is not repeated
    expect(u.action.kind).toBe('hold');

    u = e.update(tick(3000, 100.45, 100.5, 0.75)); // 45 bps, R 0.5625: second slice, trail armed
    expect(u.action).toEqual({ kind: 'exit', qty: 0.35, reason: 'tp_ladder_2', full: false });
    expect(u.stopKind).toBe('trail');
    expect(u.stop).toBeCloseTo(99.65, 12);
    expect(u.events.map((x) => x.kind)).toEqual(['trail_armed', 'trail_moved']);

    u = e.update(tick(4000, 100.65, 100.7, 0.4)); // R 0.8125: breakeven beats the trail (99.85)
    expect(u.action.kind).toBe('hold');
    expect(u.stopKind).toBe('breakeven');
    expect(u.stop).toBeCloseTo(100.03, 12);
    expect(e.rOf(100.64)).toBeCloseTo(0.8, 12); // still against the initial stop distance

    u = e.update(tick(5000, 100.03, 100.08, 0.4));
    expect(u.action).toEqual({ kind: 'exit', qty: 0.4, reason: 'breakeven_stop', full: true });
    expect(e.update(tick(6000, 100.5, 100.6, 0.4)).action).toEqual({ kind: 'exit', qty: 0.4, reason: 'breakeven_stop', full: true }); // latched
    expect(e.update(tick(7000, 100.5, 100.6, 0)).action.kind).toBe('hold'); // flat by fills
  });

  it('the last ladder level closes the remainder; levels crossed at once go out as one slice', () => {
    const e = new ExitEngine(LONG);
    expect(e.update(tick(1, 100.45, 100.5, 1)).action).toEqual({ kind: 'exit', qty: 0.6, reason: 'tp_ladder_2', full: false });
    // fills left 0.41 (say the exchange rounded); the last level takes whatever remains
    expect(e.update(tick(2, 100.7, 100.75, 0.41)).action).toEqual({ kind: 'exit', qty: 0.41, reason: 'tp_ladder_3', full: true });
  });

  it('ladder slices are quantised cumulatively; an unclosable remainder goes with the slice', () => {
    const e = new ExitEngine({ ...LONG, qty: 0.007, lotStep: 0.001, minQty: 0.001 });
    expect(e.update(tick(1, 100.2, 100.3, 0.007)).action).toEqual({ kind: 'exit', qty: 0.001, reason: 'tp_ladder_1', full: false }); // 0.00175 -> 0.001
    expect(e.update(tick(2, 100.4, 100.5, 0.006)).action).toEqual({ kind: 'exit', qty: 0.003, reason: 'tp_ladder_2', full: false }); // 0.0042 -> 0.004
    expect(e.update(tick(3, 100.7, 100.8, 0.003)).action).toEqual({ kind: 'exit', qty: 0.003, reason: 'tp_ladder_3', full: true });

    const tiny = new ExitEngine({ ...LONG, qty: 0.002, lotStep: 0.001, minQty: 0.001 });
    expect(tiny.update(tick(1, 100.2, 100.3, 0.002)).action.kind).toBe('hold'); // 0.0005 rounds to nothing
    expect(tiny.update(tick(2, 100.4, 100.5, 0.002)).action).toEqual({ kind: 'exit', qty: 0.002, reason: 'tp_ladder_2', full: true }); // 0.001 would leave 0.001 = min qty
  });
});

describe('short: ATR trail after 0.5 R, breakeven, trail, trail stop', () => {
  it('moves the stop only in the tightening direction and stops on the ask', () => {
    const e = new ExitEngine(SHORT, NO_LADDER);
    let u = e.update(tick(1000, 99.5, 99.55, 1)); // R 0.5625
    expect(u.stopKind).toBe('trail');
    expect(u.stop).toBeCloseTo(100.35, 12);

    u = e.update(tick(1500, 99.8, 99.85, 1)); // price backs off: the stop does not loosen
    expect(u.stop).toBeCloseTo(100.35, 12);

    u = e.update(tick(2000, 99.25, 99.3, 1)); // R 0.875: breakeven 99.97 beats trail 100.1
    expect(u.stopKind).toBe('breakeven');
    expect(u.stop).toBeCloseTo(99.97, 12);
    expect(u.events).toEqual([{ kind: 'breakeven_set', stop: expect.closeTo(99.97, 12) }]);

    u = e.update(tick(3000, 98.85, 98.9, 1)); // trail 99.7 beats breakeven
    expect(u.stopKind).toBe('trail');
    expect(u.stop).toBeCloseTo(99.7, 12);

    expect(e.update(tick(3500, 99.6, 99.69, 1)).action.kind).toBe('hold');
    expect(e.update(tick(4000, 99.6, 99.7, 1)).action).toEqual({ kind: 'exit', qty: 1, reason: 'trail_stop', full: true });
  });

  it('short TP ladder on the ask', () => {
    const e = new ExitEngine(SHORT);
    expect(e.update(tick(1, 99.7, 99.8, 1)).action).toEqual({ kind: 'exit', qty: 0.25, reason: 'tp_ladder_1', full: false });
  });
});

describe('time, no-progress, reversal, soft exit, shutdown', () => {
  it('time stop at max_position_age_sec (90 s)', () => {
    const e = new ExitEngine(LONG);
    expect(e.update(tick(89_999, 100, 100.1, 1)).action.kind).toBe('hold');
    expect(e.update(tick(90_000, 100, 100.1, 1)).action).toEqual({ kind: 'exit', qty: 1, reason: 'time_stop', full: true });
  });

  it('no-progress: after no_progress_after_sec still within ±eps bps of entry (short measured on the ask)', () => {
    const p = { ...DEFAULT_EXITS, max_position_age_sec: 1000 };
    expect(new ExitEngine(LONG, p).update(tick(299_999, 100.04, 100.1, 1)).action.kind).toBe('hold');
    expect(new ExitEngine(LONG, p).update(tick(300_000, 100.04, 100.1, 1)).action).toMatchObject({ reason: 'no_progress' });
    expect(new ExitEngine(LONG, p).update(tick(300_000, 99.96, 100.0, 1)).action).toMatchObject({ reason: 'no_progress' });
    expect(new ExitEngine(LONG, p).update(tick(300_000, 100.06, 100.1, 1)).action.kind).toBe('hold');
    expect(new ExitEngine(SHORT, p).update(tick(300_000, 99.9, 100.04, 1)).action).toMatchObject({ reason: 'no_progress' });
  });

  it('reversal after 2 consecutive scores against the position', () => {
    const e = new ExitEngine(LONG);
    expect(e.update(tick(1, 100, 100.1, 1, -0.4)).action.kind).toBe('hold');
    expect(e.update(tick(2, 100, 100.1, 1, -0.5)).action).toEqual({ kind: 'exit', qty: 1, reason: 'reversal', full: true });

    const broken = new ExitEngine(LONG);
    for (const s of [-0.4, 0.1, -0.4]) expect(broken.update(tick(1, 100, 100.1, 1, s)).action.kind).toBe('hold');

    const gaps = new ExitEngine(LONG); // a tick without a score neither counts nor resets
    expect(gaps.update(tick(1, 100, 100.1, 1, -0.4)).action.kind).toBe('hold');
    expect(gaps.update(tick(2, 100, 100.1, 1, null)).action.kind).toBe('hold');
    expect(gaps.update(tick(3, 100, 100.1, 1, -0.4)).action).toMatchObject({ reason: 'reversal' });

    const short = new ExitEngine(SHORT);
    short.update(tick(1, 100, 100.1, 1, 0.4));
    expect(short.update(tick(2, 100, 100.1, 1, 0.36)).action).toMatchObject({ reason: 'reversal' });
    const weak = new ExitEngine(SHORT);
    weak.update(tick(1, 100, 100.1, 1, 0.3));
    expect(weak.update(tick(2, 100, 100.1, 1, 0.3)).action.kind).toBe('hold'); // below the threshold
  });

  it('soft exit only when enabled', () => {
    expect(new ExitEngine(LONG).update(tick(1, 100, 100.1, 1, 0.01)).action.kind).toBe('hold');
    expect(new ExitEngine(LONG, { ...DEFAULT_EXITS, soft_exit: true }).update(tick(1, 100, 100.1, 1, 0.01)).action).toMatchObject({ reason: 'signal_exit' });
  });

  it('shutdown flattens and latches; an exit already under way keeps its reason', () => {
    const e = new ExitEngine(LONG);
    expect(e.shutdown(0)).toEqual({ kind: 'hold' });
    expect(e.shutdown(0.5)).toEqual({ kind: 'exit', qty: 0.5, reason: 'shutdown', full: true });
    expect(e.update(tick(1, 100.5, 100.6, 0.5)).action).toMatchObject({ reason: 'shutdown' });
    const s = new ExitEngine(LONG);
    s.update(tick(1, 99, 99.1, 1));
    expect(s.shutdown(1)).toMatchObject({ reason: 'sl' });
  });
});

describe('busy: an exit cannot be placed now', () => {
  it('the ladder neither advances nor plans a slice while busy; it fires on the next free tick', () => {
    const e = new ExitEngine(LONG);
    expect(e.update({ ...tick(1, 100.25, 100.3, 1), busy: true }).action.kind).toBe('hold');
    expect(e.update({ ...tick(2, 100.25, 100.3, 1), busy: true }).action.kind).toBe('hold');
    expect(e.update(tick(3, 100.25, 100.3, 1)).action).toEqual({ kind: 'exit', qty: 0.25, reason: 'tp_ladder_1', full: false });
  });
  it('full exits still latch while busy', () => {
    const e = new ExitEngine(LONG);
    expect(e.update({ ...tick(1, 99.2, 99.3, 1), busy: true }).action).toEqual({ kind: 'exit', qty: 1, reason: 'sl', full: true });
  });
});
