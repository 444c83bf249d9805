/**
 * gate.md 1.7 / D21 anti-churn pre-checks (cooldown after close, open rate limit, position side/min hold).
 * src/core/posttrade.ts does not exist yet, so the per-symbol state is set through state.symbols.
 */
import { describe, expect, it } from 'vitest';
import { SIDE_BUY, SIDE_SELL } from '../../../src/shm/state/symbol-table.ts';
import { expectDecision, Gate } from './helpers.ts';

const ms = (g: Gate) => Math.floor(g.now * 1000);
const slotOf = (g: Gate, sym = 'BTCUSDT') => g.state.symbols.upsert(sym, ms(g));

function setCooldown(g: Gate, untilMs: number, sym = 'BTCUSDT') {
  g.state.symbols.setCooldownUntilMs(slotOf(g, sym), untilMs);
}
function setPosition(g: Gate, side: number, sinceMs: number, sym = 'BTCUSDT') {
  g.state.symbols.setPosition(slotOf(g, sym), side, sinceMs);
}

/** the short-circuit leaves the HealthGuard and TRAP state untouched (D21) */
function expectNoPipeline(g: Gate) {
  expect(g.state.latency.count).toBe(0);
  expect(g.state.trapRaw.count).toBe(0);
}

const TRAP = { trap_cancel_deltas: [5], trap_add_deltas: [1], trap_trades_cnt: 1 };

describe('cooldown after close (aurora.cooldown_after_close_ms > 0, now < cooldown_until)', () => {
  const cfg = { aurora: { cooldown_after_close_ms: 5000 } };

  it('blocks with a minimal observability {reasons, cooldown_remaining_ms}', () => {
    const g = new Gate(cfg);
    setCooldown(g, ms(g) + 3000);
    const r = g.check({ latency_ms: 50, ...TRAP });
    expectDecision(r, false, 'cooldown_after_close_active', ['cooldown_after_close_active']);
    expect(r.obs).toEqual({ reasons: ['cooldown_after_close_active'], cooldown_remaining_ms: 3000 });
    expect(r.response.max_qty).toBe(0.01);
    expect(r.response.risk_scale).toBe(1);
    expect(r.response.cooldown_ms).toBe(0); // D15
    expect(r.events).toEqual([{ code: 'COOLDOWN.ACTIVE', details: { symbol: 'BTCUSDT', ms_left: 3000 }, symbol: 'BTCUSDT' }]);
    expectNoPipeline(g);
  });

  it('1 ms before the end blocks, at the end passes', () => {
    const g = new Gate(cfg);
    setCooldown(g, ms(g) + 1000);
    expect(g.at(0.9990234375).check().obs.cooldown_remaining_ms).toBe(1); // 1023/1024 s: exact in binary
    expectDecision(g.at(1).check(), true, 'ok', []);
  });

  it('disabled when the interval is 0 (default), even with a cooldown stored', () => {
    const g = new Gate();
    setCooldown(g, ms(g) + 3000);
    expectDecision(g.check(), true, 'ok', []);
  });

  it('per canonical symbol: "binance:btcusdt" and " btcusdt " hit BTCUSDT; other symbols pass', () => {
    const g = new Gate(cfg);
    setCooldown(g, ms(g) + 3000);
    expect(g.check({}, { order: { symbol: 'binance:btcusdt' } }).reason).toBe('cooldown_after_close_active');
    expect(g.check({}, { order: { symbol: ' btcusdt ' } }).reason).toBe('cooldown_after_close_active');
    expect(g.check({}, { order: { symbol: 'ETHUSDT' } }).reason).toBe('ok');
  });

  it('falls back to market.symbol when order.symbol is absent', () => {
    const g = new Gate(cfg);
    setCooldown(g, ms(g) + 3000);
    expect(g.check({ symbol: 'btcusdt' }, { order: { symbol: undefined } }).reason).toBe('cooldown_after_close_active');
  });

  it('AURORA_COOLDOWN_AFTER_CLOSE_MS is only a fallback for the YAML key (1.7)', () => {
    const g = new Gate({}, { AURORA_COOLDOWN_AFTER_CLOSE_MS: '5000' });
    setCooldown(g, ms(g) + 3000);
    expect(g.check().reason).toBe('cooldown_after_close_active');
    const y = new Gate({ aurora: { cooldown_after_close_ms: 0 } }, { AURORA_COOLDOWN_AFTER_CLOSE_MS: '5000' });
    setCooldown(y, ms(y) + 3000);
    expect(y.check().reason).toBe('ok');
  });
});

