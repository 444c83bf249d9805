import type { Clock } from '../clock.ts';
import { accountMode } from '../config/params.ts';
import type { RunnerConfig } from '../config/schema.ts';
import type { FeedEvent } from '../feed/schema.ts';
import type { Exchange } from '../exchange/types.ts';
import type { GatePort } from '../gate/port.ts';
import type { RunnerJournal } from '../journal/runner-journal.ts';
import type { Calibrator } from '../logic/calibration.ts';
import { alphaInputs, type FeatureSnapshot } from '../logic/feature-engine.ts';
import type { SummaryCollector } from '../report/summary.ts';
import { logError, logEvent, pnlNow, symbolState, type EngineContext } from './context.ts';
import { EntryFlow, type InflightCounter } from './entry-flow.ts';
import { flattenPosition, manageExit } from './exit-flow.ts';
import { OrderFlow } from './order-flow.ts';
import { OrderTracker, type OrderState } from './orders.ts';
import { PosttradeQueue } from './posttrade-queue.ts';
import { QuotaGuard } from './quota-guard.ts';
import { DEFAULT_ACCOUNT_ID } from '../logic/request.ts';
import type { SymbolState } from './symbol-state.ts';

export interface EngineDeps {
  cfg: RunnerConfig;
  runId: string;
  clock: Clock;
  exchange: Exchange;
  gate: GatePort;
  journal: RunnerJournal;
  summary: SummaryCollector;
  calibrator: Calibrator;
}

/**
 * The trading loop (runner.md §4.1): fed market events in order by a driver, it keeps the per-symbol
 * market state, runs the exit engine on every book update and, at most every
 * `signal.min_interval_ms`, a decision tick (features → score → entry path). Whatever goes wrong
 * inside is counted and journaled; nothing escapes to the driver (§5.13).
 */
export class Engine {
  readonly ctx: EngineContext;
  readonly flow: OrderFlow;
  private readonly entries: EntryFlow;
  private readonly inflight: InflightCounter = { n: 0 };
  private readonly unsubscribe: () => void;
  private entriesOn = true;
  /** first and last feed times seen (virtual clock) */
  feedStartMs: number | null = null;
  feedEndMs: number | null = null;
  /** set when `shutdown.max_ticks` is reached: the driver stops at the next event */
  stopReason: string | null = null;

  constructor(d: EngineDeps) {
    const orders = new OrderTracker(
      (rec) => d.journal.write('orders', rec),
      () => d.clock.nowMs(),
      (from, to, code) => countTransition(d.summary, from, to, code),
    );
    const posttrade = new PosttradeQueue(
      d.gate,
      { queueMax: d.cfg.posttrade.queue_max, attempts: d.cfg.posttrade.attempts, retryBaseMs: d.cfg.posttrade.retry_base_ms, concurrency: d.cfg.posttrade.concurrency },
      (body, why, attempts) => d.journal.write('posttrade_unsent', { ts: d.clock.nowMs(), why, attempts, body }),
    );
    this.ctx = {
      cfg: d.cfg,
      runId: d.runId,
      mode: accountMode(d.cfg.mode),
      clock: d.clock,
      exchange: d.exchange,
      gate: d.gate,
      journal: d.journal,
      summary: d.summary,
      calibrator: d.calibrator,
      orders,
      posttrade,
      quotas: new QuotaGuard(),
      accountId: d.cfg.account.account_id ?? DEFAULT_ACCOUNT_ID,
      symbols: new Map(),
      seq: { req: 0, order: 0, position: 0 },
    };
    this.flow = new OrderFlow(this.ctx);
    this.entries = new EntryFlow(this.ctx, this.flow, this.inflight);
    this.unsubscribe = d.exchange.on((ev) => this.flow.onExchangeEvent(ev));
  }

