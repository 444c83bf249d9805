import type { RiskLimits } from '../shm/state/gate-state.ts';
import type { ControlsConfig } from './controls/config.ts';

/**
 * The decision core's configuration: every threshold already resolved to a number or flag by
 * src/config (ENV > YAML > defaults, with the per-key rules of gate.md 5.1). The core never reads ENV.
 */
export interface HealthGuardConfig {
  /** p95 threshold, ms (`aurora.latency_guard_ms`) */
  thresholdMs: number;
  /** sample window, s (`aurora.latency_window_sec`) */
  windowSec: number;
  /** cool-off after a WARN, s (`aurora.cooloff_base_sec`) */
  baseCooloffSec: number;
  /** WARNs within 300 s that halt (`aurora.halt_threshold_repeats`) */
  haltRepeats: number;
  /** minimum samples before a p95 can WARN (`aurora.latency_min_samples`, 1 = reference) */
  minSamples: number;
}

export interface TrapConfig {
  windowS: number;
  levels: number;
  zThreshold: number;
  cancelPctl: number;
  scoreThreshold: number;
  /** false only when the guard is switched off (TRAP_GUARD=off/0/false or guards.trap_guard_enabled=false) */
  guardOn: boolean;
  /** history length below which the z rule is not applied (`trap.min_history`, 0 = reference) */
  minHistory: number;
}

export interface SprtConfig {
  enabled: boolean;
  sigma: number;
  A: number;
  B: number;
  maxObs: number;
  timeoutMs: number;
}

export interface GovernanceConfig {
  rejectStormPct: number;
  rejectStormCooldownS: number;
  rejectStormMinOrders: number;
  dailyDdLimitPct: number;
  cvarLimit: number;
  spreadBpsLimit: number;
  latencyMsLimit: number;
  volGuardStdBps: number;
  maxConcurrentPositions: number;
}

export interface AntiChurnConfig {
  cooldownAfterCloseMs: number;
  minOpenIntervalMs: number;
  minPositionHoldMs: number;
}

export interface CompatConfig {
  /** D2/D-18: also append the spread reason to observability.reasons (reference: no) */
  spreadReasonInReasons: boolean;
  /** D-17: fill cooldown_ms from anti-churn remainders (reference: always 0) */
  reportCooldownMs: boolean;
  /** D-30: /ops/reset also clears the latency sample window (reference and default: keep) */
  resetClearsSamples: boolean;
  /** D9/service 2.4: /ops/reset also clears a Governance halt (default: yes) */
  resetClearsGovernance: boolean;
}

export interface CoreConfig {
  /** hard latency limit, ms (3.2) */
  latencyLimitMs: number;
  health: HealthGuardConfig;
  trap: TrapConfig;
  /** `pretrade.order_profile` as configured (reported by /health) */
  orderProfile: string;
  /** slippage runs before expected return */
  slipFirst: boolean;
  piMinBps: number;
  slipEta: number;
  sprt: SprtConfig;
  /** pipeline spread limit, bps (3.10) */
  spreadLimitBps: number;
  icpObs: boolean;
  governance: GovernanceConfig;
  antiChurn: AntiChurnConfig;
  /** `observability.mode` when the request has no account.mode (ENV AURORA_MODE) */
  defaultMode: string;
  compat: CompatConfig;
  /** RiskManager limits at start-up (live values sit in shared state; /risk/set changes them) */
  risk: RiskLimits;
  /**
   * Desk controls at start-up (controls.md §2; NO_CONTROLS without a `controls:` section). The live
   * configuration sits in shared state (`state.controls`, published by startGate and POST /ops/limits):
   * threads read it through a LiveControls, never this field, once the gate runs.
   */
  controls: ControlsConfig;
}
