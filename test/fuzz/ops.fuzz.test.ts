import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestGate, type TestGate } from '../helpers/gate.ts';
import { FAILING_ADDRESSES, yamlWithAllowlist } from './config.ts';
import { opsRefused, opsUnauthorized, riskValid, type RiskBody } from './ops-generators.ts';
import { call, describeHttp, fingerprint, fuzzBudget, judgeHttp, metric, runHttp, SEED, Tally } from './harness.ts';
import { RawConnection, runPool } from './raw-http.ts';

/**
 * Ops endpoints under fuzz (docs/api.md, service.md 1.1, 1.2, 5.1). Three properties:
 * 1. with the right token, every certainly-refused request (bad /risk/set fields, bad new_token,
 *    non-integer or too long cool-offs, unknown modes, malformed / non-UTF-8 / non-JSON / oversized
 *    bodies) gets its documented 4xx and changes nothing;
 * 2. without the right token (missing, empty, near-misses of the real one, long, non-ASCII), every ops
 *    request — the state-changing ones included — is 401/403 (429 once an address failed 10 times a
 *    minute), changes nothing, and is counted in aurora_ops_auth_fail_total;
 * 3. a sequence of valid /risk/set and /ops/cooloff calls follows the documented model: null/absent =
 *    unchanged, size_scale clipped to [0, 1], a cool-off only ever lengthens.
 * The gate's allowlist is widened to 127.0.0.10-250 (a copy of configs/default.yaml otherwise), so
 * unauthenticated traffic can come from many addresses without tripping the per-address rate limit on
 * every request, while the state checks from 127.0.0.1 are never rate-limited.
 */

const TOKEN = 'fuzz-ops-token-Rb77-0123456789abcdefgh';
const LIMIT = 65_536;
const RUNS = fuzzBudget(0.1);
const N_REFUSED = Math.round(RUNS * 0.45);
const N_UNAUTH = Math.round(RUNS * 0.4);
const N_MODEL = Math.max(20, Math.round(RUNS * 0.15));
const ADDRESSES = FAILING_ADDRESSES;

const summaries: string[] = [];
let authNoise = 0;

