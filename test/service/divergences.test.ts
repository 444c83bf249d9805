import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGate, http, type TestGate } from '../helpers/gate.ts';
import { testHooks } from '../../src/testing/index.ts';
import { DIVERGENT } from '../helpers/divergent.ts';
import { loadScenarios } from '../helpers/vectors.ts';
import { loadConfig } from '../../src/config/load.ts';

/**
 * Our behaviour on the conformance scenarios whose recorded reference result is a defect we fix
 * (docs/decisions.md §3). Each case replays the scenario's own request and asserts what AURORA does.
 */
const TOKEN = 'ops-token-for-vectors-0123456789abcdef';
const scenario = (name: string) => {
  const s = loadScenarios().find((x) => x.name === name);
  if (s === undefined) throw new Error(`scenario ${name} missing from the vector file`);
  return s;
};
const step = (name: string, i: number) => scenario(name).steps[i];
const base = { account: { mode: 'testnet' }, order: { symbol: 'BTCUSDT', side: 'buy', qty: 0.5, price: 50000, base_notional: 100 }, market: { latency_ms: 5, score: 0.5, a_bps: 5, b_bps: 10, slip_bps_est: 1, spread_bps: 3 } };

describe('divergences from the reference', () => {
  let gate: TestGate;
  beforeAll(async () => {
    gate = await startTestGate({ OPS_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await gate.stop();
  });
  const send = (name: string, i: number) => {
    const st = step(name, i);
    return http(gate.url + st.path!, st.method!, { headers: st.headers, body: st.body, raw: st.raw_body });
  };
  const samples = async () => ((await http(`${gate.url}/ops/reset`, 'POST', { headers: { 'X-OPS-TOKEN': TOKEN } })).json as { state: { samples: number } }).state.samples;

  it('lists only scenarios that exist; all are tagged quirk except the token-revocation one (D-1, a security fix)', () => {
    for (const name of DIVERGENT.keys()) {
      if (name !== 'rotate-token-validation-before-cooldown') expect(scenario(name).tags).toContain('quirk');
    }
    expect(DIVERGENT.size).toBe(13);
  });

  it('readiness-always-503: /readiness is 200 with a flat body once ready', async () => {
    testHooks(gate).resetState();
    expect((await send('readiness-always-503', 0)).status).toBe(401);
    const r = await send('readiness-always-503', 1);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ config_loaded: true, halt: false, models_loaded: false, armed: true });
  });

  for (const [name, index, status, code] of [
    ['trap-bad-delta-type-500', 0, 422, 'invalid_request'],
    ['input-latency-non-numeric-500', 0, 422, 'invalid_request'],
    ['input-qty-negative-allowed', 0, 422, 'invalid_request'],
    ['input-bad-json-422', 0, 400, 'malformed_json'],
    ['posttrade-bad-json-422', 0, 400, 'malformed_json'],
    ['input-qty-nan-500', 0, 400, 'malformed_json'],
    ['input-latency-nan-500', 0, 400, 'malformed_json'],
    ['input-text-plain-422', 0, 415, 'unsupported_media_type'],
  ] as const) {
    it(`${name}: ${status} ${code}, nothing recorded`, async () => {
      testHooks(gate).resetState();
      const before = await samples();
      const r = await send(name, index);
      expect(r.status).toBe(status);
      expect((r.json as { error: { code: string } }).error.code).toBe(code);
      expect(await samples()).toBe(before);
    });
  }

  it('422 bodies name the offending field path', async () => {
    const r = await send('input-latency-non-numeric-500', 0);
    expect(JSON.stringify(r.json)).toContain('market.latency_ms');
    const t = await send('trap-bad-delta-type-500', 0);
    expect(JSON.stringify(t.json)).toContain('market.trap_cancel_deltas.0');
  });

  it('gov-dq-*: obi_sign "x" is a 422; market.dq on a valid request reaches Governance', async () => {
    testHooks(gate).resetState();
    expect((await send('gov-dq-stale-book-killswitch', 0)).status).toBe(422);
    const abnormal = await http(`${gate.url}/pretrade/check`, 'POST', { body: { ...base, market: { ...base.market, dq: { abnormal_spread: true } } } });
    expect(abnormal.json).toMatchObject({ allow: false, reason: 'DQ_EVENT.ABNORMAL_SPREAD', observability: { reasons: ['DQ_EVENT.ABNORMAL_SPREAD', 'abnormal_spread'] } });
    expect((await http(`${gate.url}/pretrade/check`, 'POST', { body: base })).json).toMatchObject({ allow: true });
    const stale = await http(`${gate.url}/pretrade/check`, 'POST', { body: { ...base, market: { ...base.market, dq: { stale_book: true } } } });
    expect(stale.json).toMatchObject({ allow: false, reason: 'AURORA.HALT', observability: { reasons: ['AURORA.HALT', 'killswitch_active'] } });
    expect((await http(`${gate.url}/pretrade/check`, 'POST', { body: base })).json).toMatchObject({ allow: false, reason: 'AURORA.HALT' });
    const ready = await http(`${gate.url}/readiness`, 'GET', { headers: { 'X-OPS-TOKEN': TOKEN } });
    expect(ready.json).toMatchObject({ halt: true });
    // /ops/reset also resumes a Governance halt (service.md 2.4)
    await http(`${gate.url}/ops/reset`, 'POST', { headers: { 'X-OPS-TOKEN': TOKEN } });
    expect((await http(`${gate.url}/pretrade/check`, 'POST', { body: base })).json).toMatchObject({ allow: true });
  });

  it('rotate-token-validation-before-cooldown: the old token is revoked at once; validation still precedes the cooldown', async () => {
    testHooks(gate).resetState();
    const first = step('rotate-token-validation-before-cooldown', 0);
    expect((await send('rotate-token-validation-before-cooldown', 0)).status).toBe(200);
    expect((await send('rotate-token-validation-before-cooldown', 1)).status).toBe(403);
    const newToken = (first.body as { new_token: string }).new_token.trim();
    const short = await http(`${gate.url}/ops/rotate_token`, 'POST', { headers: { 'X-OPS-TOKEN': newToken }, body: { new_token: 'short' } });
    expect(short.status).toBe(400);
    const cooling = await http(`${gate.url}/ops/rotate_token`, 'POST', { headers: { 'X-OPS-TOKEN': newToken }, body: { new_token: 'another-rotated-token-0123456789' } });
    expect(cooling.status).toBe(429);
    testHooks(gate).resetState();
  });

  it('spread-limit-env-invalid-shadows-alias: an unparsable AURORA_SPREAD_BPS_LIMIT stops start-up naming it', () => {
    const s = scenario('spread-limit-env-invalid-shadows-alias');
    expect(() => loadConfig({ ...s.env }, process.cwd())).toThrow(/AURORA_SPREAD_BPS_LIMIT="abc"/);
  });
});