  async onFeedEvent(ev: FeedEvent): Promise<void> {
    const { ctx } = this;
    try {
      ctx.summary.feedEvents++;
      const st = symbolState(ctx, ev.symbol);
      if (ev.type === 'market_info') {
        st.market = { lotStep: ev.lot_step, minQty: ev.min_qty, minNotional: ev.min_notional, tick: ev.tick, makerBps: ev.maker_bps, takerBps: ev.taker_bps };
        return;
      }
      const now = ctx.clock.nowMs();
      this.feedStartMs ??= now;
      this.feedEndMs = now;
      switch (ev.type) {
        case 'trade':
          st.fe.onTrade({ id: ev.id, price: ev.price, qty: ev.qty, aggressor: ev.aggressor, exchTs: ev.exch_ts, recvTs: ev.recv_ts });
          return;
        case 'bar_1m':
          st.fe.onBar({ startMs: ev.open_ts, open: ev.open, high: ev.high, low: ev.low, close: ev.close, volume: ev.volume });
          return;
        case 'book_snapshot':
          st.fe.onSnapshot(ev.bids, ev.asks, ev.exch_ts, ev.recv_ts);
          break;
        case 'book_delta':
          if (!st.fe.onDelta(ev.bids, ev.asks, ev.exch_ts, ev.recv_ts)) return;
          break;
      }
      await this.onBook(st, now);
    } catch (e) {
      logError(ctx, 'feed_event', e);
    }
  }

  /** Timers on the engine's clock: ack timeouts and maker cancels. */
  async onTimers(): Promise<void> {
    try {
      await this.flow.onTimers();
    } catch (e) {
      logError(this.ctx, 'timers', e);
    }
  }

  private async onBook(st: SymbolState, now: number): Promise<void> {
    const { ctx } = this;
    let snap: FeatureSnapshot | null = null;
    let score: number | null = null;
    if (now - st.lastTickMs >= ctx.cfg.signal.min_interval_ms) {
      st.lastTickMs = now;
      snap = st.fe.tick(now);
      score = st.scorer.score(alphaInputs(snap)).score;
      st.history.push(score);
      st.lastSnap = snap;
      st.lastScore = score;
      ctx.summary.ticks++;
      const p = pnlNow(ctx);
      ctx.summary.markPnl(p.realized + p.unrealized);
      const maxTicks = ctx.cfg.shutdown.max_ticks;
      if (maxTicks > 0 && ctx.summary.ticks >= maxTicks) this.stopReason ??= 'max_ticks';
    }
    await manageExit(ctx, this.flow, st, score, snap?.atr ?? null);
    if (snap === null || score === null) return;
    const working = st.entryOrder;
    if (working !== null && working.type === 'limit' && !working.cancelRequested) {
      const want = st.history.intent();
      if (want !== null && want !== working.side) await this.flow.requestCancel(working, 'signal_flip');
    }
    if (this.entriesOn) await this.entries.onTick(st, snap, score, this.feedStartMs ?? now);
  }

  // --- shutdown steps (runner.md §2.6), driven by the run loop ---------------------------------------

  stopEntries(): void {
    if (!this.entriesOn) return;
    this.entriesOn = false;
    logEvent(this.ctx, 'stop_entries', 'runner', {});
  }

  /** Cancels every working entry order by id. */
  async cancelWorking(): Promise<void> {
    for (const o of this.ctx.orders.working()) {
      if (o.action === 'open') await this.flow.requestCancel(o, 'shutdown');
    }
  }

  /** One flattening round: a full exit for each open position that has none under way. */
  async flattenStep(): Promise<void> {
    for (const st of this.ctx.symbols.values()) {
      try {
        await flattenPosition(this.flow, st);
      } catch (e) {
        logError(this.ctx, 'flatten', e);
      }
    }
  }

  allFlat(): boolean {
    for (const st of this.ctx.symbols.values()) if (!st.flat) return false;
    return true;
  }

  openPositions(): number {
    let n = 0;
    for (const st of this.ctx.symbols.values()) if (!st.flat) n++;
    return n;
  }

  /** Stops listening to the exchange. */
  detach(): void {
    this.unsubscribe();
  }
}

function countTransition(s: SummaryCollector, from: OrderState | null, to: OrderState, code: string | null): void {
  switch (to) {
    case 'ACKED':
      s.orders.acked++;
      break;
    case 'PARTIAL':
      if (from !== 'PARTIAL') s.orders.partial++;
      break;
    case 'FILLED':
      s.orders.filled++;
      break;
    case 'CANCELLED':
      s.orders.cancelled++;
      break;
    case 'REJECTED':
      s.reject(code ?? 'unknown');
      break;
    case 'EXPIRED':
      s.orders.expired++;
      break;
  }
}