describe('open rate limit (aurora.min_open_interval_ms): now − last allowed < interval blocks', () => {
  const cfg = { aurora: { min_open_interval_ms: 1000 } };

  it('an allowed check stamps; 1023/1024 s later blocks with 1 ms left; 1 s later passes', () => {
    const g = new Gate(cfg);
    expectDecision(g.check(), true, 'ok', []);
    const r = g.at(0.5).check();
    expectDecision(r, false, 'open_rate_limit', ['open_rate_limit']);
    expect(r.obs).toEqual({ reasons: ['open_rate_limit'], rate_limit_ms_left: 500 });
    expect(r.events[0]).toMatchObject({ code: 'OPEN.RATE_LIMIT', details: { symbol: 'BTCUSDT', ms_left: 500 } });
    expect(g.at(0.9990234375).check().obs.rate_limit_ms_left).toBe(1);
    expectDecision(g.at(1).check(), true, 'ok', []);
  });

  it('a pipeline block does not stamp', () => {
    const g = new Gate(cfg);
    expect(g.check({ score: -1 }).reason).toBe('expected_return_gate');
    expectDecision(g.at(0.5).check(), true, 'ok', []);
  });

  it('a rate-limit block does not stamp (the window runs from the last allow)', () => {
    const g = new Gate(cfg);
    g.check();
    expect(g.at(0.75).check().reason).toBe('open_rate_limit');
    expectDecision(g.at(1).check(), true, 'ok', []);
  });

  it('per symbol', () => {
    const g = new Gate(cfg);
    g.check();
    expectDecision(g.at(0.5).check({}, { order: { symbol: 'ETHUSDT' } }), true, 'ok', []);
  });
});

describe('position state: an open position on the other side', () => {
  it('opposite side without min hold -> opposite_side_block', () => {
    const g = new Gate();
    setPosition(g, SIDE_SELL, ms(g) - 2500);
    const r = g.check();
    expectDecision(r, false, 'opposite_side_block', ['opposite_side_block']);
    expect(r.obs).toEqual({ reasons: ['opposite_side_block'], position: { symbol: 'BTCUSDT', side: 'sell', age_ms: 2500 } });
    expect(r.events[0]).toMatchObject({ code: 'POSITION.OPPOSITE_BLOCK', details: { symbol: 'BTCUSDT', open_side: 'sell' } });
    expectNoPipeline(g);
  });

  it('same side passes; no side passes', () => {
    const g = new Gate();
    setPosition(g, SIDE_BUY, ms(g) - 10);
    expectDecision(g.check(), true, 'ok', []);
    setPosition(g, SIDE_SELL, ms(g) - 10);
    expectDecision(g.check({}, { order: { side: undefined } }), true, 'ok', []);
    expect(g.check({}, { order: { side: 'BUY' } }).reason).toBe('opposite_side_block'); // side lower-cased
  });

  it('min hold 5000: age 4999 -> position_min_hold_active; age 5000 -> opposite_side_block', () => {
    const g = new Gate({ aurora: { min_position_hold_ms: 5000 } });
    setPosition(g, SIDE_SELL, ms(g) - 4999);
    const r = g.check();
    expectDecision(r, false, 'position_min_hold_active', ['position_min_hold_active']);
    expect(r.obs.position).toEqual({ symbol: 'BTCUSDT', side: 'sell', age_ms: 4999, min_hold_ms: 5000 });
    expect(r.events[0]).toMatchObject({ code: 'POSITION.MIN_HOLD', details: { symbol: 'BTCUSDT', ms_left: 1 } });
    setPosition(g, SIDE_SELL, ms(g) - 5000);
    const r2 = g.check();
    expectDecision(r2, false, 'opposite_side_block', ['opposite_side_block']);
    expect(r2.obs.position).toEqual({ symbol: 'BTCUSDT', side: 'sell', age_ms: 5000 });
  });

  it('a closing order (reduce_only / action close) is exempt (service D-11)', () => {
    const g = new Gate();
    setPosition(g, SIDE_SELL, ms(g) - 10);
    expectDecision(g.check({}, { order: { reduce_only: true } }), true, 'ok', []);
    expectDecision(g.check({}, { order: { action: 'close' } }), true, 'ok', []);
  });
});

describe('check order: cooldown, then rate limit, then position', () => {
  const all = { aurora: { cooldown_after_close_ms: 5000, min_open_interval_ms: 1000, min_position_hold_ms: 5000 } };

  it('cooldown wins over rate limit and position', () => {
    const g = new Gate(all);
    g.check(); // stamp
    setCooldown(g, ms(g) + 3000);
    setPosition(g, SIDE_SELL, ms(g));
    expect(g.at(0.5).check().reason).toBe('cooldown_after_close_active');
  });

  it('rate limit wins over position', () => {
    const g = new Gate(all);
    g.check();
    setPosition(g, SIDE_SELL, ms(g));
    expect(g.at(0.5).check().reason).toBe('open_rate_limit');
    expect(g.at(1).check().reason).toBe('position_min_hold_active');
  });
});
