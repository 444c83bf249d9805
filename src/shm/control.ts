/**
 * A small shared control block for the pool: a stop flag the workers poll between batches, and a
 * journal-health flag the writer side raises (journal.on_write_error = fail_closed).
 */
export const CTL_STOP = 0;
export const CTL_JOURNAL_FAILING = 1;
export const CTL_FAIL_CLOSED = 2;
/** workers that entered their serve loop (start-up waits for all before listening) */
export const CTL_READY = 3;
/** bumped by workers after publishing replies; the main thread waits on it (one waiter for all) */
export const CTL_MAIN_BELL = 4;
/** 1 while the main thread is (about to be) waiting on CTL_MAIN_BELL: workers notify only then */
export const CTL_MAIN_WAITING = 5;
export const CONTROL_WORDS = 8;

export function allocateControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_WORDS * 4);
}
