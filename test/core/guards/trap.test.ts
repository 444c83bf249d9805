/** gate.md 3.4 / 4.2 / 4.3 TRAP: robust z, conflict rule, composite score, guard switch, min_history (D1). */
import { describe, expect, it } from 'vitest';
import type { TrapConfig } from '../../../src/core/config.ts';
import { trapScore, trapUpdate } from '../../../src/core/trap.ts';
import { codes, eventsOf, expectDecision, Gate } from './helpers.ts';

const trapIn = (cancel: number[], add: number[], trades: number, extra: Record<string, unknown> = {}) => ({
  trap_cancel_deltas: cancel,
  trap_add_deltas: add,
  trap_trades_cnt: trades,
  ...extra,
});

/** 4.3 written out: the composite score from the two sums (window 2 s). */
function score(cancelSum: number, addSum: number, dt = 2): number {
  const ratio = cancelSum / Math.max(1e-6, cancelSum + addSum);
  const repl = addSum / dt;
  const replMs = repl <= 0 ? 1000 : Math.max(0, 250 / repl);
  const c = 1 / (1 + Math.exp(-8 * (ratio - 0.5)));
  const r = Math.min(1, Math.max(0, Math.exp(-replMs / 250)));
  return Math.min(1, Math.max(0, 0.6 * c + 0.4 * r));
}

describe('cold start (D1): empty history -> spread 1e-6 -> z = ±4', () => {
  it('cancels > adds -> z = +4 -> trap_guard (row 6)', () => {
    const r = new Gate().check(trapIn([5, 4, 3, 2, 1], [1, 1, 1, 1, 1], 3));
    expectDecision(r, false, 'trap_guard', ['trap_guard:z=4.00']);
    // cancel_rate 15/2, repl_rate 5/2, trap_raw (7.5-2.5)/3
    expect(r.obs.trap).toEqual({ trap_z: 4, cancel_rate: 7.5, repl_rate: 2.5, n_trades: 3, trap_score: expect.any(Number) });
    expect(r.obs.trap.trap_score).toBeCloseTo(0.79661, 5);
    expect(r.obs.trap.trap_score).toBeCloseTo(score(15, 5), 14);
    expect(eventsOf(r.events, 'POLICY.TRAP_BLOCK')).toEqual([
      { code: 'POLICY.TRAP_BLOCK', details: { trap_z: 4, cancel_rate: 7.5, repl_rate: 2.5, n_trades: 3 } },
    ]);
    expect(codes(r.events)).not.toContain('POLICY.TRAP_GUARD'); // 0.7966 < 0.8
  });

  it('adds > cancels -> z = -4 -> allowed (row 8, first request)', () => {
    const r = new Gate().check(trapIn([1, 1, 1, 1, 1], [3, 3, 3, 3, 3], 2));
    expectDecision(r, true, 'ok', []);
    expect(r.obs.trap.trap_z).toBe(-4);
    expect(r.obs.trap.trap_score).toBeCloseTo(0.42159, 5);
  });

  it('the first trap_raw is stored in the history (count 1)', () => {
    const g = new Gate();
    g.check(trapIn([4], [], 1));
    expect(g.state.trapRaw.count).toBe(1);
    expect(g.state.trapRaw.percentile(50)).toBe(2); // 4/2/1
    expect(g.state.trapCancel.percentile(90)).toBe(2);
  });
});

describe('z threshold boundary (trap.z_threshold 2; history [0] -> spread 1e-6, z = trap_raw / 1e-6)', () => {
  // cancel 4e-6 over window 2 s -> trap_raw 2e-6 -> z = 2 exactly (powers of two only)
  const run = (cancel: number) => {
    const g = new Gate({ trap: { z_threshold: 2 } });
    expectDecision(g.check(trapIn([], [], 0)), true, 'ok', []); // history [0]
    return g.at(1).check(trapIn([cancel], [], 1));
  };

  it('z == z_threshold flags (>=)', () => {
    const r = run(4e-6);
    expect(r.obs.trap.trap_z).toBe(2);
    expectDecision(r, false, 'trap_guard', ['trap_guard:z=2.00']);
  });

  it('z just below does not flag', () => {
    const r = run(3.9998e-6);
    expect(r.obs.trap.trap_z).toBeCloseTo(1.9999, 9);
    expectDecision(r, true, 'ok', []);
  });

  it('z just above flags', () => {
    const r = run(4.0002e-6);
    expect(r.obs.trap.trap_z).toBeCloseTo(2.0001, 9);
    expectDecision(r, false, 'trap_guard', ['trap_guard:z=2.00']);
  });

  it('the default 1.64 comes from base.yaml', () => {
    expect(new Gate().cfg.trap.zThreshold).toBe(1.64);
  });
});

