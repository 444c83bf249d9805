/** gate.md 3.9 / 4.5 SPRT: mu0 = 0, mu1 = score, llr_inc = (x² − (x − mu1)²) / (2σ²); only REJECT blocks. */
import { describe, expect, it } from 'vitest';
import { waldThresholds } from '../../../src/core/sprt.ts';
import { expectDecision, Gate } from './helpers.ts';

const inc = (x: number, mu1: number, sigma = 1) => (x ** 2 - (x - mu1) ** 2) / (2 * sigma ** 2);

describe('thresholds A = 2, B = −2 (base.yaml)', () => {
  // score 1: inc(x) = x − 0.5
  it('llr exactly A -> ACCEPT (x 2.5 -> 2)', () => {
    expect(inc(2.5, 1)).toBe(2);
    const r = new Gate().check({ score: 1, sprt_samples: [2.5, -100] });
    expectDecision(r, true, 'ok', ['sprt_accept']);
    expect(r.obs.sprt).toEqual({ decision: 'ACCEPT', llr: 2, n_obs: 1 }); // stops at the first decision
  });

  it('llr just below A -> CONTINUE', () => {
    const r = new Gate().check({ score: 1, sprt_samples: [2.4999] });
    expectDecision(r, true, 'ok', ['sprt_continue']);
    expect(r.obs.sprt.decision).toBe('CONTINUE');
    expect(r.obs.sprt.llr).toBeCloseTo(1.9999, 12);
    expect(r.obs.sprt.n_obs).toBe(1);
  });

  it('llr exactly B -> REJECT (x −1.5 -> −2), blocks with sprt_reject', () => {
    expect(inc(-1.5, 1)).toBe(-2);
    const r = new Gate().check({ score: 1, sprt_samples: [-1.5] });
    expectDecision(r, false, 'sprt_reject', ['sprt_reject']);
    expect(r.obs.sprt).toEqual({ decision: 'REJECT', llr: -2, n_obs: 1 });
    expect(r.riskScale).toBe(1); // risk ran before SPRT
  });

  it('llr just above B -> CONTINUE', () => {
    const r = new Gate().check({ score: 1, sprt_samples: [-1.4999] });
    expectDecision(r, true, 'ok', ['sprt_continue']);
    expect(r.obs.sprt.llr).toBeCloseTo(-1.9999, 12);
  });

  it('row 11: score 0.5, five −1 -> inc −0.625 -> REJECT at n 4 with llr −2.5', () => {
    expect(inc(-1, 0.5)).toBe(-0.625);
    const r = new Gate().check({ score: 0.5, sprt_samples: [-1, -1, -1, -1, -1] });
    expectDecision(r, false, 'sprt_reject', ['sprt_reject']);
    expect(r.obs.sprt).toEqual({ decision: 'REJECT', llr: -2.5, n_obs: 4 });
  });
});

describe('max_obs 10', () => {
  it('score 0 (mu1 = mu0): every increment 0 -> ACCEPT at max_obs (D17)', () => {
    const r = new Gate().check({ score: 0, b_bps: 40, sprt_samples: Array(12).fill(3) });
    expectDecision(r, true, 'ok', ['sprt_accept']);
    expect(r.obs.sprt).toEqual({ decision: 'ACCEPT', llr: 0, n_obs: 10 });
  });

  it('score 0 with 9 samples -> CONTINUE', () => {
    const r = new Gate().check({ score: 0, b_bps: 40, sprt_samples: Array(9).fill(3) });
    expect(r.obs.sprt).toEqual({ decision: 'CONTINUE', llr: 0, n_obs: 9 });
  });

  it('llr < 0 at max_obs without crossing B -> REJECT (score 0.5, x 0 -> −0.125 × 10 = −1.25)', () => {
    const r = new Gate().check({ score: 0.5, sprt_samples: Array(10).fill(0) });
    expectDecision(r, false, 'sprt_reject', ['sprt_reject']);
    expect(r.obs.sprt).toEqual({ decision: 'REJECT', llr: -1.25, n_obs: 10 });
  });

  it('sprt.max_obs 3 from YAML', () => {
    const r = new Gate({ sprt: { max_obs: 3 } }).check({ score: 0.5, sprt_samples: [1, 1, 1, 1] });
    // inc(1, 0.5) = 0.375 -> 1.125 at n 3 >= 0 -> ACCEPT
    expect(r.obs.sprt).toEqual({ decision: 'ACCEPT', llr: 1.125, n_obs: 3 });
  });
});

