/** The deny-reason family lives with the gate client (it counts by it too); the runner reuses it. */
import { denyFamily } from '../../client/reasons.ts';
import { CONTROL_REASONS } from '../../core/controls/rules.ts';

export { denyFamily };

/**
 * The desk controls' reason codes (controls.md §3, in rule order, plus the gate's fail-closed
 * `controls_capacity_exhausted`): the gate's own list. A denial is counted as a control's when its code
 * is one of these or its `observability.controls` names a rule (every controls denial carries
 * `{rule, limit, value}`).
 */
export const CONTROL_REASON_CODES: readonly string[] = CONTROL_REASONS;

const CONTROL_SET = new Set(CONTROL_REASON_CODES);

/** True when a gate denial came from a desk control rather than the reference pipeline. */
export function isControlDenial(reason: string, observability: unknown): boolean {
  if (CONTROL_SET.has(denyFamily(reason))) return true;
  const c = observability !== null && typeof observability === 'object' ? (observability as Record<string, unknown>).controls : undefined;
  return c !== null && typeof c === 'object' && typeof (c as Record<string, unknown>).rule === 'string';
}
