import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGate } from '../helpers/gate.ts';
import { check, ops, pre, startGateWith, type Json } from './helpers.ts';

/**
 * Limits switched on live on a gate started WITHOUT a `controls:` section (controls.md §5): its modest
 * control tables hold them, every worker picks the new configuration up from its next decision (the
 * first one computing the request facts inside the lock), and turning everything off again gives the
 * reference answers back. Needs the ops side (POST /ops/limits, POST /ops/trading_state).
 */
describe('controls switched on and off at run time on a gate without a controls section', () => {
  let gate: TestGate;
  beforeAll(async () => {
    gate = await startGateWith({}, { threads: 2, env: { AURORA_POOL_INLINE_WHEN_IDLE: '0' } });
  });
  afterAll(async () => {
    await gate?.stop();
  });

  it('limits, an idempotent replay, the trading state, and back to the reference', async (ctx) => {
    const reference = await pre(gate, check({ account: 'live', cid: 'l-0' }));
    expect(reference.quotas).toEqual({ trades_pm_left: 999, symbol_exposure_left_usdt: 1e12 });
    expect(reference.observability.controls).toBeUndefined();

    const on = await ops(gate, 'POST', '/ops/limits', { max_open_orders: 2, dedupe_window_s: 30 });
    if (on.status === 404) return ctx.skip();
    expect(on.status, on.text).toBe(200);
    // several requests, so both workers decide with the new configuration
    const a = await pre(gate, check({ account: 'live', cid: 'l-1' }));
    expect(a).toMatchObject({ allow: true, quotas: { open_orders_left: 1, trades_pm_left: null } });
    expect(await pre(gate, check({ account: 'live', cid: 'l-1' }))).toEqual({ ...a, observability: { ...a.observability, idempotent_replay: true } });
    expect((await pre(gate, check({ account: 'live', cid: 'l-2' }))).allow).toBe(true);
    const full = await pre(gate, check({ account: 'live', cid: 'l-3' }));
    expect(full).toMatchObject({ allow: false, reason: 'open_orders_limit', hard_gate: true, observability: { controls: { rule: 'max_open_orders', limit: 2, value: 3 } } });

    const reducing = await ops(gate, 'POST', '/ops/trading_state', { state: 'REDUCING' });
    expect(reducing.status, reducing.text).toBe(200);
    expect((await pre(gate, check({ account: 'live2' }))).reason).toBe('trading_state_reducing');
    expect((await ops(gate, 'POST', '/ops/trading_state', { state: 'ACTIVE' })).status).toBe(200);

    const off = await ops(gate, 'POST', '/ops/limits', { max_open_orders: null, dedupe_window_s: null });
    expect(off.status, off.text).toBe(200);
    for (let i = 0; i < 4; i++) {
      const r = (await pre(gate, check({ account: 'live', cid: `l-off-${i}` }))) as Json;
      expect(r).toMatchObject({ allow: true, hard_gate: false, quotas: { trades_pm_left: 999, symbol_exposure_left_usdt: 1e12 } });
      expect(r.observability.controls).toBeUndefined();
    }
  });
});
