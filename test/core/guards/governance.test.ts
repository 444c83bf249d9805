/** gate.md 3.13 / 4.6 Governance (+ service.md 2.4 reject storm and AURORA.HALT event): first hit wins. */
import { describe, expect, it } from 'vitest';
import { governanceHalted } from '../../../src/core/governance.ts';
import { codes, eventsOf, expectDecision, Gate } from './helpers.ts';

const HALT = ['AURORA.HALT', 'killswitch_active'];

describe('DQ kill switch (D9): stale_book / crossed_book halt every request for 60 s', () => {
  it('stale_book true halts, emits AURORA.HALT once; the next plain request within 60 s is halted too', () => {
    const g = new Gate();
    const r1 = g.check({ dq: { stale_book: true } });
    expectDecision(r1, false, 'AURORA.HALT', HALT);
    expect(eventsOf(r1.events, 'AURORA.HALT')).toEqual([
      { code: 'AURORA.HALT', details: { until_ms: (g.t0 + 60) * 1000, cause: 'dq', reject_rate: 0 } },
    ]);
    const r2 = g.at(59.999).check();
    expectDecision(r2, false, 'AURORA.HALT', HALT);
    expect(codes(r2.events)).toEqual([]);
    expect(governanceHalted(g.state, g.now)).toBe(true);
  });

  it('expires exactly at halt_until (now < until)', () => {
    const g = new Gate();
    g.check({ dq: { crossed_book: true } });
    expectDecision(g.at(60).check(), true, 'ok', []);
  });

  it('a new critical flag during the halt extends it without a second event', () => {
    const g = new Gate();
    g.check({ dq: { stale_book: true } });
    const r = g.at(30).check({ dq: { stale_book: true } });
    expect(codes(r.events)).toEqual([]);
    expect(g.at(60).check().reason).toBe('AURORA.HALT');
    expectDecision(g.at(90).check(), true, 'ok', []);
  });

  it('a halt after the previous one expired emits AURORA.HALT again', () => {
    const g = new Gate();
    g.check({ dq: { stale_book: true } });
    expect(codes(g.at(61).check({ dq: { stale_book: true } }).events)).toEqual(['AURORA.HALT']);
  });

  it('reject_storm_cooldown_s sets the halt length', () => {
    const g = new Gate({ gates: { reject_storm_cooldown_s: 5 } });
    g.check({ dq: { stale_book: true } });
    expect(g.at(4.999).check().reason).toBe('AURORA.HALT');
    expect(g.at(5).check().reason).toBe('ok');
  });
});

describe('truthiness of dq flags (Python)', () => {
  it.each([[true], ['false'], ['x'], [1], [-1], [0.5], [[0]], [{ a: 1 }]])('stale_book %j trips', (v) => {
    expect(new Gate().check({ dq: { stale_book: v } }).reason).toBe('AURORA.HALT');
  });

  it.each([[false], [0], [''], [null], [[]], [{}]])('stale_book %j does not trip', (v) => {
    expectDecision(new Gate().check({ dq: { stale_book: v } }), true, 'ok', []);
  });

  it('dq null or absent -> {}', () => {
    expectDecision(new Gate().check({ dq: null }), true, 'ok', []);
  });

  it('abnormal_spread truthy -> DQ_EVENT.ABNORMAL_SPREAD (no halt)', () => {
    const g = new Gate();
    expectDecision(g.check({ dq: { abnormal_spread: 'false' } }), false, 'DQ_EVENT.ABNORMAL_SPREAD', ['DQ_EVENT.ABNORMAL_SPREAD', 'abnormal_spread']);
    expectDecision(g.at(1).check(), true, 'ok', []);
  });
});

describe('guarded by allow', () => {
  it('a request blocked earlier does not trip the kill switch', () => {
    const g = new Gate();
    expect(g.check({ score: -1, dq: { stale_book: true } }).reason).toBe('expected_return_gate');
    expect(governanceHalted(g.state, g.now)).toBe(false);
    expectDecision(g.at(1).check(), true, 'ok', []);
  });

  it('the halt blocks requests that pass every earlier step, with risk obs present', () => {
    const g = new Gate({ risk: { size_scale: 0.5 } });
    g.check({ dq: { stale_book: true } });
    const r = g.at(1).check();
    expect(r.riskScale).toBe(0.5);
    expect(r.response.max_qty).toBe(0.01);
  });
});

