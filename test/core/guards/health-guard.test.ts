/** gate.md 3.3 / 4.1 HealthGuard: p95 over the window, WARN -> COOL_OFF -> HALT, ops cooloff/reset/arm. */
import { describe, expect, it } from 'vitest';
import { enforce, guardSnapshot, opsCooloff, opsReset, setArmed } from '../../../src/core/health-guard.ts';
import { codes, eventsOf, expectDecision, Gate } from './helpers.ts';

const snap = (g: Gate) => guardSnapshot(g.state, g.cfg.health);

describe('p95 and WARN -> cooloff (base: threshold 30 ms, window 60 s, cooloff 120 s, repeats 2)', () => {
  it('one slow sample on an empty window starts a 120 s cooloff', () => {
    const g = new Gate();
    const r = g.check({ latency_ms: 50 });
    expectDecision(r, false, 'latency_cooloff', ['latency_cooloff']);
    expect(snap(g)).toMatchObject({ armed: true, halted: false, cooloff_until: g.t0 + 120, samples: 1, warns_5m: 1 });
    expect(eventsOf(r.events, 'HEALTH.LATENCY_P95_HIGH')).toEqual([
      { code: 'HEALTH.LATENCY_P95_HIGH', details: { p95_ms: 50, threshold: 30 } },
    ]);
  });

  it('p95 exactly at the threshold is not a WARN (p95 > threshold), just above is', () => {
    const at = new Gate();
    expectDecision(at.check({ latency_ms: 30 }), true, 'ok', []);
    expect(snap(at).warns_5m).toBe(0);
    const below = new Gate();
    expectDecision(below.check({ latency_ms: 29.9 }), true, 'ok', []);
    const above = new Gate();
    expectDecision(above.check({ latency_ms: 30.1 }), false, 'latency_cooloff', ['latency_cooloff']);
  });

  it('a second WARN during the cooloff halts (row 4: window [50,5] -> p95 47.75)', () => {
    const g = new Gate({ aurora: { halt_threshold_repeats: 5 } }); // isolate the "WARN in cooloff" rule
    g.check({ latency_ms: 50 });
    const r = g.at(1).check();
    expectDecision(r, false, 'latency_halt', ['latency_halt']);
    // numpy linear: n=2, h=0.95, g>=0.5 -> 50 - 45*(1-0.95) = 47.75
    expect(r.events.find((e) => e.code === 'HEALTH.LATENCY_P95_HIGH')!.details.p95_ms).toBeCloseTo(47.75, 12);
    expect(snap(g)).toMatchObject({ halted: true, warns_5m: 2, cooloff_until: g.t0 + 120 });
  });

  it('missing latency is recorded as 0 ms (dilutes p95, D4)', () => {
    const g = new Gate({ aurora: { latency_guard_ms: 1000 } });
    g.check({ latency_ms: 50 });
    g.at(1).check({ latency_ms: undefined });
    expect(snap(g).samples).toBe(2);
    expect(g.state.latency.percentile(95)).toBeCloseTo(50 - 50 * 0.05, 12); // [0, 50] -> 47.5
  });

  it('p95 uses linear interpolation over the whole window (n=3: [5,5,50] -> 45.5)', () => {
    const g = new Gate({ aurora: { latency_guard_ms: 1000 } });
    for (const [i, l] of [50, 5, 5].entries()) g.at(i).check({ latency_ms: l });
    // numpy 2.4.6: float(np.percentile([5, 5, 50], 95)) == 45.5 (default method 'linear'; h=1.9 -> 50 - 45*0.1)
    expect(g.state.latency.percentile(95)).toBe(45.5);
  });
});

describe('aurora.latency_min_samples (D4 option, default 1)', () => {
  it('no WARN until the window holds min_samples samples; the third slow sample WARNs', () => {
    const g = new Gate({ aurora: { latency_min_samples: 3 } });
    expect(g.cfg.health.minSamples).toBe(3);
    expectDecision(g.check({ latency_ms: 50 }), true, 'ok', []);
    expectDecision(g.at(1).check({ latency_ms: 50 }), true, 'ok', []);
    expect(snap(g).warns_5m).toBe(0);
    expectDecision(g.at(2).check({ latency_ms: 50 }), false, 'latency_cooloff', ['latency_cooloff']);
  });
});

