/**
 * The oracle of the fuzz and security tests, written from the documents (gate.md 1, docs/api.md,
 * docs/decisions.md "limits", protocol.md), not from src/: which fields a check request has and what
 * each accepts, which routes exist, which status/code pairs are documented, and what a decision and
 * an error look like. Kept in one place so a change of contract is one edit here.
 */

/** How a documented request field is typed (gate.md 1.1-1.4, decisions.md limits). */
export type Kind =
  | 'object' // account / order / market: a JSON object
  | 'str' // string or null, at most 4 KiB
  | 'id64' // string or null, at most 64 characters (account.account_id, controls.md §1)
  | 'num' // finite number, numeric string, boolean or null
  | 'nonneg' // as num, never negative (order.qty, D-36)
  | 'int' // integer-like: a number (truncated), an integer string, boolean or null
  | 'numlist' // list of finite numbers (<= 10 000) or null
  | 'strlist' // list of strings or null
  | 'tsint' // integer or null
  | 'dq'; // object or null

/** Every documented field of a PretradeCheckRequest and its kind (gate.md 1.1-1.4). */
export const PRETRADE_FIELDS: ReadonlyArray<readonly [path: string, kind: Kind]> = [
  ['account', 'object'],
  ['order', 'object'],
  ['market', 'object'],
  ['ts', 'tsint'],
  ['req_id', 'str'],
  ['risk_tags', 'strlist'],
  ['fees_bps', 'num'],
  ['account.mode', 'str'],
  ['account.account_id', 'id64'],
  ['account.subaccount', 'str'],
  ['order.symbol', 'str'],
  ['order.side', 'str'],
  ['order.qty', 'nonneg'],
  ['order.price', 'num'],
  ['order.base_notional', 'num'],
  ['order.notional', 'num'],
  ['market.latency_ms', 'num'],
  ['market.slip_bps_est', 'num'],
  ['market.a_bps', 'num'],
  ['market.b_bps', 'num'],
  ['market.spread_bps', 'num'],
  ['market.score', 'num'],
  ['market.mode_regime', 'str'],
  ['market.trap_cancel_deltas', 'numlist'],
  ['market.trap_add_deltas', 'numlist'],
  ['market.trap_trades_cnt', 'int'],
  ['market.obi_sign', 'int'],
  ['market.tfi_sign', 'int'],
  ['market.sprt_samples', 'numlist'],
  ['market.pnl_today_pct', 'num'],
  ['market.open_positions', 'int'],
  ['market.dq', 'dq'],
  ['market.symbol', 'str'],
];

export const NUMERIC_KINDS: ReadonlySet<Kind> = new Set(['num', 'nonneg', 'int', 'tsint']);
export const MAX_STRING = 4096;
export const MAX_ARRAY = 10_000;
/** post-trade records nest at most 32 levels (decisions.md limits); the fuzz only claims "> 40 is refused" */
export const POSTTRADE_DEPTH_REFUSED = 40;

/**
 * JSON values each kind certainly refuses (as parsed values; the text-level ones — NaN tokens, 1e400 —
 * are in NON_FINITE_TOKENS / OVERFLOW_TOKENS). Hand-derived from the field tables: no value here is a
 * finite number, a numeric string, a boolean or null where those are allowed.
 */
export function refusedValues(kind: Kind): unknown[] {
  const nonNumericStrings = ['abc', 'NaN', 'nan', 'Infinity', '-Infinity', 'inf', '1e400', '-1e400', '0x10', '1,5', '5 5', '--1', '1e', '.', '+-1'];
  switch (kind) {
    case 'object':
      return [null, 0, 1, -1.5, true, false, 'x', '', [], [{}], [1, 2]];
    case 'str':
      return [0, 1.5, -3, true, false, {}, { a: 1 }, [], ['x'], 'S'.repeat(MAX_STRING + 1)];
    case 'id64':
      return [0, 1.5, true, {}, [], ['x'], 'S'.repeat(65)];
    case 'num':
      return [{}, { v: 1 }, [], [1], ...nonNumericStrings];
    case 'nonneg':
      return [{}, [], [0], -1, -0.5, -1e-300, -1e300, '-1', '-0.5', ...nonNumericStrings];
    case 'int':
      return [{}, [], [1], '1.5', '-2.7', '1e3', 'abc', 'NaN', 'Infinity', '0x10', '9'.repeat(400)];
    case 'numlist':
      return ['x', 1, true, {}, { 0: 1 }, [null], [1, null], [{}], [[1]], ['abc'], [1, 'NaN'], [0, 'Infinity']];
    case 'strlist':
      return ['x', 1, true, {}, [1], ['a', 2], [null], [{}], [['a']]];
    case 'tsint':
      return [1.5, -0.25, '5', 'abc', true, false, {}, [], [1]];
    case 'dq':
      return [0, 1, 'x', true, false, [], [1]];
  }
}

