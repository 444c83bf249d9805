import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/util/rng.ts';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';

/**
 * Pool-size equivalence (gate.md D23, docs/architecture: "same requests sent one after another get
 * identical decisions at pool size 1 and N"): one long deterministic sequence — more than 300 pre-trade
 * checks mixing allows with every deny family, post-trade fills/closes/rejects and ops calls — sent
 * strictly one after another to a gate with 1 worker and to a gate with 4 workers (requests land on
 * different workers, all sharing one state). Every response body must be identical, observability
 * included; only values that measure wall-clock time (anti-churn remainders, position age, cool-off
 * end stamps) are masked, and checked for range instead. No sleeps: every interval is far longer than
 * the run, every window (60 s latency/reject-storm, 120 s cool-off) far longer than the sequence.
 */

const TOKEN = 'pool-equivalence-ops-token-0123456789';
const HOUR_MS = 3_600_000;
const ENV = {
  OPS_TOKEN: TOKEN,
  AURORA_MIN_OPEN_INTERVAL_MS: String(HOUR_MS),
  AURORA_COOLDOWN_AFTER_CLOSE_MS: String(HOUR_MS),
};
/** The embedded defaults plus a Governance section with a position limit of 3 (RISK.DENY.POS_LIMIT). */
const YAML =
  readFileSync(resolve(import.meta.dirname, '../../configs/default.yaml'), 'utf8') +
  '\ngates:\n  reject_storm_pct: 0.5\n  reject_storm_cooldown_s: 60\n  reject_storm_min_orders: 10\n  daily_dd_limit_pct: 10\n' +
  '  cvar_limit: 0\n  spread_bps_limit: 80\n  latency_ms_limit: 500\n  vol_guard_std_bps: 300\n  max_concurrent_positions: 3\n';

type Step =
  | { kind: 'pre'; body: Record<string, unknown> }
  | { kind: 'post'; body: Record<string, unknown> }
  | { kind: 'ops'; method: string; path: string; body?: unknown };

