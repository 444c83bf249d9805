import { ALLOWED_BODY } from '../bodies.ts';

/**
 * The soak's request bodies: the benchmark's standard allowed check (bench/bodies.ts), every fifth one
 * denied by the expected-return gate (score -2), each with its own `req_id` so the journal can be
 * matched request by request afterwards. Pre-serialised around the id: no JSON.stringify per request.
 */
const { req_id: _drop, ...rest } = ALLOWED_BODY;
const ALLOWED_TAIL = '",' + JSON.stringify(rest).slice(1);
const DENIED_TAIL = '",' + JSON.stringify({ ...rest, market: { ...rest.market, score: -2 } }).slice(1);

export const isDenied = (i: number): boolean => i % 5 === 4;

/** The JSON body of request `i` (req_id `<prefix>-<i>`). */
export function checkBody(prefix: string, i: number): string {
  return `{"req_id":"${prefix}-${i}${isDenied(i) ? DENIED_TAIL : ALLOWED_TAIL}`;
}
