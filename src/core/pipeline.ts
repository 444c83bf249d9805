import { antiChurn, stampAllow } from './anti-churn.ts';
import type { CoreConfig } from './config.ts';
import { TS_ACTIVE, type ControlsConfig } from './controls/config.ts';
import { controlsFacts, type ControlsFacts } from './controls/facts.ts';
import {
  checkControls,
  commitControls,
  controlsObservability,
  ControlsVerdict,
  LiveControls,
  quotasObject,
  V_DENY,
  V_REPLAY,
} from './controls/evaluate.ts';
import type { GateEvent } from './events.ts';
import { expectedReturnBps } from './expected-return.ts';
import { governance } from './governance.ts';
import { enforce, guardSnapshot, recordLatency, type GuardVerdict } from './health-guard.ts';
import type { DecisionInput } from './inputs.ts';
import { fmt1, fmt2 } from './pyfmt.ts';
import { clip } from './pyvalue.ts';
import { riskCheck } from './risk.ts';
import { runSprt } from './sprt.ts';
import { Ctl, type GateState } from '../shm/state/gate-state.ts';
import { trapScore, trapUpdate } from './trap.ts';

export interface SprtObs {
  decision: 'ACCEPT' | 'REJECT' | 'CONTINUE' | null;
  llr: number | null;
  n_obs: number | null;
}

export interface Decision {
  allow: boolean;
  reason: string;
  maxQty: number;
  riskScale: number;
  cooldownMs: number;
  /** `hard_gate`: true for a desk-controls denial (controls.md §3), false otherwise (the reference's) */
  hardGate: boolean;
  /** the controls.md §4 quotas when any control is on; null = the reference constant (parity) */
  quotas: Record<string, number | null> | null;
  /**
   * An idempotent replay (controls.md §3 rule 1): the original answer's text, to be answered again with
   * `idempotent_replay: true` (replayAnswer); nothing was decided, and the other fields are not an
   * answer (`events` holds only housekeeping events). null for every decision.
   */
  replayOf: string | null;
  /** the response's observability object, keys in the reference's order (gate.md 1.6) */
  observability: Record<string, unknown>;
  /** events to journal, in emission order (POLICY.DECISION is added by the service) */
  events: GateEvent[];
}

/** HEALTH.* events are debounced per code (service.md 4.1): at most one per 100 ms. */
const HEALTH_DEBOUNCE_SEC = 0.1;

function debounced(state: GateState, slot: number, now: number): boolean {
  if (now - state.ctl[slot] < HEALTH_DEBOUNCE_SEC) return true;
  state.ctl[slot] = now;
  return false;
}

const ESCALATION_CODE: Record<GuardVerdict, number> = { ok: 0, disarmed: 1, halt: 2, cooloff: 3 };

/**
 * One thread's desk-controls working objects (controls.md): its view of the live configuration published
 * in shared state (rebuilt only when the generation changes) and the verdict it reuses per decision. One
 * per GateService (= per thread); read the verdict before the thread's next decision.
 */
export class ControlsContext {
  readonly live: LiveControls;
  readonly verdict = new ControlsVerdict();
  /**
   * A control was on (or the trading state not ACTIVE) at this thread's last decision: the hint for
   * computing the request's ControlsFacts outside the lock (toDecisionInput's `withControls`).
   */
  controlsOn: boolean;
  constructor(initial?: ControlsConfig) {
    this.live = new LiveControls(initial);
    this.controlsOn = initial?.anyOn ?? false;
  }
}

/** The verdict of a decision with every control off: a pass, never written (checkControls writes cx.verdict). */
const PASS_VERDICT = new ControlsVerdict();

/**
 * The context of callers that bring none (tests, benchmarks, checkParsed): one per state, created with the
 * configured controls as the initial view (used until the state has a published configuration).
 */
const defaultContexts = new WeakMap<GateState, ControlsContext>();
export function defaultControlsContext(state: GateState, cfg: CoreConfig): ControlsContext {
  let cx = defaultContexts.get(state);
  if (cx === undefined) defaultContexts.set(state, (cx = new ControlsContext(cfg.controls)));
  return cx;
}

/** Appends the controls' events (RESERVATION.EXPIRED, LIMIT.NEAR, CONTROL.DENY) when there are any. */
function appendEvents(events: GateEvent[], more: readonly GateEvent[], skipDeny: boolean): void {
  for (let i = 0; i < more.length; i++) if (!(skipDeny && more[i].code === 'CONTROL.DENY')) events.push(more[i]);
}

