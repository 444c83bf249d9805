import { afterAll, describe, expect, it } from 'vitest';
import { sliceCounter } from '../../src/gate/counters.ts';
import { C_ALLOW, C_DENY } from '../../src/shm/counters.ts';
import { testHooks } from '../../src/testing/index.ts';
import type { TestGate } from '../helpers/gate.ts';
import { startLoad, type RequestSpec, type Transport } from '../helpers/load.ts';
import { check, decisions, journalWhen, pre, startGateWith, type Json } from './helpers.ts';

/**
 * Desk controls under concurrency (controls.md §0: "all control state lives in the shared decision
 * state — same lock, same answers at pool size 1 and N"). One exposure limit and one throttle:
 *
 * - account `exp` sends orders of 2 500 USDT against max_gross_notional_usdt 10 000 (reservations live
 *   for 10 min): exactly 4 can be allowed, whatever the interleaving;
 * - account `thr` sends orders of 1 USDT against rate.account_per_min 12: 12 allowed, plus what the
 *   bucket refills while the run lasts (12 per 60 s).
 *
 * N concurrent clients (keep-alive HTTP connections and WebSocket connections with many frames in flight)
 * at pool size 1 and 4 (workers only, and workers plus inline decisions) never overspend either limit:
 * counted from the journal's POLICY.DECISION lines (allowed notional and allowed orders), which agree
 * with the answers the clients got. Then the same sequence sent one request after another to gates of
 * pool size 0, 1 and 4 gets identical answers (only the time-measuring throttle cooldown and bucket level
 * of a throttle denial are masked).
 */

const CONTROLS = { max_gross_notional_usdt: 10_000, rate: { account_per_min: 12 }, reservation_ttl_ms: 600_000 };
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];

/** Request n: even → account exp (25 × 100 = 2 500 USDT), odd → account thr (0.01 × 100 = 1 USDT). */
function body(n: number, reqId: string): Json {
  const exp = n % 2 === 0;
  return check({ account: exp ? 'exp' : 'thr', symbol: SYMBOLS[n % 3], qty: exp ? 25 : 0.01, price: 100, reqId, cid: `${reqId}-cid` });
}

const make = (n: number, transport: Transport, prefix: string): RequestSpec => {
  const reqId = `${prefix}-${transport}-${n}`;
  return { reqId, op: 'check', expectAllow: null, body: body(n, reqId) };
};

