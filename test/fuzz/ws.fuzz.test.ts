import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGate, type TestGate } from '../helpers/gate.ts';
import { inspectJournal } from '../helpers/process.ts';
import { invalidWs, mixedWs } from './generators.ts';
import { call, fingerprint, fuzzBudget, runProbes, runWs, SEED, type WsRun } from './harness.ts';

/**
 * WebSocket fuzz against an in-process gate (pool size 1): envelopes without a usable id, unknown ops,
 * binary frames, invalid UTF-8, frames around ws.max_payload_bytes, and every body generator of the
 * HTTP fuzz inside `pretrade.check` / `posttrade.log` envelopes. Properties (protocol.md, api.md): a
 * reply to every frame that is not refused by closing, each a response envelope — an error with a
 * documented code and the frame's id (or `"id": null` when it has no usable one), or ok with a
 * decision / {"status":"ok"} / a pong; a close only for oversized frames (and for invalid UTF-8, see
 * judgeWs); never a 5xx-class error. As over HTTP: certainly-refused frames change nothing (state
 * fingerprint and probe decisions), and the journal has one POLICY.DECISION per decided frame.
 */

const TOKEN = 'fuzz-ws-ops-token-Hk42-0123456789abcdef';
const LIMIT = 65_536;
const RUNS = fuzzBudget(0.33);
const N_INVALID = Math.round(RUNS * 0.55);
const N_MIXED = Math.round(RUNS * 0.45);

const summaries: string[] = [];
const failuresOf = (run: WsRun) => ({ count: run.failures.length, first: run.failures.slice(0, 8) });

describe('WebSocket fuzz, pool size 1', () => {
  let gate: TestGate;
  let stopped = false;
  let decided = 0;

  beforeAll(async () => {
    gate = await startTestGate({ OPS_TOKEN: TOKEN, AURORA_POOL_THREADS: '1' });
  });
  afterAll(async () => {
    if (!stopped) await gate?.stop();
    console.log(summaries.join('\n'));
  });

  it(`${N_INVALID} certainly-refused frames: the documented error envelope (or close) each, and nothing changes`, async () => {
    const probesA = await runProbes(gate.port, 'WA');
    decided += probesA.length;
    const before = await fingerprint(gate.port, TOKEN);

    const cases = fc.sample(invalidWs(LIMIT), { seed: SEED + 20, numRuns: N_INVALID });
    expect(cases.every((c) => !c.mayDecide)).toBe(true);
    const t0 = performance.now();
    const run = await runWs(`ws://127.0.0.1:${gate.port}/ws`, cases, { connections: 8, localAddress: '127.0.0.3' });
    summaries.push(run.tally.format(`WS certainly-refused phase (${Math.round(performance.now() - t0)} ms, ${run.reconnects} reconnects)`));
    decided += run.decisions;

    expect(failuresOf(run)).toEqual({ count: 0, first: [] });
    expect(run.decisions, 'no refused frame was decided').toBe(0);
    // the close-inducing categories really were exercised
    expect(run.tally.count('frame_over_limit')).toBeGreaterThan(0);
    expect(run.tally.count('binary_frame')).toBeGreaterThan(0);

    expect(await fingerprint(gate.port, TOKEN)).toEqual(before);
    const probesB = await runProbes(gate.port, 'WB');
    decided += probesB.length;
    expect(probesB.map((p) => p.text)).toEqual(probesA.map((p) => p.text));
    // the WebSocket connections are all gone (no leak of closed / refused connections)
    const m = (await call(gate.port, 'GET', '/metrics')).text;
    expect(m).toMatch(/^aurora_ws_connections 0$/m);
  });

  it(`${N_MIXED} generated and mutated frames that may be valid: a response envelope each, never a 5xx-class error`, async () => {
    const cases = fc.sample(mixedWs(LIMIT), { seed: SEED + 21, numRuns: N_MIXED });
    const t0 = performance.now();
    const run = await runWs(`ws://127.0.0.1:${gate.port}/ws`, cases, { connections: 8, localAddress: '127.0.0.3' });
    summaries.push(run.tally.format(`WS may-be-valid phase (${Math.round(performance.now() - t0)} ms, ${run.reconnects} reconnects)`));
    decided += run.decisions;
    expect(failuresOf(run)).toEqual({ count: 0, first: [] });
    expect(run.decisions).toBeGreaterThan(N_MIXED / 5);
    expect((await call(gate.port, 'GET', '/health')).status).toBe(200);
  });

  it('the journal holds exactly one POLICY.DECISION per decided frame, and no torn line', async () => {
    stopped = true;
    expect(await gate.stop()).toBe(true);
    const j = inspectJournal(gate.sessionDir);
    expect(j.torn).toEqual([]);
    expect(j.events.filter((e) => e.event_code === 'POLICY.DECISION').length).toBe(decided);
  });
});
