/**
 * Micro-benchmark of the decision core (tinybench 6).
 *
 *   npx tsx bench/core.bench.ts [--quick]      (npm run bench:core -- --quick)
 *
 * Every task is a synchronous tinybench task timed per call with `process.hrtime.bigint()`, with the
 * timestamp-provider overhead (calibrated by tinybench) subtracted from each sample. The statistics are
 * tinybench's own (latency median / p99, throughput median). Progress goes to stderr; the markdown
 * table and SLO lines go to stdout; the same data is written as JSON to bench/results/.
 *
 * State: the HealthGuard latency window and the TRAP history are bounded rings in GateState. Stateful
 * tasks get their own GateState and are primed to steady state (rings full) right before each phase,
 * so every measured call pays the steady-state cost (push + evict the oldest). The standard allowed
 * body stays allowed forever: latency 5 ms keeps the p95 under the 30 ms threshold, equal cancel/add
 * deltas give trap_raw 0 (z 0) and obi/tfi agree. Each task's last result is re-checked when the task
 * ends, and the run aborts if an outcome drifted.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench, HookMode, Task } from 'tinybench';
import { newBench, perItem } from './tinybench-setup.ts';
import { loadConfig, PACKAGE_ROOT } from '../src/config/load.ts';
import { antiChurn } from '../src/core/anti-churn.ts';
import type { CoreConfig } from '../src/core/config.ts';
import type { GateEvent } from '../src/core/events.ts';
import { governance, type GovernanceVerdict } from '../src/core/governance.ts';
import { enforce, recordLatency, type GuardVerdict } from '../src/core/health-guard.ts';
import { toDecisionInput, type DecisionInput } from '../src/core/inputs.ts';
import { decide, type Decision } from '../src/core/pipeline.ts';
import { riskCheck, type RiskResult } from '../src/core/risk.ts';
import { runSprt, type SprtResult } from '../src/core/sprt.ts';
import { GateState, type StateSizes } from '../src/shm/state/gate-state.ts';
import { SIDE_BUY } from '../src/shm/state/symbol-table.ts';
import { trapScore, trapUpdate, type TrapUpdate } from '../src/core/trap.ts';
import { checkText, encodeResponse, isFailure, NO_LOCK, SYSTEM_CLOCK, type Checked } from '../src/gate/pretrade.ts';
import type { Failure } from '../src/gate/errors.ts';
import { deniedOrderLine, policyDecisionLine } from '../src/gate/decision-records.ts';
import { PretradeCheckRequest } from '../src/schema/pretrade.ts';
import { compileValidator } from '../src/schema/validate.ts';
import { parseFlagsOrExit } from '../src/util/flags.ts';

// ---------------------------------------------------------------------------------------------------
// settings

const USAGE = `usage: npx tsx bench/core.bench.ts [--quick]      (npm run bench:core -- --quick)
  --quick   short time budgets per task (250 ms + 80 ms warm-up instead of 1500 ms + 300 ms)`;
const QUICK = parseFlagsOrExit(process.argv.slice(2), { quick: { type: 'boolean' } }, USAGE).values.quick === true;
/** per-task time budgets (ms): tinybench keeps sampling until both the budget and the minimum count are met */
const BUDGET = QUICK ? { time: 250, warmupTime: 80, diagTime: 30 } : { time: 1500, warmupTime: 300, diagTime: 200 };
const SLO = { decideMedianNs: 5_000, validateMedianNs: 2_000 };

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

const progress = (line: string) => process.stderr.write(`${line}\n`);

