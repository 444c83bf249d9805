/**
 * Conformance scenarios whose recorded reference result is a defect the specs tell us to fix (all tagged
 * `quirk` except `rotate-token-validation-before-cooldown`, which relies on the old token surviving a
 * rotation — D-1, a security fix we make anyway); each is listed with our behaviour in docs/decisions.md and asserted in
 * test/service/divergences.test.ts.
 */
export const DIVERGENT: ReadonlyMap<string, string> = new Map([
  ['readiness-always-503', '/readiness answers 200 with a flat body once the gate is ready (D-31)'],
  ['trap-bad-delta-type-500', 'a non-numeric TRAP delta is a 422 with the field path, state untouched (D7)'],
  ['gov-dq-stale-book-killswitch', 'obi_sign "x" is a 422 (D7); market.dq is kept on valid requests, where stale_book trips the kill switch (D-5)'],
  ['gov-dq-abnormal-spread', 'obi_sign "x" is a 422 (D7); dq.abnormal_spread on a valid request denies once (D-5)'],
  ['spread-limit-env-invalid-shadows-alias', 'an unparsable AURORA_SPREAD_BPS_LIMIT stops start-up with a message naming it (no silent fallback)'],
  ['posttrade-bad-json-422', 'malformed JSON is a 400 malformed_json (protocol.md)'],
  ['input-bad-json-422', 'malformed JSON is a 400 malformed_json (protocol.md)'],
  ['input-qty-negative-allowed', 'a negative qty is a 422 (D-36)'],
  ['input-qty-nan-500', 'a NaN literal is not JSON: 400 malformed_json, nothing decided (D5)'],
  ['input-latency-nan-500', 'a NaN literal is not JSON: 400 malformed_json, nothing decided (D5)'],
  ['input-latency-non-numeric-500', 'latency_ms "fast" is a 422 with the field path (D7)'],
  ['rotate-token-validation-before-cooldown', 'after a rotation the previous token is revoked at once (D-1), so the second call is a 403; validation-before-cooldown is asserted with the new token'],
  ['input-text-plain-422', 'a text/plain body is a 415 unsupported_media_type (protocol.md)'],
]);
