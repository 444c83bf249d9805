import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { FeedLineChecker, FeedLineError, type FeedErrorKind } from './line-check.ts';
import type { FeedEvent, FeedEventType, MarketInfo } from './schema.ts';

export interface ReplayOptions {
  /**
   * What a bad line does: 'fail' (default) throws a FeedLineError naming file:line and the field;
   * 'skip' drops the line, counts it by kind and keeps the first `maxKeptErrors` errors.
   */
  onInvalid?: 'fail' | 'skip';
  maxKeptErrors?: number;
}

export interface ReplayStats {
  /** Physical lines read, including blank ones. */
  lines: number;
  events: number;
  byType: Record<FeedEventType, number>;
  skipped: number;
  skippedByKind: Record<FeedErrorKind, number>;
  /** The first rejected lines (skip mode), for a report. */
  errors: FeedLineError[];
}

/**
 * Streams a JSONL replay file line by line (never loads the whole file), validating every line and
 * the stream's ordering as it goes. Iterate with `for await (const ev of feed)`; each iteration
 * re-reads the file from the start. `marketInfo` holds the latest `market_info` per symbol seen so far.
 */
export class ReplayFeed implements AsyncIterable<FeedEvent> {
  readonly onInvalid: 'fail' | 'skip';
  private readonly maxKeptErrors: number;
  stats: ReplayStats = emptyStats();
  readonly marketInfo = new Map<string, MarketInfo>();
  /** The line number of the event most recently yielded (1-based; 0 before the first). */
  line = 0;

  constructor(
    readonly path: string,
    opts: ReplayOptions = {},
  ) {
    this.onInvalid = opts.onInvalid ?? 'fail';
    this.maxKeptErrors = opts.maxKeptErrors ?? 20;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<FeedEvent> {
    this.stats = emptyStats();
    this.marketInfo.clear();
    this.line = 0;
    const checker = new FeedLineChecker(this.path);
    const input = createReadStream(this.path, { encoding: 'utf8' });
    const lines = createInterface({ input, crlfDelay: Infinity });
    let n = 0;
    try {
      for await (const text of lines) {
        n++;
        this.stats.lines = n;
        if (text.trim() === '') continue;
        let ev: FeedEvent;
        try {
          ev = checker.check(text, n);
        } catch (e) {
          if (!(e instanceof FeedLineError) || this.onInvalid === 'fail') throw e;
          this.stats.skipped++;
          this.stats.skippedByKind[e.kind]++;
          if (this.stats.errors.length < this.maxKeptErrors) this.stats.errors.push(e);
          continue;
        }
        this.stats.events++;
        this.stats.byType[ev.type]++;
        if (ev.type === 'market_info') this.marketInfo.set(ev.symbol, ev);
        this.line = n;
        yield ev;
      }
    } finally {
      lines.close();
      input.destroy();
    }
  }
}

/**
 * The `market_info` lines at the head of a feed file (before its first timed event), latest per
 * symbol: lets a run configure sizing and the paper exchange before the loop starts, without
 * reading the whole file. `opts.onInvalid` as for the replay itself (`feed.on_invalid`): with 'skip', a
 * bad line at the head is skipped here too instead of failing the run before it starts.
 */
export async function readMarketInfo(path: string, opts: Pick<ReplayOptions, 'onInvalid'> = {}): Promise<Map<string, MarketInfo>> {
  const feed = new ReplayFeed(path, { onInvalid: opts.onInvalid });
  for await (const ev of feed) {
    if (ev.type !== 'market_info') break;
  }
  return new Map(feed.marketInfo);
}

function emptyStats(): ReplayStats {
  return {
    lines: 0,
    events: 0,
    byType: { book_snapshot: 0, book_delta: 0, trade: 0, market_info: 0, bar_1m: 0 },
    skipped: 0,
    skippedByKind: { json: 0, schema: 0, semantic: 0, order: 0 },
    errors: [],
  };
}
