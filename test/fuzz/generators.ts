import fc from 'fast-check';
import {
  depth,
  isValidUtf8,
  JSON_CONTENT_TYPES,
  MAX_ARRAY,
  NON_FINITE_TOKENS,
  NON_JSON_CONTENT_TYPES,
  NUMERIC_KINDS,
  OVERFLOW_TOKENS,
  POSTTRADE_DEPTH_REFUSED,
  PRETRADE_FIELDS,
  refusedValues,
  routeOf,
} from './spec-model.ts';

/**
 * fast-check generators for the fuzz: request BODIES with what the documents say must happen to them
 * (an exact error, a decision, or "anything documented"), and the HTTP requests / WebSocket frames that
 * carry them. Every expectation is derived from spec-model.ts, never from the gate's own code.
 */

/** What the documents require for a body. */
export type Expect =
  /** refused: this status and one of these codes; `field` must be named in error.details */
  | { kind: 'error'; status: number; codes: readonly string[]; field?: string }
  /** a valid check request: 200 and a decision */
  | { kind: 'decision' }
  /** a valid post-trade record: 200 {"status":"ok"} */
  | { kind: 'posttrade_ok' }
  /** anything documented: a 200 of the endpoint's shape, or a 4xx error envelope */
  | { kind: 'any' };

export type Target = 'pretrade' | 'posttrade';

export interface BodyCase {
  cat: string;
  target: Target;
  bytes: Buffer;
  expect: Expect;
  /** true when the state may change (a valid or possibly valid request): only in the "mixed" phase */
  mayDecide: boolean;
}

const err = (status: number, codes: string | readonly string[], field?: string): Expect => ({ kind: 'error', status, codes: typeof codes === 'string' ? [codes] : codes, field });
const MARK = '__FUZZ_MARK__';
const buf = (s: string) => Buffer.from(s, 'utf8');

// ---------------------------------------------------------------------------------------------------
// Valid check requests (gate.md 1): every documented field, values inside the documented types
// ---------------------------------------------------------------------------------------------------

const small = fc.double({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true });
const nonneg = fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true });
/** a numeric string in plain notation (no exponent): unambiguous "numeric string" in every reading */
const plainNumString = (arb: fc.Arbitrary<number>) => fc.tuple(arb, fc.integer({ min: 0, max: 6 })).map(([x, k]) => x.toFixed(k));
const numLike = (arb: fc.Arbitrary<number>) => fc.oneof({ weight: 6, arbitrary: arb }, { weight: 2, arbitrary: plainNumString(arb) }, { weight: 1, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constant(null) });
const intLike = fc.oneof(fc.integer({ min: -5, max: 50 }), fc.integer({ min: -5, max: 50 }).map(String), fc.double({ min: -3, max: 3, noNaN: true }), fc.constant(null));
const symbol = fc.oneof(fc.constantFrom('BTCUSDT', 'ETHUSDT', 'binance:btc/usdt', ' solusdt ', 'FUZZ', ''), fc.string({ maxLength: 12 }));
const optStr = (arb: fc.Arbitrary<string>) => fc.oneof({ weight: 5, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(null) });
const numList = (maxLength: number) => fc.oneof({ weight: 5, arbitrary: fc.array(fc.oneof(small, plainNumString(small)), { maxLength }) }, { weight: 1, arbitrary: fc.constant(null) });

export const validPretrade: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    ts: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: null }),
    req_id: optStr(fc.string({ maxLength: 24 })),
    account: fc.record({ mode: optStr(fc.constantFrom('paper', 'testnet', 'prod', 'live')), account_id: optStr(fc.string({ maxLength: 8 })), subaccount: optStr(fc.string({ maxLength: 8 })) }, { requiredKeys: [] }),
    order: fc.record(
      {
        symbol: optStr(symbol),
        side: optStr(fc.constantFrom('buy', 'sell', 'BUY', 'Sell', 'long', '')),
        qty: numLike(nonneg),
        price: numLike(nonneg),
        base_notional: numLike(nonneg),
        notional: numLike(nonneg),
        client_note: fc.string({ maxLength: 10 }),
      },
      { requiredKeys: [] },
    ),
    market: fc.record(
      {
        latency_ms: numLike(fc.double({ min: 0, max: 400, noNaN: true })),
        slip_bps_est: numLike(fc.double({ min: 0, max: 50, noNaN: true })),
        a_bps: numLike(fc.double({ min: 0, max: 100, noNaN: true })),
        b_bps: numLike(fc.double({ min: 0, max: 100, noNaN: true })),
        spread_bps: numLike(fc.double({ min: 0, max: 150, noNaN: true })),
        score: numLike(fc.double({ min: -3, max: 3, noNaN: true })),
        mode_regime: optStr(fc.constantFrom('normal', 'trend', 'chop')),
        trap_cancel_deltas: numList(8),
        trap_add_deltas: numList(8),
        trap_trades_cnt: intLike,
        obi_sign: intLike,
        tfi_sign: intLike,
        sprt_samples: numList(30),
        pnl_today_pct: numLike(fc.double({ min: -30, max: 30, noNaN: true })),
        open_positions: intLike,
        dq: fc.option(fc.record({ stale_book: fc.boolean(), crossed_book: fc.boolean(), abnormal_spread: fc.boolean() }, { requiredKeys: [] }), { nil: null }),
        symbol: optStr(symbol),
        aci: small,
        z: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    ),
    risk_tags: fc.option(fc.array(fc.string({ maxLength: 10 }), { maxLength: 5 }), { nil: null }),
    fees_bps: numLike(fc.double({ min: 0, max: 10, noNaN: true })),
  },
  { requiredKeys: ['account', 'order', 'market'] },
) as fc.Arbitrary<Record<string, unknown>>;

