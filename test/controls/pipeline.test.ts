import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { buildControlsConfig } from '../../src/core/controls/config.ts';
import { initControls, publishControls } from '../../src/core/controls/evaluate.ts';
import { toDecisionInput } from '../../src/core/inputs.ts';
import { ControlsContext, decide } from '../../src/core/pipeline.ts';
import { checkParsed, encodeResponse, isFailure, NO_LOCK, SYSTEM_CLOCK } from '../../src/gate/pretrade.ts';
import { GateState } from '../../src/shm/state/gate-state.ts';
import { check, type Json } from './helpers.ts';

/**
 * The desk controls inside the pipeline (src/core/pipeline.ts), without a gate: where the controls'
 * request facts are computed (outside the lock when a control was on at the thread's last decision, else
 * lazily inside it), the response fields they add, and parity when everything is off.
 */
const cfg = loadConfig({}, process.cwd());
const fresh = () => GateState.create(cfg.service.stateSizes, cfg.core.risk, false);
const T = 1_767_225_600;

describe('pipeline and desk controls', () => {
  it('controls off: no facts are computed for an ordinary order, the answer is the reference one', () => {
    const st = fresh();
    initControls(st.controls, cfg.core.controls);
    const input = toDecisionInput(check() as never, 'paper');
    expect(input.controls).toBeNull();
    const d = decide(st, cfg.core, input, T, () => 0, new ControlsContext(cfg.core.controls));
    expect(input.controls).toBeNull();
    expect(d).toMatchObject({ allow: true, hardGate: false, quotas: null, replayOf: null });
    expect(d.observability.controls).toBeUndefined();
    const json = JSON.parse(encodeResponse(d, JSON.stringify(d.observability))) as Json;
    expect(json.hard_gate).toBe(false);
    expect(json.quotas).toEqual({ trades_pm_left: 999, symbol_exposure_left_usdt: 1e12 });
    // a reduce-only order gets its facts (its position is looked up for §0's halt pass-through)
    expect(toDecisionInput(check({ reduceOnly: true }) as never, 'paper').controls).not.toBeNull();
  });

  it('a stale hint: controls turned on live are applied from the first decision (facts computed in the lock)', () => {
    const st = fresh();
    initControls(st.controls, cfg.core.controls);
    const cx = new ControlsContext(cfg.core.controls);
    expect(cx.controlsOn).toBe(false);
    publishControls(st.controls, buildControlsConfig({ max_order_notional_usdt: 50 }));
    const input = toDecisionInput(check({ qty: 1, price: 100 }) as never, 'paper', cx.controlsOn);
    expect(input.controls).toBeNull();
    const d = decide(st, cfg.core, input, T, () => 0, cx);
    expect(d).toMatchObject({ allow: false, reason: 'order_notional_limit', hardGate: true, cooldownMs: 0 });
    expect(d.observability).toEqual({ reasons: ['order_notional_limit'], controls: { rule: 'max_order_notional_usdt', limit: 50, value: 100 } });
    expect(input.controls).not.toBeNull();
    expect(cx.controlsOn).toBe(true);
    // the next request's facts are computed outside the lock
    expect(toDecisionInput(check() as never, 'paper', cx.controlsOn).controls).not.toBeNull();
    const json = JSON.parse(encodeResponse(d, JSON.stringify(d.observability))) as Json;
    expect(json.hard_gate).toBe(true);
    expect(json.quotas).toEqual({ trades_pm_left: null, symbol_exposure_left_usdt: null, account_exposure_left_usdt: null, orders_ps_left: null, open_orders_left: null });
  });

  it('checkParsed publishes the configured controls of a state created outside startGate, and replays', () => {
    const desk = loadConfig({ AURORA_CONFIG: 'desk', AURORA_CONTROLS_MAX_MARKET_AGE_MS: 'off' }, process.cwd());
    const st = GateState.create(desk.service.stateSizes, desk.core.risk, false);
    const body = check({ cid: 'cp-1' });
    const r1 = checkParsed(body, desk.core, st, NO_LOCK, SYSTEM_CLOCK);
    const r2 = checkParsed(body, desk.core, st, NO_LOCK, SYSTEM_CLOCK);
    if (isFailure(r1) || isFailure(r2)) throw new Error('failed');
    const a1 = JSON.parse(r1.json) as Json;
    expect(a1.allow).toBe(true);
    expect(a1.observability.controls.reserved_usdt).toBe(100);
    expect(JSON.parse(r2.json)).toEqual({ ...a1, observability: { ...a1.observability, idempotent_replay: true } });
    const blocked = checkParsed(check({ symbol: 'LUNAUSDT' }), desk.core, st, NO_LOCK, SYSTEM_CLOCK);
    if (isFailure(blocked)) throw new Error('failed');
    expect(JSON.parse(blocked.json)).toMatchObject({ allow: false, reason: 'symbol_not_allowed', hard_gate: true });
  });
});