describe.each<{ label: string; threads: number; env: Record<string, string> }>([
  { label: 'pool 1, workers only', threads: 1, env: { AURORA_POOL_INLINE_WHEN_IDLE: '0' } },
  // awake_share 1: a request goes to a worker holding none, so all four workers decide
  { label: 'pool 4, workers only', threads: 4, env: { AURORA_POOL_INLINE_WHEN_IDLE: '0', AURORA_POOL_AWAKE_SHARE: '1' } },
  { label: 'pool 4, workers and inline', threads: 4, env: { AURORA_POOL_AWAKE_SHARE: '1' } },
])('one exposure limit and one throttle, concurrent clients over HTTP and WebSocket ($label)', ({ threads, env }) => {
  let gate: TestGate | null = null;
  afterAll(async () => {
    await gate?.stop();
  });

  it('never overspends: allowed notional ≤ 10 000 per account, allowed orders ≤ the bucket', async () => {
    gate = await startGateWith({ controls: CONTROLS }, { threads, env });
    const total = 240;
    const load = startLoad({ url: gate.url, httpConnections: 6, wsConnections: 3, wsInFlight: 16, maxRequests: total, maxDurationMs: 20_000, make, prefix: 'cc' });
    const res = await load.done;
    if (threads > 1 && env.AURORA_POOL_INLINE_WHEN_IDLE === '0') {
      // the decisions really were spread over the workers (each thread's own counters slice)
      const counters = testHooks(gate).counters();
      const perWorker = [1, 2, 3, 4].map((w) => sliceCounter(counters, w, C_ALLOW) + sliceCounter(counters, w, C_DENY));
      expect(perWorker.filter((n) => n > 0).length).toBeGreaterThan(1);
    }
    const answered = res.outcomes.filter((o) => o.status === 200);
    expect(answered.length).toBe(total);
    expect(res.outcomes.filter((o) => o.transport === 'ws').length).toBeGreaterThan(20);
    expect(res.outcomes.filter((o) => o.transport === 'http').length).toBeGreaterThan(20);

    const evs = await journalWhen(gate, (e) => decisions(e).length >= total);
    const lines = decisions(evs).filter((d) => typeof d.details.req_id === 'string' && d.details.req_id.startsWith('cc-'));
    expect(lines.length).toBe(total);
    const nOf = (reqId: string) => Number(reqId.slice(reqId.lastIndexOf('-') + 1));
    const isExp = (reqId: string) => nOf(reqId) % 2 === 0;
    const allowedExp = lines.filter((d) => d.details.allow && isExp(d.details.req_id));
    const allowedThr = lines.filter((d) => d.details.allow && !isExp(d.details.req_id));
    // the journal and the answers agree
    const answeredAllowed = new Set(answered.filter((o) => o.allow).map((o) => o.reqId));
    expect(new Set(lines.filter((d) => d.details.allow).map((d) => d.details.req_id))).toEqual(answeredAllowed);

    // exposure: 4 × 2 500 = 10 000 exactly, never more
    const notional = allowedExp.reduce((s, d) => s + (d.details.observability.controls.reserved_usdt as number), 0);
    expect(notional).toBe(10_000);
    expect(allowedExp.length).toBe(4);
    const expDenied = lines.filter((d) => !d.details.allow && isExp(d.details.req_id));
    expect(new Set(expDenied.map((d) => d.details.reason))).toEqual(new Set(['exposure_limit_account']));

    // throttle: 12 tokens plus the refill over the run (12 per minute), never more
    const refill = Math.floor((12 * res.elapsedMs) / 60_000);
    expect(allowedThr.length).toBeGreaterThanOrEqual(12);
    expect(allowedThr.length).toBeLessThanOrEqual(12 + refill);
    const thrDenied = lines.filter((d) => !d.details.allow && !isExp(d.details.req_id));
    expect(new Set(thrDenied.map((d) => d.details.reason))).toEqual(new Set(['throttle_account']));

    // the quotas the allowed answers reported never went below zero and end at zero
    const left = allowedExp.map((d) => d.details.observability.controls.quotas.account_exposure_left_usdt as number);
    expect(Math.min(...left)).toBe(0);
    expect([...left].sort((a, b) => b - a)).toEqual([7500, 5000, 2500, 0]);
  });
});

describe('the same sequence one request after another: identical answers at pool size 0, 1 and 4', () => {
  const gates: TestGate[] = [];
  afterAll(async () => {
    for (const g of gates) await g.stop();
  });

  /** A throttle denial's cooldown and bucket level measure elapsed time: masked (the rest must match). */
  function normal(r: Json): Json {
    const c = structuredClone(r);
    if (typeof c.reason === 'string' && c.reason.startsWith('throttle_')) {
      expect(c.cooldown_ms).toBeGreaterThan(0);
      c.cooldown_ms = 'masked';
      c.observability.controls.value = 'masked';
    }
    return c;
  }

  it('every answer is the same, observability and quotas included', async () => {
    const answers: Json[][] = [];
    for (const threads of [0, 1, 4]) {
      const g = await startGateWith({ controls: CONTROLS }, { threads, env: { AURORA_POOL_INLINE_WHEN_IDLE: '0' } });
      gates.push(g);
      const out: Json[] = [];
      for (let n = 0; n < 60; n++) out.push(normal(await pre(g, body(n, `seq-${n}`))));
      answers.push(out);
    }
    expect(answers[0].filter((a) => a.allow).length).toBe(4 + 12);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });
});
