/** gate.md 3.8 RiskManager: size scale, daily drawdown cap (used >= cap), concurrency (open >= max). */
import { describe, expect, it } from 'vitest';
import { expectDecision, Gate } from './helpers.ts';

const BASE_CFG = { dd_day_pct: 10, max_concurrent: 10, size_scale: 1.0 };

describe('ctx and risk_scale', () => {
  it('R0 (row 1): risk obs with cfg snapshot and ctx scaled 0 (no base_notional)', () => {
    const r = new Gate().check();
    expectDecision(r, true, 'ok', []);
    expect(r.obs.risk).toEqual({ cfg: BASE_CFG, ctx: { size_scale: 1, base_notional: 0, scaled_notional: 0 } });
    expect(Object.keys(r.obs.risk.ctx)).toEqual(['size_scale', 'base_notional', 'scaled_notional']);
    expect(r.riskScale).toBe(1);
    expect(r.response.risk_scale).toBe(1);
  });

  it('size_scale 0.2 (prod, row 13): scaled = 250 × 0.2 = 50; risk_scale 0.2; max_qty not scaled (D15)', () => {
    const r = new Gate({ risk: { size_scale: 0.2 } }).check({}, { order: { base_notional: 250 } });
    expectDecision(r, true, 'ok', []);
    expect(r.obs.risk).toEqual({
      cfg: { ...BASE_CFG, size_scale: 0.2 },
      ctx: { size_scale: 0.2, base_notional: 250, scaled_notional: 250 * 0.2 },
    });
    expect(r.response.risk_scale).toBe(0.2);
    expect(r.response.max_qty).toBe(0.01);
  });

  it('base_notional: the key wins even when null (-> 0); notional only when the key is absent', () => {
    expect(new Gate().check({}, { order: { base_notional: null, notional: 100 } }).obs.risk.ctx.base_notional).toBe(0);
    expect(new Gate().check({}, { order: { notional: 100 } }).obs.risk.ctx.base_notional).toBe(100);
    expect(new Gate().check({}, { order: { base_notional: 7, notional: 100 } }).obs.risk.ctx.base_notional).toBe(7);
  });

  it('size_scale is clipped to [0, 1] at start-up', () => {
    expect(new Gate({ risk: { size_scale: 1.5 } }).cfg.risk.sizeScale).toBe(1);
    expect(new Gate({ risk: { size_scale: -1 } }).cfg.risk.sizeScale).toBe(0);
  });

  it('size_scale 0 -> risk_size_scale_zero; risk_scale 0 is reported although the step blocked', () => {
    const r = new Gate({ risk: { size_scale: 0 } }).check({}, { order: { base_notional: 100 } });
    expectDecision(r, false, 'risk_size_scale_zero', ['risk_size_scale_zero']);
    expect(r.riskScale).toBe(0);
    expect(r.obs.risk.ctx).toEqual({ size_scale: 0, base_notional: 100, scaled_notional: 0 });
  });

  it('risk_scale stays 1.0 and risk obs null when the step did not run', () => {
    const r = new Gate({ risk: { size_scale: 0.5 } }).check({ latency_ms: 400 });
    expect(r.riskScale).toBe(1);
    expect(r.obs.risk).toBeNull();
  });
});

describe('daily drawdown: used = −pnl_today_pct; used >= dd_day_pct blocks (base cap 10)', () => {
  it('pnl −9.9999 passes', () => {
    expectDecision(new Gate().check({ pnl_today_pct: -9.9999 }), true, 'ok', []);
  });

  it('pnl −10 (used == cap) blocks with dd details in ctx', () => {
    const r = new Gate().check({ pnl_today_pct: -10 });
    expectDecision(r, false, 'risk_dd_day_cap', ['risk_dd_day_cap']);
    expect(r.obs.risk.ctx).toEqual({
      size_scale: 1,
      base_notional: 0,
      scaled_notional: 0,
      dd_cap_pct: 10,
      dd_used_pct: 10,
      pnl_today_pct: -10,
    });
    expect(r.riskScale).toBe(1);
  });

  it('pnl −10.0001 blocks', () => {
    expectDecision(new Gate().check({ pnl_today_pct: -10.0001 }), false, 'risk_dd_day_cap', ['risk_dd_day_cap']);
  });

  it('row 10: pnl −12 -> dd_used_pct 12', () => {
    expect(new Gate().check({ pnl_today_pct: -12 }).obs.risk.ctx).toMatchObject({ dd_cap_pct: 10, dd_used_pct: 12, pnl_today_pct: -12 });
  });

  it('a positive pnl never blocks; an absent pnl skips the check', () => {
    expectDecision(new Gate().check({ pnl_today_pct: 50 }), true, 'ok', []);
    expect(new Gate().check().obs.risk.ctx).not.toHaveProperty('dd_cap_pct');
  });

  it('risk_scale keeps the configured scale when the dd check blocks', () => {
    const r = new Gate({ risk: { size_scale: 0.5 } }).check({ pnl_today_pct: -12 });
    expect(r.reason).toBe('risk_dd_day_cap');
    expect(r.riskScale).toBe(0.5);
  });
});

