import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';
import { WsClient } from '../helpers/ws.ts';

/**
 * Bad input over HTTP and over the WebSocket (protocol.md errors, service.md D-4/D-8/D-36,
 * docs/decisions.md): every case gets a JSON 4xx with a stable `error.code` (or the WebSocket error
 * envelope), the process keeps serving, and nothing changes: the HealthGuard sample count (read from
 * the `/ops/reset` snapshot, which keeps samples) and the live risk limits are the same before and after
 * each case, and at the end the journal holds exactly one POLICY.DECISION per answered check.
 * Run at pool size 1 (worker threads) and 0 (inline): the two paths parse requests in different places.
 */

const TOKEN = 'bad-input-ops-token-0123456789abcdef';
const OPS = { 'X-OPS-TOKEN': TOKEN };
const JSON_CT = { 'Content-Type': 'application/json' };

const clean = () => ({
  account: { mode: 'testnet' },
  order: { symbol: 'BTCUSDT', side: 'buy', qty: 0.5, price: 50000, base_notional: 100 },
  market: { latency_ms: 5, score: 0.5, a_bps: 5, b_bps: 10, slip_bps_est: 1, spread_bps: 3 } as Record<string, unknown>,
});
/** The clean body with one change made by `edit`. */
const withEdit = (edit: (b: ReturnType<typeof clean> & Record<string, unknown>) => void) => {
  const b = clean() as ReturnType<typeof clean> & Record<string, unknown>;
  edit(b);
  return JSON.stringify(b);
};
/** The clean body's JSON with `"latency_ms":5` replaced by a literal (NaN, 1e400, ...). */
const latencyLiteral = (lit: string) => JSON.stringify(clean()).replace('"latency_ms":5', `"latency_ms":${lit}`);
/** The clean body with the bytes FF FE inside the symbol string ("BTC\xff\xfeUSDT"). */
const badUtf8InString = () => {
  const [head, tail] = JSON.stringify(clean()).split('"BTCUSDT"');
  return Buffer.concat([Buffer.from(`${head}"BTC`), Buffer.from([0xff, 0xfe]), Buffer.from(`USDT"${tail}`)]);
};
/** `depth` levels of objects around a number: nested(1) = {"a":1}, depth 1 (src/gate/service.ts depthExceeds). */
const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
/** D-8: a post-trade record nests at most 32 levels (MAX_DEPTH in src/gate/service.ts); the reply for one deeper. */
const POST_DEPTH_ERROR = {
  code: 'invalid_request',
  message: 'the post-trade record is nested deeper than 32 levels',
  details: [{ path: '(body)', message: 'must nest at most 32 levels' }],
};
/** A post-trade record of exactly `levels` levels: the record object is level 1, its `meta` value the rest. */
const deepRecord = (levels: number) => `{"symbol":"BTCUSDT","qty":1,"price":100,"meta":${nested(levels - 1)}}`;

interface RawResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

/** One HTTP request with byte-exact control (no default headers beyond Host/Content-Length). */
function rawHttp(base: string, method: string, path: string, headers: Record<string, string>, body?: Buffer, chunked = false): Promise<RawResult> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    let answered = false;
    const h: Record<string, string> = { ...headers };
    if (body !== undefined && !chunked) h['Content-Length'] = String(body.length);
    if (chunked) h['Transfer-Encoding'] = 'chunked';
    const req = request({ host: u.hostname, port: u.port, method, path, headers: h, agent: false }, (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', (e) => reject(e));
    });
    req.on('error', (e) => {
      // a 413 may be answered (and the socket closed) while we are still sending: keep the answer
      if (!answered) reject(e);
    });
    if (body !== undefined) {
      if (chunked) {
        for (let i = 0; i < body.length; i += 8192) req.write(body.subarray(i, i + 8192));
      } else req.write(body);
    }
    req.end();
  });
}

interface HttpCase {
  name: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  chunked?: boolean;
  status: number;
  /** the expected error.code; a list when more than one is acceptable */
  code?: string | string[];
  /** a field path `error.details` must name (prefix match) */
  field?: string;
  /** the whole `error` object, exactly */
  error?: unknown;
  allow?: string;
  /** the request is valid: the check is decided (200, allowed) */
  accepted?: boolean;
}

const PRE = '/pretrade/check';
const POST = '/posttrade/log';
const big = (n: number) => JSON.stringify({ ...clean(), pad: 'x'.repeat(n) });