function abort(message: string): never {
  process.stderr.write(`\ncore.bench: ABORT: ${message}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------------
// request bodies

/** The standard benchmark body: an allowed request. */
const BODY_ALLOWED =
  '{"ts":1700000000000,"req_id":"bench-1","account":{"mode":"paper","account_id":"acc-1"},' +
  '"order":{"symbol":"BTCUSDT","side":"buy","qty":0.01,"price":50000.0,"base_notional":500.0},' +
  '"market":{"latency_ms":5.0,"slip_bps_est":1.0,"a_bps":10.0,"b_bps":20.0,"spread_bps":2.0,"score":1.0,' +
  '"mode_regime":"normal","trap_cancel_deltas":[1,1,1,1,1],"trap_add_deltas":[1,1,1,1,1],"trap_trades_cnt":3,' +
  '"obi_sign":1,"tfi_sign":1,"pnl_today_pct":-1.0,"open_positions":1},"fees_bps":1.0}';

function variant(from: string, to: string, reqId: string): string {
  if (!BODY_ALLOWED.includes(from)) abort(`body template lost ${from}`);
  return BODY_ALLOWED.replace(from, to).replace('"req_id":"bench-1"', `"req_id":"${reqId}"`);
}

/** spread 120 bps > pipeline limit 80 -> spread guard (3.10) */
const BODY_DENIED_SPREAD = variant('"spread_bps":2.0', '"spread_bps":120.0', 'bench-2');
/** slippage 10 bps > 0.3 * b_bps (6 bps) -> slippage guard (3.6); expected return still passes (5.4 > 2) */
const BODY_DENIED_SLIP = variant('"slip_bps_est":1.0', '"slip_bps_est":10.0', 'bench-3');

interface Expected {
  allow: boolean;
  /** exact reason, or a prefix when it ends with '*' */
  reason: string;
}
const EXPECT_ALLOWED: Expected = { allow: true, reason: 'ok' };
const EXPECT_SPREAD: Expected = { allow: false, reason: 'spread_bps_too_wide:*' };
const EXPECT_SLIP: Expected = { allow: false, reason: 'slippage_guard' };

function outcomeProblem(d: { allow: boolean; reason: string } | undefined, e: Expected): string | null {
  if (d === undefined) return 'no decision recorded';
  const reasonOk = e.reason.endsWith('*') ? d.reason.startsWith(e.reason.slice(0, -1)) : d.reason === e.reason;
  if (d.allow === e.allow && reasonOk) return null;
  return `expected allow=${e.allow} reason=${e.reason}, got allow=${d.allow} reason=${d.reason}`;
}

// ---------------------------------------------------------------------------------------------------
// configuration and state

const app = loadConfig({}, PACKAGE_ROOT);
const cfg: CoreConfig = app.core;
const sizes: StateSizes = app.service.stateSizes;
const newState = (s: StateSizes = sizes) => GateState.create(s, cfg.risk, false);

/** anti-churn on (all three rules) for the antiChurn task only; the embedded defaults have it off */
const churnCfg = { cooldownAfterCloseMs: 5_000, minOpenIntervalMs: 100, minPositionHoldMs: 30_000 };

const validator = compileValidator<PretradeCheckRequest>(PretradeCheckRequest);

function parseValid(text: string): PretradeCheckRequest {
  const body: unknown = JSON.parse(text);
  if (!validator.check(body)) abort(`benchmark body does not validate: ${JSON.stringify(validator.errors(body))}`);
  return body;
}

const reqAllowed = parseValid(BODY_ALLOWED);
/**
 * Eight separately parsed copies of the allowed body (same hidden classes, as every JSON.parse result
 * has), cycled through by the validate / toDecisionInput tasks so the optimiser cannot treat the input
 * as one constant object.
 */
const reqCopies: PretradeCheckRequest[] = Array.from({ length: 8 }, () => parseValid(BODY_ALLOWED));
let copyIdx = 0;
const nextCopy = () => reqCopies[(copyIdx = (copyIdx + 1) & 7)];
const reqSpread = parseValid(BODY_DENIED_SPREAD);
const reqSlip = parseValid(BODY_DENIED_SLIP);
const inAllowed = toDecisionInput(reqAllowed, cfg.defaultMode);
const inSpread = toDecisionInput(reqSpread, cfg.defaultMode);
const inSlip = toDecisionInput(reqSlip, cfg.defaultMode);
if (inAllowed.trap === null) abort('the allowed body has no TRAP inputs');

/** 10 SPRT samples whose LLR increments (x - 0.5 for mu1 = score = 1, sigma 1) cancel: all 10 are consumed, ACCEPT at max_obs */
const SPRT_SAMPLES: readonly number[] = [0.6, 0.4, 0.7, 0.3, 0.5, 0.55, 0.45, 0.6, 0.4, 0.5];

/** A synthetic clock for the per-guard tasks (1 µs per call, starting now): no clock read inside the timed call. */
let guardNow = SYSTEM_CLOCK.wallSec();
const nextGuardNow = () => (guardNow += 1e-6);

// ---------------------------------------------------------------------------------------------------
// task specifications

interface Spec {
  name: string;
  /** 'core' rows make up the report table; 'diag' rows are diagnostics of suspected slow paths */
  group: 'core' | 'diag';
  fn: () => void;
  /** null when the last result is as expected, else what is wrong */
  check: () => string | null;
  /** brings a stateful task to steady state (rings full); runs before the preflight and before each phase */
  prime?: () => void;
  /** runs before every measured call (outside the timed region) */
  beforeEach?: () => void;
  /**
   * Calls per sample for operations cheaper than the timer itself (~60 ns per hrtime pair): the sample is
   * the batch time / batch, handed to tinybench as `overriddenDuration` (its documented way to measure
   * sub-overhead work). Default 1: one call per sample, timed by tinybench.
   */
  batch?: number;
  note?: string;
}

/** Batch size for the operations that cost less than a timer read. */
const TINY_BATCH = 100;

const specs: Spec[] = [];

/** Calls `fn` often enough to fill the latency ring (the largest ring) and the TRAP history. */
const primeBy = (fn: () => void, times = sizes.latencySamples + sizes.trapHistory) => () => {
  for (let i = 0; i < times; i++) fn();
};

// --- request handling pieces -------------------------------------------------------------------------
{
  let ok = false;
  specs.push({
    name: 'validate',
    group: 'core',
    fn: () => {
      ok = validator.check(nextCopy());
    },
    check: () => (ok ? null : 'validator rejected the allowed body'),
    batch: TINY_BATCH,
    note: 'compiled TypeBox Check on the parsed allowed body (8 parsed copies, cycled)',
  });
}
{
  let parsed: unknown;
  specs.push({
    name: 'JSON.parse',
    group: 'core',
    fn: () => {
      parsed = JSON.parse(BODY_ALLOWED);
    },
    check: () => ((parsed as { req_id?: string } | undefined)?.req_id === 'bench-1' ? null : 'JSON.parse result changed'),
    note: `allowed body, ${Buffer.byteLength(BODY_ALLOWED)} bytes`,
  });
}
{
  let input: DecisionInput | undefined;
  specs.push({
    name: 'toDecisionInput',
    group: 'core',
    fn: () => {
      input = toDecisionInput(nextCopy(), cfg.defaultMode);
    },
    check: () => (input?.symbol === 'BTCUSDT' && input.trap !== null && input.spreadBps === 2 ? null : 'toDecisionInput result changed'),
    batch: TINY_BATCH,
  });
}

// --- the whole decision (decide), real clock -------------------------------------------------------
function decideSpec(name: string, input: DecisionInput, expected: Expected): Spec {
  const state = newState();
  let last: Decision | undefined;
  const fn = () => {
    last = decide(state, cfg, input, SYSTEM_CLOCK.wallSec(), SYSTEM_CLOCK.monoMs);
  };
  return {
    name,
    group: 'core',
    fn,
    prime: primeBy(fn),
    check: () => outcomeProblem(last, expected),
    note: 'own GateState, real clock, latency ring full',
  };
}
specs.push(decideSpec('decide (allowed)', inAllowed, EXPECT_ALLOWED));
specs.push(decideSpec('decide (denied: spread)', inSpread, EXPECT_SPREAD));
specs.push(decideSpec('decide (denied: slippage)', inSlip, EXPECT_SLIP));

// --- individual guards --------------------------------------------------------------------------------
function healthSpec(name: string, group: Spec['group'], s: StateSizes, note: string, batch = 1): Spec {
  const state = newState(s);
  let p95 = NaN;
  let verdict: GuardVerdict | undefined;
  const fn = () => {
    const now = nextGuardNow();
    p95 = recordLatency(state, cfg.health, inAllowed.latencyMs, now);
    verdict = enforce(state, now);
  };
  return {
    name,
    group,
    fn,
    prime: primeBy(fn, s.latencySamples + 1),
    check: () =>
      verdict === 'ok' && p95 === inAllowed.latencyMs && state.latency.count === s.latencySamples
        ? null
        : `HealthGuard drifted: verdict=${verdict} p95=${p95} samples=${state.latency.count}`,
    batch,
    note,
  };
}
specs.push(healthSpec('recordLatency+enforce', 'core', sizes, `ring of ${sizes.latencySamples} samples, full`));
{
  const state = newState();
  const trap = inAllowed.trap!;
  let u: TrapUpdate | undefined;
  let score = NaN;
  const fn = () => {
    u = trapUpdate(state, cfg.trap, trap.cancel, trap.add, trap.trades, inAllowed.obiSign, inAllowed.tfiSign);
    score = trapScore(trap.cancel, trap.add, cfg.trap.windowS);
  };
  specs.push({
    name: 'trapUpdate+trapScore',
    group: 'core',
    fn,
    prime: primeBy(fn, sizes.trapHistory + 1),
    check: () =>
      u !== undefined && !u.flag && u.trapZ === 0 && score <= cfg.trap.scoreThreshold
        ? null
        : `TRAP drifted: flag=${u?.flag} z=${u?.trapZ} score=${score}`,
    note: `history of ${sizes.trapHistory}, full`,
  });
}
{
  const state = newState();
  let r: RiskResult | undefined;
  specs.push({
    name: 'riskCheck',
    group: 'core',
    fn: () => {
      r = riskCheck(state.risk, inAllowed.baseNotional, inAllowed.pnlTodayPct, inAllowed.openPositions);
    },
    check: () => (r !== undefined && r.code === null ? null : `riskCheck returned ${r?.code}`),
    batch: TINY_BATCH,
    note: 'includes the state.risk getter (one object per call)',
  });
}
{
  let s: SprtResult | undefined;
  specs.push({
    name: 'runSprt (10 samples)',
    group: 'core',
    fn: () => {
      s = runSprt(cfg.sprt, inAllowed.score, SPRT_SAMPLES, SYSTEM_CLOCK.monoMs);
    },
    check: () => (s !== undefined && s.decision === 'ACCEPT' && s.nObs === 10 ? null : `SPRT returned ${s?.decision} after ${s?.nObs}`),
    note: 'real monotonic clock (read once per sample by runSprt)',
  });
}
{
  const state = newState();
  let g: GovernanceVerdict | null | undefined;
  let events: GateEvent[] = [];
  specs.push({
    name: 'governance',
    group: 'core',
    fn: () => {
      events = [];
      g = governance(state, cfg.governance, inAllowed, nextGuardNow(), events);
    },
    check: () => (g === null && events.length === 0 ? null : `governance returned ${JSON.stringify(g)}`),
    batch: TINY_BATCH,
  });
}
{
  const state = newState();
  const nowMs = Math.floor(guardNow * 1000);
  const slot = state.symbols.upsert('BTCUSDT', nowMs);
  state.symbols.setLastAllowMs(slot, nowMs - 3_600_000);
  state.symbols.setCooldownUntilMs(slot, nowMs - 1_000);
  state.symbols.setPosition(slot, SIDE_BUY, nowMs - 3_600_000);
  let hit: ReturnType<typeof antiChurn> | undefined;
  let events: GateEvent[] = [];
  specs.push({
    name: 'antiChurn',
    group: 'core',
    fn: () => {
      events = [];
      hit = antiChurn(state, churnCfg, inAllowed.symbol, inAllowed.side, inAllowed.closing, Math.floor(nextGuardNow() * 1000), events);
    },
    check: () => (hit === null && events.length === 0 ? null : `antiChurn hit: ${JSON.stringify(hit)}`),
    batch: TINY_BATCH,
    note: 'symbol has state (expired cooldown, old allow, open buy): all three rules evaluated, no hit',
  });
}

// --- response encoding ------------------------------------------------------------------------------------
{
  const d = decide(newState(), cfg, inAllowed, SYSTEM_CLOCK.wallSec(), SYSTEM_CLOCK.monoMs);
  let json = '';
  specs.push({
    name: 'encode response',
    group: 'core',
    fn: () => {
      json = encodeResponse(d, JSON.stringify(d.observability));
    },
    check: () => (json.startsWith('{"allow":true,') ? null : 'encoded response changed'),
    note: 'encodeResponse + JSON.stringify(observability) of the allowed decision',
  });
}

{
  // The strings GateService.journalDecision builds for a denied decision: the POLICY.DECISION event line
  // (details JSON around the already-encoded observability) and the denied-order line. The decision and
  // its observability JSON are made once, outside the timed region.
  const input = inSpread;
  const d = decide(newState(), cfg, input, SYSTEM_CLOCK.wallSec(), SYSTEM_CLOCK.monoMs);
  if (outcomeProblem(d, EXPECT_SPREAD) !== null) abort(`journal record encoding: ${outcomeProblem(d, EXPECT_SPREAD)}`);
  const obsJson = JSON.stringify(d.observability);
  const runId = 'bench-run';
  const decisionTs = `${Math.floor(SYSTEM_CLOCK.wallSec() * 1e6)}000`;
  let event = '';
  let order = '';
  specs.push({
    name: 'journal record encoding',
    group: 'core',
    fn: () => {
      order = deniedOrderLine(decisionTs, runId, input, d);
      event = policyDecisionLine(decisionTs, runId, input, d, obsJson, undefined);
    },
    check: () =>
      event.includes('"event_code":"POLICY.DECISION"') && event.includes('"decision":"NO_OP"') && event.endsWith('}\n') &&
      order.includes('"reason_code":"spread_bps_too_wide:') && order.includes('"action":"ABORT"') && order.endsWith('}\n')
        ? null
        : 'journal lines changed',
    note: 'POLICY.DECISION event line + denied-order line of the denied (spread) decision (src/gate/decision-records.ts, as GateService journals them)',
  });
}

// --- the whole request path (JSON.parse + validate + toDecisionInput + decide + encode) ---------------------
function wholeSpec(name: string, text: string, expected: Expected): Spec {
  const state = newState();
  let last: Checked | Failure | undefined;
  const fn = () => {
    last = checkText(text, cfg, state, NO_LOCK, SYSTEM_CLOCK);
  };
  return {
    name,
    group: 'core',
    fn,
    prime: primeBy(fn),
    check: () => {
      if (last === undefined) return 'no result';
      if (isFailure(last)) return `checkText failed: ${JSON.stringify(last.body)}`;
      return outcomeProblem(last.decision, expected);
    },
    note: 'own GateState, real clock',
  };
}
specs.push(wholeSpec('whole: checkText (allowed)', BODY_ALLOWED, EXPECT_ALLOWED));
specs.push(wholeSpec('whole: checkText (denied)', BODY_DENIED_SPREAD, EXPECT_SPREAD));

// --- diagnostics: suspected slow paths ------------------------------------------------------------------------
specs.push(
  healthSpec(
    'diag: recordLatency+enforce (ring of 256)',
    'diag',
    { ...sizes, latencySamples: 256 },
    'same as recordLatency+enforce with a 256-sample ring, for comparison',
    TINY_BATCH,
  ),
);
{
  let s: SprtResult | undefined;
  const frozen = () => 0;
  specs.push({
    name: 'diag: runSprt (10 samples, constant clock)',
    group: 'diag',
    fn: () => {
      s = runSprt(cfg.sprt, inAllowed.score, SPRT_SAMPLES, frozen);
    },
    check: () => (s !== undefined && s.decision === 'ACCEPT' && s.nObs === 10 ? null : `SPRT returned ${s?.decision} after ${s?.nObs}`),
    batch: TINY_BATCH,
    note: 'runSprt without the cost of its 11 clock reads, for comparison',
  });
}
{
  const d = decide(newState(), cfg, inAllowed, SYSTEM_CLOCK.wallSec(), SYSTEM_CLOCK.monoMs);
  let json = '';
  specs.push({
    name: 'diag: JSON.stringify(observability) only',
    group: 'diag',
    fn: () => {
      json = JSON.stringify(d.observability);
    },
    check: () => (json.startsWith('{"gate_state":"PASS",') ? null : 'observability JSON changed'),
    note: 'the observability part of "encode response"',
  });
}
{
  // A burst fills the ring, then no request for longer than the 60 s window: the next request expires
  // every sample one at a time (SortedWindow.dropOldest shifts the sorted array for each).
  const state = newState();
  const cap = sizes.latencySamples;
  let t = 1_000_000;
  let p95 = NaN;
  let count = -1;
  specs.push({
    name: `diag: recordLatency after idle (${cap} expired)`,
    group: 'diag',
    beforeEach: () => {
      state.latency.clear();
      for (let i = 0; i < cap; i++) state.latency.push(inAllowed.latencyMs, t);
      t += cfg.health.windowSec + 1;
    },
    fn: () => {
      p95 = recordLatency(state, cfg.health, inAllowed.latencyMs, t);
      count = state.latency.count;
    },
    check: () => (count === 1 && p95 === inAllowed.latencyMs ? null : `expected 1 sample left, got ${count} (p95 ${p95})`),
    note: `one request after >${cfg.health.windowSec} s idle with a full ring`,
  });
}

// ---------------------------------------------------------------------------------------------------
// preflight: outcomes as expected before any timing

function preflight(): Record<string, unknown> {
  const outcomes: Record<string, unknown> = {};
  for (const [label, text, e] of [
    ['allowed', BODY_ALLOWED, EXPECT_ALLOWED],
    ['denied: spread', BODY_DENIED_SPREAD, EXPECT_SPREAD],
    ['denied: slippage', BODY_DENIED_SLIP, EXPECT_SLIP],
  ] as const) {
    const r = checkText(text, cfg, newState(), NO_LOCK, SYSTEM_CLOCK);
    if (isFailure(r)) abort(`${label} body: checkText failed with ${r.status} ${JSON.stringify(r.body)}`);
    const problem = outcomeProblem(r.decision, e);
    if (problem !== null) abort(`${label} body: ${problem}`);
    outcomes[label] = { allow: r.decision.allow, reason: r.decision.reason, bytes: Buffer.byteLength(text) };
    progress(`preflight: ${label.padEnd(17)} allow=${r.decision.allow} reason=${r.decision.reason} (${Buffer.byteLength(text)} bytes)`);
  }
  for (const s of specs) {
    s.prime?.();
    s.beforeEach?.();
    s.fn();
    const problem = s.check();
    if (problem !== null) abort(`preflight of task "${s.name}": ${problem}`);
  }
  progress(`preflight: ${specs.length} tasks produce their expected results`);
  return outcomes;
}

// ---------------------------------------------------------------------------------------------------
// running

interface Row {
  name: string;
  group: Spec['group'];
  /** calls per sample (1 = each call timed by tinybench) */
  batch: number;
  medianNs: number;
  p99Ns: number;
  meanNs: number;
  minNs: number;
  maxNs: number;
  rmePct: number;
  opsPerSec: number;
  opsPerSecMean: number;
  samples: number;
  note?: string;
}

const ms2ns = (ms: number) => ms * 1e6;

function addTask(bench: Bench, s: Spec): void {
  const phaseEnd = (mode?: HookMode) => {
    const problem = s.check();
    if (problem !== null) throw new Error(`outcome of task "${s.name}" changed during ${mode ?? 'the run'}: ${problem}`);
  };
  const n = s.batch ?? 1;
  const inner = s.fn;
  const fn = perItem(bench.now, n === 1 ? inner : () => {
    for (let i = 0; i < n; i++) inner();
  }, n);
  bench.add(s.name, fn, {
    beforeAll: s.prime ? () => s.prime!() : undefined,
    beforeEach: s.beforeEach,
    afterAll: phaseEnd,
  });
}

function runOne(task: Task, index: number, total: number): void {
  const started = performance.now();
  progress(`[${String(index + 1).padStart(2)}/${total}] ${task.name} ...`);
  try {
    task.warmupSync();
    task.runSync();
  } catch (err) {
    abort(`task "${task.name}": ${(err as Error).message}`);
  }
  const r = task.result;
  if (r.state !== 'completed') {
    abort(`task "${task.name}" ended ${r.state}${r.state === 'errored' ? `: ${r.error.message}` : ''}`);
  }
  progress(
    `[${String(index + 1).padStart(2)}/${total}] ${task.name}: median ${fmtNs(ms2ns(r.latency.p50))} ns, p99 ${fmtNs(ms2ns(r.latency.p99))} ns, ` +
      `${r.latency.samplesCount} samples, ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

function rowOf(task: Task, s: Spec): Row {
  const r = task.result;
  if (r.state !== 'completed') abort(`task "${task.name}" has no statistics (${r.state})`);
  return {
    name: s.name,
    group: s.group,
    batch: s.batch ?? 1,
    medianNs: ms2ns(r.latency.p50),
    p99Ns: ms2ns(r.latency.p99),
    meanNs: ms2ns(r.latency.mean),
    minNs: ms2ns(r.latency.min),
    maxNs: ms2ns(r.latency.max),
    rmePct: r.latency.rme,
    opsPerSec: r.throughput.p50,
    opsPerSecMean: r.throughput.mean,
    samples: r.latency.samplesCount,
    ...(s.note ? { note: s.note } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------
// reporting

function fmtNs(ns: number): string {
  if (ns >= 100) return Math.round(ns).toLocaleString('en-US');
  return ns.toFixed(1);
}

function fmtOps(ops: number): string {
  return Math.round(ops).toLocaleString('en-US');
}

function table(rows: Row[]): string {
  const head = '| task | median ns | p99 ns | ops/s (median) | samples |\n|---|---:|---:|---:|---:|';
  const body = rows.map((r) => `| ${r.name}${r.batch > 1 ? ' †' : ''} | ${fmtNs(r.medianNs)} | ${fmtNs(r.p99Ns)} | ${fmtOps(r.opsPerSec)} | ${r.samples.toLocaleString('en-US')} |`);
  return [head, ...body].join('\n');
}

function tinybenchVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'node_modules', 'tinybench', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------------
// main

function main(): void {
  const startedAt = new Date();
  progress(`core.bench: ${QUICK ? 'quick' : 'full'} run, ${BUDGET.time} ms per task (+${BUDGET.warmupTime} ms warm-up), node ${process.version}`);
  const outcomes = preflight();

  const coreSpecs = specs.filter((s) => s.group === 'core');
  const diagSpecs = specs.filter((s) => s.group === 'diag');
  const bench = newBench('aurora-core', BUDGET.time, BUDGET.warmupTime, 64, 16);
  // the idle-expiry diagnostic costs milliseconds per call plus a ring refill: few iterations
  const diagBench = newBench('aurora-core', BUDGET.diagTime, BUDGET.diagTime / 2, QUICK ? 10 : 30, 5);
  const timerOverheadNs = ms2ns(bench.timerOverhead ?? 0);
  progress(`timer: ${bench.timestampProvider.name}, calibrated overhead ${timerOverheadNs.toFixed(1)} ns subtracted from each sample`);

  for (const s of coreSpecs) addTask(bench, s);
  for (const s of diagSpecs) addTask(s.beforeEach ? diagBench : bench, s);

  const ordered: Array<[Task, Spec]> = specs.map((s) => [(bench.getTask(s.name) ?? diagBench.getTask(s.name))!, s]);
  ordered.forEach(([task], i) => runOne(task, i, ordered.length));

  const rows = ordered.map(([task, s]) => rowOf(task, s));
  const coreRows = rows.filter((r) => r.group === 'core');
  const diagRows = rows.filter((r) => r.group === 'diag');

  const byName = (n: string) => rows.find((r) => r.name === n)!;
  const decideRow = byName('decide (allowed)');
  const validateRow = byName('validate');
  const slo = [
    { name: 'whole decide (decide (allowed)) median', valueNs: decideRow.medianNs, limitNs: SLO.decideMedianNs, pass: decideRow.medianNs <= SLO.decideMedianNs },
    { name: 'validation (validate) median', valueNs: validateRow.medianNs, limitNs: SLO.validateMedianNs, pass: validateRow.medianNs <= SLO.validateMedianNs },
  ];

  const machine = {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${os.release()}`,
    arch: process.arch,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };

  const out: string[] = [];
  out.push(`## AURORA decision core — ${QUICK ? 'quick' : 'full'} run (${startedAt.toISOString()})`);
  out.push('');
  out.push(`node ${machine.node}, ${machine.cpuModel}, ${machine.cores} cores; tinybench ${tinybenchVersion()}, ${bench.timestampProvider.name}, timer overhead ${timerOverheadNs.toFixed(1)} ns subtracted`);
  out.push('');
  out.push(table(coreRows));
  out.push('');
  for (const s of slo) out.push(`SLO ${s.name}: ${fmtNs(s.valueNs)} ns <= ${fmtNs(s.limitNs)} ns -> ${s.pass ? 'PASS' : 'FAIL'}`);
  out.push('');
  out.push(
    `† cheaper than a timer read: timed in batches of ${TINY_BATCH} calls (tinybench overriddenDuration = batch time / ${TINY_BATCH}); ` +
      'median and p99 are over batch means, samples counts batches. Other rows: every call timed.',
  );
  if (diagRows.length > 0) {
    out.push('');
    out.push('Diagnostics (not part of the SLO):');
    out.push('');
    out.push(table(diagRows));
  }
  process.stdout.write(`${out.join('\n')}\n`);

  const json = {
    kind: 'aurora-core-bench',
    timestamp: startedAt.toISOString(),
    mode: QUICK ? 'quick' : 'full',
    machine,
    tinybench: {
      version: tinybenchVersion(),
      timestampProvider: bench.timestampProvider.name,
      timerOverheadNs,
      timePerTaskMs: BUDGET.time,
      warmupTimePerTaskMs: BUDGET.warmupTime,
    },
    config: { source: app.source, stateSizes: sizes },
    bodies: { allowed: BODY_ALLOWED, deniedSpread: BODY_DENIED_SPREAD, deniedSlippage: BODY_DENIED_SLIP },
    outcomes,
    tasks: coreRows,
    diagnostics: diagRows,
    slo,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.toISOString().replaceAll(':', '-');
  const text = `${JSON.stringify(json, null, 2)}\n`;
  const file = join(RESULTS_DIR, `core-${stamp}.json`);
  writeFileSync(file, text);
  writeFileSync(join(RESULTS_DIR, 'core-latest.json'), text);
  progress(`results: ${file} (and core-latest.json)`);
}

main();
