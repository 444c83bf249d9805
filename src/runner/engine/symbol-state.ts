import type { RunnerConfig } from '../config/schema.ts';
import { featureEngineParams, signalParams } from '../config/params.ts';
import { FeatureEngine, type FeatureSnapshot } from '../logic/feature-engine.ts';
import type { ExitEngine } from '../logic/exits.ts';
import { Position } from '../logic/position.ts';
import { AlphaScorer, ScoreHistory } from '../logic/signal.ts';
import type { MarketInfo } from '../logic/types.ts';
import type { TrackedOrder } from './orders.ts';

/** Everything the engine keeps per symbol: market state, signal, position from fills, orders, limits. */
export class SymbolState {
  readonly fe: FeatureEngine;
  readonly scorer: AlphaScorer;
  readonly history: ScoreHistory;
  readonly position = new Position();
  market: MarketInfo | null = null;
  lastTickMs = Number.NEGATIVE_INFINITY;
  /** no new opens before this time (gate `cooldown_ms` or the local cool-down after an exit) */
  cooldownUntilMs = 0;
  /** times of the entry orders placed in the last minute (trades-per-minute limit) */
  readonly opens: number[] = [];
  /** a pretrade check for this symbol is pending (at most one, §4.1) */
  inflight = false;
  entryOrder: TrackedOrder | null = null;
  exitOrder: TrackedOrder | null = null;
  exit: ExitEngine | null = null;
  positionId: string | null = null;
  /** req_id and ATR (price units) of the intent that opened the position */
  entryReqId: string | null = null;
  entryAtr: number | null = null;
  /** exits that ended without flattening or were refused, the next retry time, and whether the alert went out */
  exitFailures = 0;
  exitRetryAtMs = 0;
  exitStuck = false;
  /** an exit's gate check is pending (at most one per symbol) */
  exitChecking = false;
  /**
   * An exit intent whose check got no gate verdict (timeout, socket lost, …): the next attempt for the
   * same side and qty reuses its client order id and order object, so a gate that did decide it
   * answers it once (controls.md §5). Cleared by any gate verdict or a position change.
   */
  pendingExit: { cid: string; side: 'buy' | 'sell'; qty: number; order: Record<string, unknown> } | null = null;
  /** the newest decision tick's features and raw score (exit checks describe the market with them) */
  lastSnap: FeatureSnapshot | null = null;
  lastScore: number | null = null;

  constructor(
    readonly symbol: string,
    cfg: RunnerConfig,
  ) {
    this.fe = new FeatureEngine(featureEngineParams(cfg));
    const sp = signalParams(cfg);
    this.scorer = new AlphaScorer(sp);
    this.history = new ScoreHistory(sp);
  }

  /** Entry orders in the last 60 s at `nowMs` (older ones are dropped). */
  opensInLastMinute(nowMs: number): number {
    while (this.opens.length > 0 && this.opens[0] <= nowMs - 60_000) this.opens.shift();
    return this.opens.length;
  }

  get flat(): boolean {
    return this.position.qty === 0;
  }
}
