/**
 * The journal doorbell shared by the writer thread and the producers that write to shared-memory
 * rings (Int32 words): [BELL_SEQ] is bumped to wake the writer, [BELL_SLEEPING] is 1 while the writer
 * sleeps on it (producers ring only then), [BELL_DROPS] counts lines producers dropped because their
 * ring had no room (the writer marks the journal failing when it changes).
 */
export const BELL_SEQ = 0;
export const BELL_SLEEPING = 1;
export const BELL_DROPS = 2;
export const BELL_BYTES = 16;
