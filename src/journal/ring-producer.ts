import { BELL_SEQ, BELL_SLEEPING } from './bell.ts';
import { pauseMs, Ring, type RingBuffers } from '../pool/ring.ts';
import { JOURNAL_FILE_KEYS } from './files.ts';
import type { JournalBatch } from './line-batch.ts';

const WAIT_MS = 5000;

/**
 * A producer's side of its shared-memory ring to the journal writer thread: one record per file per
 * batch (`meta` = file index | lines << 8), then a wake-up only if the writer sleeps. Used by every
 * worker and by the main thread, so nothing crosses a MessagePort on the hot path.
 */
export class JournalRingProducer {
  private readonly ring: Ring;
  private readonly buf: Buffer;
  private readonly bell: Int32Array;
  private readonly onDrop: (lines: number, file: string) => void;

  constructor(ring: RingBuffers, bell: SharedArrayBuffer, onDrop: (lines: number, file: string) => void) {
    this.ring = new Ring(ring);
    this.buf = this.ring.buffer();
    this.bell = new Int32Array(bell);
    this.onDrop = onDrop;
  }

  /**
   * Copies the batch's lines into the ring and empties the batch. A full ring is backpressure: wait for
   * the writer; after 5 s without room (the writer is gone) the lines are dropped and reported to
   * `onDrop` (counted as aurora_journal_dropped_total and logged by the caller) — never silently.
   */
  write(batch: JournalBatch): void {
    if (batch.lines === 0) return;
    const ring = this.ring;
    for (let f = 0; f < JOURNAL_FILE_KEYS.length; f++) {
      const lines = batch.perFile[f];
      if (lines === 0) continue;
      const text = batch[JOURNAL_FILE_KEYS[f]];
      const max = text.length * 3;
      let at = ring.reserve(max);
      if (at < 0) {
        const deadline = Date.now() + WAIT_MS;
        while (at < 0 && Date.now() < deadline) {
          Atomics.add(this.bell, BELL_SEQ, 1);
          Atomics.notify(this.bell, BELL_SEQ);
          pauseMs(1);
          at = ring.reserve(max);
        }
        if (at < 0) {
          this.onDrop(lines, JOURNAL_FILE_KEYS[f]);
          continue;
        }
      }
      ring.commit(0, f | (lines << 8), this.buf.write(text, at, 'utf8'));
    }
    batch.clear();
    // take the flag with the wake: later batches do not pay a futex call for a writer already waking
    if (Atomics.compareExchange(this.bell, BELL_SLEEPING, 1, 0) === 1) {
      Atomics.add(this.bell, BELL_SEQ, 1);
      Atomics.notify(this.bell, BELL_SEQ);
    }
  }
}