function buildSequence(): Step[] {
  // the project's PRNG (src/util/rng.ts): the sequence is varied but identical on every run
  const rnd = seededRandom(20240611);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const steps: Step[] = [];
  let n = 0;
  let sym = 0;
  const fresh = () => `SYM${String(++sym).padStart(4, '0')}`;
  const base = (symbol: string | null, side = 'buy') => ({
    req_id: `pe-${n}`,
    account: { mode: 'testnet' },
    order: { ...(symbol === null ? {} : { symbol }), side, qty: 0.5, price: 50000, base_notional: 100 },
    market: { latency_ms: 5, score: 0.5, a_bps: 5, b_bps: 10, slip_bps_est: 1, spread_bps: 3 } as Record<string, unknown>,
  });
  const pre = (symbol: string | null, market: Record<string, unknown> = {}, extra: Record<string, unknown> = {}, side = 'buy') => {
    const b = base(symbol, side);
    b.market = { ...b.market, ...market };
    steps.push({ kind: 'pre', body: { ...b, ...extra } });
    n++;
  };
  const post = (body: Record<string, unknown>) => steps.push({ kind: 'post', body });
  const ops = (method: string, path: string, body?: unknown) => steps.push({ kind: 'ops', method, path, body });

  // latency first, while the p95 window holds few samples: a p95 WARN (cool-off), the second WARN
  // (halt), dilution, reset; then the hard guard (and its WARN), dilution, reset
  pre(fresh(), { latency_ms: 100 }); // latency_cooloff (p95 100 > 30)
  pre(fresh()); // latency_halt (second WARN during the cool-off)
  for (let k = 0; k < 30; k++) pre(k % 3 === 0 ? null : fresh(), { latency_ms: int(1, 20) }); // latency_halt, diluting the p95
  ops('GET', '/readiness');
  ops('POST', '/ops/reset');
  pre(fresh()); // allowed: p95 back under 30 ms
  pre(fresh(), { latency_ms: 400 }); // latency_guard (the sample also lifts the p95: a WARN)
  for (let k = 0; k < 20; k++) pre(k % 4 === 0 ? null : fresh(), { latency_ms: int(1, 20) });
  ops('POST', '/ops/reset');
  pre(fresh()); // allowed

  // TRAP cold start: the first TRAP request on an empty window clips z to +4 (D1) -> trap_guard
  pre(fresh(), { trap_cancel_deltas: [2], trap_add_deltas: [0], trap_trades_cnt: 1 });
  pre(fresh(), { trap_cancel_deltas: [1], trap_add_deltas: [1], trap_trades_cnt: 1 });

  // the mixed body: allows and every pipeline/governance deny family, TRAP history warming up
  const allowed: string[] = [];
  for (let round = 0; round < 22; round++) {
    const s = fresh();
    pre(s); // allow (stamps the symbol)
    allowed.push(s);
    pre(null, { score: 0.5 + rnd() }); // allow without a symbol (anti-churn skipped)
    pre(allowed[int(0, allowed.length - 1)]); // open_rate_limit (an allowed symbol, within the hour)
    pre(fresh(), { score: 0, a_bps: 10, b_bps: 10 }); // expected_return_gate
    pre(fresh(), { slip_bps_est: 3 + int(1, 50) / 100 }); // slippage_guard
    pre(fresh(), { spread_bps: 80 + int(1, 40) / 4 }); // spread_bps_too_wide:<x>
    pre(fresh(), { pnl_today_pct: -(10 + int(0, 30)) }); // risk_dd_day_cap
    pre(fresh(), { open_positions: int(10, 40) }); // risk_max_concurrent
    pre(fresh(), { open_positions: int(3, 9) }); // RISK.DENY.POS_LIMIT (Governance, limit 3)
    pre(fresh(), { sprt_samples: Array.from({ length: int(4, 12) }, () => -int(5, 15) / 10) }); // sprt_reject
    pre(fresh(), { sprt_samples: Array.from({ length: int(3, 12) }, () => int(5, 20) / 10) }); // sprt accept
    pre(fresh(), { trap_cancel_deltas: [int(0, 12), int(0, 6)], trap_add_deltas: [int(0, 12)], trap_trades_cnt: int(0, 5), obi_sign: int(-1, 1), tfi_sign: int(-1, 1) }); // TRAP, warm
    pre(fresh(), {}, { account: { mode: 'prod' } }); // allow + diagnostics service_unhealthy
    pre(fresh(), { dq: { abnormal_spread: true } }); // DQ_EVENT.ABNORMAL_SPREAD
    pre(fresh(), { score: 0, a_bps: 10, b_bps: 10, spread_bps: 95 }); // spread overwrites ER
    if (round % 4 === 0) pre(fresh(), { trap_cancel_deltas: [900], trap_add_deltas: [100], trap_trades_cnt: 1 }); // TRAP spike
  }

  // positions: fills, the opposite side, reduce_only, closes and the cool-down after a close
  for (let k = 0; k < 6; k++) {
    const s = fresh();
    post({ symbol: s, side: 'buy', status: 'filled', filled: 1, qty: 1, order_id: `fill-${k}` });
    pre(s, {}, {}, 'sell'); // opposite_side_block
    pre(s); // same side: allowed (and stamps)
    pre(s); // open_rate_limit
    const closeOrder = base(s, 'sell');
    steps.push({ kind: 'pre', body: { ...closeOrder, order: { ...closeOrder.order, reduce_only: true } } }); // exempt from rule d, but rate-limited
    n++;
    post({ symbol: s, side: 'sell', action: 'close', status: 'filled', filled: 1, qty: 1, order_id: `close-${k}` });
    pre(s); // cooldown_after_close_active
    pre(s, {}, {}, 'sell'); // cooldown_after_close_active
  }

  // HealthGuard via ops: cool-off, reset, disarm, arm
  ops('POST', '/ops/cooloff/600');
  pre(fresh()); // latency_cooloff
  pre(null); // latency_cooloff
  ops('POST', '/ops/reset');
  pre(fresh()); // allowed again
  ops('POST', '/aurora/disarm');
  pre(fresh()); // latency_disarmed
  pre(null); // latency_disarmed
  ops('POST', '/aurora/arm');
  pre(fresh()); // allowed

  // a 35 ms sample among hundreds: the p95 stays under 30 ms, allowed
  pre(fresh(), { latency_ms: 35 });

  // live risk limits
  ops('POST', '/risk/set', { dd_day_pct: 5 });
  pre(fresh(), { pnl_today_pct: -6 }); // risk_dd_day_cap at the new cap
  ops('POST', '/risk/set', { size_scale: 0.5, max_concurrent: 2 });
  pre(fresh()); // allowed with risk_scale 0.5
  pre(fresh(), { open_positions: 2 }); // risk_max_concurrent at the new limit
  ops('POST', '/risk/set', { size_scale: 0 });
  pre(fresh()); // risk_size_scale_zero
  ops('POST', '/risk/set', { dd_day_pct: 10, max_concurrent: 10, size_scale: 1 });
  ops('GET', '/risk/snapshot');
  pre(fresh());

  // Governance kill switch: stale book, then a reject storm; /ops/reset clears it
  pre(fresh(), { dq: { stale_book: true } }); // AURORA.HALT
  pre(fresh()); // AURORA.HALT (kill switch in force)
  ops('POST', '/ops/reset');
  pre(fresh()); // allowed
  // 12 successful fills/closes were logged above: 16 rejects make 16 of 28 (>= 50 %)
  for (let k = 0; k < 16; k++) post({ symbol: `REJ${k}`, side: 'buy', status: 'rejected', error_code: 'E_REJECT', order_id: `rej-${k}` });
  pre(fresh()); // AURORA.HALT (reject storm)
  pre(null); // AURORA.HALT
  ops('POST', '/ops/reset');
  pre(fresh()); // AURORA.HALT again: the reject rate is still over 50 %
  for (let k = 0; k < 8; k++) post({ status: 'filled', filled: 1, qty: 1, order_id: `ok-${k}` });
  ops('POST', '/ops/reset');
  pre(fresh()); // allowed: 16 of 36 rejected is under 50 %

  // a last stretch of mixed traffic until well past 300 checks
  while (n < 330) {
    const pick = int(0, 7);
    if (pick === 0) pre(fresh(), { score: 0, a_bps: 10, b_bps: 10 });
    else if (pick === 1) pre(fresh(), { spread_bps: 81 + int(0, 20) });
    else if (pick === 2) pre(fresh(), { sprt_samples: [-1, -1, -1, -1, -1] });
    else if (pick === 3) pre(fresh(), { trap_cancel_deltas: [int(0, 20)], trap_add_deltas: [int(0, 20)], trap_trades_cnt: int(0, 3) });
    else if (pick === 4) pre(allowed[int(0, allowed.length - 1)]);
    else pre(fresh(), { score: rnd() * 2 });
  }
  return steps;
}

