/** Small parts of the runner: the stub gate's rules, reason families, percentiles, JSONL files, the posttrade queue. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PosttradeQueue } from '../../../src/runner/engine/posttrade-queue.ts';
import { denyFamily, stubDecide } from '../../../src/runner/gate/index.ts';
import type { GatePort } from '../../../src/runner/gate/port.ts';
import { JsonlFile } from '../../../src/runner/journal/jsonl-file.ts';
import { nearestRank, summarizeRtts } from '../../../src/runner/report/percentiles.ts';
import type { PretradeCheckRequest } from '../../../src/schema/pretrade.ts';

/** The spec's worked example (runner.md §1.6): score 0.5, b 12, a 8, fees 1.0, slip 0.5 → E = 5.12 > 2. */
function req(market: Record<string, unknown> = {}, fees = 1.0): PretradeCheckRequest {
  return {
    ts: 1,
    req_id: 'r-1',
    account: { mode: 'paper' },
    order: { symbol: 'BTCUSDT', side: 'buy', qty: 0.002, price: 50_000 },
    market: {
      score: 0.5, a_bps: 8, b_bps: 12, slip_bps_est: 0.5, spread_bps: 1, latency_ms: 7.4, mode_regime: 'normal',
      trap_cancel_deltas: [0, 0, 0, 0, 0], trap_add_deltas: [0, 0, 0, 0, 0], trap_trades_cnt: 3, obi_sign: 1, tfi_sign: 1,
      pnl_today_pct: 0, open_positions: 0, ...market,
    },
    fees_bps: fees,
  };
}

describe('stub gate (fixed reference thresholds)', () => {
  test('the worked example passes; each rule denies with the reference reason', () => {
    expect(stubDecide(req())).toMatchObject({ allow: true, reason: 'ok', max_qty: 0.002, risk_scale: 1, cooldown_ms: 0, hard_gate: false });
    // E = 0.5·12 − 0.5·8 − 1 − 0.5 = 0.5 ≤ 2 at score 0
    expect(stubDecide(req({ score: 0 })).reason).toBe('expected_return_gate');
    expect(stubDecide(req({ latency_ms: 30.5 })).reason).toBe('latency_guard');
    expect(stubDecide(req({ latency_ms: 30 })).allow).toBe(true);
    // fees 0: E = 0.731·12 − 0.269·8 − 3.7 = 2.92 > 2 passes, but slip 3.7 > 0.3·12 = 3.6
    expect(stubDecide(req({ slip_bps_est: 3.7 }, 0)).reason).toBe('slippage_guard');
    expect(stubDecide(req({ open_positions: 10 })).reason).toBe('risk_max_concurrent');
    expect(stubDecide(req({ pnl_today_pct: -10 })).reason).toBe('risk_dd_day_cap');
    // cancels only: ratio 1 → c = σ(4) = 0.982, no adds → r = e^−4 = 0.018 → score 0.597 ≤ 0.8 passes
    expect(stubDecide(req({ trap_cancel_deltas: [5, 0, 0, 0, 0] })).allow).toBe(true);
    // cancel 100, add 10 in 2 s: c = σ(8·(0.909 − 0.5)) = 0.963, repl 5/s → r = e^(−50/250) = 0.819 → 0.905 > 0.8
    expect(stubDecide(req({ trap_cancel_deltas: [100, 0, 0, 0, 0], trap_add_deltas: [10, 0, 0, 0, 0] })).reason).toBe('trap_guard_score');
    // samples opposite to the score: llr = Σ(x·μ − μ²/2) = 10·(−0.5·0.5 − 0.125) = −3.75 ≤ −2 → REJECT
    expect(stubDecide(req({ sprt_samples: [-0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5] })).reason).toBe('sprt_reject');
    expect(stubDecide(req({ sprt_samples: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5] })).observability.reasons).toContain('sprt_accept');
  });

  test('the spread rule overwrites the reason, with its value', () => {
    const d = stubDecide(req({ spread_bps: 123.45, latency_ms: 50 }));
    expect(d.allow).toBe(false);
    expect(d.reason).toBe('spread_bps_too_wide:123.5');
    expect(denyFamily(d.reason)).toBe('spread_bps_too_wide');
  });
});