/** Non-finite JSON "numbers" that are not JSON at all: the body is malformed (api.md 400). */
export const NON_FINITE_TOKENS = ['NaN', 'Infinity', '-Infinity', '+Infinity', 'nan', 'inf', '-NaN'] as const;
/** Valid JSON numbers that overflow to ±Infinity: valid JSON, refused by the schema (422). */
export const OVERFLOW_TOKENS = ['1e400', '-1e400', '1e309', '-2e308', '9e999', '1.7976931348623159e308', '123456789e305'] as const;

// ---------------------------------------------------------------------------------------------------
// Routes (docs/api.md "Endpoints"; protocol.md "HTTP")
// ---------------------------------------------------------------------------------------------------

export interface RouteSpec {
  /** the exact path, or a pattern for the ones with a path parameter */
  path: string | RegExp;
  methods: readonly string[];
  ops: boolean;
  /** a concrete path for requests */
  sample: string;
}

export const ROUTE_SPECS: readonly RouteSpec[] = [
  { path: '/', methods: ['GET'], ops: false, sample: '/' },
  { path: '/pretrade/check', methods: ['POST'], ops: false, sample: '/pretrade/check' },
  { path: '/posttrade/log', methods: ['POST'], ops: false, sample: '/posttrade/log' },
  { path: '/health', methods: ['GET'], ops: false, sample: '/health' },
  { path: '/version', methods: ['GET'], ops: false, sample: '/version' },
  { path: '/metrics', methods: ['GET', 'HEAD'], ops: false, sample: '/metrics' },
  { path: '/metrics/', methods: ['GET', 'HEAD'], ops: false, sample: '/metrics/' },
  { path: '/openapi.json', methods: ['GET'], ops: false, sample: '/openapi.json' },
  { path: '/predict', methods: ['POST'], ops: false, sample: '/predict' },
  { path: '/ws', methods: ['GET'], ops: false, sample: '/ws' },
  { path: '/liveness', methods: ['GET'], ops: true, sample: '/liveness' },
  { path: '/readiness', methods: ['GET'], ops: true, sample: '/readiness' },
  { path: /^\/ops\/cooloff\/[^/]+$/, methods: ['POST'], ops: true, sample: '/ops/cooloff/5' },
  { path: '/ops/reset', methods: ['POST'], ops: true, sample: '/ops/reset' },
  { path: /^\/aurora\/[^/]+$/, methods: ['POST'], ops: true, sample: '/aurora/arm' },
  { path: '/risk/snapshot', methods: ['GET'], ops: true, sample: '/risk/snapshot' },
  { path: '/risk/set', methods: ['POST'], ops: true, sample: '/risk/set' },
  { path: '/ops/rotate_token', methods: ['POST'], ops: true, sample: '/ops/rotate_token' },
  { path: '/ops/limits', methods: ['GET', 'POST'], ops: true, sample: '/ops/limits' },
  { path: '/ops/trading_state', methods: ['POST'], ops: true, sample: '/ops/trading_state' },
];

/** The documented route a request path (query string ignored) belongs to, if any. */
export function routeOf(pathWithQuery: string): RouteSpec | undefined {
  const q = pathWithQuery.indexOf('?');
  const path = q >= 0 ? pathWithQuery.slice(0, q) : pathWithQuery;
  return ROUTE_SPECS.find((r) => (typeof r.path === 'string' ? r.path === path : r.path.test(path)));
}

/** Documented status for each error code (docs/api.md "Errors"). */
export const ERROR_STATUS: Readonly<Record<string, number>> = {
  malformed_json: 400,
  invalid_utf8: 400,
  invalid_mode: 400,
  invalid_token: 400,
  cooloff_too_long: 400,
  invalid_envelope: 400,
  unknown_op: 400,
  binary_frame: 400,
  missing_token: 401,
  ops_token_not_configured: 401,
  runner_token_required: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  body_too_large: 413,
  unsupported_media_type: 415,
  upgrade_required: 426,
  invalid_request: 422,
  rotation_cooldown: 429,
  auth_rate_limited: 429,
  overloaded: 503,
  worker_failed: 503,
  shutting_down: 503,
  journal_unavailable: 503,
  model_unavailable: 503,
};

// ---------------------------------------------------------------------------------------------------
// Content types (docs/api.md: JSON, a missing Content-Type is accepted as JSON; anything else 415)
// ---------------------------------------------------------------------------------------------------

export const JSON_CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8', 'application/vnd.api+json', 'application/problem+json'];
export const NON_JSON_CONTENT_TYPES = [
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  'image/png',
  'application/jsonp',
  'application/json-patch',
  'application/jsonx',
  'application/x-ndjson',
  'text/csv',
  'json',
  'application',
  '*/*',
];

