import { JOURNAL_FILE_KEYS, type JournalFileKey } from './files.ts';

const FILE_INDEX = Object.fromEntries(JOURNAL_FILE_KEYS.map((k, i) => [k, i])) as Record<JournalFileKey, number>;
const FILES = JOURNAL_FILE_KEYS.length;

/**
 * Lines produced while handling a batch of requests, grouped per file, until a JournalRingProducer
 * copies them into the thread's ring to the writer (or they are dropped in benchmark mode). Strings
 * are concatenated: one UTF-8 write per file per batch.
 *
 * `mark()` / `rollback(mark)` undo one request's lines when its handling fails half-way (GateService:
 * nothing half-journaled). A mark is a handful of number stores into a preallocated array (taken for
 * every request, so it allocates nothing); one mark is kept at a time.
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
  /** the mark: each file's text length, then each file's line count (JOURNAL_FILE_KEYS order) */
  private readonly marked = new Float64Array(FILES * 2);
  /** id of the current mark; bumped by clear(), which invalidates it */
  private markId = 0;

  add(file: JournalFileKey, line: string): void {
    this[file] += line;
    this.lines++;
    this.perFile[FILE_INDEX[file]]++;
  }

  /** UTF-16 code units of every line (at most 3 UTF-8 bytes each). */
  get chars(): number {
    return this.events.length + this.denied.length + this.success.length + this.failed.length + this.raw.length;
  }

  /** Empties the batch (after its lines were handed over, or dropped). */
  clear(): void {
    this.events = this.denied = this.success = this.failed = this.raw = '';
    this.lines = 0;
    this.perFile.fill(0);
    this.markId++;
  }

  /** Remembers where every file's lines end now (replacing any earlier mark); returns the mark's id. */
  mark(): number {
    const m = this.marked;
    const n = this.perFile;
    m[0] = this.events.length;
    m[1] = this.denied.length;
    m[2] = this.success.length;
    m[3] = this.failed.length;
    m[4] = this.raw.length;
    m[5] = n[0];
    m[6] = n[1];
    m[7] = n[2];
    m[8] = n[3];
    m[9] = n[4];
    return ++this.markId;
  }

  /**
   * The text each file gained since mark `id` (JOURNAL_FILE_KEYS order; '' for none), or null when
   * the mark is no longer current (a later mark, or clear()).
   */
  addedSince(id: number): string[] | null {
    if (id !== this.markId) return null;
    return JOURNAL_FILE_KEYS.map((k, f) => this[k].slice(this.marked[f]));
  }

  /**
   * Drops every line added since mark `id`. Returns the number of lines dropped, or -1 (nothing
   * changed) when the mark is no longer current: a later mark replaced it, or clear() handed the lines
   * over since.
   */
  rollback(id: number): number {
    if (id !== this.markId) return -1;
    const m = this.marked;
    let dropped = 0;
    for (let f = 0; f < FILES; f++) {
      const extra = this.perFile[f] - m[FILES + f];
      if (extra === 0) continue;
      const k = JOURNAL_FILE_KEYS[f];
      this[k] = this[k].slice(0, m[f]);
      this.perFile[f] = m[FILES + f];
      dropped += extra;
    }
    this.lines -= dropped;
    return dropped;
  }
}
