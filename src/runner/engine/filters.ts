import type { RunnerConfig } from '../config/schema.ts';
import type { FeatureSnapshot } from '../logic/feature-engine.ts';
import type { Side } from '../logic/types.ts';
import type { SymbolState } from './symbol-state.ts';

/**
 * Local filters that run before anything is sized or sent (runner.md §5.12): the gate is only asked
 * about intents that would be executed. Returns the local skip reason, or null. Reasons:
 * `no_snapshot`/`bad_book`/`stale_book` (book health), `position_open`, `order_working`,
 * `intent_in_flight`, `exit_stuck`, `cooldown` (gate `cooldown_ms` or the local post-exit cool-down),
 * `trades_per_minute`, `no_market_info`, `local_trap` (gen1: Gen-1's flag; gen2: OBI/TFI conflict),
 * `no_consensus`.
 */
export function localSkip(st: SymbolState, snap: FeatureSnapshot, side: Side, nowMs: number, cfg: RunnerConfig): string | null {
  if (snap.health !== 'ok') return snap.health;
  if (st.exitStuck) return 'exit_stuck';
  if (!st.flat) return 'position_open';
  if (st.entryOrder !== null || st.exitOrder !== null) return 'order_working';
  if (st.inflight) return 'intent_in_flight';
  if (nowMs < st.cooldownUntilMs) return 'cooldown';
  const limit = cfg.execution.trades_per_minute_limit;
  if (limit > 0 && st.opensInLastMinute(nowMs) >= limit) return 'trades_per_minute';
  if (st.market === null) return 'no_market_info';
  if (trapConflict(snap, cfg)) return 'local_trap';
  if (cfg.filters.require_consensus && snap.consensus !== (side === 'buy' ? 'long' : 'short')) return 'no_consensus';
  return null;
}

/** gen2 (default): OBI and TFI disagree and both are strong; gen1: the reference's two-of-three flag. */
export function trapConflict(snap: FeatureSnapshot, cfg: RunnerConfig): boolean {
  const f = cfg.filters;
  if (f.local_trap === 'off') return false;
  if (f.local_trap === 'gen1') return snap.trapFlag;
  const o = snap.obi ?? 0;
  const t = snap.tfi ?? 0;
  return o * t < 0 && Math.abs(o) >= f.trap_obi_threshold && Math.abs(t) >= f.trap_tfi_threshold;
}
