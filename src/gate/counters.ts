import { EVENT_CODES } from '../core/events.ts';

/**
 * Counters each thread keeps in its own slice of a shared Float64Array (single writer per slice, no
 * atomics needed); the main thread sums the slices when Prometheus scrapes (src/metrics).
 */
export const EVENT_CODE_LIST: readonly string[] = [...EVENT_CODES].sort();
const EVENT_INDEX = new Map(EVENT_CODE_LIST.map((c, i) => [c, i]));

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
/**
 * Not a counter: the test-only fault switch of src/testing/faults.ts (one word per thread's slice,
 * 0 = off). Read through that module only; never summed into a metric.
 */
export const C_TEST_FAULT = 9;
const FIXED = 10;
export const SLICE_WORDS = FIXED + EVENT_CODE_LIST.length;

export class GateCounters {
  readonly slice: Float64Array;

  constructor(buffer: SharedArrayBuffer | ArrayBuffer, sliceIndex: number) {
    this.slice = new Float64Array(buffer, sliceIndex * SLICE_WORDS * 8, SLICE_WORDS);
  }

  static allocate(slices: number): SharedArrayBuffer {
    return new SharedArrayBuffer(slices * SLICE_WORDS * 8);
  }

  decision(allow: boolean): void {
    this.slice[allow ? C_ALLOW : C_DENY]++;
  }
  denied(): void {
    this.slice[C_DENIED_ORDERS]++;
  }
  success(): void {
    this.slice[C_SUCCESS]++;
  }
  rejected(): void {
    this.slice[C_REJECTED]++;
  }
  invalid(): void {
    this.slice[C_INVALID]++;
  }
  journalDropped(lines: number): void {
    this.slice[C_JOURNAL_DROPPED] += lines;
  }
  internalError(): void {
    this.slice[C_INTERNAL_ERRORS]++;
  }
  event(code: string): void {
    const i = EVENT_INDEX.get(code);
    if (i === undefined) this.slice[C_UNKNOWN_EVENT]++;
    else this.slice[FIXED + i]++;
  }
  /**
   * Takes back what the journal lines of a rolled-back request counted (GateService's internal-error
   * path): `n` of a fixed counter, or one event of `code` with `takeBackEvent`.
   */
  takeBack(slot: number, n: number): void {
    this.slice[slot] -= n;
  }
  takeBackEvent(code: string): void {
    const i = EVENT_INDEX.get(code);
    this.slice[i === undefined ? C_UNKNOWN_EVENT : FIXED + i]--;
  }
}

/** Sums one counter over every slice. */
export function sumCounter(buffer: SharedArrayBuffer | ArrayBuffer, slot: number): number {
  const all = new Float64Array(buffer);
  let s = 0;
  for (let o = slot; o < all.length; o += SLICE_WORDS) s += all[o];
  return s;
}

/** One counter of one thread's slice (slice 0 is the main thread's). */
export function sliceCounter(buffer: SharedArrayBuffer | ArrayBuffer, slice: number, slot: number): number {
  return new Float64Array(buffer, slice * SLICE_WORDS * 8, SLICE_WORDS)[slot];
}

export function sumEvent(buffer: SharedArrayBuffer | ArrayBuffer, code: string): number {
  const i = EVENT_INDEX.get(code);
  return i === undefined ? 0 : sumCounter(buffer, FIXED + i);
}
