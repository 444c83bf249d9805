import type { PretradeCheckResponse } from '../schema/pretrade.ts';

/**
 * Reasons the client itself decides with (never the gate's own reasons):
 * - `gate_timeout`: no answer within `timeoutMs` (WebSocket or HTTP) — configurable (`failClosedReason`).
 * - `gate_unavailable`: neither transport could carry the call (socket down and HTTP refused / 5xx /
 *   fallback disabled), or the socket dropped while the call was pending on it.
 * - `gate_backpressure`: `maxInFlight` calls were already pending; the call was not sent.
 * - `gate_error:<code>`: the gate answered the WebSocket frame with `{ok:false, error:{code}}`.
 * - `gate_http_<status>`: the gate answered the HTTP fallback with a 4xx.
 * - `gate_invalid_response`: the gate's answer did not match the PretradeCheckResponse schema.
 */
export type LocalReason =
  | 'gate_timeout'
  | 'gate_unavailable'
  | 'gate_backpressure'
  | 'gate_invalid_response'
  | `gate_error:${string}`
  | `gate_http_${number}`
  | (string & {});

/** A complete PretradeCheckResponse that denies: allow false, nothing to trade, hard gate. */
export function failClosed(reason: LocalReason): PretradeCheckResponse {
  return {
    allow: false,
    max_qty: 0,
    risk_scale: 0,
    cooldown_ms: 0,
    reason,
    hard_gate: true,
    quotas: { trades_pm_left: 0, symbol_exposure_left_usdt: 0 },
    observability: { reasons: [reason] },
  };
}
