/** gate.md section 7: the worked examples (reference outputs), rows 1–15. Rows 13/14 use the prod values of 5.2 inline. */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/resolve.ts';
import { expectDecision, Gate, type Result, type Tree } from './helpers.ts';

/** prod.yaml column of gate.md 5.2 (sprt sigma/max_obs not listed there -> code defaults 1 / 10). */
const PROD: Tree = {
  guards: { latency_ms_limit: 300, spread_bps_limit: 80, trap_guard_enabled: true },
  aurora: { latency_guard_ms: 30, latency_window_sec: 60, cooloff_base_sec: 180, halt_threshold_repeats: 2 },
  trap: { window_s: 2.0, levels: 5, z_threshold: 2.0, cancel_pctl: 90, score_threshold: 0.85 },
  risk: { pi_min_bps: 3.0, dd_day_pct: 8, max_concurrent: 3, size_scale: 0.2 },
  slippage: { eta_fraction_of_b: 0.3 },
  sprt: { enabled: true, alpha: 0.05, beta: 0.1 },
};

const NULL_SPRT = { decision: null, llr: null, n_obs: null };

/** "All rows have max_qty 0.01 and risk_scale 1.0 unless stated", mode echoed. */
function row(r: Result, allow: boolean, reason: string, reasons: string[], riskScale = 1.0) {
  expectDecision(r, allow, reason, reasons);
  expect(r.response.max_qty).toBe(0.01);
  expect(r.response.risk_scale).toBe(riskScale);
  expect(r.obs.mode).toBe('paper');
}