const HTTP_CASES: HttpCase[] = [
  // JSON syntax (400)
  { name: 'malformed JSON', body: '{account: {}, order: {}, market: {}}', status: 400, code: 'malformed_json' },
  { name: 'truncated JSON', body: JSON.stringify(clean()).slice(0, -7), status: 400, code: 'malformed_json' },
  { name: 'NaN literal', body: latencyLiteral('NaN'), status: 400, code: 'malformed_json' },
  { name: 'Infinity literal', body: latencyLiteral('Infinity'), status: 400, code: 'malformed_json' },
  { name: '-Infinity literal', body: latencyLiteral('-Infinity'), status: 400, code: 'malformed_json' },
  { name: 'trailing garbage', body: JSON.stringify(clean()) + ' x', status: 400, code: 'malformed_json' },
  // shape (422)
  { name: 'empty body', body: '', status: 422, code: 'invalid_request', field: '(body)' },
  { name: 'JSON array body', body: '[1,2,3]', status: 422, code: 'invalid_request', field: '(body)' },
  { name: 'JSON string body', body: '"check"', status: 422, code: 'invalid_request', field: '(body)' },
  { name: 'JSON number body', body: '42', status: 422, code: 'invalid_request', field: '(body)' },
  { name: 'JSON null body', body: 'null', status: 422, code: 'invalid_request', field: '(body)' },
  { name: 'missing account', body: withEdit((b) => delete (b as Partial<typeof b>).account), status: 422, code: 'invalid_request', field: 'account' },
  { name: 'missing order', body: withEdit((b) => delete (b as Partial<typeof b>).order), status: 422, code: 'invalid_request', field: 'order' },
  { name: 'missing market', body: withEdit((b) => delete (b as Partial<typeof b>).market), status: 422, code: 'invalid_request', field: 'market' },
  // types (422 with the field path)
  { name: 'account "x"', body: withEdit((b) => (b.account = 'x' as never)), status: 422, code: 'invalid_request', field: 'account' },
  { name: 'market.latency_ms "fast"', body: withEdit((b) => (b.market.latency_ms = 'fast')), status: 422, code: 'invalid_request', field: 'market.latency_ms' },
  { name: 'trap delta "x"', body: withEdit((b) => Object.assign(b.market, { trap_cancel_deltas: ['x'], trap_add_deltas: [1], trap_trades_cnt: 1 })), status: 422, code: 'invalid_request', field: 'market.trap_cancel_deltas' },
  { name: 'obi_sign "x"', body: withEdit((b) => (b.market.obi_sign = 'x')), status: 422, code: 'invalid_request', field: 'market.obi_sign' },
  { name: 'fees_bps "abc"', body: withEdit((b) => (b.fees_bps = 'abc')), status: 422, code: 'invalid_request', field: 'fees_bps' },
  { name: 'risk_tags 5', body: withEdit((b) => (b.risk_tags = 5)), status: 422, code: 'invalid_request', field: 'risk_tags' },
  { name: 'qty -1', body: withEdit((b) => (b.order.qty = -1)), status: 422, code: 'invalid_request', field: 'order.qty' },
  { name: 'qty "abc"', body: withEdit((b) => (b.order.qty = 'abc' as never)), status: 422, code: 'invalid_request', field: 'order.qty' },
  { name: 'qty "-1" (negative numeric string)', body: withEdit((b) => (b.order.qty = '-1' as never)), status: 422, code: 'invalid_request', field: 'order.qty' },
  { name: '1e400 in market.latency_ms', body: latencyLiteral('1e400'), status: 422, code: 'invalid_request', field: 'market.latency_ms' },
  { name: '-1e400 in market.latency_ms', body: latencyLiteral('-1e400'), status: 422, code: 'invalid_request', field: 'market.latency_ms' },
  { name: '1e400 in order.qty', body: JSON.stringify(clean()).replace('"qty":0.5', '"qty":1e400'), status: 422, code: 'invalid_request', field: 'order.qty' },
  { name: '"1e400" numeric string in market.score', body: withEdit((b) => (b.market.score = '1e400')), status: 422, code: 'invalid_request', field: 'market.score' },
  { name: 'numeric string "5" is fine', body: withEdit((b) => (b.market.latency_ms = '5')), status: 200, accepted: true },
  { name: 'no Content-Type is accepted as JSON', headers: {}, body: JSON.stringify(clean()), status: 200, accepted: true },
  { name: 'application/json; charset=utf-8 is fine', headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify(clean()), status: 200, accepted: true },
  // limits (D-8)
  { name: 'body > 64 KiB (Content-Length)', body: big(70_000), status: 413, code: 'body_too_large' },
  { name: 'body > 64 KiB (chunked, no Content-Length)', body: big(70_000), chunked: true, status: 413, code: 'body_too_large' },
  { name: 'array of 10 001 elements', body: withEdit((b) => (b.market.sprt_samples = new Array(10_001).fill(0))), status: 422, code: 'invalid_request', field: 'market.sprt_samples' },
  { name: 'array of 10 000 elements is fine', body: withEdit((b) => (b.market.sprt_samples = new Array(10_000).fill(1))), status: 200, accepted: true },
  { name: 'string > 4 KiB in order.symbol', body: withEdit((b) => (b.order.symbol = 'S'.repeat(4097))), status: 422, code: 'invalid_request', field: 'order.symbol' },
  { name: 'string > 4 KiB in account.mode', body: withEdit((b) => (b.account.mode = 'm'.repeat(5000))), status: 422, code: 'invalid_request', field: 'account.mode' },
  // encoding and media type
  {
    name: 'invalid UTF-8 inside a JSON string',
    body: badUtf8InString(),
    status: 400,
    code: ['invalid_utf8', 'malformed_json'],
  },
  { name: 'invalid UTF-8 between tokens', body: Buffer.concat([Buffer.from('{"account":{}, '), Buffer.from([0xc3, 0x28]), Buffer.from('"order":{},"market":{}}')]), status: 400, code: ['invalid_utf8', 'malformed_json'] },
  { name: 'text/plain', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(clean()), status: 415, code: 'unsupported_media_type' },
  { name: 'application/x-www-form-urlencoded', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a=1', status: 415, code: 'unsupported_media_type' },
  // post-trade
  { name: 'posttrade: nesting 101 levels', path: POST, body: `{"symbol":"BTCUSDT","meta":${nested(100)}}`, status: 422, code: 'invalid_request', error: POST_DEPTH_ERROR },
  { name: 'posttrade: 33 levels (one over the limit)', path: POST, body: deepRecord(33), status: 422, code: 'invalid_request', error: POST_DEPTH_ERROR },
  { name: 'posttrade: 33 levels of arrays', path: POST, body: `{"symbol":"BTCUSDT","meta":${'['.repeat(32)}1${']'.repeat(32)}}`, status: 422, code: 'invalid_request', error: POST_DEPTH_ERROR },
  { name: 'posttrade: 33 levels as the whole body', path: POST, body: nested(33), status: 422, code: 'invalid_request', error: POST_DEPTH_ERROR },
  { name: 'posttrade: JSON array', path: POST, body: '[{"symbol":"BTCUSDT"}]', status: 422, code: 'invalid_request' },
  { name: 'posttrade: malformed JSON', path: POST, body: '{"symbol":', status: 400, code: 'malformed_json' },
  { name: 'posttrade: empty body', path: POST, body: '', status: 422, code: 'invalid_request' },
  {
    name: 'posttrade: invalid UTF-8 inside a string',
    path: POST,
    body: Buffer.concat([Buffer.from('{"symbol":"ETH'), Buffer.from([0xff]), Buffer.from('USDT","side":"buy","status":"filled","filled":1,"qty":1,"order_id":"utf8-1"}')]),
    status: 400,
    code: ['invalid_utf8', 'malformed_json'],
  },
  { name: 'posttrade: text/plain', path: POST, headers: { 'Content-Type': 'text/plain' }, body: '{}', status: 415, code: 'unsupported_media_type' },
  // routing
  { name: 'unknown path', method: 'GET', path: '/nope', status: 404, code: 'not_found' },
  { name: 'unknown path near a route', method: 'POST', path: '/pretrade/checks', body: JSON.stringify(clean()), status: 404, code: 'not_found' },
  { name: 'GET /pretrade/check', method: 'GET', path: PRE, headers: {}, status: 405, code: 'method_not_allowed', allow: 'POST' },
  { name: 'PUT /posttrade/log', method: 'PUT', path: POST, body: '{}', status: 405, code: 'method_not_allowed', allow: 'POST' },
  { name: 'DELETE /health', method: 'DELETE', path: '/health', headers: {}, status: 405, code: 'method_not_allowed', allow: 'GET' },
  { name: 'GET /ops/reset', method: 'GET', path: '/ops/reset', headers: OPS, status: 405, code: 'method_not_allowed', allow: 'POST' },
  { name: 'unknown ops path (with token)', method: 'POST', path: '/ops/unknown', headers: OPS, status: 404, code: 'not_found' },
  { name: 'unknown ops path below cooloff', method: 'POST', path: '/ops/cooloff/5/extra', headers: OPS, status: 404, code: 'not_found' },
  // ops: path and body validation (with the token), auth first (without)
  { name: '/ops/cooloff/abc with token', method: 'POST', path: '/ops/cooloff/abc', headers: OPS, status: 422, code: 'invalid_request', field: 'sec' },
  { name: '/ops/cooloff/1.5 with token', method: 'POST', path: '/ops/cooloff/1.5', headers: OPS, status: 422, code: 'invalid_request', field: 'sec' },
  { name: '/ops/cooloff/abc without token', method: 'POST', path: '/ops/cooloff/abc', headers: {}, status: 401 },
  { name: '/ops/cooloff/abc with a wrong token', method: 'POST', path: '/ops/cooloff/abc', headers: { 'X-OPS-TOKEN': 'wrong-token-0123456789abcdefgh' }, status: 403 },
  { name: '/aurora/toggle', method: 'POST', path: '/aurora/toggle', headers: OPS, status: 400, code: 'invalid_mode' },
  ...(
    [
      ['dd_day_pct 0', '{"dd_day_pct":0}', 'dd_day_pct'],
      ['dd_day_pct 150', '{"dd_day_pct":150}', 'dd_day_pct'],
      ['dd_day_pct -5', '{"dd_day_pct":-5}', 'dd_day_pct'],
      ['dd_day_pct "x"', '{"dd_day_pct":"x"}', 'dd_day_pct'],
      ['dd_day_pct 1e400', '{"dd_day_pct":1e400}', 'dd_day_pct'],
      ['max_concurrent -1', '{"max_concurrent":-1}', 'max_concurrent'],
      ['max_concurrent 2.5', '{"max_concurrent":2.5}', 'max_concurrent'],
      ['size_scale "x"', '{"size_scale":"x"}', 'size_scale'],
      ['size_scale 1e400', '{"size_scale":1e400}', 'size_scale'],
      ['a valid dd_day_pct with an invalid max_concurrent', '{"dd_day_pct":5,"max_concurrent":-1}', 'max_concurrent'],
      ['a valid size_scale with an invalid dd_day_pct', '{"size_scale":0,"dd_day_pct":0}', 'dd_day_pct'],
      ['array body', '[]', '(body)'],
      ['empty body', '', '(body)'],
    ] as const
  ).map(([what, body, field]): HttpCase => ({ name: `/risk/set ${what}`, method: 'POST', path: '/risk/set', headers: { ...OPS, ...JSON_CT }, body, status: 422, code: 'invalid_request', field })),
  { name: '/risk/set malformed JSON', method: 'POST', path: '/risk/set', headers: { ...OPS, ...JSON_CT }, body: '{"size_scale":', status: 400, code: 'malformed_json' },
  { name: '/risk/set text/plain', method: 'POST', path: '/risk/set', headers: { ...OPS, 'Content-Type': 'text/plain' }, body: '{"size_scale":0}', status: 415, code: 'unsupported_media_type' },
  ...(
    [
      ['empty', '{"new_token":""}', 400, 'invalid_token'],
      ['whitespace only', '{"new_token":"      "}', 400, 'invalid_token'],
      ['short', '{"new_token":"short-token"}', 400, 'invalid_token'],
      ['23 characters', `{"new_token":"${'t'.repeat(23)}"}`, 400, 'invalid_token'],
      ['whitespace inside', '{"new_token":"abcdefghijkl mnopqrstuvwxyz0123"}', 400, 'invalid_token'],
      ['a tab inside', '{"new_token":"abcdefghijkl\\tmnopqrstuvwxyz0123"}', 400, 'invalid_token'],
      ['missing field', '{}', 422, 'invalid_request'],
      ['the alias key "new"', '{"new":"abcdefghijklmnopqrstuvwxyz0123"}', 422, 'invalid_request'],
      ['a number', '{"new_token":123456789012345678901234567890}', 422, 'invalid_request'],
    ] as const
  ).map(([what, body, status, code]): HttpCase => ({ name: `/ops/rotate_token ${what}`, method: 'POST', path: '/ops/rotate_token', headers: { ...OPS, ...JSON_CT }, body, status, code })),
];

/** Prometheus text -> value of one series (labels matched exactly, in any order). */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const kv of (m[2] ?? '').split(',').filter(Boolean)) {
      const [k, v] = kv.split('=');
      have[k] = v.replace(/^"|"$/g, '');
    }
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  return total;
}

