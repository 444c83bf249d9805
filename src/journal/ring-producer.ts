import { BELL_DROPS, BELL_SEQ, BELL_SLEEPING } from '../shm/journal-bell.ts';
import { Ring, type RingBuffers } from '../shm/ring.ts';
import { JOURNAL_FILE_KEYS } from './files.ts';
import type { JournalBatch } from './line-batch.ts';

/** Room kept for one more request's lines by hasRoom(), in UTF-16 code units (see JournalRingProducer). */
export const DEFAULT_RESERVE_CHARS = 144 * 1024;
/** at most one drop log line per producer per second */
const DROP_LOG_INTERVAL_MS = 1000;
/** ring header + alignment of one record (src/shm/ring.ts), for each of the five files */
const RECORD_OVERHEAD = 5 * 16;

export interface DropHooks {
  /** lines that did not fit (count them: aurora_journal_dropped_total) */
  dropped(lines: number, file: string): void;
  /** a rate-limited report (at most one per second per producer) */
  log(message: string): void;
}

/**
 * A producer's side of its shared-memory ring to the journal writer thread: one record per file per
 * batch (`meta` = file index | lines << 8), then a wake-up only if the writer sleeps. Used by every
 * worker and by the main thread, so nothing crosses a MessagePort on the hot path.
 *
 * No thread ever waits here for ring space (a dead or slow writer must not stall the main thread's
 * event loop or a worker). The policy when a ring is full (docs/reliability.md):
 * - `journal.on_write_error: fail_closed`: a check is refused (503 journal_unavailable) *before* it is
 *   decided when `hasRoom(pending batch)` is false, so a decided check's lines always fit;
 * - `continue` (and lines that are not a check's): lines that do not fit are dropped at once, counted
 *   (`DropHooks.dropped` → aurora_journal_dropped_total), logged (rate-limited), and the journal is
 *   marked failing (the bell's drop counter, which the writer thread watches) until it catches up.
 */
export class JournalRingProducer {
  private readonly ring: Ring;
  private readonly buf: Buffer;
  private readonly bell: Int32Array;
  private readonly hooks: DropHooks;
  private readonly reserveChars: number;
  private lastLogMs = -Infinity;
  private unloggedLines = 0;

  /**
   * `reserveChars`: the most text one request's lines can take (service.ts builds them from a body of
   * at most api.max_body_bytes / ws.max_payload_bytes); hasRoom() keeps that much room free.
   */
  constructor(ring: RingBuffers, bell: SharedArrayBuffer, hooks: DropHooks, reserveChars = DEFAULT_RESERVE_CHARS) {
    this.ring = new Ring(ring);
    this.buf = this.ring.buffer();
    this.bell = new Int32Array(bell);
    this.hooks = hooks;
    this.reserveChars = reserveChars;
  }

  /**
   * Whether the pending batch plus one more request's lines (`reserveChars`) would fit in the ring now,
   * counted as one contiguous block at the worst-case 3 bytes per code unit (so each of the batch's
   * records does). Cheap: two loads. The writer only ever frees space, so a true answer stays true
   * until this producer writes.
   */
  hasRoom(pending: JournalBatch): boolean {
    return this.ring.canReserve((pending.chars + this.reserveChars) * 3 + RECORD_OVERHEAD);
  }

  /**
   * Copies the batch's lines into the ring and empties the batch; never waits. A file's lines that do
   * not fit are dropped (see the class comment).
   */
  write(batch: JournalBatch): void {
    if (batch.lines === 0) return;
    const ring = this.ring;
    let dropped = 0;
    for (let f = 0; f < JOURNAL_FILE_KEYS.length; f++) {
      const lines = batch.perFile[f];
      if (lines === 0) continue;
      const text = batch[JOURNAL_FILE_KEYS[f]];
      const at = ring.reserve(text.length * 3);
      if (at < 0) {
        dropped += lines;
        this.hooks.dropped(lines, JOURNAL_FILE_KEYS[f]);
        continue;
      }
      ring.commit(0, f | (lines << 8), this.buf.write(text, at, 'utf8'));
    }
    batch.clear();
    if (dropped > 0) {
      this.reportDrop(dropped);
      // the writer reacts to the counter (journal failing); wake it whatever it is doing
      Atomics.add(this.bell, BELL_DROPS, dropped);
      Atomics.store(this.bell, BELL_SLEEPING, 0);
      Atomics.add(this.bell, BELL_SEQ, 1);
      Atomics.notify(this.bell, BELL_SEQ);
      return;
    }
    // take the flag with the wake: later batches do not pay a futex call for a writer already waking
    if (Atomics.compareExchange(this.bell, BELL_SLEEPING, 1, 0) === 1) {
      Atomics.add(this.bell, BELL_SEQ, 1);
      Atomics.notify(this.bell, BELL_SEQ);
    }
  }

  private reportDrop(lines: number): void {
    this.unloggedLines += lines;
    const now = Date.now();
    if (now - this.lastLogMs < DROP_LOG_INTERVAL_MS) return;
    this.hooks.log(`journal ring full (the writer thread is down or behind): dropped ${this.unloggedLines} lines since the last report`);
    this.lastLogMs = now;
    this.unloggedLines = 0;
  }
}