/** A post-trade record: a JSON object nested less than the documented limit. */
export const validPosttrade: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record(
    {
      symbol: symbol,
      side: fc.constantFrom('buy', 'sell', 'BUY'),
      qty: fc.oneof(nonneg, plainNumString(nonneg)),
      price: nonneg,
      status: fc.constantFrom('filled', 'partially_filled', 'new', 'canceled', 'closed', 'FILLED'),
      filled: fc.oneof(nonneg, plainNumString(nonneg), fc.constant('abc')),
      order_id: fc.oneof(fc.string({ maxLength: 10 }), fc.integer()),
      error_code: fc.constantFrom(-1013, -2010, '-1021', 'X'),
      error_msg: fc.string({ maxLength: 20 }),
      action: fc.constantFrom('open', 'close', 'CLOSE'),
      reduceOnly: fc.boolean(),
      response: fc.jsonValue({ maxDepth: 3 }),
      ts: fc.integer({ min: 0, max: 2 ** 52 }),
    },
    { requiredKeys: [] },
  ),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 6 }), { maxKeys: 8 }),
) as fc.Arbitrary<Record<string, unknown>>;

// ---------------------------------------------------------------------------------------------------
// Helpers on JSON values
// ---------------------------------------------------------------------------------------------------

const clone = <T>(v: T): T => structuredClone(v);

function setPath(root: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = root as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) {
    if (cur[k] === null || typeof cur[k] !== 'object' || Array.isArray(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]] = value;
}

const nestedArrays = (n: number, inner = '1') => '['.repeat(n) + inner + ']'.repeat(n);
const nestedObjects = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

/** Body text with the marker string replaced by a raw JSON token. */
const withToken = (v: Record<string, unknown>, token: string) => JSON.stringify(v).replace(`"${MARK}"`, token);

/** What the documents say about arbitrary bytes sent to an endpoint (the JSON-level oracle). */
export function oracleForBytes(target: Target, bytes: Buffer, ifObject: Expect = { kind: 'any' }): Expect {
  if (bytes.length === 0) return err(422, 'invalid_request', '(body)');
  // RFC 8259 8.1: a parser MAY ignore a leading byte order mark, or refuse it
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { kind: 'any' };
  if (!isValidUtf8(bytes)) return err(400, 'invalid_utf8');
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    return err(400, 'malformed_json');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return err(422, 'invalid_request', '(body)');
  if (target === 'posttrade' && depth(v) >= POSTTRADE_DEPTH_REFUSED) return err(422, 'invalid_request');
  return ifObject;
}

const PRE_NUMERIC = PRETRADE_FIELDS.filter(([, k]) => NUMERIC_KINDS.has(k));
const PRE_LISTS = PRETRADE_FIELDS.filter(([, k]) => k === 'numlist');
const PRE_STRINGS = PRETRADE_FIELDS.filter(([, k]) => k === 'str');

// ---------------------------------------------------------------------------------------------------
// Bodies certainly refused (the "invalid" phase: no state may change)
// ---------------------------------------------------------------------------------------------------

/** One documented field set to a value its type refuses -> 422 naming the field. */
const wrongType = fc.tuple(validPretrade, fc.constantFrom(...PRETRADE_FIELDS), fc.nat()).map(([v, [path, kind], n]): BodyCase => {
  const vals = refusedValues(kind);
  const b = clone(v);
  setPath(b, path, vals[n % vals.length]);
  return { cat: `wrong_type:${kind}`, target: 'pretrade', bytes: buf(JSON.stringify(b)), expect: err(422, 'invalid_request', path), mayDecide: false };
});

/** account / order / market missing -> 422 naming it. */
const missingRequired = fc.tuple(validPretrade, fc.subarray(['account', 'order', 'market'], { minLength: 1 })).map(([v, drop]): BodyCase => {
  const b = clone(v);
  for (const k of drop) delete b[k];
  return { cat: 'missing_required', target: 'pretrade', bytes: buf(JSON.stringify(b)), expect: err(422, 'invalid_request', drop[0]), mayDecide: false };
});

/** NaN / Infinity as JSON tokens are not JSON -> 400 malformed_json (api.md). */
const nonFiniteToken = fc.tuple(validPretrade, fc.constantFrom(...PRE_NUMERIC, ...PRE_LISTS), fc.constantFrom(...NON_FINITE_TOKENS)).map(([v, [path, kind], tok]): BodyCase => {
  const b = clone(v);
  setPath(b, path, kind === 'numlist' ? [1, MARK] : MARK);
  return { cat: 'nonfinite_token', target: 'pretrade', bytes: buf(withToken(b, tok)), expect: err(400, 'malformed_json'), mayDecide: false };
});

