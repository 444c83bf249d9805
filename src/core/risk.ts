import type { RiskLimits } from '../shm/state/gate-state.ts';

export interface RiskResult {
  code: string | null;
  sizeScale: number;
  obs: { cfg: { dd_day_pct: number; max_concurrent: number; size_scale: number }; ctx: Record<string, number> };
}

/**
 * RiskManager (gate.md 3.8): size scale, daily drawdown cap, concurrency. Limits are the live ones
 * (`/risk/set` changes them in shared state). The first failing check wins.
 */
export function riskCheck(
  limits: RiskLimits,
  baseNotional: number,
  pnlTodayPct: number | null,
  openPositions: number | null,
): RiskResult {
  const scale = limits.sizeScale;
  const scaled = baseNotional * scale;
  const ctx: Record<string, number> = { size_scale: scale, base_notional: baseNotional, scaled_notional: scaled };
  let code: string | null = null;
  if (scale <= 0) {
    code = 'risk_size_scale_zero';
  } else if (pnlTodayPct !== null && -pnlTodayPct >= limits.ddDayPct) {
    code = 'risk_dd_day_cap';
    ctx.dd_cap_pct = limits.ddDayPct;
    ctx.dd_used_pct = -pnlTodayPct;
    ctx.pnl_today_pct = pnlTodayPct;
  } else if (openPositions !== null && openPositions >= limits.maxConcurrent) {
    code = 'risk_max_concurrent';
    ctx.open_positions = openPositions;
    ctx.max_concurrent = limits.maxConcurrent;
  } else if (baseNotional > 0 && scaled <= 0) {
    code = 'risk_notional_too_small'; // unreachable after the scale check (D19), kept for parity
  }
  return {
    code,
    sizeScale: scale,
    obs: { cfg: { dd_day_pct: limits.ddDayPct, max_concurrent: limits.maxConcurrent, size_scale: scale }, ctx },
  };
}