describe('gate.md 7 worked examples (base.yaml, fresh process)', () => {
  it('row 1: R0 -> ok, [], risk ctx scaled 0', () => {
    const r = new Gate().check();
    row(r, true, 'ok', []);
    expect(r.obs).toEqual({
      gate_state: 'PASS',
      spread_bps: 2,
      latency_ms: 5,
      slip_bps_est: 1,
      a_bps: 10,
      b_bps: 20,
      score: 1,
      mode: 'paper',
      risk: { cfg: { dd_day_pct: 10, max_concurrent: 10, size_scale: 1 }, ctx: { size_scale: 1, base_notional: 0, scaled_notional: 0 } },
      trap: null,
      sprt: NULL_SPRT,
      reasons: [],
    });
    expect(Object.keys(r.obs)).toEqual(['gate_state', 'spread_bps', 'latency_ms', 'slip_bps_est', 'a_bps', 'b_bps', 'score', 'mode', 'risk', 'trap', 'sprt', 'reasons']);
  });

  it('row 2: minimal payload -> expected_return_gate (e_pi = −1)', () => {
    const r = new Gate().check({ latency_ms: 1.0, score: 0.0, a_bps: 10.0, b_bps: 10.0, spread_bps: 2.0 }, { market: 'replace' });
    row(r, false, 'expected_return_gate', ['expected_return_below_threshold']);
  });

  it('row 3: latency 500 -> latency_guard', () => {
    row(new Gate().check({ latency_ms: 500 }), false, 'latency_guard', ['latency_guard_exceeded:500.0>300.0']);
  });

  it('row 4: latency 50 then R0 -> latency_cooloff, then latency_halt', () => {
    const g = new Gate();
    row(g.check({ latency_ms: 50 }), false, 'latency_cooloff', ['latency_cooloff']);
    row(g.at(1).check(), false, 'latency_halt', ['latency_halt']);
  });

  it('row 5: latency 500 + spread 120 -> spread_bps_too_wide:120.0 (D2)', () => {
    row(new Gate().check({ latency_ms: 500, spread_bps: 120 }), false, 'spread_bps_too_wide:120.0', ['latency_guard_exceeded:500.0>300.0']);
  });

  it('row 6: TRAP cold start -> trap_guard', () => {
    const r = new Gate().check({ trap_cancel_deltas: [5, 4, 3, 2, 1], trap_add_deltas: [1, 1, 1, 1, 1], trap_trades_cnt: 3 });
    row(r, false, 'trap_guard', ['trap_guard:z=4.00']);
    expect(r.obs.trap).toMatchObject({ trap_z: 4.0, cancel_rate: 7.5, repl_rate: 2.5, n_trades: 3 });
    expect(r.obs.trap.trap_score).toBeCloseTo(0.79661, 5);
  });

  it('row 7: sent twice -> trap_guard, then trap_guard_score', () => {
    const g = new Gate();
    const m = { trap_cancel_deltas: [30, 20, 20, 10, 10], trap_add_deltas: [2, 2, 2, 2, 2], trap_trades_cnt: 4 };
    const r1 = g.check(m);
    row(r1, false, 'trap_guard', ['trap_guard:z=4.00', 'trap_guard_score:0.90>0.80']);
    expect(r1.obs.trap.trap_score).toBeCloseTo(0.903993, 6);
    const r2 = g.at(1).check(m);
    row(r2, false, 'trap_guard_score', ['trap_guard_score:0.90>0.80']);
    expect(r2.obs.trap.trap_z).toBe(0);
  });

  it('row 8: z = −4 passes, then the same with a sign conflict -> trap_guard at z 0', () => {
    const g = new Gate();
    const m = { trap_cancel_deltas: [1, 1, 1, 1, 1], trap_add_deltas: [3, 3, 3, 3, 3], trap_trades_cnt: 2 };
    const r1 = g.check(m);
    row(r1, true, 'ok', []);
    expect(r1.obs.trap.trap_z).toBe(-4);
    expect(r1.obs.trap.trap_score).toBeCloseTo(0.42159, 5);
    const r2 = g.at(1).check({ ...m, obi_sign: 1, tfi_sign: -1 });
    row(r2, false, 'trap_guard', ['trap_guard:z=0.00']);
    expect(r2.obs.trap.trap_z).toBe(0);
  });

  it('row 9: slip 7 -> slippage_guard', () => {
    row(new Gate().check({ slip_bps_est: 7 }), false, 'slippage_guard', ['slippage_guard_exceeded:7.00>6.00']);
  });

  it('row 10: pnl −12 -> risk_dd_day_cap with dd details', () => {
    const r = new Gate().check({ pnl_today_pct: -12 });
    row(r, false, 'risk_dd_day_cap', ['risk_dd_day_cap']);
    expect(r.obs.risk.ctx).toEqual({ size_scale: 1, base_notional: 0, scaled_notional: 0, dd_cap_pct: 10, dd_used_pct: 12, pnl_today_pct: -12 });
  });

  it('row 11: score 0.5, five −1 samples -> sprt_reject (llr −2.5, n 4)', () => {
    const r = new Gate().check({ score: 0.5, sprt_samples: [-1, -1, -1, -1, -1] });
    row(r, false, 'sprt_reject', ['sprt_reject']);
    expect(r.obs.sprt).toEqual({ decision: 'REJECT', llr: -2.5, n_obs: 4 });
  });

  it('row 12: dq stale_book, then R0 within 60 s -> AURORA.HALT both', () => {
    const g = new Gate();
    row(g.check({ dq: { stale_book: true } }), false, 'AURORA.HALT', ['AURORA.HALT', 'killswitch_active']);
    row(g.at(30).check(), false, 'AURORA.HALT', ['AURORA.HALT', 'killswitch_active']);
  });

  it('prod thresholds resolve as listed in 5.2', () => {
    const core = resolveConfig(PROD, {}, 'prod-inline').core;
    expect(core.sprt.A).toBeCloseTo(2.8904, 4);
    expect(core.sprt.B).toBeCloseTo(-2.2513, 4);
    expect(core.risk).toEqual({ ddDayPct: 8, maxConcurrent: 3, sizeScale: 0.2 });
    expect(core.piMinBps).toBe(3);
    expect(core.trap).toMatchObject({ zThreshold: 2, scoreThreshold: 0.85 });
    expect(core.health).toMatchObject({ thresholdMs: 30, baseCooloffSec: 180 });
  });

  it('row 13: prod, base_notional 250 -> ok, risk_scale 0.2, scaled 50', () => {
    const r = new Gate({}, {}, { base: PROD }).check({}, { order: { base_notional: 250 } });
    row(r, true, 'ok', [], 0.2);
    expect(r.obs.risk.ctx).toEqual({ size_scale: 0.2, base_notional: 250, scaled_notional: 50 });
  });

  it('row 14: prod, score 0.2 + samples -> ok, sprt_continue, llr 0.38, n 5', () => {
    const r = new Gate({}, {}, { base: PROD }).check({ score: 0.2, sprt_samples: [0.4, 0.5, 0.6, 0.4, 0.5] });
    row(r, true, 'ok', ['sprt_continue'], 0.2);
    expect(r.obs.sprt.decision).toBe('CONTINUE');
    expect(r.obs.sprt.llr).toBeCloseTo(0.38, 12); // Σ (0.2x − 0.02) = 0.2·2.4 − 0.1
    expect(r.obs.sprt.n_obs).toBe(5);
  });

  it('row 15: code defaults only -> spread 90: SPREAD_GUARD_TRIP; latency 40: latency_guard', () => {
    row(new Gate({}, {}, { base: {} }).check({ spread_bps: 90 }), false, 'SPREAD_GUARD_TRIP', ['SPREAD_GUARD_TRIP', 'spread_limit']);
    row(new Gate({}, {}, { base: {} }).check({ latency_ms: 40 }), false, 'latency_guard', ['latency_guard_exceeded:40.0>30.0']);
  });
});
