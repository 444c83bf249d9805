/** The journal files of a session (service.md 4.4). */
export const JOURNAL_FILES = ['events', 'denied', 'success', 'failed', 'raw'] as const;
export type JournalFile = (typeof JOURNAL_FILES)[number];
const FILE_INDEX: Record<JournalFile, number> = { events: 0, denied: 1, success: 2, failed: 3, raw: 4 };

/**
 * Lines produced while handling a batch of requests, grouped per file and handed to the writer thread
 * in one message per batch (src/journal/writer.ts). Strings are concatenated, not arrayed: one message
 * field per file keeps the structured clone cheap.
 */
export class JournalBatch {
  events = '';
  denied = '';
  success = '';
  failed = '';
  raw = '';
  lines = 0;
  /** lines per file, in JOURNAL_FILES order */
  readonly perFile = [0, 0, 0, 0, 0];

  add(file: JournalFile, line: string): void {
    this[file] += line;
    this.lines++;
    this.perFile[FILE_INDEX[file]]++;
  }

  take(): Record<JournalFile, string> & { lines: number } {
    const out = { events: this.events, denied: this.denied, success: this.success, failed: this.failed, raw: this.raw, lines: this.lines };
    this.events = this.denied = this.success = this.failed = this.raw = '';
    this.lines = 0;
    this.perFile.fill(0);
    return out;
  }
}
