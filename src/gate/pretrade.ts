import type { CoreConfig } from '../core/config.ts';
import { tradingStateCode } from '../core/controls/config.ts';
import { publishControls, replayAnswer, storeAnswer } from '../core/controls/evaluate.ts';
import { toDecisionInput, type DecisionInput } from '../core/inputs.ts';
import { ControlsContext, decide, defaultControlsContext, type Decision } from '../core/pipeline.ts';
import type { GateState } from '../shm/state/gate-state.ts';
import { PretradeCheckRequest } from '../schema/pretrade.ts';
import { compileValidator } from '../schema/validate.ts';
import { FaultSite, throwIfInjected } from '../testing/faults.ts';
import { invalidRequest, malformedJson, type Failure } from './errors.ts';

/** The pretrade request validator, compiled once for every caller (service, tests, benchmarks). */
export const pretradeValidator = compileValidator<PretradeCheckRequest>(PretradeCheckRequest);

/** Serialises the critical section; a no-op for single-threaded use. */
export interface StateLock {
  acquire(): void;
  release(): void;
}

export const NO_LOCK: StateLock = { acquire() {}, release() {} };

export interface Clock {
  /** wall clock, epoch seconds (sub-millisecond precision) */
  wallSec(): number;
  /** monotonic milliseconds */
  monoMs(): number;
}

export const SYSTEM_CLOCK: Clock = {
  wallSec: () => (performance.timeOrigin + performance.now()) / 1000,
  monoMs: () => performance.now(),
};

export interface Checked {
  input: DecisionInput;
  decision: Decision;
  /** the response body, already serialised */
  json: string;
}

/** The reference's constant quotas (gate.md 1.5), kept whenever no desk control is on (controls.md §0, §4). */
const QUOTAS_JSON = '{"trades_pm_left":999,"symbol_exposure_left_usdt":1000000000000.0}';

/**
 * The response body of gate.md 1.5, serialised once (the observability object is shared with the
 * journal). `hard_gate` is true only for a desk-controls denial; `quotas` are the controls' (§4) when any
 * control is on, else the reference constant.
 */
export function encodeResponse(d: Decision, observabilityJson: string): string {
  return (
    `{"allow":${d.allow},"max_qty":${num(d.maxQty)},"risk_scale":${num(d.riskScale)},"cooldown_ms":${d.cooldownMs},` +
    `"reason":${JSON.stringify(d.reason)},"hard_gate":${d.hardGate},"quotas":${d.quotas === null ? QUOTAS_JSON : JSON.stringify(d.quotas)},"observability":${observabilityJson}}`
  );
}

const num = (x: number) => (Number.isFinite(x) ? String(x) : 'null');

/**
 * The controls context of callers that bring none (checkParsed: tests, benchmarks), one per state. A
 * state created outside startGate has no live controls published yet: the configured ones are published
 * first (start-up trading state included), as startGate does.
 */
function contextFor(state: GateState, cfg: CoreConfig, lock: StateLock): ControlsContext {
  if (state.controls.configGeneration === 0) {
    lock.acquire();
    try {
      if (state.controls.configGeneration === 0) {
        // (not initControls: that would also empty the tables, e.g. of positions recorded meanwhile)
        state.controls.tradingState = tradingStateCode(cfg.controls.tradingState);
        publishControls(state.controls, cfg.controls);
      }
    } finally {
      lock.release();
    }
  }
  return defaultControlsContext(state, cfg);
}

/**
 * Validates a parsed body and decides it: validation and input conversion happen before the lock; only
 * `decide` runs inside it (D23). A bad body changes nothing and yields a 422 with field paths. Desk
 * controls included: an idempotent replay answers the original text (controls.md §3 rule 1), and a
 * remembered id gets its answer text stored (as GateService does).
 */
export function checkParsed(body: unknown, cfg: CoreConfig, state: GateState, lock: StateLock, clock: Clock): Checked | Failure {
  if (!pretradeValidator.check(body)) return invalidRequest(pretradeValidator.errors(body));
  const cx = contextFor(state, cfg, lock);
  const input = toDecisionInput(body, cfg.defaultMode, cx.controlsOn);
  const { decision } = decideLocked(cfg, state, lock, clock, input, false, null, cx);
  if (decision.replayOf !== null) return { input, decision, json: replayAnswer(decision.replayOf) };
  const json = encodeResponse(decision, JSON.stringify(decision.observability));
  storeAnswerLocked(state, lock, input, cx, json);
  return { input, decision, json };
}

/**
 * The second, short critical section of a decision whose client_order_id is remembered (controls.md §3
 * rule 1): stores the encoded answer so an identical retry gets it back. Until then the id is pending
 * (a retry arriving in between is refused `duplicate_client_order_id`, `in_flight`, never decided twice).
 * Nothing to do (no lock taken) for every other decision.
 */
export function storeAnswerLocked(state: GateState, lock: StateLock, input: DecisionInput, cx: ControlsContext, json: string): void {
  const v = cx.verdict;
  if (v.dedupeRecord < 0 || input.controls === null) return;
  lock.acquire();
  try {
    storeAnswer(state.controls, input.controls, v, json);
  } finally {
    lock.release();
  }
}

/**
 * The critical section of a check (D23): decide, and (for the journal) reserve one timestamp per event
 * plus one for POLICY.DECISION, all under the shared lock. Returns the first reserved timestamp (µs).
 * The lock is released whatever happens inside (a throw included: GateService answers 500). `faults`:
 * the thread's counters slice, whose fault word is used by src/testing only (src/testing/faults.ts; GateService only).
 * `cx`: the thread's desk-controls context (GateService owns one; other callers get one per state).
 */
export function decideLocked(
  cfg: CoreConfig,
  state: GateState,
  lock: StateLock,
  clock: Clock,
  input: DecisionInput,
  reserveTs: boolean,
  faults: Float64Array | null = null,
  cx: ControlsContext = contextFor(state, cfg, lock),
): { decision: Decision; firstTs: number } {
  lock.acquire();
  try {
    if (faults !== null) throwIfInjected(faults, FaultSite.Decide);
    const decision = decide(state, cfg, input, clock.wallSec(), clock.monoMs, cx);
    const firstTs = reserveTs ? state.reserveTsUs(state.now(), decision.events.length + 1) : 0;
    return { decision, firstTs };
  } finally {
    lock.release();
  }
}

/** As checkParsed, from the raw body text. */
export function checkText(text: string, cfg: CoreConfig, state: GateState, lock: StateLock, clock: Clock): Checked | Failure {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return malformedJson((err as Error).message);
  }
  return checkParsed(body, cfg, state, lock, clock);
}

export const isFailure = (r: Checked | Failure): r is Failure => 'status' in r;
