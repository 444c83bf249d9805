/** gate.md 3.5 / 4.4 expected return: p = 1/(1+exp(-2·score)), e_pi = p·b − (1−p)·a − (fees + slip), pass iff e_pi > pi_min. */
import { describe, expect, it } from 'vitest';
import { expectDecision, Gate } from './helpers.ts';

// Expected values are worked out by hand (or recorded once from Python, as noted) and checked only
// through the gate's decision: the test never re-evaluates the formula it is testing.

// score 0 -> p = 0.5 exactly, so e_pi = 0.5·b − 0.5·a − fees − slip is exact in binary
const at = (a: number) => ({ score: 0, b_bps: 10, a_bps: a, slip_bps_est: 0 }); // fees 1 (R0) -> e_pi = 4 − 0.5·a

describe('pi_min 2.0 (base.yaml): strict e_pi > pi_min', () => {
  it('e_pi == pi_min blocks (D18): 5 − 2 − 1 = 2', () => {
    // p = 0.5, b 10, a 4, fees 1, slip 0: 0.5·10 − 0.5·4 − (1 + 0) = 5 − 2 − 1 = 2.0 exactly, not > 2
    const r = new Gate().check(at(4));
    expectDecision(r, false, 'expected_return_gate', ['expected_return_below_threshold']);
    expect(r.obs.risk).toBeNull(); // later steps guarded by allow
  });

  it('e_pi just above pi_min passes (a 3.9998 -> 2.0001)', () => {
    expectDecision(new Gate().check(at(3.9998)), true, 'ok', []);
  });

  it('e_pi just below pi_min blocks (a 4.0002 -> 1.9999)', () => {
    expectDecision(new Gate().check(at(4.0002)), false, 'expected_return_gate', ['expected_return_below_threshold']);
  });

  // R0: score 1, a 10, b 20, fees 1, slip 1. Recorded with Python 3 (math.exp):
  //   p = 1/(1+exp(-2)) = 0.8807970779778823
  //   e_pi = p·20 − (1−p)·10 − (1+1) = 17.615941559557648 − 1.1920292202211769 − 2 = 14.423912339336471
  // so pi_min 14.4239 passes and 14.4240 blocks: a wrong p (e.g. 1/(1+exp(-score)) = 0.731 -> e_pi 9.93)
  // or a wrong sign on a term moves e_pi across one of them
  it('R0 (row 1): p = 0.880797, e_pi = 14.42391… (pi_min 14.4239 passes, 14.4240 blocks)', () => {
    expectDecision(new Gate().check(), true, 'ok', []);
    expectDecision(new Gate({ risk: { pi_min_bps: 14.4239 } }).check(), true, 'ok', []);
    expectDecision(new Gate({ risk: { pi_min_bps: 14.424 } }).check(), false, 'expected_return_gate', ['expected_return_below_threshold']);
  });

  it('fees enter the formula: fees 13.42 passes (e_pi ≈ 2.004), 13.43 blocks (≈ 1.994)', () => {
    // from R0's e_pi above: 14.423912… + 1 − 13.42 = 2.003912… > 2; with 13.43: 1.993912… <= 2
    expectDecision(new Gate().check({}, { fees_bps: 13.42 }), true, 'ok', []);
    expectDecision(new Gate().check({}, { fees_bps: 13.43 }), false, 'expected_return_gate', ['expected_return_below_threshold']);
  });

  it('fees_bps null / absent -> 0.0', () => {
    // a 4, b 10, score 0, slip 0: e_pi = 5 − 2 − 0 = 3 > 2 without fees
    expectDecision(new Gate().check(at(4), { fees_bps: null }), true, 'ok', []);
    expectDecision(new Gate().check(at(4), { fees_bps: undefined }), true, 'ok', []);
  });
});

