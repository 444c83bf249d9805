/** gate.md 3.2 latency hard guard (and its HEALTH.LATENCY_HIGH event). */
import { describe, expect, it } from 'vitest';
import { codes, eventsOf, expectDecision, Gate } from './helpers.ts';

/** HealthGuard p95 threshold lifted out of the way so only the hard guard decides. */
const QUIET_HG = { aurora: { latency_guard_ms: 1e6 } };

describe('latency hard guard: lmax 300 (base.yaml), pass iff latency_ms <= lmax', () => {
  it('299.9 passes', () => {
    const r = new Gate(QUIET_HG).check({ latency_ms: 299.9 });
    expectDecision(r, true, 'ok', []);
    expect(r.obs.latency_ms).toBe(299.9);
    expect(codes(r.events)).not.toContain('HEALTH.LATENCY_HIGH');
  });

  it('exactly 300 passes (<=)', () => {
    const r = new Gate(QUIET_HG).check({ latency_ms: 300 });
    expectDecision(r, true, 'ok', []);
    expect(codes(r.events)).toEqual([]);
  });

  it('300.1 blocks with latency_guard and latency_guard_exceeded:300.1>300.0', () => {
    const r = new Gate(QUIET_HG).check({ latency_ms: 300.1 });
    expectDecision(r, false, 'latency_guard', ['latency_guard_exceeded:300.1>300.0']);
    expect(r.maxQty).toBe(0.01);
    expect(r.riskScale).toBe(1.0); // risk step guarded by allow, did not run (D15)
    expect(r.obs.risk).toBeNull();
    expect(eventsOf(r.events, 'HEALTH.LATENCY_HIGH')).toEqual([
      { code: 'HEALTH.LATENCY_HIGH', details: { latency_ms: 300.1, lmax_ms: 300 } },
    ]);
  });

  it('formats with Python rounding: 500.25 -> 500.2 (tie to even, D20)', () => {
    const r = new Gate(QUIET_HG).check({ latency_ms: 500.25 });
    expect(r.reasons).toEqual(['latency_guard_exceeded:500.2>300.0']);
  });

  it('a missing latency is 0.0 and passes', () => {
    const r = new Gate(QUIET_HG).check({ latency_ms: undefined });
    expectDecision(r, true, 'ok', []);
    expect(r.obs.latency_ms).toBe(0);
  });

  it('with the base HealthGuard (p95 threshold 30) exactly 300 passes the hard guard but starts a cooloff', () => {
    const r = new Gate().check({ latency_ms: 300 });
    expectDecision(r, false, 'latency_cooloff', ['latency_cooloff']);
  });

  it('a hard-guard block hides the HealthGuard reason (3.3 step 3 is guarded by allow)', () => {
    const r = new Gate().check({ latency_ms: 300.1 });
    expectDecision(r, false, 'latency_guard', ['latency_guard_exceeded:300.1>300.0']);
    expect(codes(r.events)).toEqual(['HEALTH.LATENCY_HIGH', 'HEALTH.LATENCY_P95_HIGH']);
  });

  it('ER still appends its note after a latency block (D3)', () => {
    const r = new Gate(QUIET_HG).check({ latency_ms: 301, score: -1 });
    expectDecision(r, false, 'latency_guard', ['latency_guard_exceeded:301.0>300.0', 'expected_return_below_threshold']);
  });
});

describe('latency limit resolution (3.2)', () => {
  const noGuards = { guards: undefined, aurora: { latency_guard_ms: 1e6 } };

  it('without guards*.latency_ms_limit the code default is 30: 30 passes, 30.1 blocks', () => {
    const g = new Gate(noGuards);
    expectDecision(g.check({ latency_ms: 30 }), true, 'ok', []);
    const r = new Gate(noGuards).check({ latency_ms: 30.1 });
    expectDecision(r, false, 'latency_guard', ['latency_guard_exceeded:30.1>30.0']);
    expect(r.events[0]).toEqual({ code: 'HEALTH.LATENCY_HIGH', details: { latency_ms: 30.1, lmax_ms: 30 } });
  });

  it('AURORA_LMAX_MS is the fallback only when the key is absent', () => {
    const g = new Gate(noGuards, { AURORA_LMAX_MS: '45' });
    expectDecision(g.check({ latency_ms: 45 }), true, 'ok', []);
    expect(g.check({ latency_ms: 45.5 }).reasons).toEqual(['latency_guard_exceeded:45.5>45.0']);
    // with base.yaml's guards.latency_ms_limit 300 the alias is ignored
    expectDecision(new Gate(QUIET_HG, { AURORA_LMAX_MS: '45' }).check({ latency_ms: 200 }), true, 'ok', []);
  });

  it('AURORA_LATENCY_MS_LIMIT is overlaid on guards.latency_ms_limit (ENV > YAML)', () => {
    const r = new Gate(QUIET_HG, { AURORA_LATENCY_MS_LIMIT: '100' }).check({ latency_ms: 100.5 });
    expect(r.reasons).toEqual(['latency_guard_exceeded:100.5>100.0']);
  });

  it('uses gates.latency_ms_limit when there is no guards section (D11)', () => {
    const r = new Gate({ ...noGuards, gates: { latency_ms_limit: 50 } }).check({ latency_ms: 50.1 });
    expectDecision(r, false, 'latency_guard', ['latency_guard_exceeded:50.1>50.0']);
  });
});

describe('HEALTH.LATENCY_HIGH debounce (service.md 4.1: dropped if emitted < 100 ms earlier)', () => {
  it('suppresses a second event 99.9 ms later and emits again at exactly 100 ms', () => {
    // t0 = 0 so that 0.1 s is exactly representable in the difference
    const g = new Gate(QUIET_HG, {}, { t0: 0 });
    expect(codes(g.check({ latency_ms: 400 }).events)).toEqual(['HEALTH.LATENCY_HIGH']);
    const r2 = g.at(0.0999).check({ latency_ms: 400 });
    expect(r2.reason).toBe('latency_guard'); // still blocks, only the event is debounced
    expect(codes(r2.events)).toEqual([]);
    expect(codes(g.at(0.1).check({ latency_ms: 400 }).events)).toEqual(['HEALTH.LATENCY_HIGH']);
  });
});
