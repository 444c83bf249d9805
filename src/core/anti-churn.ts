import type { AntiChurnConfig } from './config.ts';
import type { GateEvent } from './events.ts';
import type { GateState } from '../shm/state/gate-state.ts';
import { SIDE_BUY, SIDE_NONE, SIDE_SELL } from '../shm/state/symbol-table.ts';

export interface AntiChurnHit {
  reason: string;
  /** the one extra observability key of a short-circuit (gate.md 1.6) */
  extraKey: 'cooldown_remaining_ms' | 'rate_limit_ms_left' | 'position';
  extra: number | { symbol: string; side: string; age_ms: number; min_hold_ms?: number };
  /** what is left of the block, for `api.report_cooldown_ms` (D-17) */
  remainingMs: number;
}

export function sideCode(side: string | null): number {
  return side === 'buy' ? SIDE_BUY : side === 'sell' ? SIDE_SELL : SIDE_NONE;
}

const SIDE_NAMES = ['', 'buy', 'sell'];

/**
 * Service-level pre-checks (gate.md 1.7, service.md 2.3 step 3), per canonical symbol, first hit wins:
 * cooldown after close, open rate limit, then the position rules (min hold / opposite side).
 * A hit short-circuits the pipeline. `closing` requests skip the position rules (D-11).
 */
export function antiChurn(
  state: GateState,
  cfg: AntiChurnConfig,
  symbol: string | null,
  side: string | null,
  closing: boolean,
  nowMs: number,
  events: GateEvent[],
): AntiChurnHit | null {
  if (symbol === null) return null;
  const table = state.symbols;
  const slot = table.find(symbol);
  if (slot < 0) return null;

  if (cfg.cooldownAfterCloseMs > 0) {
    const until = table.cooldownUntilMs(slot);
    if (nowMs < until) {
      const left = Math.max(0, until - nowMs);
      events.push({ code: 'COOLDOWN.ACTIVE', details: { symbol, ms_left: left }, symbol });
      return { reason: 'cooldown_after_close_active', extraKey: 'cooldown_remaining_ms', extra: left, remainingMs: left };
    }
  }
  if (cfg.minOpenIntervalMs > 0) {
    const last = table.lastAllowMs(slot);
    if (last === last && nowMs - last < cfg.minOpenIntervalMs) {
      const left = cfg.minOpenIntervalMs - (nowMs - last);
      events.push({ code: 'OPEN.RATE_LIMIT', details: { symbol, ms_left: left }, symbol });
      return { reason: 'open_rate_limit', extraKey: 'rate_limit_ms_left', extra: left, remainingMs: left };
    }
  }
  const open = table.positionSide(slot);
  const mine = sideCode(side);
  if (!closing && open !== SIDE_NONE && mine !== SIDE_NONE && open !== mine) {
    const openSide = SIDE_NAMES[open];
    const age = nowMs - table.positionSinceMs(slot);
    const hold = cfg.minPositionHoldMs;
    if (hold > 0 && age < hold) {
      events.push({ code: 'POSITION.MIN_HOLD', details: { symbol, ms_left: hold - age }, symbol });
      return {
        reason: 'position_min_hold_active',
        extraKey: 'position',
        extra: { symbol, side: openSide, age_ms: age, min_hold_ms: hold },
        remainingMs: hold - age,
      };
    }
    events.push({ code: 'POSITION.OPPOSITE_BLOCK', details: { symbol, open_side: openSide }, symbol });
    return { reason: 'opposite_side_block', extraKey: 'position', extra: { symbol, side: openSide, age_ms: age }, remainingMs: 0 };
  }
  return null;
}

/** Stamp an allowed check for the open-rate limit (only needed when that rule is on). */
export function stampAllow(state: GateState, cfg: AntiChurnConfig, symbol: string | null, nowMs: number): void {
  if (symbol === null || cfg.minOpenIntervalMs <= 0) return;
  const slot = state.symbols.upsert(symbol, nowMs);
  state.symbols.setLastAllowMs(slot, nowMs);
}
