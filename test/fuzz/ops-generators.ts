import fc from 'fast-check';
import type { HttpCase } from './generators.ts';
import { isValidUtf8, NON_JSON_CONTENT_TYPES, NON_FINITE_TOKENS, OVERFLOW_TOKENS } from './spec-model.ts';

/**
 * Generators for the ops endpoints (docs/api.md "Endpoints", service.md 1.1, 1.2, 5.1), oracle from
 * the documents: `/risk/set` `{dd_day_pct?: (0,100], max_concurrent?: int >= 0, size_scale?: number}`
 * (null/absent = unchanged, all or nothing), `/ops/rotate_token` `{new_token}` (>= 24 chars after
 * trimming, no whitespace inside), `/ops/cooloff/{sec}` (integer <= 86 400), `/aurora/{arm|disarm}`.
 */

const buf = (s: string) => Buffer.from(s, 'utf8');
const JSON_CT: [string, string] = ['Content-Type', 'application/json'];

const err = (status: number, codes: readonly string[], field?: string): HttpCase['expect'] => ({ kind: 'error', status, codes, field });
const withToken = (token: string, c: Omit<HttpCase, 'headers'> & { headers?: Array<[string, string]> }): HttpCase => ({ ...c, headers: [['X-OPS-TOKEN', token], ...(c.headers ?? [])] });

// ---------------------------------------------------------------------------------------------------
// /risk/set
// ---------------------------------------------------------------------------------------------------

const notNumber = fc.constantFrom<unknown>('1', 'x', '', true, false, {}, [], [1], { v: 1 });
const ddBad = fc.oneof(fc.constantFrom(0, -0.5, -1, -1e300, 100.0001, 101, 1e300), fc.double({ min: 100, max: 1e12, noNaN: true, minExcluded: true }), fc.double({ max: 0, min: -1e12, noNaN: true }), notNumber);
const maxBad = fc.oneof(fc.constantFrom(-1, -100, 2.5, 0.1, -0.5, 1e15 + 0.5), fc.integer({ max: -1 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter((x) => !Number.isInteger(x)), notNumber);
const scaleBad = notNumber;
const ddOk = fc.oneof(fc.constant(null), fc.double({ min: 0, max: 100, noNaN: true, minExcluded: true }));
const maxOk = fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 1000 }));
const scaleOk = fc.oneof(fc.constant(null), fc.double({ min: -10, max: 10, noNaN: true }));

export interface RiskBody {
  dd_day_pct?: unknown;
  max_concurrent?: unknown;
  size_scale?: unknown;
}

/** A /risk/set body with at least one refused field (the others valid or absent) -> 422 naming it. */
const riskRefused = fc
  .tuple(fc.constantFrom('dd_day_pct', 'max_concurrent', 'size_scale'), ddBad, maxBad, scaleBad, fc.option(ddOk), fc.option(maxOk), fc.option(scaleOk), fc.option(fc.jsonValue({ maxDepth: 2 })))
  .map(([bad, dd, mx, sc, ddV, mxV, scV, extra]) => {
    const b: Record<string, unknown> = {};
    if (ddV !== null) b.dd_day_pct = ddV;
    if (mxV !== null) b.max_concurrent = mxV;
    if (scV !== null) b.size_scale = scV;
    if (extra !== null) b.note = extra;
    b[bad] = bad === 'dd_day_pct' ? dd : bad === 'max_concurrent' ? mx : sc;
    return { body: buf(JSON.stringify(b)), field: bad };
  });

/** Valid bodies for the model-based check (nulls and absent keys leave a limit unchanged). */
export const riskValid: fc.Arbitrary<RiskBody> = fc.record({ dd_day_pct: ddOk, max_concurrent: maxOk, size_scale: scaleOk }, { requiredKeys: [] });

// ---------------------------------------------------------------------------------------------------
// /ops/rotate_token
// ---------------------------------------------------------------------------------------------------

const tokenChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!@#$%^&*+=:/'.split(''));
const tokenOf = (min: number, max: number) => fc.array(tokenChar, { minLength: min, maxLength: max }).map((a) => a.join(''));
const INNER_BAD = [' ', '\t', '\n', '\r', '\u0000', '\u001f', '\u007f', '\u00a0', '\u2028', '\u3000'];