interface Answer {
  status: number;
  text: string;
}

async function run(gate: TestGate, steps: Step[]): Promise<Answer[]> {
  const out: Answer[] = [];
  for (const st of steps) {
    let r;
    if (st.kind === 'pre') r = await http(gate.url + '/pretrade/check', 'POST', { body: st.body });
    else if (st.kind === 'post') r = await http(gate.url + '/posttrade/log', 'POST', { body: st.body });
    else r = await http(gate.url + st.path, st.method, { headers: { 'X-OPS-TOKEN': TOKEN }, body: st.body });
    out.push({ status: r.status, text: r.text });
  }
  return out;
}

/**
 * Keys whose values measure wall-clock time: masked for the comparison, range-checked separately; and
 * `/readiness`'s `workers_alive`, which is the pool size itself.
 */
const TIMING = /"(rate_limit_ms_left|cooldown_remaining_ms|age_ms|cooloff_until|until|until_ms|last_event_ts|workers_alive)":(-?[0-9.eE+-]+|null)/g;
const mask = (text: string) => text.replace(TIMING, '"$1":"<time>"');

// requests one after another never overlap, so with pool.inline_when_idle (the default) the main thread
// would decide them all: the pool 1 and 4 gates turn it off so their workers decide every request, and a
// third gate (pool 4, default) shows the main thread's decisions are the same
const WORKERS_ONLY = { AURORA_POOL_INLINE_WHEN_IDLE: '0' };