describe('history of 240 (4.2): the 241st push drops the oldest', () => {
  const cfg: TrapConfig = { windowS: 2, levels: 5, zThreshold: 1e9, cancelPctl: 90, scoreThreshold: 0.8, guardOn: true, minHistory: 0 };

  it('percentiles of the z history move when value 1 is dropped for 241', () => {
    const g = new Gate();
    // trap_raw = i: cancel 2i over 2 s, no adds, 1 trade
    for (let i = 1; i <= 240; i++) trapUpdate(g.state, cfg, [2 * i], [], 1, null, null);
    const h = g.state.trapRaw;
    expect(h.count).toBe(240);
    // numpy 2.4.6, default method 'linear': np.percentile(np.arange(1, 241), [10, 50, 90])
    //   -> 24.900000000000002, 120.5, 216.1 (h=23.9 -> 25 - 0.1; h=119.5; h=215.1 -> 216 + 0.1)
    expect(h.percentile(10)).toBe(24.900000000000002);
    expect(h.percentile(50)).toBe(120.5);
    expect(h.percentile(90)).toBe(216.1);

    // 241st: z against 1..240 (before adding), then 1 is dropped
    const u241 = trapUpdate(g.state, cfg, [2 * 241], [], 1, null, null);
    expect(u241.trapZ).toBeCloseTo((241 - 120.5) / (216.1 - 24.9), 9);
    expect(h.count).toBe(240);
    // now 2..241; numpy 2.4.6: np.percentile(np.arange(2, 242), [10, 50, 90]) -> 25.900000000000002, 121.5, 217.1
    expect(h.percentile(10)).toBe(25.900000000000002);
    expect(h.percentile(50)).toBe(121.5);
    expect(h.percentile(90)).toBe(217.1);
    // the cancel-rate buffer is bounded the same way
    expect(g.state.trapCancel.count).toBe(240);
    expect(g.state.trapCancel.percentile(50)).toBeCloseTo(121.5, 9);

    // 242nd: z now uses 2..241 — (300 - 121.5) / (217.1 - 25.9); with 1 still inside it would be (300-121)/192
    const u242 = trapUpdate(g.state, cfg, [600], [], 1, null, null);
    expect(u242.trapZ).toBeCloseTo(178.5 / 191.2, 9);
    expect(u242.trapZ).not.toBeCloseTo(179 / 192, 4);
  });
});

describe('conflict rule (4.2 step 7/8): both signs given and sign(obi) != sign(tfi), and cancel_rate >= p_cancel', () => {
  // equal cancels and adds -> trap_raw 0 -> z 0 on an empty history; p_cancel of a buffer holding only this value
  const balanced = (extra: Record<string, unknown>) => trapIn([1, 1, 1, 1, 1], [1, 1, 1, 1, 1], 2, extra);

  it.each([
    [0, 1, true],
    [0, -1, true],
    [1, 0, true],
    [1, -1, true],
    [-1, 1, true],
    [1, 1, false],
    [-1, -1, false],
    [0, 0, false],
    [2, 1, false],
    [-3, -1, false],
    [0.9, 1, true], // int(0.9) = 0 -> 0 vs 1
    [-0.5, 0, false], // int(-0.5) = 0
  ])('obi %s / tfi %s -> conflict %s', (obi, tfi, conflict) => {
    const r = new Gate().check(balanced({ obi_sign: obi, tfi_sign: tfi }));
    expect(r.obs.trap.trap_z).toBe(0);
    if (conflict) expectDecision(r, false, 'trap_guard', ['trap_guard:z=0.00']);
    else expectDecision(r, true, 'ok', []);
  });

  it('only one sign given -> no conflict rule', () => {
    expectDecision(new Gate().check(balanced({ obi_sign: 1 })), true, 'ok', []);
    expectDecision(new Gate().check(balanced({ obi_sign: 1, tfi_sign: null })), true, 'ok', []);
  });

  it('cancel_rate equal to p_cancel flags, below does not', () => {
    const g = new Gate();
    g.check(trapIn([10], [10], 1)); // cancel_rate 5
    // hist_cancel [5, 1] -> p90 = 5 - 4*0.1 = 4.6 > 1: conflict alone is not enough
    expectDecision(g.at(1).check(trapIn([2], [2], 1, { obi_sign: 1, tfi_sign: -1 })), true, 'ok', []);
    const g2 = new Gate();
    g2.check(trapIn([10], [10], 1));
    // hist_cancel [5, 5] -> p90 = 5 = cancel_rate -> flag
    expectDecision(g2.at(1).check(trapIn([10], [10], 1, { obi_sign: 1, tfi_sign: -1 })), false, 'trap_guard', ['trap_guard:z=0.00']);
  });

  it('row 8: after a z=-4 request, a conflicting one with cancel_rate 2.5 >= p90 flags at z = 0', () => {
    const g = new Gate();
    const t = trapIn([1, 1, 1, 1, 1], [3, 3, 3, 3, 3], 2);
    expectDecision(g.check(t), true, 'ok', []);
    const r = g.at(1).check({ ...t, obi_sign: 1, tfi_sign: -1 });
    expectDecision(r, false, 'trap_guard', ['trap_guard:z=0.00']);
    expect(r.obs.trap.trap_z).toBe(0);
  });
});