describe('drawdown: (pnl or 0) < −abs(daily_dd_limit_pct) (10); RiskManager cap loosened to 100', () => {
  const loose = { risk: { dd_day_pct: 100 } };

  it('pnl −10 passes (strict <)', () => {
    expectDecision(new Gate(loose).check({ pnl_today_pct: -10 }), true, 'ok', []);
  });

  it('pnl −10.0001 blocks', () => {
    expectDecision(new Gate(loose).check({ pnl_today_pct: -10.0001 }), false, 'RISK.DENY.DRAWDOWN', ['RISK.DENY.DRAWDOWN', 'daily_dd']);
  });

  it('pnl −9.9999 passes', () => {
    expectDecision(new Gate(loose).check({ pnl_today_pct: -9.9999 }), true, 'ok', []);
  });

  it('the limit is taken as abs(): −5 means 5', () => {
    expect(new Gate({ ...loose, gates: { daily_dd_limit_pct: -5 } }).check({ pnl_today_pct: -5.5 }).reason).toBe('RISK.DENY.DRAWDOWN');
  });

  it('with base.yaml the RiskManager cap (used >= 10) fires first (D19)', () => {
    expect(new Gate().check({ pnl_today_pct: -10.0001 }).reason).toBe('risk_dd_day_cap');
  });
});

describe('spread: spread_bps > gates.spread_bps_limit (80) with the pipeline limit at 100', () => {
  const cfg = { guards: { spread_bps_limit: 100 } };

  it('80 passes', () => {
    expectDecision(new Gate(cfg).check({ spread_bps: 80 }), true, 'ok', []);
  });

  it('80.0001 blocks with SPREAD_GUARD_TRIP and a governance-sourced event', () => {
    const r = new Gate(cfg).check({ spread_bps: 80.0001 });
    expectDecision(r, false, 'SPREAD_GUARD_TRIP', ['SPREAD_GUARD_TRIP', 'spread_limit']);
    expect(eventsOf(r.events, 'SPREAD_GUARD_TRIP')).toEqual([
      { code: 'SPREAD_GUARD_TRIP', details: { spread_bps: 80.0001, limit_bps: 80, source: 'governance' } },
    ]);
  });
});

describe('latency: latency_ms > gates.latency_ms_limit (500)', () => {
  const cfg = { guards: { latency_ms_limit: 1000 }, aurora: { latency_guard_ms: 1e6 } };

  it('500 passes', () => {
    expectDecision(new Gate(cfg).check({ latency_ms: 500 }), true, 'ok', []);
  });

  it('500.1 blocks with LATENCY_GUARD_TRIP', () => {
    expectDecision(new Gate(cfg).check({ latency_ms: 500.1 }), false, 'LATENCY_GUARD_TRIP', ['LATENCY_GUARD_TRIP', 'latency_limit']);
  });
});

describe('positions: (open_positions or 0) >= max_concurrent_positions', () => {
  const cfg = { risk: { max_concurrent: 10_000 } };

  it('default 999: 998 passes, 999 blocks, 1000 blocks', () => {
    expectDecision(new Gate(cfg).check({ open_positions: 998 }), true, 'ok', []);
    expectDecision(new Gate(cfg).check({ open_positions: 999 }), false, 'RISK.DENY.POS_LIMIT', ['RISK.DENY.POS_LIMIT', 'pos_limit']);
    expect(new Gate(cfg).check({ open_positions: 1000 }).reason).toBe('RISK.DENY.POS_LIMIT');
  });

  it('gates.max_concurrent_positions 5: 4 passes, 5 blocks', () => {
    const c = { ...cfg, gates: { max_concurrent_positions: 5 } };
    expectDecision(new Gate(c).check({ open_positions: 4 }), true, 'ok', []);
    expect(new Gate(c).check({ open_positions: 5 }).reason).toBe('RISK.DENY.POS_LIMIT');
  });

  it('absent open_positions counts as 0 (max 0 blocks everything)', () => {
    expect(new Gate({ ...cfg, gates: { max_concurrent_positions: 0 } }).check().reason).toBe('RISK.DENY.POS_LIMIT');
  });
});