describe('dd_day_pct resolution: ENV AURORA_DD_DAY_PCT > risk.dd_day_pct > gates.daily_dd_limit_pct (if present) > 100', () => {
  it('AURORA_DD_DAY_PCT beats YAML', () => {
    expect(new Gate({}, { AURORA_DD_DAY_PCT: '5' }).check({ pnl_today_pct: -5 }).reason).toBe('risk_dd_day_cap');
  });

  it('falls back to gates.daily_dd_limit_pct, then to 100', () => {
    const g = new Gate({ risk: { dd_day_pct: undefined }, gates: { daily_dd_limit_pct: 7 } });
    expect(g.cfg.risk.ddDayPct).toBe(7);
    expect(g.check({ pnl_today_pct: -7 }).reason).toBe('risk_dd_day_cap');
    expect(new Gate({ risk: { dd_day_pct: undefined } }).cfg.risk.ddDayPct).toBe(100);
  });
});

describe('concurrency: open_positions >= max_concurrent blocks (base 10)', () => {
  it('9 passes', () => {
    expectDecision(new Gate().check({ open_positions: 9 }), true, 'ok', []);
  });

  it('10 (== max) blocks with details', () => {
    const r = new Gate().check({ open_positions: 10 });
    expectDecision(r, false, 'risk_max_concurrent', ['risk_max_concurrent']);
    expect(r.obs.risk.ctx).toEqual({ size_scale: 1, base_notional: 0, scaled_notional: 0, open_positions: 10, max_concurrent: 10 });
  });

  it('11 blocks', () => {
    expect(new Gate().check({ open_positions: 11 }).reason).toBe('risk_max_concurrent');
  });

  it('open_positions is truncated to int: 9.9 -> 9 passes', () => {
    expectDecision(new Gate().check({ open_positions: 9.9 }), true, 'ok', []);
  });

  it('max_concurrent 3 (prod): 2 passes, 3 blocks', () => {
    expectDecision(new Gate({ risk: { max_concurrent: 3 } }).check({ open_positions: 2 }), true, 'ok', []);
    expect(new Gate({ risk: { max_concurrent: 3 } }).check({ open_positions: 3 }).reason).toBe('risk_max_concurrent');
  });

  it('the dd check comes first: both breached -> risk_dd_day_cap with dd details only', () => {
    const r = new Gate().check({ pnl_today_pct: -20, open_positions: 50 });
    expectDecision(r, false, 'risk_dd_day_cap', ['risk_dd_day_cap']);
    expect(r.obs.risk.ctx).not.toHaveProperty('open_positions');
  });
});

describe('live limits (/risk/set writes state.setRisk)', () => {
  it('decisions follow the limits in shared state', () => {
    const g = new Gate();
    g.state.setRisk({ ddDayPct: 3, maxConcurrent: 1, sizeScale: 0.25 });
    const r = g.check({ pnl_today_pct: -3 }, { order: { base_notional: 8 } });
    expectDecision(r, false, 'risk_dd_day_cap', ['risk_dd_day_cap']);
    expect(r.obs.risk.cfg).toEqual({ dd_day_pct: 3, max_concurrent: 1, size_scale: 0.25 });
    expect(r.obs.risk.ctx.scaled_notional).toBe(2);
    expect(g.check({ open_positions: 1 }).reason).toBe('risk_max_concurrent');
  });
});