describe('halt_threshold_repeats: WARNs counted within 300 s', () => {
  // cooloff 120 s has expired by t0+300, so only the repeat count can halt
  it('a second WARN exactly 300 s later still counts -> halt', () => {
    const g = new Gate();
    g.check({ latency_ms: 50 });
    const r = g.at(300).check({ latency_ms: 50 });
    expectDecision(r, false, 'latency_halt', ['latency_halt']);
    expect(snap(g)).toMatchObject({ warns_5m: 2, halted: true, cooloff_until: g.t0 + 300 + 120 });
  });

  it('a second WARN 301 s later does not count -> only a new cooloff', () => {
    const g = new Gate();
    g.check({ latency_ms: 50 });
    const r = g.at(301).check({ latency_ms: 50 });
    expectDecision(r, false, 'latency_cooloff', ['latency_cooloff']);
    expect(snap(g)).toMatchObject({ warns_5m: 1, halted: false, cooloff_until: g.t0 + 301 + 120 });
  });

  it('repeats=3 needs three WARNs (cooloff kept short so the cooloff rule does not fire)', () => {
    const g = new Gate({ aurora: { halt_threshold_repeats: 3, cooloff_base_sec: 1, latency_window_sec: 1 } });
    expect(g.check({ latency_ms: 50 }).reason).toBe('latency_cooloff');
    expect(g.at(10).check({ latency_ms: 50 }).reason).toBe('latency_cooloff');
    expect(snap(g).halted).toBe(false);
    expect(g.at(20).check({ latency_ms: 50 }).reason).toBe('latency_halt');
  });
});

describe('sample window (window_sec 60): samples with t < now - 60 leave', () => {
  const cfg = { aurora: { cooloff_base_sec: 10, halt_threshold_repeats: 5 } };

  it('a sample exactly at the cutoff stays (and still WARNs)', () => {
    const g = new Gate(cfg);
    g.check({ latency_ms: 50 });
    const r = g.at(60).check();
    expect(snap(g).samples).toBe(2);
    expectDecision(r, false, 'latency_cooloff', ['latency_cooloff']);
  });

  it('just after the cutoff it is gone and the guard is ok again', () => {
    const g = new Gate(cfg);
    g.check({ latency_ms: 50 });
    const r = g.at(60.001).check();
    expect(snap(g).samples).toBe(1);
    expectDecision(r, true, 'ok', []);
  });
});

describe('cooloff expiry', () => {
  it('blocks just before cooloff_until and passes at cooloff_until (now < until)', () => {
    const g = new Gate();
    g.check({ latency_ms: 50 });
    // at +119.999 the slow sample has left the 60 s window, so no new WARN: only the running cooloff blocks
    expectDecision(g.at(119.999).check(), false, 'latency_cooloff', ['latency_cooloff']);
    expectDecision(g.at(120).check(), true, 'ok', []);
  });
});

describe('ops', () => {
  it('opsCooloff can only lengthen, truncates seconds to int, ignores negatives', () => {
    const g = new Gate();
    const now = g.t0;
    expect(opsCooloff(g.state, 30, now)).toBe(now + 30);
    expect(opsCooloff(g.state, 10, now)).toBe(now + 30);
    expect(opsCooloff(g.state, 60.9, now)).toBe(now + 60);
    expect(opsCooloff(g.state, -100, now)).toBe(now + 60);
    expectDecision(g.at(59).check(), false, 'latency_cooloff', ['latency_cooloff']);
    expectDecision(g.at(60).check(), true, 'ok', []);
  });

  it('opsCooloff shorter than a running WARN cooloff leaves it', () => {
    const g = new Gate();
    g.check({ latency_ms: 50 });
    expect(opsCooloff(g.state, 30, g.t0 + 1)).toBe(g.t0 + 120);
  });

  it('opsReset(state, false) clears warns/cooloff/halt, keeps samples and armed; the next request re-enters cooloff (D4)', () => {
    const g = new Gate();
    g.check({ latency_ms: 50 });
    expect(g.at(1).check().reason).toBe('latency_halt');
    opsReset(g.state, false);
    expect(snap(g)).toMatchObject({ armed: true, halted: false, cooloff_until: 0, warns_5m: 0, samples: 2 });
    const r = g.at(2).check(); // window [50,5,5] -> p95 45.5 > 30
    expectDecision(r, false, 'latency_cooloff', ['latency_cooloff']);
    expect(snap(g)).toMatchObject({ cooloff_until: g.t0 + 2 + 120, samples: 3, warns_5m: 1 });
  });

  it('opsReset does not re-arm a disarmed guard', () => {
    const g = new Gate();
    setArmed(g.state, false);
    opsReset(g.state, false);
    expectDecision(g.check(), false, 'latency_disarmed', ['latency_disarmed']);
  });

  it('opsReset(state, true) also clears the samples', () => {
    const g = new Gate();
    g.check({ latency_ms: 50 });
    opsReset(g.state, true);
    expect(snap(g).samples).toBe(0);
    expectDecision(g.at(1).check(), true, 'ok', []);
  });
});

