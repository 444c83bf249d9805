import type { CoreConfig } from '../core/config.ts';
import { toDecisionInput, type DecisionInput } from '../core/inputs.ts';
import { decide, type Decision } from '../core/pipeline.ts';
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

const QUOTAS_JSON = '{"trades_pm_left":999,"symbol_exposure_left_usdt":1000000000000.0}';

/** The response body of gate.md 1.5, serialised once (the observability object is shared with the journal). */
export function encodeResponse(d: Decision, observabilityJson: string): string {
  return (
    `{"allow":${d.allow},"max_qty":${num(d.maxQty)},"risk_scale":${num(d.riskScale)},"cooldown_ms":${d.cooldownMs},` +
    `"reason":${JSON.stringify(d.reason)},"hard_gate":false,"quotas":${QUOTAS_JSON},"observability":${observabilityJson}}`
  );
}

const num = (x: number) => (Number.isFinite(x) ? String(x) : 'null');

/**
 * Validates a parsed body and decides it: validation and input conversion happen before the lock; only
 * `decide` runs inside it (D23). A bad body changes nothing and yields a 422 with field paths.
 */
export function checkParsed(body: unknown, cfg: CoreConfig, state: GateState, lock: StateLock, clock: Clock): Checked | Failure {
  if (!pretradeValidator.check(body)) return invalidRequest(pretradeValidator.errors(body));
  const input = toDecisionInput(body, cfg.defaultMode);
  const { decision } = decideLocked(cfg, state, lock, clock, input, false);
  return { input, decision, json: encodeResponse(decision, JSON.stringify(decision.observability)) };
}

/**
 * The critical section of a check (D23): decide, and (for the journal) reserve one timestamp per event
 * plus one for POLICY.DECISION, all under the shared lock. Returns the first reserved timestamp (µs).
 * The lock is released whatever happens inside (a throw included: GateService answers 500). `faults`:
 * the thread's counters slice, whose fault word is used by src/testing only (src/testing/faults.ts; GateService only).
 */
export function decideLocked(cfg: CoreConfig, state: GateState, lock: StateLock, clock: Clock, input: DecisionInput, reserveTs: boolean, faults: Float64Array | null = null): { decision: Decision; firstTs: number } {
  lock.acquire();
  try {
    if (faults !== null) throwIfInjected(faults, FaultSite.Decide);
    const decision = decide(state, cfg, input, clock.wallSec(), clock.monoMs);
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
