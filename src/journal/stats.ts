/**
 * The writer's shared stats buffer: the thread's side (StatsPublisher) and the main thread's
 * (StatsReader). It is allocated by the main thread and outlives every writer thread: a replacement
 * thread starts its counters from it (stats are cumulative for the session), and it holds the slot of
 * the record being written (the "in-doubt" record after a death, see ring-intake.ts). Its layout (a
 * seqlock over Float64 fields, the lastError bytes, the in-flight slot) is src/shm/journal-stats-layout.ts.
 */
import { JOURNAL_FILE_KEYS, type JournalFileKey } from './files.ts';
import { SLOT, SLOT_COUNTED, SLOT_FIELDS, SLOT_OFFSET, SLOT_WRITING, ST, ST_ERR_BYTES, ST_ERR_OFFSET, ST_F64_OFFSET, ST_FIELDS } from '../shm/journal-stats-layout.ts';

export interface JournalStats {
  linesReceived: number;
  linesWritten: number;
  bytesWritten: number;
  fsyncs: number;
  writeErrors: Record<JournalFileKey, number>;
  lastWriteMs: number | null;
  /** a file cannot be written, lines were dropped, or the writer thread is down / catching up after a restart */
  failing: boolean;
  lastError: string | null;
  /** always 0 since producers hand lines over through shared-memory rings only (kept for the metric) */
  batchesPending: number;
  /** writer threads started to replace a dead one */
  writerRestarts: number;
}

const encoder = new TextEncoder();

function writeError(f64: Float64Array, bytes: Uint8Array, message: string | null, gen: number): void {
  if (message === null) f64[ST.lastErrorLen] = -1;
  else {
    // encodeInto never splits a character; the message is truncated to the buffer size
    const tmp = new Uint8Array(ST_ERR_BYTES);
    const { written } = encoder.encodeInto(message, tmp);
    bytes.set(tmp.subarray(0, written));
    f64[ST.lastErrorLen] = written;
  }
  f64[ST.lastErrorGen] = gen;
}

/** The thread's side: counters (continued from the buffer) and publication under the seqlock. */
export class StatsPublisher {
  linesReceived: number;
  linesWritten: number;
  bytesWritten: number;
  fsyncs: number;
  readonly writeErrors: number[];
  lastWriteMs: number;
  dropsSeen: number;
  private lastError: string | null = null;
  private lastErrorGen: number;
  private publishedErrorGen: number;
  private readonly seq: Int32Array;
  private readonly f64: Float64Array;
  private readonly errBytes: Uint8Array;
  private readonly slot: Float64Array;

  constructor(sab: SharedArrayBuffer) {
    this.seq = new Int32Array(sab, 0, 1);
    this.f64 = new Float64Array(sab, ST_F64_OFFSET, ST_FIELDS);
    this.errBytes = new Uint8Array(sab, ST_ERR_OFFSET, ST_ERR_BYTES);
    this.slot = new Float64Array(sab, SLOT_OFFSET, SLOT_FIELDS);
    // a predecessor that died inside publish() left the sequence odd
    if (Atomics.load(this.seq, 0) & 1) Atomics.add(this.seq, 0, 1);
    const f = this.f64;
    this.linesReceived = f[ST.linesReceived];
    this.linesWritten = f[ST.linesWritten];
    this.bytesWritten = f[ST.bytesWritten];
    this.fsyncs = f[ST.fsyncs];
    this.writeErrors = JOURNAL_FILE_KEYS.map((_, i) => f[ST.writeErrors0 + i]);
    this.lastWriteMs = f[ST.lastWriteMs];
    this.dropsSeen = f[ST.dropsSeen];
    this.lastErrorGen = this.publishedErrorGen = f[ST.lastErrorGen];
  }

  setError(message: string): void {
    this.lastError = message;
    this.lastErrorGen++;
  }

  publish(failing: boolean): void {
    const f = this.f64;
    Atomics.add(this.seq, 0, 1); // odd: update in progress
    f[ST.linesReceived] = this.linesReceived;
    f[ST.linesWritten] = this.linesWritten;
    f[ST.bytesWritten] = this.bytesWritten;
    f[ST.fsyncs] = this.fsyncs;
    for (let i = 0; i < this.writeErrors.length; i++) f[ST.writeErrors0 + i] = this.writeErrors[i];
    f[ST.lastWriteMs] = this.lastWriteMs;
    f[ST.failing] = failing ? 1 : 0;
    f[ST.batchesPending] = 0;
    f[ST.dropsSeen] = this.dropsSeen;
    if (this.publishedErrorGen !== this.lastErrorGen) {
      writeError(f, this.errBytes, this.lastError, this.lastErrorGen);
      this.publishedErrorGen = this.lastErrorGen;
    }
    Atomics.add(this.seq, 0, 1); // even: consistent
  }