/** 1e400 and friends: valid JSON, not a finite number -> 422 naming the field. */
const overflowToken = fc.tuple(validPretrade, fc.constantFrom(...PRE_NUMERIC, ...PRE_LISTS), fc.constantFrom(...OVERFLOW_TOKENS)).map(([v, [path, kind], tok]): BodyCase => {
  const b = clone(v);
  setPath(b, path, kind === 'numlist' ? [1, MARK] : MARK);
  return { cat: 'overflow_token', target: 'pretrade', bytes: buf(withToken(b, tok)), expect: err(422, 'invalid_request', path), mayDecide: false };
});

/** A strict prefix of a JSON object's text is never JSON -> 400. */
const truncated = (target: Target) =>
  fc.tuple(target === 'pretrade' ? validPretrade : validPosttrade, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true })).map(([v, f]): BodyCase => {
    const text = JSON.stringify(v);
    const cut = Math.max(1, Math.floor(f * (text.length - 1)));
    return { cat: 'truncated', target, bytes: buf(text.slice(0, cut)), expect: err(400, 'malformed_json'), mayDecide: false };
  });

const BAD_UTF8: readonly number[][] = [[0xff], [0xfe], [0xc0, 0xaf], [0xc1, 0xbf], [0xed, 0xa0, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe0, 0x80, 0xaf]];

/** Invalid UTF-8 anywhere in an otherwise valid body -> 400 invalid_utf8 (api.md). */
const invalidUtf8 = (target: Target) =>
  fc.tuple(target === 'pretrade' ? validPretrade : validPosttrade, fc.constantFrom(...BAD_UTF8), fc.double({ min: 0, max: 1, noNaN: true })).map(([v, seq, f]): BodyCase => {
    const text = buf(JSON.stringify(v));
    const at = Math.floor(f * text.length);
    const bytes = Buffer.concat([text.subarray(0, at), Buffer.from(seq), text.subarray(at)]);
    const expect = isValidUtf8(bytes) ? oracleForBytes(target, bytes) : err(400, 'invalid_utf8');
    return { cat: 'invalid_utf8', target, bytes, expect, mayDecide: expect.kind !== 'error' };
  });

/** JSON that is not an object: arrays (10 000 deep included), scalars, null -> 422; unbalanced -> 400. */
const nonObject = (target: Target) =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((v) => ({ text: JSON.stringify(v) })),
    fc.integer({ min: 1, max: 10_000 }).map((n) => ({ text: nestedArrays(n) })),
    fc.integer({ min: 1, max: 10_000 }).map((n) => ({ text: '['.repeat(n) })),
    fc.constantFrom('null', 'true', '0', '-0', '""', '[]', '"{}"', '1e400', 'NaN', ' ', '\n\t', '\ufeff[]', '\ufeff"x"').map((text) => ({ text })),
  ).map(({ text }): BodyCase => {
    const bytes = buf(text);
    return { cat: 'non_object', target, bytes, expect: oracleForBytes(target, bytes, err(422, 'invalid_request')), mayDecide: false };
  });

/** A number list above 10 000 elements -> 422 naming it (decisions.md limits). */
const hugeArray = fc.tuple(validPretrade, fc.constantFrom(...PRE_LISTS), fc.integer({ min: MAX_ARRAY + 1, max: MAX_ARRAY + 100 })).map(([v, [path], n]): BodyCase => {
  const b = clone(v);
  setPath(b, path, new Array(n).fill(0));
  return { cat: 'huge_array', target: 'pretrade', bytes: buf(JSON.stringify(b)), expect: err(422, 'invalid_request', path), mayDecide: false };
});

/** A known numeric or list field holding nested arrays (up to 10 000 deep) -> 422 naming it. */
const deepKnown = fc.tuple(validPretrade, fc.constantFrom(...PRE_NUMERIC, ...PRE_LISTS), fc.oneof(fc.integer({ min: 2, max: 50 }), fc.integer({ min: 1000, max: 10_000 }))).map(([v, [path], n]): BodyCase => {
  const b = clone(v);
  setPath(b, path, MARK);
  return { cat: 'deep_known_field', target: 'pretrade', bytes: buf(withToken(b, nestedArrays(n))), expect: err(422, 'invalid_request', path), mayDecide: false };
});

/** A post-trade record nested 40 .. 5 000 levels -> 422 (decisions.md: nesting <= 32). */
const posttradeDeep = fc.tuple(fc.integer({ min: POSTTRADE_DEPTH_REFUSED, max: 5000 }), fc.boolean()).map(([n, arrays]): BodyCase => {
  const text = `{"symbol":"BTCUSDT","status":"filled","meta":${arrays ? nestedArrays(n) : nestedObjects(n)}}`;
  return { cat: 'posttrade_deep', target: 'posttrade', bytes: buf(text), expect: err(422, 'invalid_request'), mayDecide: false };
});

/** Random bytes and random text: the JSON-level oracle decides. */
const randomBytes = (target: Target) =>
  fc.oneof(fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)), fc.string({ unit: 'binary', maxLength: 300 }).map(buf)).map((bytes): BodyCase => {
    const expect = oracleForBytes(target, bytes, target === 'posttrade' ? { kind: 'posttrade_ok' } : { kind: 'any' });
    return { cat: 'random_bytes', target, bytes, expect, mayDecide: expect.kind !== 'error' };
  });

/** A required key repeated, the last copy refused. RFC 8259 leaves duplicates to the parser; the
 * reference (Python json) and JSON.parse both keep the LAST value, so the request is refused (422). */
