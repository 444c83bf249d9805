/** gate.md 3.10 spread guard: always runs, spread_bps > limit blocks and overwrites the reason (D2); SPREAD_GUARD_TRIP event. */
import { describe, expect, it } from 'vitest';
import { eventsOf, expectDecision, Gate } from './helpers.ts';

/** Governance spread limit lifted so only the pipeline guard decides. */
const NO_GOV = { gates: { spread_bps_limit: 1e6 } };

describe('limit 80 (base.yaml), strict >', () => {
  it('79.9999 passes', () => {
    expectDecision(new Gate(NO_GOV).check({ spread_bps: 79.9999 }), true, 'ok', []);
  });

  it('exactly 80 passes (also for Governance, whose limit is 80 too)', () => {
    const r = new Gate().check({ spread_bps: 80 });
    expectDecision(r, true, 'ok', []);
    expect(eventsOf(r.events, 'SPREAD_GUARD_TRIP')).toEqual([]);
  });

  it('80.0001 blocks: spread_bps_too_wide:80.0, nothing appended to reasons', () => {
    const r = new Gate(NO_GOV).check({ spread_bps: 80.0001 });
    expectDecision(r, false, 'spread_bps_too_wide:80.0', []);
    expect(r.obs.spread_bps).toBe(80.0001);
    expect(eventsOf(r.events, 'SPREAD_GUARD_TRIP')).toEqual([
      { code: 'SPREAD_GUARD_TRIP', details: { spread_bps: 80.0001, limit_bps: 80, source: 'pipeline' } },
    ]);
  });

  it('fmt1 tie to even: 100.25 -> 100.2 (D20)', () => {
    expect(new Gate().check({ spread_bps: 100.25 }).reason).toBe('spread_bps_too_wide:100.2');
  });

  it('the pipeline block keeps Governance from running (its limit is also 80)', () => {
    const r = new Gate().check({ spread_bps: 81 });
    expectDecision(r, false, 'spread_bps_too_wide:81.0', []);
    expect(eventsOf(r.events, 'SPREAD_GUARD_TRIP')).toHaveLength(1);
    expect(r.events.find((e) => e.code === 'SPREAD_GUARD_TRIP')!.details.source).toBe('pipeline');
  });
});

describe('always runs and overwrites (D2)', () => {
  it('row 5: latency 500 + spread 120 -> reason replaced, reasons keep the latency note', () => {
    const r = new Gate().check({ latency_ms: 500, spread_bps: 120 });
    expectDecision(r, false, 'spread_bps_too_wide:120.0', ['latency_guard_exceeded:500.0>300.0']);
  });

  it('overwrites an ER block', () => {
    const r = new Gate().check({ score: -1, spread_bps: 90 });
    expectDecision(r, false, 'spread_bps_too_wide:90.0', ['expected_return_below_threshold']);
  });

  it('overwrites a HealthGuard halt', () => {
    const g = new Gate();
    g.check({ latency_ms: 50 });
    g.at(1).check();
    const r = g.at(2).check({ spread_bps: 90 });
    expectDecision(r, false, 'spread_bps_too_wide:90.0', ['latency_halt']);
  });

  it('compat.spread_reason_in_reasons true also appends it', () => {
    const r = new Gate({ compat: { spread_reason_in_reasons: true } }).check({ spread_bps: 90 });
    expectDecision(r, false, 'spread_bps_too_wide:90.0', ['spread_bps_too_wide:90.0']);
  });
});

describe('limit resolution (3.10)', () => {
  it('code default 100 without any config: 100 passes the pipeline, 100.0001 blocks', () => {
    const g = new Gate({}, {}, { base: {} });
    expect(g.cfg.spreadLimitBps).toBe(100);
    // (no way to lift only Governance here: a gates section would also become guards*, D11)
    expect(new Gate({}, {}, { base: {} }).check({ spread_bps: 100 }).reason).toBe('SPREAD_GUARD_TRIP'); // Governance 80
    const r = new Gate({}, {}, { base: {} }).check({ spread_bps: 100.0001 });
    expectDecision(r, false, 'spread_bps_too_wide:100.0', []);
    expect(eventsOf(r.events, 'SPREAD_GUARD_TRIP')[0].details).toEqual({ spread_bps: 100.0001, limit_bps: 100, source: 'pipeline' });
  });

  it('row 15: code defaults, spread 90 -> Governance SPREAD_GUARD_TRIP (limit 80), event source governance', () => {
    const r = new Gate({}, {}, { base: {} }).check({ spread_bps: 90 });
    expectDecision(r, false, 'SPREAD_GUARD_TRIP', ['SPREAD_GUARD_TRIP', 'spread_limit']);
    expect(eventsOf(r.events, 'SPREAD_GUARD_TRIP')).toEqual([
      { code: 'SPREAD_GUARD_TRIP', details: { spread_bps: 90, limit_bps: 80, source: 'governance' } },
    ]);
  });

  it('guards.spread_bps_limit null -> 100.0', () => {
    expect(new Gate({ guards: { spread_bps_limit: null } }).cfg.spreadLimitBps).toBe(100);
  });

  it('AURORA_SPREAD_BPS_LIMIT is overlaid (ENV > YAML)', () => {
    const r = new Gate(NO_GOV, { AURORA_SPREAD_BPS_LIMIT: '60' }).check({ spread_bps: 60.5 });
    expectDecision(r, false, 'spread_bps_too_wide:60.5', []);
  });

  it('AURORA_SPREAD_MAX_BPS is ignored while the key exists, used when absent', () => {
    expect(new Gate({}, { AURORA_SPREAD_MAX_BPS: '50' }).cfg.spreadLimitBps).toBe(80);
    const g = new Gate({ guards: { spread_bps_limit: undefined }, ...NO_GOV }, { AURORA_SPREAD_MAX_BPS: '50' });
    expect(g.check({ spread_bps: 50 }).reason).toBe('ok');
    expect(g.check({ spread_bps: 50.1 }).reason).toBe('spread_bps_too_wide:50.1');
  });

  it('gates-only tree: the pipeline reads gates.spread_bps_limit (D11)', () => {
    const r = new Gate({ gates: { spread_bps_limit: 50 } }, {}, { base: {} }).check({ spread_bps: 50.5 });
    expectDecision(r, false, 'spread_bps_too_wide:50.5', []);
    expect(eventsOf(r.events, 'SPREAD_GUARD_TRIP')[0].details.limit_bps).toBe(50);
  });
});

describe('no event without a spread cause', () => {
  it('other blocks emit no SPREAD_GUARD_TRIP', () => {
    expect(eventsOf(new Gate().check({ latency_ms: 400 }).events, 'SPREAD_GUARD_TRIP')).toEqual([]);
    expect(eventsOf(new Gate().check({ score: -1 }).events, 'SPREAD_GUARD_TRIP')).toEqual([]);
  });
});
