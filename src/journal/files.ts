/** The journal files of a session (service.md 4.4) and their one order. */
export interface JournalFiles {
  events: string;
  denied: string;
  success: string;
  failed: string;
  raw: string;
}

export type JournalFileKey = keyof JournalFiles;

/**
 * Order matters: it is the file index producers put in their journal ring records, the order of a
 * batch's per-file line counts, and the layout of the per-file error counters in the stats buffer.
 */
export const JOURNAL_FILE_KEYS: readonly JournalFileKey[] = ['events', 'denied', 'success', 'failed', 'raw'];

export const DEFAULT_FILES: JournalFiles = {
  events: 'aurora_events.jsonl',
  denied: 'orders_denied.jsonl',
  success: 'orders_success.jsonl',
  failed: 'orders_failed.jsonl',
  raw: 'orders.jsonl',
};