for (const threads of [1, 0]) {
  describe(`bad input, pool size ${threads}`, () => {
    let gate: TestGate;
    let stopped = false;
    /** pre-trade checks answered 200 (HTTP and WebSocket): each must have one POLICY.DECISION */
    let decided = 0;
    let invalidAtStart = 0;
    /** 400/422 answers to pretrade/posttrade that aurora_invalid_requests_total did not count */
    const uncounted: string[] = [];

    const samples = async (): Promise<number> => {
      const r = await http(gate.url + '/ops/reset', 'POST', { headers: OPS });
      expect(r.status, r.text).toBe(200);
      return (r.json as { state: { samples: number } }).state.samples;
    };
    const risk = async (): Promise<string> => {
      const r = await http(gate.url + '/risk/snapshot', 'GET', { headers: OPS });
      expect(r.status, r.text).toBe(200);
      return r.text;
    };
    const metrics = async (): Promise<string> => (await http(gate.url + '/metrics', 'GET')).text;
    const cleanCheckAllowed = async () => {
      const r = await http(gate.url + PRE, 'POST', { body: clean() });
      expect(r.status, r.text).toBe(200);
      expect((r.json as { allow: boolean }).allow, r.text).toBe(true);
      decided++;
    };

    beforeAll(async () => {
      gate = await startTestGate({ OPS_TOKEN: TOKEN, AURORA_POOL_THREADS: String(threads) });
      invalidAtStart = metric(await metrics(), 'aurora_invalid_requests_total');
      await cleanCheckAllowed();
    });
    afterAll(async () => {
      if (!stopped) await gate?.stop();
    });

    describe('HTTP', () => {
      for (const c of HTTP_CASES) {
        it(`${c.name} -> ${c.status}${c.code === undefined ? '' : ` ${[c.code].flat().join('|')}`}`, async () => {
          const s0 = await samples();
          const r0 = await risk();
          const method = c.method ?? 'POST';
          const path = c.path ?? PRE;
          const route = path === PRE || path === POST ? path : null;
          const m0 = route === null ? '' : await metrics();
          const body = c.body === undefined ? undefined : Buffer.isBuffer(c.body) ? c.body : Buffer.from(c.body, 'utf8');
          const headers = c.headers ?? (body === undefined ? {} : JSON_CT);
          const r = await rawHttp(gate.url, method, path, headers, body, c.chunked);
          if (path === PRE && r.status === 200) decided++; // whether expected or not: the journal check counts it

          expect(r.status, r.text.slice(0, 300)).toBe(c.status);
          expect(String(r.headers['content-type']), 'a JSON reply').toMatch(/^application\/json/);
          expect(r.json, `JSON body: ${r.text.slice(0, 200)}`).toBeTypeOf('object');
          if (c.accepted) {
            expect((r.json as { allow: boolean }).allow, r.text).toBe(true);
            expect(await samples()).toBe(s0 + 1);
            return;
          }
          const err = (r.json as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
          expect(err, `error envelope: ${r.text.slice(0, 200)}`).toBeTypeOf('object');
          expect(err!.code).toMatch(/^[a-z][a-z0-9_]*$/);
          expect(err!.message).toBeTypeOf('string');
          if (c.code !== undefined) expect([c.code].flat()).toContain(err!.code);
          if (c.field !== undefined) {
            const paths = Array.isArray(err!.details) ? (err!.details as Array<{ path: string }>).map((d) => d.path) : [];
            expect(
              paths.some((p) => p === c.field || p.startsWith(`${c.field}.`)),
              `details name ${c.field}: ${JSON.stringify(err!.details)}`,
            ).toBe(true);
          }
          if (c.error !== undefined) expect(err).toEqual(c.error);
          if (c.allow !== undefined) expect(r.headers.allow).toBe(c.allow);
          // nothing changed: no HealthGuard sample, same risk limits, the token still the same
          expect(await samples()).toBe(s0);
          expect(await risk()).toBe(r0);
          // counted in metrics (protocol.md): per route and status; 400/422 also as invalid requests
          if (route !== null) {
            const m1 = await metrics();
            expect(metric(m1, 'aurora_http_requests_total', { route, status: String(c.status) }) - metric(m0, 'aurora_http_requests_total', { route, status: String(c.status) })).toBe(1);
            if (c.status === 400 || c.status === 422) {
              // asserted for all cases at once below, so one gap does not hide the status checks
              const delta = metric(m1, 'aurora_invalid_requests_total') - metric(m0, 'aurora_invalid_requests_total');
              if (delta !== 1) uncounted.push(`${c.name} (${r.status} ${err!.code}): +${delta}`);
            }
          }
        });
      }

      // D-8 limits nesting only for post-trade records; a check keeps unknown market keys (gate.md 1.4), so a
      // 100-level value under one is no reason to refuse it: decided like the clean body (allowed, one sample)
      it('pretrade: nesting 100 levels in an unknown market key -> 200, decided like the clean body', async () => {
        const s0 = await samples();
        const body = JSON.stringify(clean()).replace('"market":{', `"market":{"deep":${nested(100)},`);
        const r = await rawHttp(gate.url, 'POST', PRE, JSON_CT, Buffer.from(body));
        if (r.status === 200) decided++;
        expect(r.status, r.text.slice(0, 300)).toBe(200);
        expect(r.json).toMatchObject({ allow: true, reason: 'ok' });
        expect(await samples()).toBe(s0 + 1);
      });

      // the boundary of MAX_DEPTH = 32: 32 levels are taken, 33 are not (the 422s are cases above)
      for (const [what, body] of [
        ['a record of 32 levels (meta 31 deep)', deepRecord(32)],
        ['32 levels of arrays', `{"symbol":"BTCUSDT","meta":${'['.repeat(31)}1${']'.repeat(31)}}`],
        ['32 levels as the whole body', nested(32)],
      ] as const) {
        it(`posttrade: ${what} -> 200 {"status":"ok"}`, async () => {
          const r = await rawHttp(gate.url, 'POST', POST, JSON_CT, Buffer.from(body));
          expect(r.status, r.text.slice(0, 300)).toBe(200);
          expect(r.json).toEqual({ status: 'ok' });
        });
      }

      it('the rejected rotations left the token as it was', async () => {
        expect((await http(gate.url + '/liveness', 'GET', { headers: OPS })).status).toBe(200);
        expect((await http(gate.url + '/liveness', 'GET', { headers: { 'X-OPS-TOKEN': 'abcdefghijklmnopqrstuvwxyz0123' } })).status).toBe(403);
      });
    });

    describe('WebSocket', () => {
      let ws: WsClient;
      beforeAll(async () => {
        ws = await WsClient.connect(gate.url);
      });
      afterAll(async () => {
        await ws?.close();
      });

      /** Did aurora_invalid_requests_total count the rejected frame? (collected, asserted below) */
      const uncountedWs: string[] = [];
      const countedAround = async (what: string, fn: () => Promise<void>) => {
        const before = metric(await metrics(), 'aurora_invalid_requests_total');
        await fn();
        const delta = metric(await metrics(), 'aurora_invalid_requests_total') - before;
        if (delta !== 1) uncountedWs.push(`${what}: +${delta}`);
      };

      /** A frame that gets an error reply not matched to an id: `{"id":null,"ok":false,"error":…}`. */
      const nullIdError = (frame: string | Buffer, binary: boolean, code: string) => countedAround(`${code} ${String(frame).slice(0, 40)}`, () => nullIdErrorUncounted(frame, binary, code));
      const nullIdErrorUncounted = async (frame: string | Buffer, binary: boolean, code: string) => {
        const s0 = await samples();
        await ws.sendRaw(frame, binary);
        const m = await ws.next();
        expect(m.binary).toBe(false);
        const j = m.json as { id: unknown; ok: unknown; error?: { code?: string; message?: string } };
        expect(j, m.text).toMatchObject({ id: null, ok: false });
        expect(Object.keys(j).sort()).toEqual(['error', 'id', 'ok']);
        expect(j.error?.code).toBe(code);
        expect(j.error?.message).toBeTypeOf('string');
        expect(ws.isOpen).toBe(true);
        expect(await samples()).toBe(s0);
      };
      /** A frame with a usable id whose request fails: `{"id":<id>,"ok":false,"error":…}`. */
      const idError = (text: string, id: string | number, code: string, field?: string) => countedAround(`${code} ${text.slice(0, 40)}`, () => idErrorUncounted(text, id, code, field));
      const idErrorUncounted = async (text: string, id: string | number, code: string, field?: string) => {
        const s0 = await samples();
        const env = await ws.requestText(text, id);
        expect(env.id).toBe(id);
        expect(env.ok, env.text).toBe(false);
        expect('body' in env).toBe(false);
        expect(env.error?.code, env.text).toBe(code);
        if (field !== undefined) {
          const paths = ((env.error?.details as Array<{ path: string }> | undefined) ?? []).map((d) => d.path);
          expect(paths.some((p) => p === field || p.startsWith(`${field}.`)), JSON.stringify(env.error)).toBe(true);
        }
        expect(ws.isOpen).toBe(true);
        expect(await samples()).toBe(s0);
      };

      it('a non-JSON frame -> id null malformed_json, and the connection still answers', async () => {
        await nullIdError('hello, gate', false, 'malformed_json');
        const env = await ws.request('pretrade.check', clean(), 'after-garbage');
        expect(env.ok, env.text).toBe(true);
        expect((env.body as { allow: boolean }).allow).toBe(true);
        decided++;
      });
      it('a truncated envelope -> id null malformed_json', () => nullIdError('{"id":"t1","op":"pretrade.check","body":{"acc', false, 'malformed_json'));
      it('a NaN literal in a frame -> id null malformed_json', () => nullIdError(`{"id":"n1","op":"pretrade.check","body":${latencyLiteral('NaN')}}`, false, 'malformed_json'));
      it('a frame without id -> id null invalid_envelope', () => nullIdError(JSON.stringify({ op: 'pretrade.check', body: clean() }), false, 'invalid_envelope'));
      it('id null -> invalid_envelope', () => nullIdError(JSON.stringify({ id: null, op: 'ping' }), false, 'invalid_envelope'));
      it('id of type object -> id null invalid_envelope', () => nullIdError(JSON.stringify({ id: { a: 1 }, op: 'ping' }), false, 'invalid_envelope'));
      it('id of type array -> id null invalid_envelope', () => nullIdError(JSON.stringify({ id: [1], op: 'ping' }), false, 'invalid_envelope'));
      it('id 1.5 (not an integer) -> id null invalid_envelope', () => nullIdError('{"id":1.5,"op":"ping"}', false, 'invalid_envelope'));
      it('id true -> id null invalid_envelope', () => nullIdError('{"id":true,"op":"ping"}', false, 'invalid_envelope'));
      it('id of 300 characters -> id null invalid_envelope', () => nullIdError(JSON.stringify({ id: 'i'.repeat(300), op: 'ping' }), false, 'invalid_envelope'));
      it('a JSON array frame -> id null invalid_envelope', () => nullIdError('[{"id":"a","op":"ping"}]', false, 'invalid_envelope'));
      it('a JSON string frame -> id null invalid_envelope', () => nullIdError('"ping"', false, 'invalid_envelope'));
      it('a binary frame -> id null binary_frame', () => nullIdError(Buffer.from(JSON.stringify({ id: 'b1', op: 'ping' })), true, 'binary_frame'));
      it('an unknown op -> unknown_op with the id', () => idError(JSON.stringify({ id: 'u1', op: 'pretrade.cheque', body: clean() }), 'u1', 'unknown_op'));
      it('no op -> unknown_op with the id', () => idError(JSON.stringify({ id: 'u2', body: clean() }), 'u2', 'unknown_op'));
      it('pretrade.check without body -> invalid_request', () => idError(JSON.stringify({ id: 'm1', op: 'pretrade.check' }), 'm1', 'invalid_request', '(body)'));
      it('pretrade.check with latency_ms "fast" -> invalid_request naming the field', () =>
        idError(JSON.stringify({ id: 'm2', op: 'pretrade.check', body: JSON.parse(withEdit((b) => (b.market.latency_ms = 'fast'))) }), 'm2', 'invalid_request', 'market.latency_ms'));
      it('pretrade.check with 1e400 -> invalid_request naming the field', () => idError(`{"id":"m3","op":"pretrade.check","body":${latencyLiteral('1e400')}}`, 'm3', 'invalid_request', 'market.latency_ms'));
      it('pretrade.check with qty -1 -> invalid_request', () => idError(JSON.stringify({ id: 7, op: 'pretrade.check', body: JSON.parse(withEdit((b) => (b.order.qty = -1))) }), 7, 'invalid_request', 'order.qty'));
      it('posttrade.log with an array body -> invalid_request', () => idError(JSON.stringify({ id: 'p1', op: 'posttrade.log', body: [1] }), 'p1', 'invalid_request'));
      it('posttrade.log without body -> invalid_request', () => idError(JSON.stringify({ id: 'p2', op: 'posttrade.log' }), 'p2', 'invalid_request'));
      it('posttrade.log nested 101 levels -> the depth error with the id', async () => {
        await idError(`{"id":"p3","op":"posttrade.log","body":{"meta":${nested(100)}}}`, 'p3', 'invalid_request', '(body)');
        const env = await ws.requestText(`{"id":"p3b","op":"posttrade.log","body":${deepRecord(33)}}`, 'p3b');
        expect(JSON.parse(env.text)).toEqual({ id: 'p3b', ok: false, error: POST_DEPTH_ERROR });
      });
      it('posttrade.log of 32 levels -> ok', async () => {
        const env = await ws.requestText(`{"id":"p4","op":"posttrade.log","body":${deepRecord(32)}}`, 'p4');
        expect(JSON.parse(env.text)).toEqual({ id: 'p4', ok: true, body: { status: 'ok' } });
      });
      it('pretrade.check with 100 levels in an unknown market key -> ok, decided', async () => {
        const body = JSON.stringify(clean()).replace('"market":{', `"market":{"deep":${nested(100)},`);
        const env = await ws.requestText(`{"id":"c100","op":"pretrade.check","body":${body}}`, 'c100');
        if (env.ok === true) decided++;
        expect(env.ok, env.text.slice(0, 300)).toBe(true);
        expect(env.body).toMatchObject({ allow: true, reason: 'ok' });
      });

      it('every rejected frame was counted in aurora_invalid_requests_total (protocol.md: a failed request is counted)', () => {
        expect(uncountedWs).toEqual([]);
      });

      it('ping -> pong with the id (string and integer ids echoed verbatim)', async () => {
        const a = await ws.request('ping', undefined, 'ping-1');
        expect(a).toMatchObject({ id: 'ping-1', ok: true, body: { pong: true } });
        expect((a.body as { ts_ms: unknown }).ts_ms).toBeTypeOf('number');
        const b = await ws.request('ping', undefined, 42);
        expect(b).toMatchObject({ id: 42, ok: true });
        expect(b.text.startsWith('{"id":42,')).toBe(true);
      });

      it('a frame just under ws.max_payload_bytes is answered', async () => {
        const body = { ...clean(), market: { ...clean().market, note: 'n'.repeat(60_000) } };
        const env = await ws.request('pretrade.check', body, 'near-limit');
        expect(env.ok, env.text.slice(0, 200)).toBe(true);
        decided++;
      });

      it('invalid UTF-8 in a text frame: an error envelope or a closed connection, never a decision', async () => {
        const s0 = await samples();
        const side = await WsClient.connect(gate.url);
        const frame = Buffer.concat([Buffer.from('{"id":"u8","op":"pretrade.check","body":{"account":{},"order":{"symbol":"BTC'), Buffer.from([0xff]), Buffer.from('"},"market":{}}}')]);
        await side.sendRaw(frame, false);
        // either answer is acceptable: protocol.md (an error envelope, the connection stays open) or
        // RFC 6455 8.1 (fail the connection); a decision is not
        const m = await side.next(3000).catch(() => null);
        if (m !== null) {
          expect(m.json, m.text).toMatchObject({ id: null, ok: false });
          expect(side.isOpen).toBe(true);
          await side.close();
        } else {
          expect((await side.waitClosed(3000)).code).not.toBe(1000);
        }
        expect(await samples()).toBe(s0);
        expect((await ws.request('ping', undefined, 'still-here')).ok).toBe(true);
      });

      it('a frame larger than ws.max_payload_bytes gets body_too_large with its id, the connection stays open; the gate keeps serving', async () => {
        const victim = await WsClient.connect(gate.url);
        const s0 = await samples();
        const big = await victim.requestText(JSON.stringify({ id: 'huge', op: 'pretrade.check', body: { ...clean(), pad: 'x'.repeat(70_000) } }), 'huge');
        expect(big).toMatchObject({ id: 'huge', ok: false, error: { code: 'body_too_large' } });
        expect((await victim.request('ping', undefined, 'victim-after-huge')).ok).toBe(true);
        await victim.close();
        expect(await samples()).toBe(s0);
        // the other connection, a new connection and HTTP still work
        expect((await ws.request('ping', undefined, 'after-huge')).ok).toBe(true);
        const fresh = await WsClient.connect(gate.url);
        const env = await fresh.request('pretrade.check', clean(), 'fresh-1');
        expect(env.ok).toBe(true);
        decided++;
        await fresh.close();
        expect((await http(gate.url + '/health', 'GET')).status).toBe(200);
      });
    });

    describe('afterwards', () => {
      it('every 400/422 of /pretrade/check and /posttrade/log was counted in aurora_invalid_requests_total', () => {
        // the metric's help: "Requests rejected before deciding (400/422)"
        expect(uncounted).toEqual([]);
      });

      it('the gate is healthy, a clean check is allowed, and the invalid requests were counted', async () => {
        const h = await http(gate.url + '/health', 'GET');
        expect(h.status).toBe(200);
        expect((h.json as { status: string }).status).toBe('healthy');
        const s0 = await samples();
        await cleanCheckAllowed();
        expect(await samples()).toBe(s0 + 1);
        const invalid = metric(await metrics(), 'aurora_invalid_requests_total');
        const expectedAtLeast = HTTP_CASES.filter((c) => (c.path ?? PRE) === PRE || c.path === POST).filter((c) => c.status === 400 || c.status === 422).length;
        expect(invalid - invalidAtStart).toBeGreaterThanOrEqual(expectedAtLeast);
      });

      it('the journal holds exactly one POLICY.DECISION per answered check (none for a rejected request)', async () => {
        stopped = true;
        expect(await gate.stop()).toBe(true);
        const records = readFileSync(join(gate.sessionDir, 'aurora_events.jsonl'), 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as { event_code: string });
        expect(records.filter((r) => r.event_code === 'POLICY.DECISION').length).toBe(decided);
      });
    });
  });
}
