/**
 * The family a deny reason is counted under: a reason carrying a value after a colon
 * (`spread_bps_too_wide:123.4`) is counted without it, so one cause is one row of the summary; the
 * full reason stays in the journal. `gate_error:<code>` keeps its code (each code is its own cause).
 * Used by the client's `denied_by_reason` (bounded by the number of causes, not of values) and by the
 * runner's summary.
 */
export function denyFamily(reason: string): string {
  if (reason.startsWith('gate_error:')) return reason;
  const i = reason.indexOf(':');
  return i > 0 ? reason.slice(0, i) : reason;
}