  // ---- the in-flight record slot ----

  /** Before a record's write(2): which ring record goes to which file at which offset. State last. */
  slotBegin(producer: number, file: number, offset: number, length: number, ringOffset: number): void {
    const s = this.slot;
    s[SLOT.state] = 0;
    s[SLOT.producer] = producer;
    s[SLOT.file] = file;
    s[SLOT.offset] = offset;
    s[SLOT.length] = length;
    s[SLOT.ringOffset] = ringOffset;
    s[SLOT.state] = SLOT_WRITING;
  }

  /** The record's outcome is in the published counters. */
  slotCounted(): void {
    if (this.slot[SLOT.state] !== 0) this.slot[SLOT.state] = SLOT_COUNTED;
  }

  /** The record's ring space was released. */
  slotClear(): void {
    this.slot[SLOT.state] = 0;
  }

  /** What a predecessor left in the slot (state 0: nothing in doubt). */
  slotRead(): { state: number; producer: number; file: number; offset: number; length: number; ringOffset: number } {
    const s = this.slot;
    return { state: s[SLOT.state], producer: s[SLOT.producer], file: s[SLOT.file], offset: s[SLOT.offset], length: s[SLOT.length], ringOffset: s[SLOT.ringOffset] };
  }
}

/** The main thread's side: consistent snapshots, and the death notice while no thread runs. */
export class StatsReader {
  private readonly seq: Int32Array;
  private readonly f64: Float64Array;
  private readonly errBytes: Uint8Array;
  private cacheGen = 0;
  private cacheText: string | null = null;

  constructor(sab: SharedArrayBuffer) {
    this.seq = new Int32Array(sab, 0, 1);
    this.f64 = new Float64Array(sab, ST_F64_OFFSET, ST_FIELDS);
    this.errBytes = new Uint8Array(sab, ST_ERR_OFFSET, ST_ERR_BYTES);
  }

  read(writerRestarts: number): JournalStats {
    let snap: Float64Array = this.f64.slice();
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const s1 = Atomics.load(this.seq, 0);
      if (s1 & 1) continue;
      snap = this.f64.slice();
      if (Atomics.load(this.seq, 0) === s1) break;
    }
    const gen = snap[ST.lastErrorGen];
    if (gen !== this.cacheGen) {
      const len = snap[ST.lastErrorLen];
      // copy out of the shared buffer first: TextDecoder refuses shared views
      this.cacheText = len < 0 ? null : new TextDecoder().decode(this.errBytes.slice(0, Math.min(len, ST_ERR_BYTES)));
      this.cacheGen = gen;
    }
    const writeErrors = {} as Record<JournalFileKey, number>;
    JOURNAL_FILE_KEYS.forEach((k, i) => (writeErrors[k] = snap[ST.writeErrors0 + i]));
    const lw = snap[ST.lastWriteMs];
    return {
      linesReceived: snap[ST.linesReceived],
      linesWritten: snap[ST.linesWritten],
      bytesWritten: snap[ST.bytesWritten],
      fsyncs: snap[ST.fsyncs],
      writeErrors,
      lastWriteMs: Number.isNaN(lw) ? null : lw,
      failing: snap[ST.failing] !== 0,
      lastError: this.cacheText,
      batchesPending: snap[ST.batchesPending],
      writerRestarts,
    };
  }

  /**
   * The thread died: publish `failing` and the reason. Only while no writer thread runs (the dead one
   * may have stopped inside its own publish: the sequence is made even first).
   */
  markDown(reason: string): void {
    if (Atomics.load(this.seq, 0) & 1) Atomics.add(this.seq, 0, 1);
    Atomics.add(this.seq, 0, 1);
    this.f64[ST.failing] = 1;
    writeError(this.f64, this.errBytes, reason, this.f64[ST.lastErrorGen] + 1);
    Atomics.add(this.seq, 0, 1);
  }
}