/** new_token values that must be refused: 400 invalid_token (string) or 422 invalid_request (not a string / missing). */
const rotateRefused = fc.oneof(
  // too short after trimming (padding spaces do not count)
  fc.tuple(tokenOf(0, 23), fc.nat(5), fc.nat(5)).map(([t, l, r]) => ({ body: { new_token: ' '.repeat(l) + t + ' '.repeat(r) }, codes: ['invalid_token'] })),
  // whitespace or a control character inside
  fc.tuple(tokenOf(12, 40), tokenOf(12, 40), fc.constantFrom(...INNER_BAD)).map(([a, b, c]) => ({ body: { new_token: a + c + b }, codes: ['invalid_token'] })),
  // placeholders
  fc.constantFrom('change-me', 'CHANGE-ME', 'changeme').map((t) => ({ body: { new_token: t }, codes: ['invalid_token'] })),
  // not a string, missing, the alias key
  fc.constantFrom<unknown>(null, 1, 123456789012345678901234567890, true, [], ['a'.repeat(30)], { t: 'a'.repeat(30) }).map((v) => ({ body: { new_token: v }, codes: ['invalid_request'] })),
  fc.constant({ body: { new: 'a'.repeat(30) }, codes: ['invalid_request'] }),
  fc.constant({ body: {}, codes: ['invalid_request'] }),
);

// ---------------------------------------------------------------------------------------------------
// Path parameters
// ---------------------------------------------------------------------------------------------------

const segment = fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{1,12}$/);
/** /ops/cooloff/{sec} with sec not an integer -> 422; an integer above 86 400 -> 400 (or 422 past 12 digits). */
const cooloffRefused = fc.oneof(
  segment.filter((s) => !/^[+-]?\d+$/.test(s)).map((s) => ({ path: `/ops/cooloff/${s}`, status: 422, codes: ['invalid_request'] })),
  fc.constantFrom('1.5', '1e3', '0x10', '5.', '.5', '%35', '--5', '5%20', 'NaN', 'Infinity', '١٢').map((s) => ({ path: `/ops/cooloff/${encodeURI(s)}`, status: 422, codes: ['invalid_request'] })),
  fc.integer({ min: 86_401, max: 999_999_999_999 }).map((n) => ({ path: `/ops/cooloff/${n}`, status: 400, codes: ['cooloff_too_long'] })),
  fc.integer({ min: 13, max: 40 }).map((n) => ({ path: `/ops/cooloff/${'9'.repeat(n)}`, status: 0, codes: ['cooloff_too_long', 'invalid_request'] })),
);
/** /aurora/{mode} with mode not arm/disarm (any case) -> 400 invalid_mode. */
const modeRefused = fc.oneof(segment, fc.constantFrom('arm ', 'armed', 'Arm2', '%61rm', 'dis-arm', 'ARM.', 'disarm_'))
  .filter((s) => !['arm', 'disarm'].includes(s.toLowerCase()))
  .map((s) => ({ path: `/aurora/${s.replaceAll(' ', '%20')}` }));

// ---------------------------------------------------------------------------------------------------
// Requests with the right token: certainly refused (nothing may change)
// ---------------------------------------------------------------------------------------------------

const BAD_UTF8 = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80]];

export function opsRefused(token: string, limit: number): fc.Arbitrary<HttpCase> {
  const post = (path: string, body: Buffer, expect: HttpCase['expect'], cat: string, headers: Array<[string, string]> = [JSON_CT]): HttpCase =>
    withToken(token, { cat, method: 'POST', path, headers, body, expect, mayDecide: false });
  const bodyPaths = fc.constantFrom('/risk/set', '/ops/rotate_token');
  return fc.oneof(
    { weight: 6, arbitrary: riskRefused.map(({ body, field }) => post('/risk/set', body, err(422, ['invalid_request'], field), 'risk_set_refused')) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('dd_day_pct', 'max_concurrent', 'size_scale'), fc.constantFrom(...OVERFLOW_TOKENS)).map(([k, t]) => post('/risk/set', buf(`{"${k}":${t}}`), err(422, ['invalid_request'], k), 'risk_set_overflow')) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('dd_day_pct', 'max_concurrent', 'size_scale'), fc.constantFrom(...NON_FINITE_TOKENS)).map(([k, t]) => post('/risk/set', buf(`{"${k}":${t}}`), err(400, ['malformed_json']), 'risk_set_nonfinite')) },
    { weight: 5, arbitrary: rotateRefused.map(({ body, codes }) => post('/ops/rotate_token', buf(JSON.stringify(body)), err(codes[0] === 'invalid_token' ? 400 : 422, codes), 'rotate_refused')) },
    { weight: 4, arbitrary: cooloffRefused.map(({ path, status, codes }) => withToken(token, { cat: 'cooloff_refused', method: 'POST', path, expect: status === 0 ? { kind: 'route', status: 0, codes } : err(status, codes), mayDecide: false })) },
    { weight: 3, arbitrary: modeRefused.map(({ path }) => withToken(token, { cat: 'mode_refused', method: 'POST', path, expect: err(400, ['invalid_mode']), mayDecide: false })) },
    {
      weight: 2,
      arbitrary: fc.tuple(bodyPaths, fc.jsonValue({ maxDepth: 3 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))).map(([p, v]) => post(p, buf(JSON.stringify(v)), err(422, ['invalid_request'], '(body)'), 'ops_non_object')),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(bodyPaths, fc.double({ min: 0.05, max: 0.95, noNaN: true })).map(([p, f]) => {
        const text = p === '/risk/set' ? '{"dd_day_pct":5,"max_concurrent":3,"size_scale":0.25}' : '{"new_token":"abcdefghijklmnopqrstuvwxyz-0123"}';
        return post(p, buf(text.slice(0, Math.max(1, Math.floor(f * text.length)))), err(400, ['malformed_json']), 'ops_truncated');
      }),
    },
    {
      // invalid UTF-8 inside an otherwise valid (state-changing) body -> 400 invalid_utf8 (api.md)
      weight: 3,
      arbitrary: fc.tuple(bodyPaths, fc.constantFrom(...BAD_UTF8), fc.stringMatching(/^[a-z]{0,8}$/)).map(([p, seq, s]) => {
        const [head, tail] = p === '/risk/set' ? ['{"size_scale":0.125,"note":"', '"}'] : ['{"new_token":"utf8-rotation-token-0123456789', `${s}"}`];
        const body = Buffer.concat([buf(head), Buffer.from(seq), buf(tail)]);
        if (isValidUtf8(body)) throw new Error('generator: expected invalid UTF-8');
        return post(p, body, err(400, ['invalid_utf8']), 'ops_invalid_utf8');
      }),
    },
    { weight: 2, arbitrary: fc.tuple(bodyPaths, fc.constantFrom(...NON_JSON_CONTENT_TYPES)).map(([p, ct]) => post(p, buf('{"size_scale":0}'), err(415, ['unsupported_media_type']), 'ops_content_type', [['Content-Type', ct]])) },
    { weight: 1, arbitrary: fc.tuple(bodyPaths, fc.integer({ min: 1, max: 50_000 })).map(([p, over]) => post(p, buf(`{"size_scale":0,"pad":"${'x'.repeat(limit + over)}"}`), err(413, ['body_too_large']), 'ops_over_limit')) },
  );
}