/**
 * One pre-trade decision (gate.md 3, service.md 2.3): anti-churn pre-checks, the desk controls
 * (controls.md §3), then latency, HealthGuard, TRAP, ER/slippage in profile order, RiskManager, SPRT,
 * spread (which overwrites), ICP and Governance. Mutates `state` and must run under the caller's lock
 * (D23). `wallSec` is the wall clock in epoch seconds; `monoMs` a monotonic clock for the SPRT budget;
 * `cx` the calling thread's controls context (GateService owns one; omitted: one per state).
 *
 * Desk controls (controls.md; the rules themselves are src/core/controls):
 * - the check runs first, read-only but for time-driven housekeeping, so that an idempotent replay
 *   (§3 rule 1) answers before the anti-churn pre-checks: a retry of an allowed order is not a new order
 *   and must not be refused `open_rate_limit` by its own original's stamp (a desk's reading; the spec
 *   is silent). Every other controls verdict is applied after the pre-checks, which win when both hit
 *   (§0: "after the anti-churn pre-checks").
 * - a controls denial short-circuits like the pre-checks (no pipeline step runs), hard_gate true;
 * - a verified reduce-only order (`passesHalts`) skips the HealthGuard verdict (disarmed, halt,
 *   cool-off) and the Governance kill switch, and is decided by every other step (§3 rule 2, §0);
 * - the outcome is committed (tokens, reservation, remembered id, quotas) with the final answer.
 * With no control on this costs a few word reads, and every answer stays the reference's.
 */
