/**
 * The runner against the REAL gate (`node dist/main.mjs`, as `npm start` runs it) over the committed
 * sample: no request is refused as invalid, the sample gives allows, fills and several distinct deny
 * reasons, and the gate's journal holds exactly one POLICY.DECISION per check the runner sent.
 * The gate runs with AURORA_LATENCY_MS_LIMIT=30, the reference latency limit the sample's
 * latency_spike scenario is written for (the embedded default is base.yaml's 300); `npm run demo`
 * does the same.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadRunnerConfig } from '../../../src/runner/config/load.ts';
import { runReplay, type RunResult } from '../../../src/runner/engine/run.ts';
import { decisionsById, inspectJournal, REPO_ROOT, startGateProcess, type GateProcess } from '../../helpers/process.ts';
import { readJsonl } from '../engine/harness.ts';

const SAMPLE = join(REPO_ROOT, 'samples', 'replay-sample.jsonl');

let gate: GateProcess | null = null;
let result: RunResult;

beforeAll(async () => {
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/build.mjs'), '--quiet'], { cwd: REPO_ROOT, stdio: 'inherit' });
  expect(existsSync(SAMPLE), `${SAMPLE} (npm run sample, see samples/README.md)`).toBe(true);
  gate = await startGateProcess({ env: { AURORA_LATENCY_MS_LIMIT: '30', AURORA_POOL_THREADS: '1' } });
  const cfg = loadRunnerConfig({
    cli: {
      feed: { path: SAMPLE },
      gate: { url: `ws://127.0.0.1:${gate.port}/ws`, timeout_ms: 1000 },
      session_dir: mkdtempSync(join(tmpdir(), 'runner-e2e-')),
      report: { progress_ms: 0 },
    },
  }).config;
  result = await runReplay(cfg, { env: {} });
  gate.signal('SIGTERM');
  expect((await gate.waitExit(10_000))?.code).toBe(0);
}, 60_000);

afterAll(async () => {
  await gate?.kill();
});

test('the sample gives allows, fills and at least three distinct deny reasons; nothing is invalid', () => {
  const s = result.summary;
  expect(s.gate.allowed).toBeGreaterThan(0);
  expect(s.fills).toBeGreaterThan(0);
  expect(Object.keys(s.gate.denied_by_reason).length, JSON.stringify(s.gate.denied_by_reason)).toBeGreaterThanOrEqual(3);
  const invalid = Object.keys(s.gate.errors).filter((k) => k.startsWith('gate_http_4') || k.startsWith('gate_error:') || k === 'gate_invalid_response');
  expect(invalid).toEqual([]);
  expect(s.gate.transport.ws + s.gate.transport.http).toBe(s.gate.tried);
  expect(s.posttrade.failed + s.posttrade.dropped).toBe(0);
});

test('exits go through the gate: every close sent is one the gate allowed; a refused one backs off; no position is forgotten', () => {
  const s = result.summary;
  const calls = readJsonl(result, 'gate_calls');
  const events = readJsonl(result, 'events');
  const exitCalls = calls.filter((c) => c.kind === 'exit');
  expect(exitCalls.length).toBe(s.gate.exits.tried);
  expect(exitCalls.length).toBeGreaterThan(0);
  expect(exitCalls.every((c) => c.reduce_only === true && c.type === 'market')).toBe(true);
  const allowed = new Set(exitCalls.filter((c) => c.allow === true && c.outcome !== 'timeout').map((c) => c.client_order_id));
  const unreachable = new Set(events.filter((e) => e.code === 'EXIT.GATE_UNAVAILABLE').map((e) => e.client_order_id));
  const closes = readJsonl(result, 'orders').filter((o) => o.to === 'NEW' && o.action === 'close');
  expect(closes.length).toBeGreaterThan(0);
  for (const o of closes) expect(allowed.has(o.cid) || unreachable.has(o.cid), o.cid).toBe(true);
  // each refusal is journaled and waits the backoff
  const refused = exitCalls.filter((c) => c.allow !== true).length;
  const denials = events.filter((e) => e.kind === 'exit_denied');
  expect(denials.length).toBe(refused);
  expect(denials.every((e) => e.retry_in_ms >= 250)).toBe(true);
  // what is still open at the end is reported, and the exit code says so
  expect(s.shutdown.exit_code).toBe(s.positions_open_at_end > 0 ? 2 : 0);
  expect(s.shutdown.flatten_ok).toBe(s.positions_open_at_end === 0);
});

// Needs the gate side of issue 13: a verified reduce-only close must pass the HealthGuard halt
// (controls.md §0, not wired yet) and must not be refused by the entry-quality steps (expected return,
// latency guard, …), which today refuse exits of the sample (docs/runner.md, "Exits through the gate").
test.todo('the sample ends flat with exit code 0 once the gate lets verified reduce-only closes through');

test("the gate's journal has exactly one POLICY.DECISION per check the runner sent", () => {
  const journal = inspectJournal(gate!.sessionDir);
  expect(journal.torn).toEqual([]);
  const byId = decisionsById(journal.events);
  const sent = readJsonl(result, 'gate_calls').filter((c) => c.sent);
  expect(sent.length).toBe(result.summary.gate.tried);
  for (const c of sent) expect(byId.get(c.req_id)?.length ?? 0, c.req_id).toBe(1);
  expect(byId.size).toBe(sent.length);
  // and the gate decided what the runner recorded (timeouts aside: the runner never saw those answers)
  for (const c of sent.filter((x) => x.outcome === 'ws' || x.outcome === 'http')) {
    const details = byId.get(c.req_id)![0].details as Record<string, unknown>;
    expect({ allow: details.allow, reason: details.reason }).toEqual({ allow: c.allow, reason: c.reason });
  }
});

test('contract: a check with a clearly positive expected return is never denied expected_return_gate', () => {
  const intents = new Map(readJsonl(result, 'events').filter((e) => e.kind === 'intent').map((e) => [e.req_id, e]));
  const calls = readJsonl(result, 'gate_calls').filter((c) => c.kind === 'entry' && c.attempt === 1); // exits carry no entry intent
  let favourable = 0;
  for (const c of calls) {
    const i = intents.get(c.req_id)!;
    const p = 1 / (1 + Math.exp(-2 * i.score_sent)); // the gate's probability of the side-aligned score
    const e = p * i.b_bps - (1 - p) * i.a_bps - i.fees_bps - i.slip_bps_est;
    expect(i.score_sent).toBeGreaterThan(0); // shorts too (runner.md §5.2)
    if (e > 3) {
      favourable++;
      expect(c.reason).not.toBe('expected_return_gate');
    }
  }
  expect(favourable).toBeGreaterThan(0);
});