describe('ops fuzz', () => {
  let gate: TestGate;
  beforeAll(async () => {
    const write = process.stderr.write.bind(process.stderr);
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const s = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (s.startsWith('ops auth failure from ')) {
        authNoise++;
        return true;
      }
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write);
    gate = await startTestGate({ OPS_TOKEN: TOKEN, AURORA_POOL_THREADS: '0' }, yamlWithAllowlist(ADDRESSES));
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await gate?.stop();
    console.log(`${summaries.join('\n')}\n(ops auth failures logged by the gate: ${authNoise})`);
  });

  it(`${N_REFUSED} certainly-refused ops requests with the right token: the documented 4xx, nothing changes`, async () => {
    const before = await fingerprint(gate.port, TOKEN);
    const cases = fc.sample(opsRefused(TOKEN, LIMIT), { seed: SEED + 30, numRuns: N_REFUSED });
    const t0 = performance.now();
    const run = await runHttp(gate.port, cases, { connections: 4 });
    summaries.push(run.tally.format(`ops, right token, certainly-refused (${Math.round(performance.now() - t0)} ms)`));
    expect({ count: run.failures.length, first: run.failures.slice(0, 8) }).toEqual({ count: 0, first: [] });
    expect(await fingerprint(gate.port, TOKEN)).toEqual(before);
    expect((await call(gate.port, 'GET', '/liveness', { token: TOKEN })).status).toBe(200);
  });

  it(`${N_UNAUTH} ops requests without the right token: 401/403 (429 when rate-limited), nothing changes, each counted`, async () => {
    const before = await fingerprint(gate.port, TOKEN);
    const m0 = metric((await call(gate.port, 'GET', '/metrics')).text, 'aurora_ops_auth_fail_total');
    const cases = fc.sample(opsUnauthorized(TOKEN), { seed: SEED + 31, numRuns: N_UNAUTH });
    // nine requests per source address: below the limit of 10 failures a minute
    const chunks: Array<{ addr: string; cases: typeof cases }> = [];
    for (let i = 0; i * 9 < cases.length; i++) chunks.push({ addr: ADDRESSES[i % ADDRESSES.length], cases: cases.slice(i * 9, i * 9 + 9) });
    const tally = new Tally();
    const failures: string[] = [];
    const attempts = new Map<string, number>();
    let answered = 0;
    const t0 = performance.now();
    await runPool(Array.from({ length: 4 }, () => null), chunks, async (_unused, chunk) => {
      const conn = new RawConnection(gate.port, { localAddress: chunk.addr });
      for (const c of chunk.cases) {
        const n = (attempts.get(chunk.addr) ?? 0) + 1;
        attempts.set(chunk.addr, n);
        // an address reused within the minute may be rate-limited (api.md 429 auth_rate_limited)
        const expect = n > 10 && c.expect.kind === 'error' ? { ...c.expect, status: 0, codes: [...c.expect.codes, 'auth_rate_limited'], kind: 'route' as const } : c.expect;
        const r = await conn.send({ method: c.method, path: c.path, headers: c.headers, body: c.body });
        if (r.status > 0) answered++;
        tally.add(c.cat, r.status <= 0 ? 'no answer' : String(r.status));
        const problem = judgeHttp({ ...c, expect }, r);
        if (problem !== null) failures.push(`${problem}\n    from ${chunk.addr}: ${describeHttp(c)}`);
      }
      conn.close();
    });
    summaries.push(tally.format(`ops, no or a wrong token (${Math.round(performance.now() - t0)} ms, ${chunks.length} source addresses used)`));
    expect({ count: failures.length, first: failures.slice(0, 8) }).toEqual({ count: 0, first: [] });
    // nothing changed: not the risk limits, not arm/cool-off/halt, not the token, no rotation
    expect(await fingerprint(gate.port, TOKEN)).toEqual(before);
    expect((await call(gate.port, 'GET', '/liveness', { token: TOKEN })).status).toBe(200);
    expect((await call(gate.port, 'GET', '/liveness', { token: 'attacker-chosen-token-0123456789' })).status).toBe(403);
    // every refusal was counted (service.md 1.1); +1 for the attacker-token probe just above
    const m1 = metric((await call(gate.port, 'GET', '/metrics')).text, 'aurora_ops_auth_fail_total');
    expect(m1 - m0).toBe(answered + 1);
  });

  it(`${N_MODEL} valid /risk/set and /ops/cooloff calls follow the documented model`, async () => {
    type Risk = { dd_day_pct: number; max_concurrent: number; size_scale: number };
    const snap = await call(gate.port, 'GET', '/risk/snapshot', { token: TOKEN });
    let model = snap.json.risk as Risk;
    const steps = fc.sample(fc.oneof({ weight: 3, arbitrary: riskValid.map((b) => ({ risk: b })) }, { weight: 1, arbitrary: fc.integer({ min: -100, max: 86_400 }).map((sec) => ({ sec })) }), { seed: SEED + 32, numRuns: N_MODEL });
    const tally = new Tally();
    let until = 0;
    for (const step of steps) {
      if ('risk' in step) {
        const b = step.risk as RiskBody;
        const want: Risk = {
          dd_day_pct: b.dd_day_pct == null ? model.dd_day_pct : (b.dd_day_pct as number),
          max_concurrent: b.max_concurrent == null ? model.max_concurrent : (b.max_concurrent as number),
          size_scale: b.size_scale == null ? model.size_scale : Math.min(1, Math.max(0, b.size_scale as number)),
        };
        const r = await call(gate.port, 'POST', '/risk/set', { token: TOKEN, body: b });
        tally.add('risk_set_valid', String(r.status));
        expect(r.status, r.text).toBe(200);
        expect(r.json, JSON.stringify(b)).toEqual({ status: 'ok', risk: want });
        model = want;
      } else {
        const t = Date.now() / 1000;
        const r = await call(gate.port, 'POST', `/ops/cooloff/${step.sec}`, { token: TOKEN });
        tally.add('cooloff_valid', String(r.status));
        expect(r.status, r.text).toBe(200);
        const u = r.json.until as number;
        // it only ever lengthens, and reaches at least now + sec
        expect(u, `cooloff ${step.sec}`).toBeGreaterThanOrEqual(until);
        expect(u).toBeGreaterThanOrEqual(t + step.sec - 1);
        expect(r.json.until_ms).toBe(Math.round(u * 1000));
        until = u;
      }
    }
    expect((await call(gate.port, 'GET', '/risk/snapshot', { token: TOKEN })).json).toEqual({ status: 'ok', risk: model });
    summaries.push(tally.format('ops, right token, valid sequence (model-checked)'));
  });
});