describe('identical decisions at pool size 1 and 4, and decided on the main thread (requests one after another)', () => {
  const steps = buildSequence();
  const checks = steps.filter((s) => s.kind === 'pre').length;
  let g1: TestGate;
  let g4: TestGate;
  let gMain: TestGate;
  let a1: Answer[] = [];
  let a4: Answer[] = [];
  let aMain: Answer[] = [];
  let stopped = false;

  beforeAll(async () => {
    [g1, g4, gMain] = await Promise.all([
      startTestGate({ ...ENV, ...WORKERS_ONLY, AURORA_POOL_THREADS: '1' }, YAML),
      startTestGate({ ...ENV, ...WORKERS_ONLY, AURORA_POOL_THREADS: '4' }, YAML),
      startTestGate({ ...ENV, AURORA_POOL_THREADS: '4' }, YAML),
    ]);
  }, 60_000);
  afterAll(async () => {
    if (!stopped) await Promise.all([g1?.stop(), g4?.stop(), gMain?.stop()]);
  });

  it('the sequence has more than 300 checks', () => {
    expect(checks).toBeGreaterThanOrEqual(300);
  });

  it('every response is identical, request by request', async () => {
    // the two gates are independent: run them side by side, each strictly one request at a time
    [a1, a4, aMain] = await Promise.all([run(g1, steps), run(g4, steps), run(gMain, steps)]);
    expect(a1.length).toBe(steps.length);
    const diffs: string[] = [];
    for (let i = 0; i < steps.length; i++) {
      const what = `${i} ${steps[i].kind} ${JSON.stringify(steps[i]).slice(0, 160)}`;
      if (a1[i].status !== 200) diffs.push(`pool 1 answered ${a1[i].status} to ${what}: ${a1[i].text.slice(0, 200)}`);
      if (a4[i].status !== a1[i].status || mask(a4[i].text) !== mask(a1[i].text)) {
        diffs.push(`step ${what}\n  pool 1: ${a1[i].status} ${a1[i].text}\n  pool 4: ${a4[i].status} ${a4[i].text}`);
      }
      if (aMain[i].status !== a1[i].status || mask(aMain[i].text) !== mask(a1[i].text)) {
        diffs.push(`step ${what}\n  pool 1: ${a1[i].status} ${a1[i].text}\n  main thread: ${aMain[i].status} ${aMain[i].text}`);
      }
    }
    expect(diffs.slice(0, 5)).toEqual([]);
  }, 60_000);

  it('the workers-only gates decided every check on workers, the default one on the main thread', async () => {
    const decidedBy = async (g: TestGate) => {
      const text = await (await fetch(`${g.url}/metrics`)).text();
      const get = (thread: string) => Number(new RegExp(`^aurora_pool_decisions_total\\{thread="${thread}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      return { main: get('main'), worker: get('worker') };
    };
    expect(await decidedBy(g1)).toEqual({ main: 0, worker: checks });
    expect(await decidedBy(g4)).toEqual({ main: 0, worker: checks });
    expect(await decidedBy(gMain)).toEqual({ main: checks, worker: 0 });
  });

  it('the masked timing values are sane on both', () => {
    for (const answers of [a1, a4, aMain]) {
      for (const a of answers) {
        for (const m of a.text.matchAll(/"(rate_limit_ms_left|cooldown_remaining_ms)":(-?[0-9.eE+-]+)/g)) {
          const v = Number(m[2]);
          expect(v).toBeGreaterThan(HOUR_MS - 60_000);
          expect(v).toBeLessThanOrEqual(HOUR_MS);
        }
        for (const m of a.text.matchAll(/"age_ms":(-?[0-9.eE+-]+)/g)) {
          expect(Number(m[1])).toBeGreaterThanOrEqual(0);
          expect(Number(m[1])).toBeLessThan(60_000);
        }
      }
    }
  });

  it('covers every deny family (so the equivalence is not vacuous)', () => {
    const reasons = new Map<string, number>();
    const diagnostics = new Set<string>();
    for (const [i, st] of steps.entries()) {
      if (st.kind !== 'pre') continue;
      const body = JSON.parse(a1[i].text) as { reason: string; observability: { diagnostics?: string[] } };
      const key = body.reason.startsWith('spread_bps_too_wide:') ? 'spread_bps_too_wide' : body.reason;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
      for (const d of body.observability.diagnostics ?? []) diagnostics.add(d);
    }
    const expected = [
      'ok',
      'open_rate_limit',
      'cooldown_after_close_active',
      'opposite_side_block',
      'latency_guard',
      'latency_cooloff',
      'latency_halt',
      'latency_disarmed',
      'trap_guard',
      'expected_return_gate',
      'slippage_guard',
      'spread_bps_too_wide',
      'risk_dd_day_cap',
      'risk_max_concurrent',
      'risk_size_scale_zero',
      'sprt_reject',
      'RISK.DENY.POS_LIMIT',
      'DQ_EVENT.ABNORMAL_SPREAD',
      'AURORA.HALT',
    ];
    expect(expected.filter((r) => !reasons.has(r))).toEqual([]);
    expect(reasons.get('ok')!).toBeGreaterThan(50);
    expect(reasons.get('AURORA.HALT')!).toBeGreaterThanOrEqual(5); // stale book (2) and reject storm (3)
    expect(diagnostics.has('service_unhealthy')).toBe(true);
  });

  it('journals the same POLICY.DECISION records at both pool sizes and on the main thread', async () => {
    stopped = true;
    expect(await g1.stop()).toBe(true);
    expect(await g4.stop()).toBe(true);
    expect(await gMain.stop()).toBe(true);
    const decisions = (g: TestGate) =>
      readFileSync(join(g.sessionDir, 'aurora_events.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { event_code: string; details: Record<string, unknown> })
        .filter((r) => r.event_code === 'POLICY.DECISION');
    const d1 = decisions(g1);
    const d4 = decisions(g4);
    const dMain = decisions(gMain);
    expect(d1.length).toBe(checks);
    expect(d4.length).toBe(checks);
    expect(dMain.length).toBe(checks);
    const byReq = (ds: typeof d1) => new Map(ds.map((r) => [r.details.req_id, mask(JSON.stringify({ ...r, ts_ns: 0, run_id: '' }))]));
    const m1 = byReq(d1);
    const m4 = byReq(d4);
    const mMain = byReq(dMain);
    expect(m1.size).toBe(checks);
    for (const [id, rec] of m1) {
      expect(m4.get(id), `req_id ${String(id)}`).toBe(rec);
      expect(mMain.get(id), `req_id ${String(id)} (main thread)`).toBe(rec);
    }
  });
});
