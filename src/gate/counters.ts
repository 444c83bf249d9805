import { CONTROL_REASONS, type ControlReason } from '../core/controls/rules.ts';
import { EVENT_CODES } from '../core/events.ts';
import { C_ALLOW, C_DENIED_ORDERS, C_DENY, C_INTERNAL_ERRORS, C_INVALID, C_JOURNAL_DROPPED, C_REJECTED, C_SUCCESS, C_UNKNOWN_EVENT, COUNTER_EVENTS_AT } from '../shm/counters.ts';

/**
 * Counters each thread keeps in its own slice of a shared Float64Array (single writer per slice, no
 * atomics needed); the main thread sums the slices when Prometheus scrapes (src/metrics). The slots
 * (C_ALLOW ...) are the layout of src/shm/counters.ts; the event-code slots follow them, then one slot
 * per desk-control denial reason (CONTROL_REASONS order: `aurora_control_denials_total{rule}`).
 */
export const EVENT_CODE_LIST: readonly string[] = [...EVENT_CODES].sort();
const EVENT_INDEX = new Map(EVENT_CODE_LIST.map((c, i) => [c, i]));

const FIXED = COUNTER_EVENTS_AT;
/** the first control-denial slot: one per CONTROL_REASONS entry, in that order */
export const COUNTER_CONTROL_DENIALS_AT = FIXED + EVENT_CODE_LIST.length;
const REASON_INDEX = new Map<string, number>(CONTROL_REASONS.map((r, i) => [r, i]));
export const SLICE_WORDS = COUNTER_CONTROL_DENIALS_AT + CONTROL_REASONS.length;

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
   * A pre-trade order refused by a desk control (counted where its CONTROL.DENY is journaled):
   * `aurora_control_denials_total{rule=<reason>}`. A reason outside CONTROL_REASONS counts nowhere
   * (the label set stays bounded); a unit test holds the rules to that list.
   */
  controlDenial(reason: ControlReason | string): void {
    const i = REASON_INDEX.get(reason);
    if (i !== undefined) this.slice[COUNTER_CONTROL_DENIALS_AT + i]++;
  }
  /** Takes back a controlDenial of a rolled-back request (GateService's internal-error path). */
  takeBackControlDenial(reason: ControlReason | string): void {
    const i = REASON_INDEX.get(reason);
    if (i !== undefined) this.slice[COUNTER_CONTROL_DENIALS_AT + i]--;
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

/** Control denials of one reason, summed over every thread (0 for a reason outside CONTROL_REASONS). */
export function sumControlDenials(buffer: SharedArrayBuffer | ArrayBuffer, reason: string): number {
  const i = REASON_INDEX.get(reason);
  return i === undefined ? 0 : sumCounter(buffer, COUNTER_CONTROL_DENIALS_AT + i);
}
