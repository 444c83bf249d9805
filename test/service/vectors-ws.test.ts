import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIVERGENT } from '../helpers/divergent.ts';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';
import { testHooks } from '../../src/testing/index.ts';
import { declareGroupedSuite, groupByConfig } from '../helpers/vector-runner.ts';
import { isPretradeOnly, loadScenarios, subsetMismatches, type Scenario } from '../helpers/vectors.ts';
import { WsClient, wsBodyText } from '../helpers/ws.ts';
import { replayWs } from '../helpers/ws-replay.ts';

/**
 * The pretrade-only conformance scenarios replayed over the WebSocket transport (protocol.md
 * "WebSocket"): one connection per scenario, each step sent as `{"id","op":"pretrade.check","body"}`
 * and awaited before the next (steps depend on each other), matched against the step's `expect`
 * (status 200 -> `ok:true` + subset match on `body`; any other status -> `ok:false` with an error code).
 *
 * At pool sizes 1 and 4 every pretrade-only scenario is replayed over WebSocket by the HTTP vector
 * suites, on the same gates (test/helpers/vector-runner.ts); this file adds pool size 0 (inline: the
 * envelope code on the main thread), pipelining, and the HTTP-vs-WebSocket equivalence check.
 */
const scenarios = loadScenarios().filter((s) => isPretradeOnly(s) && !DIVERGENT.has(s.name));
const groups = groupByConfig(scenarios);

describe('pretrade-only vectors over WebSocket', () => {
  it('has the scenarios to replay', () => {
    expect(scenarios.length).toBeGreaterThan(50);
    expect(groups.length).toBeGreaterThan(1);
  });
});

declareGroupedSuite('ws pool 0', 0, groups, replayWs);

describe('ws pool 4: pipelining', () => {
  let gate: TestGate | null = null;
  beforeAll(async () => {
    gate = await startTestGate({ ...(groups[0][0].env ?? {}), AURORA_POOL_THREADS: '4', AURORA_POOL_INLINE_WHEN_IDLE: '0' }, groups[0][0].config_yaml);
  });
  afterAll(async () => {
    await gate?.stop();
  });
    it('pipelined frames on one connection are each answered once, matched by id', async () => {
      testHooks(gate!).resetState();
      const ws = await WsClient.connect(gate!.url);
      const body = { account: { mode: 'testnet' }, order: { side: 'buy', qty: 1 }, market: { latency_ms: 5, score: 0.5, a_bps: 5, b_bps: 10, slip_bps_est: 1, spread_bps: 3 } };
      const ids = Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? `p-${i}` : i));
      const replies = await Promise.all(ids.map((id) => ws.request(id === 7 ? 'ping' : 'pretrade.check', id === 7 ? undefined : { ...body, req_id: String(id) }, id)));
      expect(replies.map((r) => r.id)).toEqual(ids);
      expect(replies.filter((r) => r.ok !== true)).toEqual([]);
      expect(replies.filter((r) => r.id !== 7 && (r.body as { allow: boolean }).allow !== true).length).toBe(0);
      // nothing unmatched or duplicated arrives afterwards
      await expect(ws.next(200)).rejects.toThrow(/no WebSocket message/);
      await ws.close();
    });
});

/**
 * HTTP and WebSocket give the same decision for the same request and journal it the same way
 * (protocol.md: "The decision for a request is the same whichever transport carried it, and both are
 * journaled alike"). The sequence is every request body of the default-configuration scenarios, sent
 * one after another to two fresh gates (no reset in between, so the state evolves identically); the
 * requests that trip the HealthGuard go last so the earlier ones exercise every other guard.
 */