const dupKeysRefused = fc.tuple(validPretrade, fc.constantFrom('account', 'order', 'market')).map(([v, k]): BodyCase => {
  const text = JSON.stringify(v);
  const bytes = buf(`${text.slice(0, -1)},"${k}":"dup"}`);
  return { cat: 'dup_keys', target: 'pretrade', bytes, expect: err(422, 'invalid_request', k), mayDecide: false };
});

export function invalidBodies(target: Target): fc.Arbitrary<BodyCase> {
  if (target === 'posttrade') {
    return fc.oneof(
      { weight: 2, arbitrary: truncated('posttrade') },
      { weight: 2, arbitrary: invalidUtf8('posttrade') },
      { weight: 2, arbitrary: nonObject('posttrade') },
      { weight: 2, arbitrary: posttradeDeep },
    );
  }
  return fc.oneof(
    { weight: 10, arbitrary: wrongType },
    { weight: 2, arbitrary: missingRequired },
    { weight: 3, arbitrary: nonFiniteToken },
    { weight: 3, arbitrary: overflowToken },
    { weight: 3, arbitrary: truncated('pretrade') },
    { weight: 3, arbitrary: invalidUtf8('pretrade') },
    { weight: 2, arbitrary: nonObject('pretrade') },
    { weight: 1, arbitrary: hugeArray },
    { weight: 2, arbitrary: deepKnown },
    { weight: 1, arbitrary: dupKeysRefused },
  );
}

// ---------------------------------------------------------------------------------------------------
// Bodies that may be valid (the "mixed" phase: state may change)
// ---------------------------------------------------------------------------------------------------

/** Any JSON value (or a deleted key) at a documented path or a new key. */
const mutatedValue = fc
  .tuple(validPretrade, fc.oneof(fc.constantFrom(...PRETRADE_FIELDS.map(([p]) => p)), fc.constantFrom('market.', 'order.', 'account.', '').chain((pre) => fc.string({ minLength: 1, maxLength: 6 }).map((k) => pre + k.replaceAll('.', '_')))), fc.option(fc.jsonValue({ maxDepth: 4 })))
  .map(([v, path, value]): BodyCase => {
    const b = clone(v);
    if (value === null) {
      const keys = path.split('.');
      let cur: any = b;
      for (const k of keys.slice(0, -1)) cur = cur?.[k];
      if (cur && typeof cur === 'object') delete cur[keys[keys.length - 1]];
    } else setPath(b, path, value);
    const bytes = buf(JSON.stringify(b));
    return { cat: 'mutated_value', target: 'pretrade', bytes, expect: oracleForBytes('pretrade', bytes), mayDecide: true };
  });

const TOKENS = ['NaN', '-0', '1e400', '-1e400', '1e-400', 'null', 'true', '"', '\\', '{', '}', '[', ']', ',', ':', '\\u0000', '\\ud800', '\\u', '-', ' ', '\t', '\n', '0x1', '\u0000', '\u2028', '\ufeff', '💥', '"a":1,', '{}', '[]'];

/** Byte-level edits of a valid body: delete / duplicate a range, insert a token, flip a byte. */
const textMutation = (target: Target) =>
  fc
    .tuple(target === 'pretrade' ? validPretrade : validPosttrade, fc.array(fc.tuple(fc.nat(4), fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(40), fc.constantFrom(...TOKENS), fc.nat(255)), { minLength: 1, maxLength: 4 }))
    .map(([v, edits]): BodyCase => {
      let b = buf(JSON.stringify(v));
      for (const [op, f, len, tok, byte] of edits) {
        const at = Math.min(b.length, Math.floor(f * b.length));
        if (op === 0) b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + len))]);
        else if (op === 1) b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
        else if (op === 2 || op === 4) b = Buffer.concat([b.subarray(0, at), buf(tok), b.subarray(at)]);
        else if (at < b.length) {
          b = Buffer.from(b);
          b[at] = byte;
        }
      }
      const expect = oracleForBytes(target, b, target === 'posttrade' ? { kind: 'posttrade_ok' } : { kind: 'any' });
      return { cat: 'text_mutation', target, bytes: b, expect, mayDecide: expect.kind !== 'error' };
    });

/** A valid body with a key repeated (any value): JSON.parse keeps the last. */
const dupKeysAny = fc.tuple(validPretrade, fc.constantFrom('account', 'order', 'market', 'req_id', 'fees_bps'), fc.jsonValue({ maxDepth: 2 })).map(([v, k, x]): BodyCase => {
  const text = JSON.stringify(v);
  const bytes = buf(`{"${k}":${JSON.stringify(x)},${text.slice(1)}`);
  return { cat: 'dup_keys', target: 'pretrade', bytes, expect: oracleForBytes('pretrade', bytes), mayDecide: true };
});

/** -0 as a token and as a string at numeric paths (valid: a finite number / a numeric string). */
const negZero = fc.tuple(validPretrade, fc.constantFrom(...PRE_NUMERIC.filter(([p]) => p !== 'ts')), fc.constantFrom('-0', '"-0"', '-0.0', '"-0.0"', '0e5', '-0e-5')).map(([v, [path], tok]): BodyCase => {
  const b = clone(v);
  setPath(b, path, MARK);
  const bytes = buf(withToken(b, tok));
  // "-0" for order.qty: a non-negative quantity in value, written with a sign; either answer is documented
  return { cat: 'neg_zero', target: 'pretrade', bytes, expect: { kind: 'any' }, mayDecide: true };
});

