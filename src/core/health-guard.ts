import type { HealthGuardConfig } from './config.ts';
import { Ctl, type GateState } from '../shm/state/gate-state.ts';

/** WARNs are counted over a fixed 300 s horizon (gate.md 4.1). */
export const WARN_HORIZON_SEC = 300;

export type GuardVerdict = 'ok' | 'disarmed' | 'halt' | 'cooloff';

/** GuardSnapshot of service.md 1 (keys in the reference's order). */
export interface GuardSnapshot {
  armed: boolean;
  cooloff_until: number;
  halted: boolean;
  samples: number;
  warns_5m: number;
  threshold_ms: number;
  window_sec: number;
  base_cooloff_sec: number;
  halt_threshold_repeats: number;
}

/**
 * HealthGuard (gate.md 4.1): p95 of the latency samples of the last `windowSec`, WARN -> COOL_OFF ->
 * HALT. Stateless itself: every field lives in GateState so all workers share one guard.
 * Returns the p95 after recording (so the caller can journal HEALTH.LATENCY_P95_HIGH).
 */
export function recordLatency(state: GateState, cfg: HealthGuardConfig, latencyMs: number, now: number): number {
  const w = state.latency;
  w.push(latencyMs, now);
  w.dropOlderThan(now - cfg.windowSec);
  const p95 = w.percentile(95);
  if (p95 > cfg.thresholdMs && w.count >= cfg.minSamples) registerWarn(state, cfg, now);
  return p95;
}

function registerWarn(state: GateState, cfg: HealthGuardConfig, now: number): void {
  const ctl = state.ctl;
  state.warns.push(now, now);
  state.warns.dropOlderThan(now - WARN_HORIZON_SEC);
  if (now < ctl[Ctl.CooloffUntil]) ctl[Ctl.Halted] = 1;
  else ctl[Ctl.CooloffUntil] = Math.max(ctl[Ctl.CooloffUntil], now + cfg.baseCooloffSec);
  if (state.warns.count >= cfg.haltRepeats) ctl[Ctl.Halted] = 1;
}

/** enforce(): the first of disarmed, halt, cooloff; else ok. */
export function enforce(state: GateState, now: number): GuardVerdict {
  const ctl = state.ctl;
  if (ctl[Ctl.Armed] === 0) return 'disarmed';
  if (ctl[Ctl.Halted] !== 0) return 'halt';
  if (now < ctl[Ctl.CooloffUntil]) return 'cooloff';
  return 'ok';
}

/** `cooloff(sec)`: can only lengthen the cool-off. Returns the new `cooloff_until` (epoch s). */
export function opsCooloff(state: GateState, sec: number, now: number): number {
  const ctl = state.ctl;
  ctl[Ctl.CooloffUntil] = Math.max(ctl[Ctl.CooloffUntil], now + Math.max(0, Math.trunc(sec)));
  return ctl[Ctl.CooloffUntil];
}

/** `reset()`: clears WARNs, cool-off and halt; keeps `armed` and (by default, D4) the samples. */
export function opsReset(state: GateState, clearSamples: boolean): void {
  const ctl = state.ctl;
  state.warns.clear();
  ctl[Ctl.CooloffUntil] = 0;
  ctl[Ctl.Halted] = 0;
  ctl[Ctl.LastEscalation] = 0;
  if (clearSamples) state.latency.clear();
}

export function setArmed(state: GateState, armed: boolean): void {
  state.ctl[Ctl.Armed] = armed ? 1 : 0;
  state.ctl[Ctl.LastEscalation] = 0; // an arm/disarm is a state change: the next block is journaled
}

export function guardSnapshot(state: GateState, cfg: HealthGuardConfig): GuardSnapshot {
  const ctl = state.ctl;
  return {
    armed: ctl[Ctl.Armed] !== 0,
    cooloff_until: ctl[Ctl.CooloffUntil],
    halted: ctl[Ctl.Halted] !== 0,
    samples: state.latency.count,
    warns_5m: state.warns.count,
    threshold_ms: cfg.thresholdMs,
    window_sec: cfg.windowSec,
    base_cooloff_sec: cfg.baseCooloffSec,
    halt_threshold_repeats: cfg.haltRepeats,
  };
}