describe('missing inputs and extremes', () => {
  it('row 2 minimal payload: e_pi = 5 − 5 − 1 = −1', () => {
    const r = new Gate().send({
      account: { mode: 'paper' },
      order: { symbol: 'BTCUSDT', side: 'buy', qty: 0.01, price: 100.0 },
      market: { latency_ms: 1.0, score: 0.0, a_bps: 10.0, b_bps: 10.0, spread_bps: 2.0 },
      fees_bps: 1.0,
    });
    expectDecision(r, false, 'expected_return_gate', ['expected_return_below_threshold']);
  });

  it('missing a_bps/b_bps -> e_pi = −(fees+slip) -> always blocked (D18)', () => {
    const r = new Gate().check({ a_bps: undefined, b_bps: undefined, score: 1 });
    expectDecision(r, false, 'expected_return_gate', ['expected_return_below_threshold']);
    expect(r.obs.a_bps).toBe(0);
    expect(r.obs.b_bps).toBe(0);
  });

  it('very negative score: exp overflows, p = 0 -> e_pi = −a − fees − slip', () => {
    // a 0 (falsy -> 0), b huge: with p = 0 the gain is lost
    const r = new Gate().check({ score: -1000, a_bps: 0, b_bps: 1e6 });
    expectDecision(r, false, 'expected_return_gate', ['expected_return_below_threshold']);
  });

  it('very positive score: p = 1 -> e_pi = b − fees − slip (b 4, fees 1, slip 1 -> 2 blocks; b 4.0002 passes)', () => {
    expectDecision(new Gate().check({ score: 1000, b_bps: 4, a_bps: 1e6 }), false, 'expected_return_gate', ['expected_return_below_threshold']);
    expectDecision(new Gate().check({ score: 1000, b_bps: 4.0002, a_bps: 1e6 }), true, 'ok', []);
  });

  it('echoes converted inputs in observability', () => {
    const r = new Gate().check({ score: 0.5, a_bps: 3, slip_bps_est: 0.5 });
    expect(r.obs).toMatchObject({ spread_bps: 2, latency_ms: 5, slip_bps_est: 0.5, a_bps: 3, b_bps: 20, score: 0.5 });
  });
});

describe('pi_min resolution', () => {
  it('risk.pi_min_bps 3 (prod): e_pi 3 blocks, 3.0001 passes', () => {
    // a 2, b 10, score 0, fees 0: e_pi = 5 − 1 = 4; fees 1 -> 3
    expectDecision(new Gate({ risk: { pi_min_bps: 3 } }).check({ score: 0, a_bps: 2, b_bps: 10, slip_bps_est: 0 }), false, 'expected_return_gate', [
      'expected_return_below_threshold',
    ]);
    expectDecision(new Gate({ risk: { pi_min_bps: 3 } }).check({ score: 0, a_bps: 1.9998, b_bps: 10, slip_bps_est: 0 }), true, 'ok', []);
  });

  it('AURORA_PI_MIN_BPS is overlaid (ENV > YAML)', () => {
    const r = new Gate({ risk: { pi_min_bps: 2 } }, { AURORA_PI_MIN_BPS: '20' }).check();
    expectDecision(r, false, 'expected_return_gate', ['expected_return_below_threshold']); // 14.42 <= 20
  });

  it('code default 2.0 when the key is absent', () => {
    expect(new Gate({ risk: { pi_min_bps: undefined } }).cfg.piMinBps).toBe(2);
    expectDecision(new Gate({ risk: { pi_min_bps: undefined } }).check(at(4)), false, 'expected_return_gate', ['expected_return_below_threshold']);
  });
});

describe('ER is not guarded by allow (D3)', () => {
  it('appends its note after an earlier block but keeps the first reason', () => {
    const r = new Gate().check({ latency_ms: 400, score: -1 });
    expectDecision(r, false, 'latency_guard', ['latency_guard_exceeded:400.0>300.0', 'expected_return_below_threshold']);
  });

  it('after a TRAP block too', () => {
    const r = new Gate().check({ score: -1, trap_cancel_deltas: [5], trap_add_deltas: [1], trap_trades_cnt: 1 });
    expectDecision(r, false, 'trap_guard', ['trap_guard:z=4.00', 'expected_return_below_threshold']);
  });
});