// ---------------------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------------------

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Why a value is not the error envelope of protocol.md (`{"error":{"code","message","details"?}}`), or null. */
export function errorShapeProblem(v: unknown): string | null {
  if (!isObj(v)) return 'not a JSON object';
  const keys = Object.keys(v);
  if (keys.length !== 1 || keys[0] !== 'error') return `top-level keys ${JSON.stringify(keys)} (want only "error")`;
  const e = v.error;
  if (!isObj(e)) return 'error is not an object';
  if (typeof e.code !== 'string' || !/^[a-z][a-z0-9_]*$/.test(e.code)) return `code ${JSON.stringify(e.code)} is not stable snake_case`;
  if (typeof e.message !== 'string' || e.message.length === 0) return 'message is not a non-empty string';
  for (const k of Object.keys(e)) if (!['code', 'message', 'details'].includes(k)) return `unexpected error key ${k}`;
  if (e.code === 'invalid_request') {
    if (!Array.isArray(e.details) || e.details.length === 0 || e.details.length > 21) return 'invalid_request without 1..20 (+1) details';
    for (const d of e.details) if (!isObj(d) || typeof d.path !== 'string' || typeof d.message !== 'string') return `a detail is not {path, message}: ${JSON.stringify(d)}`;
  }
  return null;
}

const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** Why a value is not a PretradeCheckResponse (gate.md 1.5, 1.6; service.md 2.2), or null. */
export function decisionProblem(v: unknown): string | null {
  if (!isObj(v)) return 'not a JSON object';
  const want = ['allow', 'max_qty', 'risk_scale', 'cooldown_ms', 'reason', 'hard_gate', 'quotas', 'observability'];
  for (const k of want) if (!(k in v)) return `missing ${k}`;
  if (typeof v.allow !== 'boolean') return 'allow is not a boolean';
  if (!isNum(v.max_qty) || (v.max_qty as number) < 0) return 'max_qty is not a finite number >= 0';
  if (!isNum(v.risk_scale) || (v.risk_scale as number) < 0 || (v.risk_scale as number) > 1) return 'risk_scale is not in [0, 1]';
  if (!Number.isInteger(v.cooldown_ms) || (v.cooldown_ms as number) < 0) return 'cooldown_ms is not an integer >= 0';
  if (typeof v.reason !== 'string' || v.reason.length === 0) return 'reason is not a non-empty string';
  if (v.allow === true && v.reason !== 'ok') return `allowed with reason ${v.reason}`;
  if (v.allow === false && v.reason === 'ok') return 'denied with reason ok';
  if (typeof v.hard_gate !== 'boolean') return 'hard_gate is not a boolean';
  const q = v.quotas;
  if (!isObj(q) || q.trades_pm_left !== 999 || q.symbol_exposure_left_usdt !== 1e12) return `quotas ${JSON.stringify(q)}`;
  const o = v.observability;
  if (!isObj(o)) return 'observability is not an object';
  if (!Array.isArray(o.reasons) || !o.reasons.every((r) => typeof r === 'string')) return 'observability.reasons is not a list of strings';
  if ('gate_state' in o && o.gate_state !== (v.allow ? 'PASS' : 'BLOCK')) return `gate_state ${String(o.gate_state)} with allow ${String(v.allow)}`;
  return null;
}

/** A WebSocket reply envelope (protocol.md "WebSocket"): its problem, or null. */
export function wsReplyProblem(v: unknown): string | null {
  if (!isObj(v)) return 'not a JSON object';
  if (!('id' in v)) return 'no id';
  if (!(v.id === null || typeof v.id === 'string' || Number.isSafeInteger(v.id))) return `id ${JSON.stringify(v.id)}`;
  if (v.ok === true) {
    if (v.id === null) return 'ok with id null';
    if (!('body' in v)) return 'ok without body';
    return Object.keys(v).every((k) => ['id', 'ok', 'body'].includes(k)) ? null : `keys ${Object.keys(v).join(',')}`;
  }
  if (v.ok !== false) return `ok ${JSON.stringify(v.ok)}`;
  if (!Object.keys(v).every((k) => ['id', 'ok', 'error'].includes(k))) return `keys ${Object.keys(v).join(',')}`;
  return errorShapeProblem({ error: v.error });
}

/** Nesting depth of a JSON value (a scalar is 0). */
export function depth(v: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[v, 0]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    const dd = d + 1;
    if (dd > max) max = dd;
    for (const c of Object.values(x as object)) stack.push([c, dd]);
  }
  return max;
}

/** Strict UTF-8 check (independent of the gate's: WHATWG decoder in fatal mode). */
const STRICT = new TextDecoder('utf-8', { fatal: true });
export function isValidUtf8(b: Uint8Array): boolean {
  try {
    STRICT.decode(b);
    return true;
  } catch {
    return false;
  }
}