/** Nesting 10 .. 10 000 deep under an unknown key (kept, never used). */
const deepUnknown = fc.tuple(validPretrade, fc.integer({ min: 10, max: 10_000 }), fc.boolean()).map(([v, n, arrays]): BodyCase => {
  const b = clone(v);
  (b.market as Record<string, unknown>).deep_unknown = MARK;
  return { cat: 'deep_unknown_key', target: 'pretrade', bytes: buf(withToken(b, arrays ? nestedArrays(n) : nestedObjects(Math.min(n, 5000)))), expect: { kind: 'any' }, mayDecide: true };
});

/** Strings just under the 4 KiB limit in known string fields (valid). */
const longStringOk = fc.tuple(validPretrade, fc.constantFrom(...PRE_STRINGS), fc.integer({ min: 4000, max: 4096 })).map(([v, [path], n]): BodyCase => {
  const b = clone(v);
  setPath(b, path, 's'.repeat(n));
  return { cat: 'long_string_ok', target: 'pretrade', bytes: buf(JSON.stringify(b)), expect: { kind: 'decision' }, mayDecide: true };
});

/** A leading UTF-8 byte order mark: RFC 8259 8.1 lets a parser ignore it or refuse it. */
const bom = (target: Target) =>
  (target === 'pretrade' ? validPretrade : validPosttrade).map((v): BodyCase => ({ cat: 'bom', target, bytes: buf(`\ufeff${JSON.stringify(v)}`), expect: { kind: 'any' }, mayDecide: true }));

const validBody = (target: Target) =>
  (target === 'pretrade' ? validPretrade : validPosttrade).map((v): BodyCase => {
    const bytes = buf(JSON.stringify(v));
    return { cat: 'valid', target, bytes, expect: target === 'pretrade' ? { kind: 'decision' } : { kind: 'posttrade_ok' }, mayDecide: true };
  });

export function mixedBodies(target: Target): fc.Arbitrary<BodyCase> {
  if (target === 'posttrade') {
    return fc.oneof({ weight: 6, arbitrary: validBody('posttrade') }, { weight: 6, arbitrary: textMutation('posttrade') }, { weight: 2, arbitrary: randomBytes('posttrade') }, { weight: 1, arbitrary: bom('posttrade') });
  }
  return fc.oneof(
    { weight: 6, arbitrary: validBody('pretrade') },
    { weight: 6, arbitrary: mutatedValue },
    { weight: 6, arbitrary: textMutation('pretrade') },
    { weight: 2, arbitrary: dupKeysAny },
    { weight: 2, arbitrary: negZero },
    { weight: 1, arbitrary: deepUnknown },
    { weight: 1, arbitrary: longStringOk },
    { weight: 2, arbitrary: randomBytes('pretrade') },
    { weight: 1, arbitrary: bom('pretrade') },
  );
}

// ---------------------------------------------------------------------------------------------------
// HTTP requests
// ---------------------------------------------------------------------------------------------------

export interface HttpCase {
  cat: string;
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body?: Buffer;
  /** send the body with Transfer-Encoding: chunked in chunks of this size (no Content-Length) */
  chunkSize?: number;
  /** a Content-Length header value to send instead of the true one (no body bytes are sent) */
  declaredLength?: string;
  expect: Expect | { kind: 'route'; status: number; codes: readonly string[]; allow?: string } | { kind: 'public_ok' } | { kind: 'model_unavailable' };
  mayDecide: boolean;
}

const JSON_CT: [string, string] = ['Content-Type', 'application/json'];
const PATHS: Record<Target, string> = { pretrade: '/pretrade/check', posttrade: '/posttrade/log' };

/** A body as a POST with a JSON Content-Type (or none, accepted as JSON). */
export const asHttp = (b: BodyCase, noContentType = false): HttpCase => ({
  cat: b.cat,
  method: 'POST',
  path: PATHS[b.target],
  headers: noContentType ? [] : [JSON_CT],
  body: b.bytes,
  expect: b.expect,
  mayDecide: b.mayDecide,
});

/** Valid bodies with a Content-Type that is not JSON -> 415, nothing decided. */
const wrongContentType = fc.tuple(fc.constantFrom<Target>('pretrade', 'posttrade'), fc.constantFrom(...NON_JSON_CONTENT_TYPES), validPretrade).map(([target, ct, v]): HttpCase => ({
  cat: 'content_type_refused',
  method: 'POST',
  path: PATHS[target],
  headers: [['Content-Type', ct]],
  body: buf(JSON.stringify(v)),
  expect: err(415, 'unsupported_media_type'),
  mayDecide: false,
}));

/** Bodies above api.max_body_bytes: Content-Length, chunked, or only a declared length -> 413. */
const overLimit = (limit: number) =>
  fc.tuple(fc.constantFrom<Target>('pretrade', 'posttrade'), fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 65, max: 200_000 })), fc.constantFrom('length', 'chunked', 'declared'), fc.integer({ min: 1000, max: 40_000 })).map(([target, over, how, chunk]): HttpCase => {
    const size = limit + over;
    const base = JSON.stringify({ account: {}, order: {}, market: {}, pad: '' });
    const body = buf(base.replace('"pad":""', `"pad":"${'x'.repeat(size - base.length)}"`));
    const c: HttpCase = { cat: `over_limit:${how}`, method: 'POST', path: PATHS[target], headers: [JSON_CT], body, expect: err(413, 'body_too_large'), mayDecide: false };
    if (how === 'chunked') c.chunkSize = chunk;
    if (how === 'declared') {
      c.body = undefined;
      c.declaredLength = String(size * (over > 64 ? 1000 : 1));
    }
    return c;
  });