describe('order: first hit wins', () => {
  it('abnormal_spread before drawdown, spread and positions', () => {
    const r = new Gate({ risk: { dd_day_pct: 100, max_concurrent: 10_000 }, guards: { spread_bps_limit: 100 } }).check({
      dq: { abnormal_spread: true },
      pnl_today_pct: -50,
      spread_bps: 90,
      open_positions: 5000,
    });
    expectDecision(r, false, 'DQ_EVENT.ABNORMAL_SPREAD', ['DQ_EVENT.ABNORMAL_SPREAD', 'abnormal_spread']);
  });

  it('drawdown before spread', () => {
    const r = new Gate({ risk: { dd_day_pct: 100 }, guards: { spread_bps_limit: 100 } }).check({ pnl_today_pct: -50, spread_bps: 90 });
    expect(r.reason).toBe('RISK.DENY.DRAWDOWN');
  });

  it('spread before latency before positions', () => {
    const cfg = { risk: { max_concurrent: 10_000 }, guards: { spread_bps_limit: 100, latency_ms_limit: 1000 }, aurora: { latency_guard_ms: 1e6 } };
    expect(new Gate(cfg).check({ spread_bps: 90, latency_ms: 600, open_positions: 1000 }).reason).toBe('SPREAD_GUARD_TRIP');
    expect(new Gate(cfg).check({ latency_ms: 600, open_positions: 1000 }).reason).toBe('LATENCY_GUARD_TRIP');
  });

  it('the kill switch comes before every other row', () => {
    expect(new Gate().check({ dq: { stale_book: true, abnormal_spread: true } }).reasons).toEqual(HALT);
  });

  it('earlier notes stay in front of the governance code', () => {
    const r = new Gate().check({ dq: { stale_book: true }, score: 1, sprt_samples: [1] });
    expectDecision(r, false, 'AURORA.HALT', ['sprt_continue', ...HALT]);
  });
});

describe('reject storm (service.md 2.4): outcomes of the last 60 s, total >= reject_storm_min_orders (10) and rate >= 0.5', () => {
  const feed = (g: Gate, total: number, rejects: number, at = g.now) => {
    for (let i = 0; i < total; i++) g.state.outcomes.push(at, i < rejects);
  };

  it('10 outcomes, 5 rejected (rate 0.5) -> halt with cause reject_storm', () => {
    const g = new Gate();
    feed(g, 10, 5);
    const r = g.check();
    expectDecision(r, false, 'AURORA.HALT', HALT);
    expect(eventsOf(r.events, 'AURORA.HALT')).toEqual([
      { code: 'AURORA.HALT', details: { until_ms: (g.t0 + 60) * 1000, cause: 'reject_storm', reject_rate: 0.5 } },
    ]);
  });

  it('10 outcomes, 4 rejected (rate 0.4) -> no halt', () => {
    const g = new Gate();
    feed(g, 10, 4);
    expectDecision(g.check(), true, 'ok', []);
  });

  it('9 outcomes all rejected (total below the minimum) -> no halt', () => {
    const g = new Gate();
    feed(g, 9, 9);
    expectDecision(g.check(), true, 'ok', []);
  });

  it('11 outcomes, 6 rejected (rate 0.545) -> halt', () => {
    const g = new Gate();
    feed(g, 11, 6);
    expect(g.check().reason).toBe('AURORA.HALT');
  });

  it('gates.reject_storm_min_orders 3 and reject_storm_pct 0.3', () => {
    const g = new Gate({ gates: { reject_storm_min_orders: 3, reject_storm_pct: 0.3 } });
    feed(g, 3, 1); // rate 0.333
    expect(g.check().reason).toBe('AURORA.HALT');
    const g2 = new Gate({ gates: { reject_storm_min_orders: 3, reject_storm_pct: 0.3 } });
    feed(g2, 2, 2);
    expect(g2.check().reason).toBe('ok');
  });

  it('outcomes older than 60 s are forgotten', () => {
    const g = new Gate();
    feed(g, 10, 10, g.t0);
    expect(g.at(61).check().reason).toBe('ok');
  });

  it('the halt outlives the storm: it lasts reject_storm_cooldown_s', () => {
    const g = new Gate();
    feed(g, 10, 10);
    g.check();
    g.state.outcomes.clear();
    expect(g.at(30).check().reason).toBe('AURORA.HALT');
    expect(g.at(60).check().reason).toBe('ok');
  });
});
