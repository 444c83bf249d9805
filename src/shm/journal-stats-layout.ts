/**
 * Layout of the journal writer's shared stats buffer (docs/shared-memory.md). The main thread allocates
 * it (JournalWriter) and it outlives every writer thread; src/journal/stats.ts holds its two sides (the
 * thread's StatsPublisher, the main thread's StatsReader).
 *
 * Layout: Int32 [0] = seqlock sequence (odd while an update is in progress), Float64 fields from byte 8,
 * the UTF-8 bytes of lastError, then the in-flight record slot. Float64 stores are not atomic in JS; the
 * seqlock lets a reader detect a torn snapshot and retry. One writer at a time: the live thread, or the
 * main thread while no thread runs (markDown).
 */

/** Float64 field indexes (from ST_F64_OFFSET). */
export const ST = {
  linesReceived: 0,
  linesWritten: 1,
  bytesWritten: 2,
  fsyncs: 3,
  writeErrors0: 4, // 5 slots, JOURNAL_FILE_KEYS order (src/journal/files.ts)
  lastWriteMs: 9, // NaN = null
  failing: 10,
  batchesPending: 11,
  lastErrorLen: 12, // bytes; -1 = null
  lastErrorGen: 13, // bumped whenever lastError changes
  /** the bell's drop counter (journal-bell.ts BELL_DROPS) the writer last reacted to */
  dropsSeen: 14,
} as const;
export const ST_FIELDS = 15;
export const ST_F64_OFFSET = 8;
export const ST_ERR_OFFSET = ST_F64_OFFSET + ST_FIELDS * 8;
export const ST_ERR_BYTES = 1024;

/**
 * The record the thread is writing: set before its write(2), `state` 2 once its outcome is counted and
 * published, cleared after its ring space was released. Only writer threads use it (one after another).
 * Float64 field indexes (from SLOT_OFFSET).
 */
export const SLOT = { state: 0, producer: 1, file: 2, offset: 3, length: 4, ringOffset: 5 } as const;
export const SLOT_FIELDS = 6;
export const SLOT_OFFSET = ST_ERR_OFFSET + ST_ERR_BYTES; // a multiple of 8
export const ST_BYTES = SLOT_OFFSET + SLOT_FIELDS * 8;

export const SLOT_WRITING = 1;
export const SLOT_COUNTED = 2;

export function allocateStats(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(ST_BYTES);
  const f64 = new Float64Array(sab, ST_F64_OFFSET, ST_FIELDS);
  f64[ST.lastWriteMs] = NaN;
  f64[ST.lastErrorLen] = -1;
  return sab;
}
