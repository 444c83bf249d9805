/**
 * The journal doorbell shared by the writer thread and the producers that write to shared-memory
 * rings: [BELL_SEQ] is bumped to wake the writer, [BELL_SLEEPING] is 1 while the writer sleeps on it
 * (producers ring only then).
 */
export const BELL_SEQ = 0;
export const BELL_SLEEPING = 1;
