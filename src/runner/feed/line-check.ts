import type { FieldError } from '../../schema/validate.ts';
import { FEED_EVENT_TYPES, FEED_VALIDATORS, type FeedEvent, type FeedEventType, type Level } from './schema.ts';

export type FeedErrorKind = 'json' | 'schema' | 'semantic' | 'order';

/** A rejected feed line: where it is (`file:line`), which field, and why. */
export class FeedLineError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly kind: FeedErrorKind,
    readonly fields: FieldError[],
  ) {
    const detail = fields.map((f) => (f.path ? `${f.path} ${f.message}` : f.message)).join('; ');
    super(`${file}:${line}: ${detail}`);
    this.name = 'FeedLineError';
  }

  /** The first offending field path ('' when the line as a whole is bad, e.g. not JSON). */
  get path(): string {
    return this.fields[0]?.path ?? '';
  }
}

/**
 * Checks feed lines one at a time, in file order: JSON, the event's schema, per-event semantics
 * (no duplicate prices, snapshot sizes > 0, consistent bars) and the stream rules (sorted by
 * `recv_ts`, no delta before the symbol's first snapshot). Stateful only for the stream rules, so a
 * live recorder can use it to check what it writes.
 */
export class FeedLineChecker {
  private lastRecvTs = -Infinity;
  private lastRecvLine = 0;
  private readonly snapshotSeen = new Set<string>();

  constructor(readonly file: string) {}

  /** The event on `text`, or throws FeedLineError. A rejected line leaves the stream state unchanged. */
  check(text: string, line: number): FeedEvent {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw this.fail(line, 'json', '', `is not valid JSON (${(e as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.fail(line, 'json', '', 'must be a JSON object');
    }
    const type = (value as { type?: unknown }).type;
    if (typeof type !== 'string' || !(FEED_EVENT_TYPES as string[]).includes(type)) {
      throw this.fail(line, 'schema', 'type', `must be one of ${FEED_EVENT_TYPES.join(', ')} (got ${JSON.stringify(type) ?? 'nothing'})`);
    }
    const validator = FEED_VALIDATORS[type as FeedEventType];
    if (!validator.check(value)) throw new FeedLineError(this.file, line, 'schema', validator.errors(value));
    const ev = value as FeedEvent;

    const semantic = semanticErrors(ev);
    if (semantic.length > 0) throw new FeedLineError(this.file, line, 'semantic', semantic);

    if (ev.type !== 'market_info') {
      if (ev.recv_ts < this.lastRecvTs) {
        throw this.fail(
          line,
          'order',
          'recv_ts',
          `${ev.recv_ts} is earlier than ${this.lastRecvTs} on line ${this.lastRecvLine}: events must be sorted by recv_ts`,
        );
      }
      if (ev.type === 'book_delta' && !this.snapshotSeen.has(ev.symbol)) {
        throw this.fail(line, 'order', 'type', `book_delta for ${ev.symbol} before its first book_snapshot`);
      }
      this.lastRecvTs = ev.recv_ts;
      this.lastRecvLine = line;
      if (ev.type === 'book_snapshot') this.snapshotSeen.add(ev.symbol);
    }
    return ev;
  }

  private fail(line: number, kind: FeedErrorKind, path: string, message: string): FeedLineError {
    return new FeedLineError(this.file, line, kind, [{ path, message }]);
  }
}

function semanticErrors(ev: FeedEvent): FieldError[] {
  const errors: FieldError[] = [];
  if (ev.type === 'book_snapshot' || ev.type === 'book_delta') {
    for (const side of ['bids', 'asks'] as const) {
      levelErrors(ev[side], side, ev.type === 'book_snapshot', errors);
    }
  } else if (ev.type === 'bar_1m') {
    if (ev.low > Math.min(ev.open, ev.close)) errors.push({ path: 'low', message: 'must be <= open and close' });
    if (ev.high < Math.max(ev.open, ev.close)) errors.push({ path: 'high', message: 'must be >= open and close' });
    if (ev.exch_ts < ev.open_ts) errors.push({ path: 'exch_ts', message: 'must be >= open_ts (a bar is stamped at or after its start)' });
  }
  return errors;
}

function levelErrors(levels: Level[], side: string, snapshot: boolean, out: FieldError[]): void {
  const seen = new Set<number>();
  levels.forEach(([price, size], i) => {
    if (seen.has(price)) out.push({ path: `${side}.${i}.0`, message: `repeats price ${price} (one entry per price)` });
    seen.add(price);
    if (snapshot && size === 0) out.push({ path: `${side}.${i}.1`, message: 'must be > 0 in a snapshot (list only present levels)' });
  });
}