// ---------------------------------------------------------------------------------------------------
// Requests without the right token: always refused, whatever they carry
// ---------------------------------------------------------------------------------------------------

/** Requests that WOULD change state with the right token (and read-only ones). */
const OPS_CALLS: ReadonlyArray<{ method: string; path: string; body?: string }> = [
  { method: 'GET', path: '/liveness' },
  { method: 'GET', path: '/readiness' },
  { method: 'GET', path: '/risk/snapshot' },
  { method: 'POST', path: '/ops/cooloff/3600' },
  { method: 'POST', path: '/ops/cooloff/abc' },
  { method: 'POST', path: '/ops/reset' },
  { method: 'POST', path: '/aurora/disarm' },
  { method: 'POST', path: '/aurora/toggle' },
  { method: 'POST', path: '/risk/set', body: '{"size_scale":0,"dd_day_pct":1,"max_concurrent":0}' },
  { method: 'POST', path: '/risk/set', body: '{"size_scale":' },
  { method: 'POST', path: '/ops/rotate_token', body: '{"new_token":"attacker-chosen-token-0123456789"}' },
];

/**
 * Wrong tokens of every shape: missing (401), and present but wrong — empty, short, long, the right one
 * with one character changed, a prefix, an extension, another case, non-ASCII bytes (403). Leading and
 * trailing blanks are not generated: HTTP strips them from header values (RFC 9110 5.5).
 */
export function wrongToken(right: string): fc.Arbitrary<string | null> {
  const printable = fc.stringMatching(/^[!-~]{1,100}$/);
  return fc.oneof(
    fc.constant(null),
    fc.constant(''),
    printable,
    fc.stringMatching(/^[!-~]{2000,8000}$/),
    fc.tuple(fc.nat(right.length - 1), tokenChar).map(([i, ch]) => right.slice(0, i) + (right[i] === ch ? (ch === 'a' ? 'b' : 'a') : ch) + right.slice(i + 1)),
    fc.integer({ min: 1, max: right.length - 1 }).map((n) => right.slice(0, n)),
    tokenOf(1, 10).map((s) => right + s),
    fc.constant(right.toUpperCase()),
    fc.tuple(fc.nat(right.length - 1), fc.constantFrom('\u00e9', '\u00ff', '\u00a0')).map(([i, ch]) => right.slice(0, i) + ch + right.slice(i + 1)),
  );
}

export function opsUnauthorized(right: string): fc.Arbitrary<HttpCase> {
  return fc.tuple(fc.constantFrom(...OPS_CALLS), wrongToken(right), fc.boolean()).map(([call, token, asJson]): HttpCase => {
    const headers: Array<[string, string]> = [];
    if (token !== null) headers.push(['X-OPS-TOKEN', token]);
    if (call.body !== undefined && asJson) headers.push(JSON_CT);
    const codes = token === null ? ['missing_token'] : ['forbidden'];
    return { cat: token === null ? 'no_token' : 'wrong_token', method: call.method, path: call.path, headers, body: call.body === undefined ? undefined : buf(call.body), expect: err(token === null ? 401 : 403, codes), mayDecide: false };
  });
}

