import { createReadStream } from 'node:fs';
import type { VirtualClock } from '../clock.ts';
import type { PaperExchange } from '../exchange/paper.ts';
import type { ReplayFeed } from '../feed/replay.ts';
import type { ProgressState } from '../report/progress.ts';
import { pnlNow } from './context.ts';
import type { Engine } from './engine.ts';

export interface ReplayHooks {
  /** feed events to replay at most (0 = all) */
  maxEvents: number;
  /** a stop request from outside (signal, wall-clock limit), or null */
  shouldStop(): string | null;
  /** called about every `progressMs` of real time (0 = never) */
  progressMs: number;
  onProgress?(p: ProgressState): void;
}

/**
 * A macrotask break after this much real time of uninterrupted replay, so socket replies, timers (file
 * flush, posttrade deadlines, signals) and progress get to run: a replay is CPU-bound between gate calls.
 */
const YIELD_AFTER_MS = 4;

/**
 * Replays a feed on a virtual clock (runner.md §4.5): the clock moves to each event's `recv_ts`,
 * stepping through the paper exchange's due reports on the way, and the next event is not read while
 * the engine is still busy with this one — a pending gate call (awaited by the engine) pauses virtual
 * time until the answer or the deadline, which the client measures on the real clock.
 */
export class ReplayDriver {
  events = 0;

  constructor(
    private readonly feed: ReplayFeed,
    private readonly clock: VirtualClock,
    private readonly exchange: PaperExchange,
    private readonly engine: Engine,
    private readonly totalLines: number,
  ) {}

  /** Runs to the end of the feed or a stop; returns why it stopped. */
  async run(h: ReplayHooks): Promise<string> {
    let lastProgress = performance.now();
    let lastYield = lastProgress;
    for await (const ev of this.feed) {
      const stop = h.shouldStop() ?? this.engine.stopReason;
      if (stop !== null) return stop;
      if (h.maxEvents > 0 && this.events >= h.maxEvents) return 'max_events';
      if (ev.type !== 'market_info') await this.stepTo(ev.recv_ts);
      this.exchange.onFeedEvent(ev);
      await this.engine.onTimers();
      await this.engine.onFeedEvent(ev);
      this.events++;
      if (performance.now() - lastYield >= YIELD_AFTER_MS) {
        await new Promise((r) => setImmediate(r));
        lastYield = performance.now();
      }
      if (h.progressMs > 0 && h.onProgress && performance.now() - lastProgress >= h.progressMs) {
        lastProgress = performance.now();
        h.onProgress(this.progress());
      }
    }
    return this.engine.stopReason ?? 'end_of_feed';
  }

  /** Delivers every exchange report due within `ms` of virtual time; the clock stops at the last one. */
  async settle(ms: number): Promise<void> {
    await this.stepTo(this.clock.nowMs() + ms, true);
  }

  /** Moves virtual time forward by exactly `ms`, delivering the reports due on the way. */
  async advance(ms: number): Promise<void> {
    await this.stepTo(this.clock.nowMs() + ms);
  }

  progress(): ProgressState {
    const s = this.engine.ctx.summary;
    const p = pnlNow(this.engine.ctx);
    return {
      nowMs: this.clock.nowMs(),
      fraction: this.totalLines > 0 ? Math.min(1, this.feed.line / this.totalLines) : null,
      events: this.events,
      ticks: s.ticks,
      intents: s.intents,
      allowed: s.gate.allowed,
      denied: s.gate.denied,
      fills: s.fills,
      pnl: p.realized + p.unrealized,
    };
  }

  /**
   * Delivers the exchange's reports due up to `t` at their own times (so an ack timeout or a fill is
   * seen when it happens, not at the next feed event), then moves the clock to `t` (unless `stopEarly`
   * and nothing else is due: settling does not need to run the clock out).
   */
  private async stepTo(t: number, stopEarly = false): Promise<void> {
    for (;;) {
      const due = this.exchange.nextDueMs();
      if (due === undefined || due > t) break;
      this.clock.advanceTo(Math.max(due, this.clock.nowMs()));
      this.exchange.advance();
      await this.engine.onTimers();
    }
    if (!stopEarly) this.clock.advanceTo(Math.max(t, this.clock.nowMs()));
  }
}

/** Number of lines of a file (for the progress percentage), by counting newlines in a stream. */
export async function countLines(path: string): Promise<number> {
  let n = 0;
  let last = 10;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) n++;
    if (chunk.length > 0) last = chunk[chunk.length - 1];
  }
  return last === 10 ? n : n + 1;
}
