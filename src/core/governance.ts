import type { GovernanceConfig } from './config.ts';
import type { GateEvent } from './events.ts';
import { Ctl, type GateState } from '../shm/state/gate-state.ts';

/** Post-trade outcomes older than this are forgotten by the reject-storm rule (service.md 2.4). */
export const REJECT_STATS_WINDOW_SEC = 60;

export interface GovernanceInput {
  spreadBps: number;
  latencyMs: number;
  pnlTodayPct: number | null;
  openPositions: number | null;
  dqStale: boolean;
  dqCrossed: boolean;
  dqAbnormalSpread: boolean;
}

export interface GovernanceVerdict {
  code: string;
  reasons: string[];
}

const HALT_CAUSE_DQ = 1;
const HALT_CAUSE_STORM = 2;

/**
 * Governance (gate.md 3.13 / 4.6): the kill switch, then data quality, drawdown, spread, latency and
 * position limits; the first hit wins. Reads only `gates.*`. Unlike the reference, the reject storm is
 * fed real post-trade outcomes (with a minimum sample) and a halt start is journaled (service.md 2.4).
 * `passHalt`: a verified reduce-only order (controls.md §3 rule 2) is not stopped by the kill switch
 * (a halt still starts and is journaled); every other rule applies to it.
 */
export function governance(
  state: GateState,
  cfg: GovernanceConfig,
  g: GovernanceInput,
  now: number,
  events: GateEvent[],
  passHalt = false,
): GovernanceVerdict | null {
  const ctl = state.ctl;
  const stats = state.outcomes;
  stats.dropOlderThan(now - REJECT_STATS_WINDOW_SEC);
  const total = stats.total;
  const rejectRate = total > 0 ? stats.rejects / total : 0;
  const critical = g.dqStale || g.dqCrossed;
  const storm = total >= cfg.rejectStormMinOrders && total > 0 && rejectRate >= cfg.rejectStormPct;
  if (critical || storm) {
    const wasHalted = now < ctl[Ctl.GovHaltUntil];
    ctl[Ctl.GovHaltUntil] = Math.max(ctl[Ctl.GovHaltUntil], now + cfg.rejectStormCooldownS);
    if (!wasHalted && now < ctl[Ctl.GovHaltUntil]) {
      ctl[Ctl.GovHaltCause] = critical ? HALT_CAUSE_DQ : HALT_CAUSE_STORM;
      events.push({
        code: 'AURORA.HALT',
        details: {
          until_ms: Math.round(ctl[Ctl.GovHaltUntil] * 1000),
          cause: critical ? 'dq' : 'reject_storm',
          reject_rate: rejectRate,
        },
      });
    }
  }
  if (!passHalt && now < ctl[Ctl.GovHaltUntil]) return { code: 'AURORA.HALT', reasons: ['killswitch_active'] };
  if (g.dqStale) return { code: 'DQ_EVENT.STALE_BOOK', reasons: ['stale_book'] };
  if (g.dqCrossed) return { code: 'DQ_EVENT.CROSSED_BOOK', reasons: ['crossed_book'] };
  if (g.dqAbnormalSpread) return { code: 'DQ_EVENT.ABNORMAL_SPREAD', reasons: ['abnormal_spread'] };
  if ((g.pnlTodayPct ?? 0) < -Math.abs(cfg.dailyDdLimitPct)) return { code: 'RISK.DENY.DRAWDOWN', reasons: ['daily_dd'] };
  // CVaR and volatility rules have no input in the service (D10): unreachable, kept out.
  if (g.spreadBps > cfg.spreadBpsLimit) return { code: 'SPREAD_GUARD_TRIP', reasons: ['spread_limit'] };
  if (g.latencyMs > cfg.latencyMsLimit) return { code: 'LATENCY_GUARD_TRIP', reasons: ['latency_limit'] };
  if ((g.openPositions ?? 0) >= cfg.maxConcurrentPositions) return { code: 'RISK.DENY.POS_LIMIT', reasons: ['pos_limit'] };
  return null;
}

/** Is a Governance halt in force? (for /readiness) */
export function governanceHalted(state: GateState, now: number): boolean {
  return now < state.ctl[Ctl.GovHaltUntil];
}

/** Clears a Governance halt (ops reset, service.md 2.4). Returns whether one was active. */
export function governanceResume(state: GateState, now: number): boolean {
  const active = now < state.ctl[Ctl.GovHaltUntil];
  state.ctl[Ctl.GovHaltUntil] = 0;
  state.ctl[Ctl.GovHaltCause] = 0;
  return active;
}