export function decide(
  state: GateState,
  cfg: CoreConfig,
  input: DecisionInput,
  wallSec: number,
  monoMs: () => number,
  cx: ControlsContext = defaultControlsContext(state, cfg),
): Decision {
  const now = state.tick(wallSec);
  const nowMs = Math.floor(now * 1000);
  const events: GateEvent[] = [];

  const cst = state.controls;
  const ccfg = cx.live.current(cst);
  const off = !ccfg.anyOn && cst.tradingState === TS_ACTIVE;
  cx.controlsOn = !off;
  let facts = input.controls;
  let v: ControlsVerdict;
  if (facts === null && off) {
    // every control off and not a reduce-only order: nothing to check (parity, no cost); the thread's
    // verdict only forgets its remembered id (GateService stores an answer text for dedupeRecord ≥ 0)
    cx.verdict.dedupeRecord = -1;
    v = PASS_VERDICT;
  } else {
    // (computed here only when the caller's hint was stale: a POST /ops/limits just turned controls on)
    facts ??= input.controls = controlsFacts(input.request);
    v = checkControls(ccfg, cst, facts, nowMs, cx.verdict);
  }
  if (v.kind === V_REPLAY) {
    // §3 rule 1: the original answer again; nothing is decided, committed or sampled
    appendEvents(events, v.events, false);
    return { allow: false, reason: '', maxQty: input.qty, riskScale: 1.0, cooldownMs: 0, hardGate: false, quotas: null, replayOf: v.replayBody, observability: {}, events };
  }

  const hit = antiChurn(state, cfg.antiChurn, input.symbol, input.side, input.closing, nowMs, events);
  if (hit !== null) {
    const observability: Record<string, unknown> = { reasons: [hit.reason] };
    observability[hit.extraKey] = hit.extra;
    let quotas: Record<string, number | null> | null = null;
    if (ccfg.anyOn) {
      // the pre-check's answer is the one remembered for the id; a controls denial it pre-empted is dropped
      commitControls(ccfg, cst, facts as ControlsFacts, nowMs, v, false);
      quotas = quotasObject(v);
      if (quotas !== null) observability.controls = { reserved_usdt: 0, quotas };
    }
    if (v.events.length > 0) appendEvents(events, v.events, true);
    return {
      allow: false,
      reason: hit.reason,
      maxQty: input.qty,
      riskScale: 1.0,
      cooldownMs: cfg.compat.reportCooldownMs ? Math.max(0, Math.ceil(hit.remainingMs)) : 0,
      hardGate: false,
      quotas,
      replayOf: null,
      observability,
      events,
    };
  }

  if (v.kind === V_DENY && v.denial !== null) {
    // controls.md §3: first hit denies, no pipeline step runs (no HealthGuard or TRAP sample)
    const d = v.denial;
    commitControls(ccfg, cst, facts as ControlsFacts, nowMs, v, false);
    appendEvents(events, v.events, false);
    return {
      allow: false,
      reason: d.reason,
      maxQty: input.qty,
      riskScale: 1.0,
      cooldownMs: Math.max(0, Math.ceil(d.cooldownMs)),
      hardGate: true,
      quotas: quotasObject(v),
      replayOf: null,
      observability: { reasons: [d.reason], controls: controlsObservability(v) },
      events,
    };
  }
  // a verified reduce-only order passes the reference's halts (controls.md §3 rule 2, §0)
  const passHalts = v.passesHalts;
  let passedHalt = passHalts && cst.tradingState !== 0;

  let allow = true;
  let reason = 'ok';
  const reasons: string[] = [];
  let riskScale = 1.0;
  let riskObs: unknown = null;
  let trapObs: unknown = null;
  const sprtObs: SprtObs = { decision: null, llr: null, n_obs: null };
  const { latencyMs, spreadBps, score } = input;

  // 3.2 latency hard guard (never skipped)
  const lmax = cfg.latencyLimitMs;
  if (!(latencyMs <= lmax)) {
    allow = false;
    reason = 'latency_guard';
    reasons.push(`latency_guard_exceeded:${fmt1(latencyMs)}>${fmt1(lmax)}`);
    if (!debounced(state, Ctl.LastLatencyHighEvent, now)) {
      events.push({ code: 'HEALTH.LATENCY_HIGH', details: { latency_ms: latencyMs, lmax_ms: lmax } });
    }
  }

  // 3.3 HealthGuard: the sample is recorded even when 3.2 blocked
  const p95 = recordLatency(state, cfg.health, latencyMs, now);
  if (p95 > cfg.health.thresholdMs && !debounced(state, Ctl.LastP95HighEvent, now)) {
    events.push({ code: 'HEALTH.LATENCY_P95_HIGH', details: { p95_ms: p95, threshold: cfg.health.thresholdMs } });
  }
  const verdict = enforce(state, now);
  if (allow && verdict !== 'ok' && passHalts) {
    passedHalt = true;
  } else if (allow && verdict !== 'ok') {
    allow = false;
    reason = `latency_${verdict}`;
    reasons.push(reason);
    // D-9: AURORA.ESCALATION when the enforced state changes, not on every blocked request
    const code = ESCALATION_CODE[verdict];
    const until = state.ctl[Ctl.CooloffUntil];
    if (state.ctl[Ctl.LastEscalation] !== code || (verdict === 'cooloff' && state.ctl[Ctl.LastEscalationUntil] !== until)) {
      state.ctl[Ctl.LastEscalation] = code;
      state.ctl[Ctl.LastEscalationUntil] = until;
      events.push({ code: 'AURORA.ESCALATION', details: { state: guardSnapshot(state, cfg.health) } });
    }
  } else if (verdict === 'ok') {
    state.ctl[Ctl.LastEscalation] = 0;
  }

  // 3.4 TRAP
  if (allow && input.trap !== null) {
    const t = input.trap;
    const tc = cfg.trap;
    const u = trapUpdate(state, tc, t.cancel, t.add, t.trades, input.obiSign, input.tfiSign);
    if (u.flag) reasons.push(`trap_guard:z=${fmt2(u.trapZ)}`);
    const s = trapScore(t.cancel, t.add, tc.windowS);
    if (tc.guardOn && allow && s > tc.scoreThreshold) {
      allow = false;
      reason = 'trap_guard_score';
      reasons.push(`trap_guard_score:${fmt2(s)}>${fmt2(tc.scoreThreshold)}`);
      events.push({ code: 'POLICY.TRAP_GUARD', details: { trap_score: s, threshold: tc.scoreThreshold } });
    }
    trapObs = { trap_z: u.trapZ, cancel_rate: u.cancelRate, repl_rate: u.replRate, n_trades: u.nTrades, trap_score: s };
    if (u.flag && tc.guardOn) {
      allow = false;
      reason = 'trap_guard';
      events.push({
        code: 'POLICY.TRAP_BLOCK',
        details: { trap_z: u.trapZ, cancel_rate: u.cancelRate, repl_rate: u.replRate, n_trades: u.nTrades },
      });
    }
  }

  // 3.5 / 3.6 expected return (always evaluated) and slippage (guarded), in profile order
  for (let step = 0; step < 2; step++) {
    const slipNow = cfg.slipFirst ? step === 0 : step === 1;
    if (!slipNow) {
      const p = clip(1 / (1 + Math.exp(-2 * score)), 0, 1);
      const ePi = expectedReturnBps(p, input.bBps, input.aBps, input.feesBps, input.slipBps);
      if (!(ePi > cfg.piMinBps)) {
        reasons.push('expected_return_below_threshold');
        if (allow) {
          allow = false;
          reason = 'expected_return_gate';
        }
      }
    } else if (allow) {
      if (input.bBps <= 0) {
        reasons.push('slippage_guard_skipped_no_b');
      } else {
        const threshold = cfg.slipEta * input.bBps;
        if (!(input.slipBps <= threshold)) {
          allow = false;
          reason = 'slippage_guard';
          reasons.push(`slippage_guard_exceeded:${fmt2(input.slipBps)}>${fmt2(threshold)}`);
        }
      }
    }
  }

  // 3.8 RiskManager
  if (allow) {
    const r = riskCheck(state.risk, input.baseNotional, input.pnlTodayPct, input.openPositions);
    riskObs = r.obs;
    riskScale = r.sizeScale;
    if (r.code !== null) {
      allow = false;
      reason = r.code;
      reasons.push(r.code);
    }
  }

  // 3.9 SPRT
  if (allow && input.sprtSamples !== null && cfg.sprt.enabled) {
    const s = runSprt(cfg.sprt, score, input.sprtSamples, monoMs);
    sprtObs.decision = s.decision;
    sprtObs.llr = s.llr;
    sprtObs.n_obs = s.nObs;
    if (s.decision === 'REJECT') {
      allow = false;
      reason = 'sprt_reject';
      reasons.push('sprt_reject');
    } else {
      reasons.push(s.decision === 'ACCEPT' ? 'sprt_accept' : 'sprt_continue');
    }
  }

  // 3.10 spread guard: always runs and overwrites the reason (D2)
  let spreadTrip: { limit: number; source: string } | null = null;
  if (spreadBps > cfg.spreadLimitBps) {
    allow = false;
    reason = `spread_bps_too_wide:${fmt1(spreadBps)}`;
    if (cfg.compat.spreadReasonInReasons) reasons.push(reason);
    spreadTrip = { limit: cfg.spreadLimitBps, source: 'pipeline' };
  }

  // 3.12 ICP observation (never decides)
  let icp: { alpha: number | null; is_transition: boolean | null } | undefined;
  if (cfg.icpObs) {
    const aci = input.aci;
    icp = aci === aci ? { alpha: clip(0.1 + 0.01 * Math.min(aci, 1.0), 0.01, 0.25), is_transition: false } : { alpha: null, is_transition: null };
  }

  // 3.13 Governance
  if (allow) {
    if (passHalts && now < state.ctl[Ctl.GovHaltUntil]) passedHalt = true;
    const g = governance(state, cfg.governance, input, now, events, passHalts);
    if (g !== null) {
      allow = false;
      reason = g.code;
      reasons.push(g.code);
      for (const r of g.reasons) if (!reasons.includes(r)) reasons.push(r);
      if (g.code === 'SPREAD_GUARD_TRIP') spreadTrip = { limit: cfg.governance.spreadBpsLimit, source: 'governance' };
    }
  }

  // D-14: one SPREAD_GUARD_TRIP for either cause, with the limit actually applied
  if (spreadTrip !== null) {
    events.push({ code: 'SPREAD_GUARD_TRIP', details: { spread_bps: spreadBps, limit_bps: spreadTrip.limit, source: spreadTrip.source } });
  }

  if (allow) stampAllow(state, cfg.antiChurn, input.symbol, nowMs);
  // audit: this order was let through a halt because it only reduces a known position
  if (passedHalt) reasons.push('reduce_only_passes_halt');

  const observability: Record<string, unknown> = {
    gate_state: allow ? 'PASS' : 'BLOCK',
    spread_bps: spreadBps,
    latency_ms: latencyMs,
    slip_bps_est: input.slipBps,
    a_bps: input.aBps,
    b_bps: input.bBps,
    score,
    mode: input.mode,
    risk: riskObs,
    trap: trapObs,
    sprt: sprtObs,
    reasons,
  };
  if (icp !== undefined) observability.icp = icp;
  if (input.mode === 'prod') {
    // advisory only (gate.md 1.6): no model-serving system is ever loaded in the gate
    observability.diagnostics = ['service_unhealthy'];
    if (!debounced(state, Ctl.LastServiceUnhealthyEvent, now)) {
      events.push({ code: 'HEALTH.SERVICE_UNHEALTHY', details: { mode: input.mode } });
    }
  }
  let quotas: Record<string, number | null> | null = null;
  if (ccfg.anyOn) {
    commitControls(ccfg, cst, facts as ControlsFacts, nowMs, v, allow);
    quotas = quotasObject(v);
    if (quotas !== null) observability.controls = controlsObservability(v);
  }
  if (v.events.length > 0) appendEvents(events, v.events, false);
  return { allow, reason, maxQty: input.qty, riskScale, cooldownMs: 0, hardGate: false, quotas, replayOf: null, observability, events };
}