describe('composite score (4.3)', () => {
  it('all zeros ≈ 0.0181; cancels only ≈ 0.5966 (never blocks)', () => {
    expect(trapScore([], [], 2)).toBeCloseTo(0.6 / (1 + Math.exp(4)) + 0.4 * Math.exp(-4), 14);
    expect(trapScore([0, 0], [0], 2)).toBeCloseTo(0.0181, 4);
    const cancelsOnly = trapScore([5, 5], [], 2);
    expect(cancelsOnly).toBeCloseTo(0.6 / (1 + Math.exp(-4)) + 0.4 * Math.exp(-4), 14);
    expect(cancelsOnly).toBeCloseTo(0.5966, 3); // spec's rounding; exact value 0.596535
    // even huge cancels with no adds: the cold start blocks on z, never on the score
    const r = new Gate({ trap: { z_threshold: 1e9 } }).check(trapIn([1e6], [], 1));
    expect(r.obs.trap.trap_score).toBeCloseTo(cancelsOnly, 14);
    expectDecision(r, true, 'ok', []);
  });

  it('negative deltas count as 0; window_s 0 falls back to dt 2.0', () => {
    expect(trapScore([-5, 3], [2, -9], 2)).toBeCloseTo(score(3, 2), 14);
    expect(trapScore([3], [2], 0)).toBeCloseTo(score(3, 2, 2), 14);
  });

  it('row 7: 0.903993 > 0.8 -> trap_guard_score, overridden by trap_guard on the cold start; then trap_guard_score alone', () => {
    const g = new Gate();
    const t = trapIn([30, 20, 20, 10, 10], [2, 2, 2, 2, 2], 4);
    const r1 = g.check(t);
    expectDecision(r1, false, 'trap_guard', ['trap_guard:z=4.00', 'trap_guard_score:0.90>0.80']);
    expect(r1.obs.trap.trap_score).toBeCloseTo(0.903993, 6);
    expect(r1.obs.trap.trap_score).toBeCloseTo(score(90, 10), 14);
    expect(codes(r1.events)).toEqual(['POLICY.TRAP_GUARD', 'POLICY.TRAP_BLOCK']);
    expect(r1.events[0].details).toEqual({ trap_score: r1.obs.trap.trap_score, threshold: 0.8 });
    const r2 = g.at(1).check(t);
    expectDecision(r2, false, 'trap_guard_score', ['trap_guard_score:0.90>0.80']);
    expect(r2.obs.trap.trap_z).toBe(0);
    expect(codes(r2.events)).toEqual(['POLICY.TRAP_GUARD']);
  });

  // cancel = add = 1e20: ratio 0.5 -> c = 0.5; repl_ms = 250/5e19 -> r = exp(-2e-20) = 1; score = 0.6*0.5 + 0.4 = 0.7
  const big = trapIn([1e20], [1e20], 1);
  it('score exactly at score_threshold does not block (strict >)', () => {
    const r = new Gate({ trap: { score_threshold: 0.7 } }).check(big);
    expect(r.obs.trap.trap_score).toBe(0.7);
    expectDecision(r, true, 'ok', []);
  });
  it('score just above score_threshold blocks', () => {
    const r = new Gate({ trap: { score_threshold: 0.6999 } }).check(big);
    expectDecision(r, false, 'trap_guard_score', ['trap_guard_score:0.70>0.70']);
    expect(r.events).toEqual([{ code: 'POLICY.TRAP_GUARD', details: { trap_score: 0.7, threshold: 0.6999 } }]);
  });
  it('score just below score_threshold passes', () => {
    expectDecision(new Gate({ trap: { score_threshold: 0.7001 } }).check(big), true, 'ok', []);
  });
  it('YAML trap.score_threshold beats AURORA_TRAP_THRESHOLD; the ENV is only a fallback', () => {
    expectDecision(new Gate({ trap: { score_threshold: 0.7 } }, { AURORA_TRAP_THRESHOLD: '0.5' }).check(big), true, 'ok', []);
    const r = new Gate({ trap: { score_threshold: undefined } }, { AURORA_TRAP_THRESHOLD: '0.5' }).check(big);
    expectDecision(r, false, 'trap_guard_score', ['trap_guard_score:0.70>0.50']);
  });
});