describe('enforce precedence: disarmed, then halt, then cooloff', () => {
  it('disarmed beats halt and cooloff', () => {
    const g = new Gate();
    g.check({ latency_ms: 50 });
    g.at(1).check();
    expect(snap(g)).toMatchObject({ halted: true });
    setArmed(g.state, false);
    expect(enforce(g.state, g.t0 + 2)).toBe('disarmed');
    expectDecision(g.at(2).check(), false, 'latency_disarmed', ['latency_disarmed']);
  });

  it('halt beats cooloff', () => {
    const g = new Gate();
    g.check({ latency_ms: 50 });
    g.at(1).check();
    expect(enforce(g.state, g.t0 + 2)).toBe('halt'); // still inside cooloff_until
  });

  it('disarmed on a fresh state blocks; re-arming passes', () => {
    const g = new Gate();
    setArmed(g.state, false);
    expectDecision(g.check(), false, 'latency_disarmed', ['latency_disarmed']);
    expect(snap(g).samples).toBe(1); // the sample is still recorded
    setArmed(g.state, true);
    expectDecision(g.at(1).check(), true, 'ok', []);
  });

  it('halt has no expiry: still halted long after cooloff and window', () => {
    const g = new Gate();
    g.check({ latency_ms: 50 });
    g.at(1).check();
    expectDecision(g.at(10_000).check(), false, 'latency_halt', ['latency_halt']);
  });
});

describe('events', () => {
  it('AURORA.ESCALATION only when the enforced state changes', () => {
    const g = new Gate();
    const r1 = g.check({ latency_ms: 50 });
    expect(codes(r1.events)).toEqual(['HEALTH.LATENCY_P95_HIGH', 'AURORA.ESCALATION']);
    expect(r1.events[1].details.state).toMatchObject({ armed: true, halted: false, cooloff_until: g.t0 + 120, warns_5m: 1 });
    const r2 = g.at(1).check();
    expect(codes(r2.events)).toEqual(['HEALTH.LATENCY_P95_HIGH', 'AURORA.ESCALATION']);
    expect(r2.events[1].details.state).toMatchObject({ halted: true, warns_5m: 2 });
    const r3 = g.at(2).check(); // still halt: no new escalation
    expect(r3.reason).toBe('latency_halt');
    expect(codes(r3.events)).not.toContain('AURORA.ESCALATION');
  });

  it('disarmed escalates once, not on every blocked request', () => {
    const g = new Gate();
    setArmed(g.state, false);
    expect(codes(g.check().events)).toEqual(['AURORA.ESCALATION']);
    expect(codes(g.at(1).check().events)).toEqual([]);
  });

  it('after an ok request a new cooloff escalates again', () => {
    const g = new Gate({ aurora: { halt_threshold_repeats: 5 } });
    g.check({ latency_ms: 50 });
    expect(g.at(130).check().reason).toBe('ok');
    expect(codes(g.at(200).check({ latency_ms: 50 }).events)).toContain('AURORA.ESCALATION');
  });

  it('a new cooloff after the previous one expired is a state change even with no request in between (D-9)', () => {
    const g = new Gate({ aurora: { halt_threshold_repeats: 5 } });
    g.check({ latency_ms: 50 }); // cooloff until t0+120, escalation journaled
    // cooloff expired at t0+120 (state back to normal); the WARN at t0+200 starts a new cooloff until t0+320
    const r = g.at(200).check({ latency_ms: 50 });
    expect(r.reason).toBe('latency_cooloff');
    expect(snap(g).cooloff_until).toBe(g.t0 + 320);
    expect(codes(r.events)).toContain('AURORA.ESCALATION');
  });

  it('HEALTH.LATENCY_P95_HIGH is debounced for 100 ms (service.md 4.1)', () => {
    const g = new Gate({ aurora: { halt_threshold_repeats: 64 } }, {}, { t0: 0 });
    expect(codes(g.check({ latency_ms: 50 }).events)).toContain('HEALTH.LATENCY_P95_HIGH');
    expect(codes(g.at(0.0999).check({ latency_ms: 50 }).events)).not.toContain('HEALTH.LATENCY_P95_HIGH');
    expect(codes(g.at(0.1).check({ latency_ms: 50 }).events)).toContain('HEALTH.LATENCY_P95_HIGH');
  });

  it('the p95 event fires even when the hard guard blocked the request (record happens first)', () => {
    const r = new Gate().check({ latency_ms: 500 });
    expect(codes(r.events)).toEqual(['HEALTH.LATENCY_HIGH', 'HEALTH.LATENCY_P95_HIGH']);
    expect(r.events[1].details).toEqual({ p95_ms: 500, threshold: 30 });
  });
});