test('deny reason families keep gate_error codes apart', () => {
  expect(denyFamily('expected_return_gate')).toBe('expected_return_gate');
  expect(denyFamily('trap_guard:z=4.00')).toBe('trap_guard');
  expect(denyFamily('gate_error:invalid_request')).toBe('gate_error:invalid_request');
});

test('nearest-rank percentiles (hand-computed)', () => {
  const xs = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  expect(nearestRank([1, 2, 3, 4], 50)).toBe(2); // ⌈0.5·4⌉ = 2nd
  expect(nearestRank([1, 2, 3, 4], 51)).toBe(3);
  expect(nearestRank([], 99)).toBe(0);
  expect(summarizeRtts(xs)).toEqual({ count: 10, p50: 5, p90: 9, p99: 10, max: 10, mean: 5.5 });
});

describe('JsonlFile', () => {
  test('buffers whole lines until flush; rotates by size into numbered files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-jsonl-'));
    const path = join(dir, 'events.jsonl');
    const f = new JsonlFile(path, 100);
    f.write({ a: 'x'.repeat(45) }); // 54 bytes with the newline
    expect(readFileSync(path, 'utf8')).toBe('');
    f.flush();
    expect(readFileSync(path, 'utf8')).toBe(`{"a":"${'x'.repeat(45)}"}\n`);
    f.write({ a: 'y'.repeat(45) }); // 54 + 54 > 100: rotate before this line
    f.write({ b: 1 });
    f.close();
    expect(readFileSync(`${path}.1`, 'utf8')).toBe(`{"a":"${'x'.repeat(45)}"}\n`);
    expect(readFileSync(path, 'utf8')).toBe(`{"a":"${'y'.repeat(45)}"}\n{"b":1}\n`);
    expect(f.rotations).toBe(1);
    expect(existsSync(`${path}.2`)).toBe(false);
  });
});

describe('PosttradeQueue', () => {
  const body = (n: number) => ({ n });

  test('bounded: a full queue drops to the unsent file; failures retry, then go there too', async () => {
    let calls = 0;
    const gate = { log: async (b: { n: number }) => (calls++, b.n % 2 === 0 ? { ok: true } : { ok: false, reason: 'gate_unavailable' }) } as unknown as GatePort;
    const unsent: Array<{ why: string; attempts: number }> = [];
    const q = new PosttradeQueue(gate, { queueMax: 3, attempts: 3, retryBaseMs: 1, concurrency: 1 }, (_b, why, attempts) => unsent.push({ why, attempts }));
    for (let i = 0; i < 6; i++) q.push(body(i)); // 1 sending + 3 queued; 2 dropped
    expect(await q.drain(2000)).toBe(true);
    expect(q.counters).toEqual({ sent: 2, failed: 2, dropped: 2 });
    expect(calls).toBe(2 + 2 * 3);
    expect(unsent).toEqual([
      { why: 'queue_full', attempts: 0 },
      { why: 'queue_full', attempts: 0 },
      { why: 'gate_unavailable', attempts: 3 },
      { why: 'gate_unavailable', attempts: 3 },
    ]);
  });
});

describe('PosttradeQueue.close', () => {
  test('waits for bodies being sent; a send past the settle time goes to the unsent file and its late answer is ignored', async () => {
    const answers: Array<() => void> = [];
    const gate = { log: () => new Promise((r) => answers.push(() => r({ ok: true }))) } as unknown as GatePort;
    const unsent: Array<{ n: number; why: string }> = [];
    const q = new PosttradeQueue(gate, { queueMax: 10, attempts: 3, retryBaseMs: 1, concurrency: 2 }, (b, why) => unsent.push({ n: (b as unknown as { n: number }).n, why }));
    for (let i = 0; i < 3; i++) q.push({ n: i } as never); // 2 sending, 1 queued
    expect(await q.drain(5)).toBe(false);
    setTimeout(() => answers[0](), 5); // the first send is answered during close
    await q.close(100);
    expect(q.counters).toEqual({ sent: 1, failed: 2, dropped: 0 });
    expect(unsent).toEqual([{ n: 2, why: 'shutdown' }, { n: 1, why: 'shutdown_in_flight' }]);
    expect(q.pending).toBe(0);
    answers[1](); // too late: already in the unsent file
    await new Promise((r) => setTimeout(r, 5));
    expect(q.counters).toEqual({ sent: 1, failed: 2, dropped: 0 });
  });
});