describe('HTTP and WebSocket are equivalent', () => {
  const env = { OPS_TOKEN: 'transport-equivalence-token-0123456789' };
  // the default-configuration group: the largest one without YAML and with no env beyond the ops token
  const defaultGroup = groups
    .filter((g) => g[0].config_yaml === undefined && Object.keys(g[0].env ?? {}).every((k) => k === 'OPS_TOKEN'))
    .sort((a, b) => b.length - a.length)[0];
  const bodies: unknown[] = [];
  for (const s of defaultGroup ?? []) for (const st of s.steps) if (st.body !== undefined && st.expect?.status === 200) bodies.push(st.body);
  const latencyOf = (b: unknown) => Number((b as { market?: { latency_ms?: unknown } }).market?.latency_ms ?? 0);
  const sequence = [...bodies.filter((b) => latencyOf(b) <= 30), ...bodies.filter((b) => !(latencyOf(b) <= 30))].map((b, i) => ({
    ...(b as Record<string, unknown>),
    req_id: `eq-${i}`,
  }));

  let httpGate: TestGate;
  let wsGate: TestGate;
  const httpBodies: string[] = [];
  const wsBodies: string[] = [];
  const wsIds: string[] = [];

  beforeAll(async () => {
    [httpGate, wsGate] = await Promise.all([startTestGate({ ...env, AURORA_POOL_THREADS: '1' }), startTestGate({ ...env, AURORA_POOL_THREADS: '1' })]);
  });
  let stopped = false;
  afterAll(async () => {
    if (!stopped) await Promise.all([httpGate?.stop(), wsGate?.stop()]);
  });

  it('uses a long, varied sequence', () => {
    expect(defaultGroup).toBeDefined();
    expect(sequence.length).toBeGreaterThan(40);
  });

  it('answers every request with byte-identical response bodies', async () => {
    for (const body of sequence) {
      const r = await http(httpGate.url + '/pretrade/check', 'POST', { body });
      expect(r.status, r.text).toBe(200);
      httpBodies.push(r.text);
    }
    const ws = await WsClient.connect(wsGate.url);
    for (const [i, body] of sequence.entries()) {
      const id = `eq-ws-${i}`;
      const env = await ws.request('pretrade.check', body, id);
      expect(env.ok, env.text).toBe(true);
      const text = wsBodyText(env);
      expect(text, `reply frame shape: ${env.text.slice(0, 200)}`).not.toBeNull();
      wsBodies.push(text!);
      wsIds.push(id);
    }
    await ws.close();
    for (let i = 0; i < sequence.length; i++) expect(wsBodies[i], `request ${i}: ${JSON.stringify(sequence[i])}`).toBe(httpBodies[i]);
    // the sequence is not trivial: allows and several different denials
    const reasons = new Set(httpBodies.map((t) => (JSON.parse(t) as { reason: string }).reason));
    expect(reasons.has('ok')).toBe(true);
    expect(reasons.size).toBeGreaterThanOrEqual(6);
  });

  it('journals the same POLICY.DECISION records (minus ts_ns, run_id, ws_id, req_id)', async () => {
    expect(httpBodies.length).toBe(sequence.length);
    stopped = true;
    expect(await httpGate.stop()).toBe(true);
    expect(await wsGate.stop()).toBe(true);
    const decisions = (gate: TestGate) =>
      readFileSync(join(gate.sessionDir, 'aurora_events.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((r) => r.event_code === 'POLICY.DECISION');
    // one record per answered request, matched by req_id (exactly one each: none lost, none doubled)
    const byReqId = (records: Record<string, unknown>[]) => {
      const m = new Map<unknown, Record<string, unknown>>();
      for (const r of records) {
        const id = (r.details as Record<string, unknown>).req_id;
        expect(m.has(id), `req_id ${String(id)} journaled twice`).toBe(false);
        m.set(id, r);
      }
      return sequence.map((_, i) => m.get(`eq-${i}`)!);
    };
    const hAll = decisions(httpGate);
    const wAll = decisions(wsGate);
    expect(hAll.length).toBe(sequence.length);
    expect(wAll.length).toBe(sequence.length);
    const h = byReqId(hAll);
    const w = byReqId(wAll);
    const strip = (r: Record<string, unknown>) => {
      const { ts_ns: _t, run_id: _r, details, ...rest } = r;
      const { ws_id: _w, req_id: _q, ...d } = details as Record<string, unknown>;
      return { ...rest, details: d };
    };
    for (let i = 0; i < sequence.length; i++) {
      const hd = h[i].details as Record<string, unknown>;
      const wd = w[i].details as Record<string, unknown>;
      // the ids are journaled: req_id from the body on both, ws_id (the envelope id) only over WebSocket
      expect(hd.req_id).toBe(`eq-${i}`);
      expect(wd.req_id).toBe(`eq-${i}`);
      expect('ws_id' in hd).toBe(false);
      expect(wd.ws_id).toBe(wsIds[i]);
      expect(strip(w[i]), `decision ${i}`).toEqual(strip(h[i]));
      // and the journaled decision is the one answered
      const answered = JSON.parse(httpBodies[i]) as { allow: boolean; reason: string };
      expect(hd.allow).toBe(answered.allow);
      expect(hd.reason).toBe(answered.reason);
    }
  });
});