/** Valid bodies padded to just under / exactly at the limit: decided. */
const underLimit = (limit: number) =>
  fc.tuple(fc.integer({ min: 0, max: 64 }), fc.boolean(), fc.integer({ min: 1000, max: 40_000 })).map(([under, chunked, chunk]): HttpCase => {
    const base = JSON.stringify({ account: {}, order: {}, market: { latency_ms: 1 }, pad: '' });
    const size = limit - under;
    const body = buf(base.replace('"pad":""', `"pad":"${'x'.repeat(size - base.length)}"`));
    return { cat: `under_limit:${chunked ? 'chunked' : 'length'}`, method: 'POST', path: '/pretrade/check', headers: [JSON_CT], body, chunkSize: chunked ? chunk : undefined, expect: { kind: 'decision' }, mayDecide: true };
  });

/** JSON Content-Types (or none) with a valid body: decided. */
const jsonContentType = fc.tuple(fc.option(fc.constantFrom(...JSON_CONTENT_TYPES)), validPretrade).map(([ct, v]): HttpCase => ({
  cat: 'content_type_json',
  method: 'POST',
  path: '/pretrade/check',
  headers: ct === null ? [] : [['Content-Type', ct]],
  body: buf(JSON.stringify(v)),
  expect: { kind: 'decision' },
  mayDecide: true,
}));

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE'] as const;
const SEGMENTS = ['pretrade', 'check', 'posttrade', 'log', 'health', 'version', 'metrics', 'liveness', 'readiness', 'ops', 'cooloff', 'reset', 'aurora', 'arm', 'disarm', 'risk', 'snapshot', 'set', 'rotate_token', 'predict', 'ws', 'openapi.json', '5', '-1', '', '..', '.', '%2e', '%00', 'HEALTH', 'index.html', '*'];

