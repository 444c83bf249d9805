import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestGate, type TestGate } from '../helpers/gate.ts';
import { inspectJournal } from '../helpers/process.ts';
import { invalidHttp, mixedHttp } from './generators.ts';
import { call, fingerprint, fuzzBudget, metric, runHttp, runProbes, SEED, type HttpRun } from './harness.ts';
import { ROUTE_SPECS } from './spec-model.ts';

/**
 * HTTP fuzz against an in-process gate (uWebSockets.js, one worker thread, the journal writer thread):
 * generated and mutated bodies for /pretrade/check and /posttrade/log, wrong Content-Types, bodies
 * around the 64 KiB limit (Content-Length, chunked, declared only), junk headers, and random methods
 * and paths. Properties (docs/api.md, protocol.md): no 5xx (but /predict's documented 503), every
 * answer JSON with the documented error shape and the documented status for its code, the exact
 * refusal the documents require where they require one, a decision for every valid check.
 * First phase: certainly-refused input only — the gate's state (risk limits, HealthGuard, counters)
 * and the decisions of fixed probe checks are the same before and after. Second phase: inputs that
 * may be valid (state may change). At the end the journal holds exactly one POLICY.DECISION per 200.
 * Fuzz traffic comes from 127.0.0.2 so its failed ops authentications do not rate-limit the state
 * checks (made from 127.0.0.1 with the token).
 */

const TOKEN = 'fuzz-http-ops-token-Zq81-0123456789abcdef';
const LIMIT = 65_536;
const RUNS = fuzzBudget(0.5);
const FUZZ_ADDR = '127.0.0.2';

const summaries: string[] = [];
let authNoise = 0;

beforeAll(() => {
  // the gate logs every failed ops authentication to stderr (D-38): counted here, not printed
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const s = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (s.startsWith('ops auth failure from ')) {
      authNoise++;
      return true;
    }
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write);
});
afterAll(() => {
  vi.restoreAllMocks();
  console.log(`${summaries.join('\n')}\n(ops auth failures logged by the gate: ${authNoise})`);
});

const failuresOf = (run: HttpRun) => ({ count: run.failures.length, first: run.failures.slice(0, 8) });

for (const threads of [1, 0] as const) {
  describe(`HTTP fuzz, pool size ${threads}`, () => {
    // pool size 0 decides on the main thread (another parse path): a smaller share of the budget
    const share = threads === 1 ? 0.8 : 0.2;
    const nInvalid = Math.round(RUNS * share * 0.55);
    const nMixed = Math.round(RUNS * share * 0.45);
    let gate: TestGate;
    let stopped = false;
    let decided = 0;
    let probesA: Array<{ reason: string; text: string }> = [];

    beforeAll(async () => {
      gate = await startTestGate({ OPS_TOKEN: TOKEN, AURORA_POOL_THREADS: String(threads) });
    });
    afterAll(async () => {
      if (!stopped) await gate?.stop();
    });

    it(`${nInvalid} certainly-refused inputs: the documented 4xx each, and nothing changes`, async () => {
      probesA = await runProbes(gate.port, `A${threads}`);
      decided += probesA.length;
      // the probes are not vacuous: hand-computed reasons (harness.ts), allowed and denied
      expect(probesA.map((p) => p.reason)).toEqual(['ok', 'expected_return_gate', 'spread_bps_too_wide:90.0', 'slippage_guard', 'risk_dd_day_cap', 'ok']);
      const before = await fingerprint(gate.port, TOKEN);
      const m0 = (await call(gate.port, 'GET', '/metrics')).text;

      const cases = fc.sample(invalidHttp(LIMIT), { seed: SEED + threads, numRuns: nInvalid });
      expect(cases.every((c) => !c.mayDecide)).toBe(true);
      const t0 = performance.now();
      const run = await runHttp(gate.port, cases, { connections: 8, localAddress: FUZZ_ADDR });
      const ms = performance.now() - t0;
      summaries.push(run.tally.format(`HTTP pool ${threads}, certainly-refused phase (${Math.round(ms)} ms, ${run.reconnects} reconnects)`));
      decided += run.ok['/pretrade/check'] ?? 0;

      expect(failuresOf(run)).toEqual({ count: 0, first: [] });
      expect(run.ok['/pretrade/check'] ?? 0, 'no refused input was decided').toBe(0);
      expect(run.ok['/posttrade/log'] ?? 0, 'no refused post-trade record was accepted').toBe(0);

      // nothing changed: risk limits, HealthGuard (samples, WARNs, cool-off, halt), counters
      const after = await fingerprint(gate.port, TOKEN);
      expect(after).toEqual(before);
      // the same checks, on fresh symbols, get byte-identical decisions
      const probesB = await runProbes(gate.port, `B${threads}`);
      decided += probesB.length;
      expect(probesB.map((p) => p.text)).toEqual(probesA.map((p) => p.text));

      // every answer was counted per route (protocol.md: a failed request is counted in metrics)
      const m1 = (await call(gate.port, 'GET', '/metrics')).text;
      for (const route of ['/pretrade/check', '/posttrade/log']) {
        const delta = metric(m1, 'aurora_http_requests_total', { route }) - metric(m0, 'aurora_http_requests_total', { route });
        const probeCalls = route === '/pretrade/check' ? probesB.length : 0;
        expect(delta, `aurora_http_requests_total{route="${route}"}`).toBe((run.answered[route] ?? 0) + probeCalls);
      }
      // and unauthenticated junk paths cannot grow the metrics without bound (one series per route)
      const routeLabels = new Set([...m1.matchAll(/^aurora_http_requests_total\{[^}]*route="([^"]*)"/gm)].map((m) => m[1]));
      const bounded = new Set([...ROUTE_SPECS.flatMap((r) => (typeof r.path === 'string' ? [r.path] : [])), '/ops/cooloff', '/aurora', 'unknown']);
      expect([...routeLabels].filter((l) => !bounded.has(l))).toEqual([]);
    });

    it(`${nMixed} generated and mutated inputs that may be valid: a decision or a documented 4xx, never a 5xx`, async () => {
      const cases = fc.sample(mixedHttp(LIMIT), { seed: SEED + 10 + threads, numRuns: nMixed });
      const t0 = performance.now();
      const run = await runHttp(gate.port, cases, { connections: 8, localAddress: FUZZ_ADDR });
      const ms = performance.now() - t0;
      summaries.push(run.tally.format(`HTTP pool ${threads}, may-be-valid phase (${Math.round(ms)} ms, ${run.reconnects} reconnects)`));
      decided += run.ok['/pretrade/check'] ?? 0;
      expect(failuresOf(run)).toEqual({ count: 0, first: [] });
      // the generators are not vacuous: most valid checks were decided
      expect(run.ok['/pretrade/check'] ?? 0).toBeGreaterThan(nMixed / 5);
      expect((await call(gate.port, 'GET', '/health')).status).toBe(200);
    });

    it('the journal holds exactly one POLICY.DECISION per decided check, and no torn line', async () => {
      stopped = true;
      expect(await gate.stop()).toBe(true);
      const j = inspectJournal(gate.sessionDir);
      expect(j.torn).toEqual([]);
      expect(j.unterminated).toEqual([]);
      expect(j.events.filter((e) => e.event_code === 'POLICY.DECISION').length).toBe(decided);
    });
  });
}
