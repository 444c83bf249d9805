/** gate.md 3.6 slippage guard: threshold = eta·b_bps, pass iff slip <= threshold; b <= 0 skips with a note. */
import { describe, expect, it } from 'vitest';
import { ePi, expectDecision, Gate } from './helpers.ts';

describe('eta 0.30 (base.yaml), b 20 -> threshold 6', () => {
  it('slip just below passes', () => {
    expectDecision(new Gate().check({ slip_bps_est: 5.9999 }), true, 'ok', []);
  });

  it('slip == eta·b passes (<=)', () => {
    expect(0.3 * 20).toBe(6);
    expectDecision(new Gate().check({ slip_bps_est: 6 }), true, 'ok', []);
  });

  it('slip just above blocks: slippage_guard_exceeded:6.00>6.00 (fmt2)', () => {
    const r = new Gate().check({ slip_bps_est: 6.0001 });
    expectDecision(r, false, 'slippage_guard', ['slippage_guard_exceeded:6.00>6.00']);
    expect(r.obs.risk).toBeNull();
  });

  it('row 9: slip 7 -> e_pi ≈ 8.42 passes first, then slippage blocks', () => {
    expect(ePi(1, 10, 20, 1, 7)).toBeCloseTo(8.42, 2);
    expectDecision(new Gate().check({ slip_bps_est: 7 }), false, 'slippage_guard', ['slippage_guard_exceeded:7.00>6.00']);
  });

  it('fmt2 rounds ties to even (D20): 7.125 -> 7.12', () => {
    expect(new Gate().check({ slip_bps_est: 7.125 }).reasons).toEqual(['slippage_guard_exceeded:7.12>6.00']);
  });

  it('threshold scales with b: b 30 -> 9; slip 9 passes, 9.01 blocks', () => {
    expectDecision(new Gate().check({ b_bps: 30, slip_bps_est: 9 }), true, 'ok', []);
    expect(new Gate().check({ b_bps: 30, slip_bps_est: 9.01 }).reasons).toEqual(['slippage_guard_exceeded:9.01>9.00']);
  });
});

describe('eta resolution', () => {
  it('slippage.eta_fraction_of_b 0.25 (testnet): b 20 -> 5', () => {
    expectDecision(new Gate({ slippage: { eta_fraction_of_b: 0.25 } }).check({ slip_bps_est: 5 }), true, 'ok', []);
    expect(new Gate({ slippage: { eta_fraction_of_b: 0.25 } }).check({ slip_bps_est: 5.01 }).reasons).toEqual([
      'slippage_guard_exceeded:5.01>5.00',
    ]);
  });

  it('AURORA_SLIP_ETA is overlaid (ENV > YAML)', () => {
    expect(new Gate({}, { AURORA_SLIP_ETA: '0.1' }).check({ slip_bps_est: 2.5 }).reasons).toEqual(['slippage_guard_exceeded:2.50>2.00']);
  });

  it('code default 0.3 when the key is absent', () => {
    expect(new Gate({ slippage: undefined }).cfg.slipEta).toBe(0.3);
  });
});

describe('b_bps <= 0: skipped with a note', () => {
  // ER would block any b <= 0 first (er_before_slip), so lower pi_min to reach the slippage step
  const loose = { risk: { pi_min_bps: -1000 } };

  it('b 0 (absent) -> slippage_guard_skipped_no_b and passes', () => {
    expectDecision(new Gate(loose).check({ b_bps: undefined, slip_bps_est: 50 }), true, 'ok', ['slippage_guard_skipped_no_b']);
  });

  it('negative b -> skipped too', () => {
    expectDecision(new Gate(loose).check({ b_bps: -5, slip_bps_est: 50 }), true, 'ok', ['slippage_guard_skipped_no_b']);
  });

  it('b just above 0 is checked: b 0.0001 -> threshold 0.00003', () => {
    expect(new Gate(loose).check({ b_bps: 0.0001, slip_bps_est: 0.5 }).reason).toBe('slippage_guard');
  });
});

describe('slippage is guarded by allow', () => {
  it('after an ER block there is no slippage note (er_before_slip)', () => {
    expectDecision(new Gate().check({ score: -1, slip_bps_est: 50 }), false, 'expected_return_gate', ['expected_return_below_threshold']);
  });

  it('after a latency block neither the exceeded nor the skipped note appears', () => {
    const r = new Gate().check({ latency_ms: 400, slip_bps_est: 7 });
    expectDecision(r, false, 'latency_guard', ['latency_guard_exceeded:400.0>300.0']);
    const r2 = new Gate({ risk: { pi_min_bps: -1000 } }).check({ latency_ms: 400, b_bps: 0 });
    expectDecision(r2, false, 'latency_guard', ['latency_guard_exceeded:400.0>300.0']);
  });
});
