import { CONTROL_EVENT_CODES } from './controls/evaluate.ts';

/**
 * Journal event codes (service.md 4.2): the reference allow-list plus the anti-churn and
 * service-health codes it silently lost (D-6), and the desk controls' codes (controls.md,
 * CONTROL_EVENT_CODES). Emitting anything else is a programming error that a unit test catches
 * (test/core/events.test.ts scans the sources), never a silent drop at run time.
 */

const expand = (prefix: string, names: string[], suffix = '') => names.map((n) => `${prefix}${n}${suffix}`);

export const EVENT_CODES: ReadonlySet<string> = new Set([
  ...expand('REWARD.', ['TP', 'TRAIL', 'BREAKEVEN', 'TIMEOUT', 'MAX_R']),
  ...expand('HEALTH.', ['ERROR', 'RECOVERY', 'LATENCY_HIGH', 'LATENCY_P95_HIGH']),
  'AURORA.STARTUP.OK',
  'CONFIG.SWITCHED',
  ...expand('AURORA.', ['ESCALATION', 'COOL_OFF', 'ARM_STATE', 'HALT', 'RESUME']),
  'OPS.TOKEN_ROTATE',
  'OPS.RESET',
  'OPS.TOKEN.ALIAS_USED',
  ...expand('ORDER.', ['SUBMIT', 'ACK', 'PARTIAL', 'FILL', 'CANCEL', 'REJECT', 'EXPIRE', 'STATUS']),
  ...expand('ORDER.CANCEL.', ['REQUEST', 'ACK']),
  'ORDER_STATUS(SIM)',
  'ORDER.STATUS(SIM)',
  'ORDER.INTENT.RECEIVED',
  'ORDER.DENY',
  'ORDER.PLAN.BUILD',
  'ROUTER.DECISION',
  'KELLY.APPLIED',
  'RISK.DENY',
  ...expand('RISK.DENY.', ['POS_LIMIT', 'DRAWDOWN', 'CVAR']),
  'RISK.UPDATE',
  ...expand('', ['SPREAD', 'LATENCY', 'VOLATILITY'], '_GUARD_TRIP'),
  ...expand('POLICY.', ['TRAP_GUARD', 'TRAP_BLOCK', 'DECISION']),
  'POSTTRADE.LOG',
  ...expand('DQ_EVENT.', ['STALE_BOOK', 'CROSSED_BOOK', 'ABNORMAL_SPREAD', 'CYCLIC_SEQUENCE']),
  ...expand('AURORA.', ['EXPECTED_RETURN_ACCEPT', 'EXPECTED_RETURN_LOW', 'SLIPPAGE_GUARD']),
  ...expand('SPRT.', ['DECISION_H0', 'DECISION_H1', 'CONTINUE', 'ERROR']),
  ...expand('SLA.', ['CHECK', 'DENY']),
  'GOVERNANCE.TRANSITION',
  'ALPHA.LEDGER.UPDATE',
  // ours (D-6)
  'COOLDOWN.ACTIVE',
  'OPEN.RATE_LIMIT',
  'POSITION.MIN_HOLD',
  'POSITION.OPPOSITE_BLOCK',
  'HEALTH.SERVICE_UNHEALTHY',
  // a request whose handling threw: answered 500 internal_error, its partial lines rolled back
  'GATE.INTERNAL_ERROR',
  // desk controls (controls.md): CONTROL.DENY, LIMIT.NEAR, LIMIT.UPDATE, RESERVATION.EXPIRED, TRADING_STATE
  ...CONTROL_EVENT_CODES,
]);

/** Reference normalisation: trim, upper-case, and `ORDER_X_Y` without a dot becomes `ORDER.X.Y`. */
export function normaliseEventCode(code: string): string {
  const c = code.trim().toUpperCase();
  return c.startsWith('ORDER_') && !c.includes('.') ? c.replaceAll('_', '.') : c;
}

/** An event the core asks the service to journal; top-level order fields are optional. */
export interface GateEvent {
  code: string;
  details: Record<string, unknown>;
  symbol?: string | null;
  side?: string | null;
  qty?: number | null;
  price?: number | null;
  oid?: unknown;
  src?: string | null;
}
