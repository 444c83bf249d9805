import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApi, openApiText } from '../../src/schema/openapi.ts';
import { PretradeCheckRequest } from '../../src/schema/pretrade.ts';
import { compileValidator } from '../../src/schema/validate.ts';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';
import { loadScenarios } from '../helpers/vectors.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkgVersion = (JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { version: string }).version;
const committedText = readFileSync(resolve(root, 'docs/openapi.json'), 'utf8');
const committed = JSON.parse(committedText) as any;

/** Every endpoint of docs/api.md ("method & path" column), as OpenAPI paths + methods. */
function apiMdEndpoints(): Array<[string, string]> {
  const md = readFileSync(resolve(root, 'docs/api.md'), 'utf8');
  const table = md.slice(md.indexOf('## Endpoints'), md.indexOf('## WebSocket'));
  const out: Array<[string, string]> = [];
  for (const line of table.split('\n')) {
    const cell = line.split('|')[1]?.trim() ?? '';
    const m = /^`(GET|POST|HEAD) ([^`]+)`(.*)$/.exec(cell);
    if (m === null) continue;
    const method = m[1].toLowerCase();
    let path = m[2].replace('{arm\\|disarm}', '{mode}');
    out.push([method, path]);
    // "`GET /metrics`, `/metrics/` (also HEAD)"
    for (const extra of m[3].matchAll(/`(\/[^`]*)`/g)) out.push([method, extra[1]]);
    if (m[3].includes('also HEAD')) for (const p of [path, ...[...m[3].matchAll(/`(\/[^`]*)`/g)].map((x) => x[1])]) out.push(['head', p]);
  }
  out.push(['get', '/ws']); // the WebSocket section
  return out;
}

const requestSchema = () => {
  const body = committed.paths['/pretrade/check'].post.requestBody.content['application/json'].schema;
  expect(body.$ref).toBe('#/components/schemas/PretradeCheckRequest');
  return committed.components.schemas.PretradeCheckRequest;
};

describe('OpenAPI document', () => {
  it('docs/openapi.json is exactly what buildOpenApi generates (cannot go stale)', () => {
    expect(committedText).toBe(openApiText(pkgVersion));
    expect(committed).toEqual(buildOpenApi(pkgVersion));
  });

  it('is structurally an OpenAPI 3.1 document covering every endpoint of docs/api.md', () => {
    expect(committed.openapi).toBe('3.1.0');
    expect(committed.info.version).toBe(pkgVersion);
    expect(committed.servers).toEqual([{ url: 'http://127.0.0.1:8037' }]);
    expect(committed.components.securitySchemes.opsToken).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-OPS-TOKEN' });
    const endpoints = apiMdEndpoints();
    expect(endpoints.length).toBeGreaterThanOrEqual(17);
    for (const [method, path] of endpoints) {
      expect(committed.paths[path], `${path} missing`).toBeDefined();
      const op = committed.paths[path][method];
      expect(op, `${method.toUpperCase()} ${path} missing`).toBeDefined();
      expect(Object.keys(op.responses).length).toBeGreaterThan(0);
    }
    // every operation: responses, unique operationId, $refs that resolve, no TypeBox-internal keys
    const ids = new Set<string>();
    for (const [path, item] of Object.entries<any>(committed.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        expect(ids.has(op.operationId), `${method} ${path} operationId`).toBe(false);
        ids.add(op.operationId);
        if (method !== 'head' && path !== '/ws' && path !== '/predict') expect(op.responses['200'], `${method} ${path} 200`).toBeDefined();
      }
    }
    const walk = (v: unknown, at: string): void => {
      if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${at}/${i}`));
      if (v === null || typeof v !== 'object') return;
      for (const [k, x] of Object.entries(v)) {
        expect(k.startsWith('~'), `${at}/${k}`).toBe(false);
        if (k === '$ref') {
          expect(typeof x).toBe('string');
          const target = (x as string).replace(/^#\//, '').split('/').reduce<any>((n, seg) => n?.[seg], committed);
          expect(target, `${at}: ${x as string} does not resolve`).toBeDefined();
        } else walk(x, `${at}/${k}`);
      }
    };
    walk(committed, '#');
    // ops endpoints require the ops token; error replies use ErrorBody
    for (const p of ['/liveness', '/readiness', '/ops/reset', '/risk/snapshot']) {
      const op = committed.paths[p].get ?? committed.paths[p].post;
      expect(op.security).toEqual([{ opsToken: [] }]);
      expect(op.responses['403'].$ref).toBe('#/components/responses/Error403');
    }
    expect(committed.components.responses.Error422.content['application/json'].schema.$ref).toBe('#/components/schemas/ErrorBody');
    for (const p of ['/pretrade/check', '/posttrade/log', '/risk/set', '/ops/rotate_token']) expect(committed.paths[p].post.requestBody.required).toBe(true);
  });

  describe('the embedded request schema and the live validator agree', () => {
    const embedded = Compile(JSON.parse(JSON.stringify(requestSchema())));
    const live = compileValidator(PretradeCheckRequest);

    it('on every POST /pretrade/check body of every vector scenario', () => {
      let n = 0;
      let accepted = 0;
      for (const s of loadScenarios()) {
        for (const [i, st] of s.steps.entries()) {
          if (st.method !== 'POST' || st.path !== '/pretrade/check' || !('body' in st)) continue;
          n++;
          const a = embedded.Check(st.body);
          const b = live.check(st.body);
          expect(a, `${s.name} step ${i}`).toBe(b);
          if (b) accepted++;
        }
      }
      expect(n).toBeGreaterThan(100);
      expect(accepted).toBeGreaterThan(50);
    });

    it('on bad bodies', () => {
      const good = { account: { mode: 'testnet' }, order: { symbol: 'BTCUSDT', side: 'buy', qty: 0.5, price: 50000 }, market: { latency_ms: 5, spread_bps: 3 } };
      const variants: Array<[string, unknown, boolean]> = [
        ['good', good, true],
        ['numeric strings', { ...good, market: { latency_ms: '5', spread_bps: ' 3e1 ' } }, true],
        ['extra keys kept', { ...good, extra: 1, market: { ...good.market, foo: 'bar' } }, true],
        ['nulls', { ...good, ts: null, req_id: null, fees_bps: null, risk_tags: null }, true],
        ['array', [good], false],
        ['string', 'hello', false],
        ['null', null, false],
        ['number', 42, false],
        ['missing order', { account: {}, market: {} }, false],
        ['null order', { ...good, order: null }, false],
        ['account string', { ...good, account: 'x' }, false],
        ['negative qty', { ...good, order: { ...good.order, qty: -1 } }, false],
        ['negative qty string', { ...good, order: { ...good.order, qty: '-1' } }, false],
        ['latency not numeric', { ...good, market: { latency_ms: 'fast' } }, false],
        ['latency overflowing string', { ...good, market: { latency_ms: '1e400' } }, false],
        ['latency object', { ...good, market: { latency_ms: {} } }, false],
        ['fees string', { ...good, fees_bps: 'abc' }, false],
        ['ts float', { ...good, ts: 1.5 }, false],
        ['ts string', { ...good, ts: '123' }, false],
        ['risk_tags not list', { ...good, risk_tags: 'a' }, false],
        ['risk_tags numbers', { ...good, risk_tags: [1] }, false],
        ['trap deltas with null', { ...good, market: { trap_cancel_deltas: [1, null] } }, false],
        ['trap deltas not list', { ...good, market: { trap_cancel_deltas: 3 } }, false],
        ['dq list', { ...good, market: { dq: [] } }, false],
        ['reduce_only string', { ...good, order: { reduce_only: 'yes' } }, false],
        ['symbol number', { ...good, order: { symbol: 7 } }, false],
        ['symbol too long', { ...good, order: { symbol: 'x'.repeat(5000) } }, false],
      ];
      for (const [name, body, expected] of variants) {
        expect(live.check(body), `live: ${name}`).toBe(expected);
        expect(embedded.Check(body), `embedded: ${name}`).toBe(expected);
      }
    });
  });

  describe('served by a real gate', () => {
    let gate: TestGate;
    beforeAll(async () => {
      gate = await startTestGate({});
    });
    afterAll(async () => {
      await gate?.stop();
    });

    it('GET /openapi.json returns the generated document', async () => {
      const v = await http(`${gate.url}/version`, 'GET');
      const version = (v.json as { version: string }).version;
      const r = await http(`${gate.url}/openapi.json`, 'GET');
      expect(r.status).toBe(200);
      expect(r.text).toBe(openApiText(version));
      expect(r.json).toEqual(buildOpenApi(version));
      if (version === pkgVersion) expect(r.text).toBe(committedText);
      else expect({ ...(r.json as object), info: committed.info }).toEqual(committed);
    });
  });
});