describe('inputs and parameters', () => {
  it('empty list -> CONTINUE, llr 0, n 0', () => {
    const r = new Gate().check({ sprt_samples: [] });
    expectDecision(r, true, 'ok', ['sprt_continue']);
    expect(r.obs.sprt).toEqual({ decision: 'CONTINUE', llr: 0, n_obs: 0 });
  });

  it('absent or null -> skipped, obs all null', () => {
    for (const m of [{}, { sprt_samples: null }]) {
      const r = new Gate().check(m);
      expectDecision(r, true, 'ok', []);
      expect(r.obs.sprt).toEqual({ decision: null, llr: null, n_obs: null });
    }
  });

  it('sigma 2 divides by 2σ² = 8: x 2.5, mu1 1 -> 0.5', () => {
    const r = new Gate({ sprt: { sigma: 2 } }).check({ score: 1, sprt_samples: [2.5] });
    expect(r.obs.sprt).toEqual({ decision: 'CONTINUE', llr: inc(2.5, 1, 2), n_obs: 1 });
    expect(r.obs.sprt.llr).toBe(0.5);
  });

  it('alpha/beta in YAML give Wald thresholds (prod): A = ln(0.9/0.05), B = ln(0.1/0.95)', () => {
    const g = new Gate({ sprt: { alpha: 0.05, beta: 0.1 } });
    expect(g.cfg.sprt.A).toBeCloseTo(Math.log(18), 12);
    expect(g.cfg.sprt.A).toBeCloseTo(2.8904, 4);
    expect(g.cfg.sprt.B).toBeCloseTo(-2.2513, 4);
    expect(waldThresholds(0.05, 0.1).B).toBeCloseTo(Math.log(0.1 / 0.95), 12);
    // llr 2.5 accepts at A = 2 but continues at A = 2.89
    expect(g.check({ score: 1, sprt_samples: [3] }).obs.sprt.decision).toBe('CONTINUE');
    expect(new Gate().check({ score: 1, sprt_samples: [3] }).obs.sprt.decision).toBe('ACCEPT');
  });

  it('YAML A/B beat AURORA_SPRT_A/_B; the ENV fills only absent keys (D14)', () => {
    const env = { AURORA_SPRT_A: '5', AURORA_SPRT_B: '-5' };
    expect(new Gate({}, env).cfg.sprt).toMatchObject({ A: 2, B: -2 });
    const g = new Gate({ sprt: { A: undefined, B: undefined } }, env);
    expect(g.cfg.sprt).toMatchObject({ A: 5, B: -5 });
    expect(g.check({ score: 1, sprt_samples: [2.5] }).obs.sprt.decision).toBe('CONTINUE');
  });
});

describe('AURORA_SPRT_ENABLED (raw): unset or 1/true/yes = on', () => {
  it.each(['1', 'true', 'yes', 'TRUE'])('%s -> on', (v) => {
    expect(new Gate({}, { AURORA_SPRT_ENABLED: v }).check({ score: 1, sprt_samples: [-1.5] }).reason).toBe('sprt_reject');
  });

  it.each(['0', 'false', 'on', 'off'])('%s -> off: skipped, obs null, no note', (v) => {
    const r = new Gate({}, { AURORA_SPRT_ENABLED: v }).check({ score: 1, sprt_samples: [-1.5] });
    expectDecision(r, true, 'ok', []);
    expect(r.obs.sprt).toEqual({ decision: null, llr: null, n_obs: null });
  });

  it('YAML sprt.enabled false is ignored', () => {
    expect(new Gate({ sprt: { enabled: false } }).check({ score: 1, sprt_samples: [-1.5] }).reason).toBe('sprt_reject');
  });
});

describe('guarded by allow', () => {
  it('after a risk block SPRT does not run', () => {
    const r = new Gate().check({ pnl_today_pct: -20, score: 1, sprt_samples: [-1.5] });
    expectDecision(r, false, 'risk_dd_day_cap', ['risk_dd_day_cap']);
    expect(r.obs.sprt).toEqual({ decision: null, llr: null, n_obs: null });
  });
});

describe('time budget (AURORA_SPRT_TIMEOUT_MS, default 500, monotonic clock)', () => {
  /** a monotonic clock that reads 0 at the start and `later` afterwards */
  const budgetRun = (later: number) => {
    const g = new Gate();
    let calls = 0;
    g.clock.monoMs = () => (calls++ === 0 ? 0 : later);
    return g.check({ score: 0.5, sprt_samples: [0, 0, 0, 0] }); // −0.125 each, never crosses B
  };

  it('exactly 500 ms elapsed is within budget: all samples used', () => {
    expect(budgetRun(500).obs.sprt).toEqual({ decision: 'CONTINUE', llr: -0.5, n_obs: 4 });
  });

  it('500.001 ms elapsed after the first CONTINUE stops there', () => {
    const r = budgetRun(500.001);
    expectDecision(r, true, 'ok', ['sprt_continue']);
    expect(r.obs.sprt).toEqual({ decision: 'CONTINUE', llr: -0.125, n_obs: 1 });
  });

  it('AURORA_SPRT_TIMEOUT_MS sets the budget', () => {
    const g = new Gate({}, { AURORA_SPRT_TIMEOUT_MS: '10' });
    let calls = 0;
    g.clock.monoMs = () => (calls++ === 0 ? 0 : 11);
    expect(g.check({ score: 0.5, sprt_samples: [0, 0, 0] }).obs.sprt.n_obs).toBe(1);
  });
});