describe('trap.min_history (D1): below it the z rule is not applied', () => {
  const hot = trapIn([5, 4, 3, 2, 1], [1, 1, 1, 1, 1], 3); // cold-start z = 4

  it('min_history 0 (default) is the reference: the first request is blocked', () => {
    expect(new Gate().cfg.trap.minHistory).toBe(0);
    expect(new Gate().check(hot).reason).toBe('trap_guard');
  });

  it('min_history 2: requests with history 0 and 1 pass, history == 2 applies the rule', () => {
    // add sum 1 keeps the score below 0.6 + 0.4·exp(-2) ≈ 0.654, so only z matters
    const g = new Gate({ trap: { min_history: 2 } });
    const r1 = g.check(trapIn([3], [1], 1)); // trap_raw 1, empty history -> z 4
    expectDecision(r1, true, 'ok', []);
    expect(r1.obs.trap.trap_z).toBe(4); // z still reported
    const r2 = g.at(1).check(trapIn([5], [1], 1)); // trap_raw 2, history [1] -> z 4, history 1 < 2
    expect(r2.obs.trap.trap_z).toBe(4);
    expectDecision(r2, true, 'ok', []);
    const r3 = g.at(2).check(trapIn([21], [1], 1)); // trap_raw 10, history [1,2]: (10 - 1.5) / 0.8 -> clip 4
    expect(r3.obs.trap.trap_z).toBe(4);
    expectDecision(r3, false, 'trap_guard', ['trap_guard:z=4.00']);
  });

  it('does not disable the conflict rule', () => {
    const r = new Gate({ trap: { min_history: 5 } }).check(trapIn([1], [1], 1, { obi_sign: 0, tfi_sign: 1 }));
    expectDecision(r, false, 'trap_guard', ['trap_guard:z=0.00']);
  });
});

describe('guard switch (3.4 step 2)', () => {
  const hot = trapIn([5, 4, 3, 2, 1], [1, 1, 1, 1, 1], 3);

  it.each(['off', '0', 'false', 'OFF', 'False'])('TRAP_GUARD=%s: not blocking, note still appended, window still updated (D3)', (v) => {
    const g = new Gate({}, { TRAP_GUARD: v });
    const r = g.check(hot);
    expectDecision(r, true, 'ok', ['trap_guard:z=4.00']);
    expect(codes(r.events)).toEqual([]);
    expect(g.state.trapRaw.count).toBe(1);
  });

  it.each(['no', 'yes', 'on', ' off'])('TRAP_GUARD=%j leaves the guard on (D14)', (v) => {
    expect(new Gate({}, { TRAP_GUARD: v }).check(hot).reason).toBe('trap_guard');
  });

  it('guards.trap_guard_enabled false switches it off; TRAP_GUARD=on switches it back on', () => {
    expect(new Gate({ guards: { trap_guard_enabled: false } }).check(hot).reason).toBe('ok');
    expect(new Gate({ guards: { trap_guard_enabled: false } }, { TRAP_GUARD: 'on' }).check(hot).reason).toBe('trap_guard');
  });

  it('a switched-off guard does not block on the score either', () => {
    const r = new Gate({ trap: { score_threshold: 0.1 } }, { TRAP_GUARD: 'off' }).check(trapIn([1], [1], 1));
    expectDecision(r, true, 'ok', []);
  });
});

describe('when TRAP runs', () => {
  it('skipped unless all three inputs are present and non-null: trap obs null, window untouched', () => {
    for (const m of [
      { trap_cancel_deltas: [5], trap_add_deltas: [1] },
      { trap_cancel_deltas: [5], trap_trades_cnt: 1 },
      { trap_add_deltas: [1], trap_trades_cnt: 1 },
      { trap_cancel_deltas: [5], trap_add_deltas: [1], trap_trades_cnt: null },
    ]) {
      const g = new Gate();
      const r = g.check(m);
      expectDecision(r, true, 'ok', []);
      expect(r.obs.trap).toBeNull();
      expect(g.state.trapRaw.count).toBe(0);
    }
  });

  it('guarded by allow: after a latency block TRAP does not run nor update the window', () => {
    const g = new Gate();
    const r = g.check({ latency_ms: 500, ...trapIn([5], [1], 1) });
    expect(r.reason).toBe('latency_guard');
    expect(r.obs.trap).toBeNull();
    expect(g.state.trapRaw.count).toBe(0);
  });

  it('trades 0 divides by max(1, 0) = 1; trades truncated (2.7 -> 2)', () => {
    const g = new Gate();
    g.check(trapIn([4], [], 0));
    expect(g.state.trapRaw.percentile(50)).toBe(2);
    const r = new Gate().check(trapIn([8], [], 2.7));
    expect(r.obs.trap.n_trades).toBe(2);
  });
});
