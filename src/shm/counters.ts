/**
 * Layout of the shared per-thread counters buffer (docs/shared-memory.md): Float64 words, one slice per
 * thread (slice 0 the main thread's, slice s worker s), a single writer per slice, no atomics; the main
 * thread sums the slices when Prometheus scrapes (src/metrics). A slice holds the fixed slots below, then
 * one word per journal event code from COUNTER_EVENTS_AT on (the sorted EVENT_CODES of
 * src/core/events.ts). The slice length depends on that list, so the view (GateCounters), SLICE_WORDS and
 * the sums live in src/gate/counters.ts, next to it: src/shm imports nothing outside itself.
 */
export const C_ALLOW = 0;
export const C_DENY = 1;
export const C_DENIED_ORDERS = 2;
export const C_SUCCESS = 3;
export const C_REJECTED = 4;
export const C_INVALID = 5;
export const C_UNKNOWN_EVENT = 6;
export const C_JOURNAL_DROPPED = 7;
/** requests answered 500 internal_error: their handling threw (GateService.handleBytes) */
export const C_INTERNAL_ERRORS = 8;
/** Not a counter (never summed into a metric): used by src/testing only — each thread's fault switch (src/testing/faults.ts, 0 = off). */
export const C_TEST_FAULT = 9;
/** the first event-code slot (fixed slots 0..9 come before it) */
export const COUNTER_EVENTS_AT = 10;
