import { JOURNAL_FILE_KEYS, type JournalFileKey } from './files.ts';

const FILE_INDEX = Object.fromEntries(JOURNAL_FILE_KEYS.map((k, i) => [k, i])) as Record<JournalFileKey, number>;

/**
 * Lines produced while handling a batch of requests, grouped per file, until a JournalRingProducer
 * copies them into the thread's ring to the writer (or they are dropped in benchmark mode). Strings
 * are concatenated: one UTF-8 write per file per batch.
 */
export class JournalBatch {
  events = '';
  denied = '';
  success = '';
  failed = '';
  raw = '';
  lines = 0;
  /** lines per file, in JOURNAL_FILE_KEYS order */
  readonly perFile = [0, 0, 0, 0, 0];

  add(file: JournalFileKey, line: string): void {
    this[file] += line;
    this.lines++;
    this.perFile[FILE_INDEX[file]]++;
  }

  /** Empties the batch (after its lines were handed over, or dropped). */
  clear(): void {
    this.events = this.denied = this.success = this.failed = this.raw = '';
    this.lines = 0;
    this.perFile.fill(0);
  }
}
