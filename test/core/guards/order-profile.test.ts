/** gate.md 3.5/3.6 order_profile: er_before_slip (default) vs slip_before_er, and its resolution. */
import { describe, expect, it } from 'vitest';
import { expectDecision, Gate } from './helpers.ts';

/** ER fails (score −1: e_pi ≈ 2.38 − 8.81 − 8 < 2) and slippage fails (7 > 6). */
const both = { score: -1, slip_bps_est: 7 };

describe('er_before_slip (default)', () => {
  it('an ER block hides the slippage check', () => {
    const g = new Gate();
    expect(g.cfg.slipFirst).toBe(false);
    expectDecision(g.check(both), false, 'expected_return_gate', ['expected_return_below_threshold']);
  });

  it('when ER passes slippage still runs', () => {
    expectDecision(new Gate().check({ slip_bps_est: 7 }), false, 'slippage_guard', ['slippage_guard_exceeded:7.00>6.00']);
  });
});

describe('slip_before_er', () => {
  const slipFirst = { pretrade: { order_profile: 'slip_before_er' } };

  it('a slippage block still lets ER append its note; the reason stays slippage_guard', () => {
    expectDecision(new Gate(slipFirst).check(both), false, 'slippage_guard', [
      'slippage_guard_exceeded:7.00>6.00',
      'expected_return_below_threshold',
    ]);
  });

  it('slippage passes, ER blocks -> expected_return_gate', () => {
    expectDecision(new Gate(slipFirst).check({ score: -1 }), false, 'expected_return_gate', ['expected_return_below_threshold']);
  });

  it('the b <= 0 skip note comes before the ER note', () => {
    expectDecision(new Gate(slipFirst).check({ b_bps: 0 }), false, 'expected_return_gate', [
      'slippage_guard_skipped_no_b',
      'expected_return_below_threshold',
    ]);
  });

  it('is case-insensitive', () => {
    expect(new Gate({ pretrade: { order_profile: 'SLIP_BEFORE_ER' } }).check(both).reason).toBe('slippage_guard');
  });

  it('both pass -> ok with no notes', () => {
    expectDecision(new Gate(slipFirst).check(), true, 'ok', []);
  });
});

describe('resolution: PRETRADE_ORDER_PROFILE (raw) > AURORA_ORDER_PROFILE (overlay) > YAML > er_before_slip', () => {
  it('AURORA_ORDER_PROFILE beats YAML', () => {
    expect(new Gate({ pretrade: { order_profile: 'er_before_slip' } }, { AURORA_ORDER_PROFILE: 'slip_before_er' }).check(both).reason).toBe(
      'slippage_guard',
    );
  });

  it('PRETRADE_ORDER_PROFILE beats AURORA_ORDER_PROFILE and YAML', () => {
    const env = { AURORA_ORDER_PROFILE: 'slip_before_er', PRETRADE_ORDER_PROFILE: 'er_before_slip' };
    expect(new Gate({ pretrade: { order_profile: 'slip_before_er' } }, env).check(both).reason).toBe('expected_return_gate');
    expect(new Gate({}, { PRETRADE_ORDER_PROFILE: 'slip_before_er' }).check(both).reason).toBe('slippage_guard');
  });
});