/** Random method + path (documented paths, near misses, junk): the route table decides (no token). */
const routeCase = fc
  .tuple(
    fc.constantFrom(...METHODS),
    fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(...['/', '/pretrade/check', '/posttrade/log', '/health', '/version', '/metrics', '/metrics/', '/openapi.json', '/predict', '/ws', '/liveness', '/readiness', '/ops/cooloff/5', '/ops/cooloff/', '/ops/reset', '/aurora/arm', '/aurora/', '/risk/snapshot', '/risk/set', '/ops/rotate_token']) },
      { weight: 3, arbitrary: fc.array(fc.oneof(fc.constantFrom(...SEGMENTS), fc.stringMatching(/^[A-Za-z0-9._~-]{1,8}$/)), { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`) },
    ),
    fc.option(fc.stringMatching(/^[a-z0-9=&]{0,12}$/)),
  )
  .map(([method, p, q]): HttpCase => {
    const path = q === null ? p : `${p}?${q}`;
    const r = routeOf(path);
    let expect: HttpCase['expect'];
    if (r === undefined) expect = { kind: 'route', status: 404, codes: ['not_found'] };
    else if (!r.methods.includes(method)) expect = { kind: 'route', status: 405, codes: ['method_not_allowed'], allow: r.methods.join(', ') };
    else if (r.ops) expect = { kind: 'route', status: 0, codes: ['missing_token', 'forbidden', 'auth_rate_limited'] };
    else if (r.sample === '/pretrade/check' || r.sample === '/posttrade/log') expect = err(422, 'invalid_request', '(body)');
    else if (r.sample === '/predict') expect = { kind: 'model_unavailable' };
    else if (r.sample === '/ws') expect = { kind: 'route', status: 0, codes: [] };
    else expect = { kind: 'public_ok' };
    return { cat: 'route', method, path, headers: [], expect, mayDecide: false };
  });

/** Junk headers on an otherwise refused request (the headers change nothing). */
const junkHeaders = fc
  .tuple(invalidBodies('pretrade'), fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/), fc.stringMatching(/^[ -~]{0,200}$/)), { maxLength: 30 }))
  .map(([b, hs]): HttpCase => {
    const headers = hs.filter(([k]) => !['content-type', 'content-length', 'transfer-encoding', 'host', 'connection', 'expect', 'upgrade'].includes(k.toLowerCase())).map(([k, v]) => [k, v.trim()] as [string, string]);
    return { ...asHttp(b), cat: 'junk_headers', headers: [JSON_CT, ...headers] };
  });

export function invalidHttp(limit: number): fc.Arbitrary<HttpCase> {
  return fc.oneof(
    { weight: 12, arbitrary: invalidBodies('pretrade').map((b) => asHttp(b)) },
    { weight: 4, arbitrary: invalidBodies('posttrade').map((b) => asHttp(b)) },
    { weight: 2, arbitrary: randomBytes('pretrade').filter((b) => b.expect.kind === 'error').map((b) => asHttp(b)) },
    { weight: 1, arbitrary: randomBytes('posttrade').filter((b) => b.expect.kind === 'error').map((b) => asHttp(b)) },
    { weight: 2, arbitrary: wrongContentType },
    { weight: 1, arbitrary: overLimit(limit) },
    { weight: 3, arbitrary: routeCase },
    { weight: 1, arbitrary: junkHeaders },
  );
}

export function mixedHttp(limit: number): fc.Arbitrary<HttpCase> {
  return fc.oneof(
    { weight: 10, arbitrary: mixedBodies('pretrade').map((b) => asHttp(b)) },
    { weight: 3, arbitrary: mixedBodies('posttrade').map((b) => asHttp(b)) },
    { weight: 1, arbitrary: underLimit(limit) },
    { weight: 1, arbitrary: jsonContentType },
  );
}

// ---------------------------------------------------------------------------------------------------
// WebSocket frames (protocol.md "WebSocket", api.md)
// ---------------------------------------------------------------------------------------------------

export type WsExpect =
  /** an error envelope with this id (null = `"id": null`) and one of these codes */
  | { kind: 'error'; id: string | number | null; codes: readonly string[]; field?: string }
  /** ok:true with this id and a decision / {"status":"ok"} / a pong */
  | { kind: 'ok'; id: string | number; body: 'decision' | 'posttrade_ok' | 'pong' }
  /** either ok:true (any body shape above) or an error envelope; id echoed when the frame has a usable one */
  | { kind: 'any'; id: string | number | null; bodyKind: Expect['kind'] | 'pong' | 'unknown' }
  /** the connection is closed with no reply (frames above ws.max_payload_bytes) */
  | { kind: 'close' }
  /** invalid UTF-8 in a text frame: an `invalid_utf8` envelope (api.md) or the close RFC 6455 8.1 asks for */
  | { kind: 'utf8' };

export interface WsCase {
  cat: string;
  data: Buffer;
  binary: boolean;
  expect: WsExpect;
  mayDecide: boolean;
}

const wsId = fc.oneof(fc.string({ maxLength: 20 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.constant(0), fc.string({ minLength: 250, maxLength: 256 }));
const OPS: Record<Target, string> = { pretrade: 'pretrade.check', posttrade: 'posttrade.log' };

/** A body case inside an envelope: JSON-level refusals keep the id; malformed bodies make the frame malformed. */
const bodyFrame = (b: BodyCase, id: string | number): WsCase => {
  const idJson = JSON.stringify(id);
  const bodyText = b.bytes.toString('utf8');
  const text = b.bytes.length === 0 ? `{"id":${idJson},"op":"${OPS[b.target]}"}` : `{"id":${idJson},"op":"${OPS[b.target]}","body":${bodyText}}`;
  const data = b.bytes.length === 0 ? buf(text) : Buffer.concat([buf(`{"id":${idJson},"op":"${OPS[b.target]}","body":`), b.bytes, buf('}')]);
  let expect: WsExpect;
  const e = b.expect;
  if (!isValidUtf8(data)) expect = { kind: 'utf8' };
  else if (e.kind === 'error' && (e.codes.includes('malformed_json') || e.codes.includes('invalid_utf8'))) {
    // the envelope itself is not JSON now; unless the truncated body happens to close the frame
    let parses = true;
    try {
      JSON.parse(text);
    } catch {
      parses = false;
    }
    expect = parses ? { kind: 'any', id: null, bodyKind: 'unknown' } : { kind: 'error', id: null, codes: ['malformed_json'] };
  } else if (e.kind === 'error') expect = { kind: 'error', id, codes: e.codes, field: e.field };
  else if (e.kind === 'decision') expect = { kind: 'ok', id, body: 'decision' };
  else if (e.kind === 'posttrade_ok') expect = { kind: 'ok', id, body: 'posttrade_ok' };
  else {
    // a body the oracle leaves open: the frame might not even be an envelope any more (text mutations)
    let env: unknown;
    try {
      env = JSON.parse(text);
    } catch {
      env = undefined;
    }
    const sameId = env !== null && typeof env === 'object' && JSON.stringify((env as { id?: unknown }).id) === idJson;
    expect = { kind: 'any', id: sameId ? id : null, bodyKind: 'any' };
  }
  return { cat: b.cat, data, binary: false, expect, mayDecide: b.mayDecide };
};

/** Envelopes without a usable id -> id null invalid_envelope (api.md). */
const badEnvelope = fc
  .tuple(
    fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(null, true, false, 1.5, -0.5, 1e300, [], [1], {}, { id: 1 }),
      fc.string({ minLength: 257, maxLength: 400 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
    ),
    fc.constantFrom('pretrade.check', 'posttrade.log', 'ping', undefined),
    validPretrade,
  )
  .map(([id, op, body]): WsCase => {
    const env: Record<string, unknown> = {};
    if (id !== undefined) env.id = id;
    if (op !== undefined) env.op = op;
    env.body = body;
    return { cat: 'bad_envelope', data: buf(JSON.stringify(env)), binary: false, expect: { kind: 'error', id: null, codes: ['invalid_envelope'] }, mayDecide: false };
  });

/** Frames that are JSON but not objects -> invalid_envelope; not JSON -> malformed_json. */
const notEnvelope = fc
  .oneof(
    fc.jsonValue({ maxDepth: 3 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc.integer({ min: 1, max: 10_000 }).map((n) => nestedArrays(n)),
    fc.constantFrom('', ' ', 'NaN', '{"id":1,"op":"ping",}', '{"id":1 "op":"ping"}', "{'id':1}", '{"id":NaN,"op":"ping"}', '{"id":Infinity}'),
  )
  .map((text): WsCase => {
    let v: unknown;
    let parses = true;
    try {
      v = JSON.parse(text);
    } catch {
      parses = false;
    }
    const isObj = parses && v !== null && typeof v === 'object' && !Array.isArray(v);
    const expect: WsExpect = !parses ? { kind: 'error', id: null, codes: ['malformed_json'] } : isObj ? { kind: 'any', id: null, bodyKind: 'unknown' } : { kind: 'error', id: null, codes: ['invalid_envelope'] };
    return { cat: 'not_envelope', data: buf(text), binary: false, expect, mayDecide: false };
  });

/** A usable id and any op but the three (or none) -> unknown_op with the id. */
const unknownOp = fc
  .tuple(wsId, fc.oneof(fc.string({ maxLength: 20 }).filter((s) => !['pretrade.check', 'posttrade.log', 'ping'].includes(s)), fc.constantFrom(undefined, null, 1, true, ['ping'], { op: 'ping' }, 'PING', 'pretrade.check ', 'Pretrade.Check', 'pretrade_check')), validPretrade)
  .map(([id, op, body]): WsCase => ({ cat: 'unknown_op', data: buf(JSON.stringify({ id, op, body })), binary: false, expect: { kind: 'error', id, codes: ['unknown_op'] }, mayDecide: false }));

/** Binary frames, whatever they hold -> id null binary_frame. */
const binaryFrame = fc.oneof(fc.uint8Array({ maxLength: 500 }).map((a) => Buffer.from(a)), validPretrade.map((v) => buf(JSON.stringify({ id: 'bin', op: 'pretrade.check', body: v })))).map((data): WsCase => ({
  cat: 'binary_frame',
  data,
  binary: true,
  expect: { kind: 'error', id: null, codes: ['binary_frame'] },
  mayDecide: false,
}));

/** Text frames with invalid UTF-8. */
const wsInvalidUtf8 = fc.tuple(validPretrade, fc.constantFrom(...BAD_UTF8), fc.double({ min: 0, max: 1, noNaN: true })).map(([v, seq, f]): WsCase => {
  const text = buf(JSON.stringify({ id: 'u8', op: 'pretrade.check', body: v }));
  const at = Math.floor(f * text.length);
  const data = Buffer.concat([text.subarray(0, at), Buffer.from(seq), text.subarray(at)]);
  return { cat: 'invalid_utf8_frame', data, binary: false, expect: isValidUtf8(data) ? { kind: 'any', id: null, bodyKind: 'unknown' } : { kind: 'utf8' }, mayDecide: false };
});

/** Frames above ws.max_payload_bytes get body_too_large with their id (api.md); at or under it they are answered. */
const frameSize = (limit: number, over: boolean) =>
  fc.tuple(fc.integer({ min: 0, max: 64 }), fc.oneof(fc.constant(0), fc.integer({ min: 65, max: 100_000 })), wsId).map(([d, far, id]): WsCase => {
    const size = over ? limit + 1 + d + far : limit - d;
    const base = JSON.stringify({ id, op: 'pretrade.check', body: { account: {}, order: {}, market: { latency_ms: 1 }, pad: '' } });
    const data = buf(base.replace('"pad":""', `"pad":"${'x'.repeat(size - Buffer.byteLength(base))}"`));
    return over
      ? { cat: 'frame_over_limit', data, binary: false, expect: { kind: 'error', id: typeof id === 'string' && id.length > 256 ? null : id, codes: ['body_too_large'] }, mayDecide: false }
      : { cat: 'frame_at_limit', data, binary: false, expect: { kind: 'ok', id, body: 'decision' }, mayDecide: true };
  });

const ping = fc.tuple(wsId, fc.option(fc.jsonValue({ maxDepth: 2 }))).map(([id, junk]): WsCase => {
  const env: Record<string, unknown> = { id, op: 'ping' };
  if (junk !== null) env.body = junk;
  return { cat: 'ping', data: buf(JSON.stringify(env)), binary: false, expect: { kind: 'ok', id, body: 'pong' }, mayDecide: false };
});

export function invalidWs(limit: number): fc.Arbitrary<WsCase> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.tuple(invalidBodies('pretrade'), wsId).map(([b, id]) => bodyFrame(b, id)) },
    { weight: 4, arbitrary: fc.tuple(invalidBodies('posttrade'), wsId).map(([b, id]) => bodyFrame(b, id)) },
    { weight: 3, arbitrary: badEnvelope },
    { weight: 3, arbitrary: notEnvelope },
    { weight: 3, arbitrary: unknownOp },
    { weight: 2, arbitrary: binaryFrame },
    { weight: 1, arbitrary: ping },
    { weight: 1, arbitrary: wsInvalidUtf8 },
    { weight: 1, arbitrary: frameSize(limit, true) },
  );
}

export function mixedWs(limit: number): fc.Arbitrary<WsCase> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.tuple(mixedBodies('pretrade'), wsId).map(([b, id]) => bodyFrame(b, id)) },
    { weight: 3, arbitrary: fc.tuple(mixedBodies('posttrade'), wsId).map(([b, id]) => bodyFrame(b, id)) },
    { weight: 1, arbitrary: frameSize(limit, false) },
  );
}
