import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildOpenApi } from '../../src/schema/openapi.ts';
import { GateApp, type AppDeps } from '../../src/transport/app.ts';
import { allowOf, INDEX_PATHS, matchRoute, methodsOf, openApiPath, paramsOf, ROUTES, type Route } from '../../src/transport/routes.ts';
import { metric } from '../fuzz/harness.ts';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';

/**
 * The route table (src/transport/routes.ts) is the only source of routes: what GateApp registers, the
 * fallback's 404/405 and Allow header, the metric labels, the `GET /` index and the OpenAPI paths all
 * come from it. These tests hold each derived surface to the table, and pin the values that must not
 * change with a table edit (labels, index) as literals.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const version = (JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { version: string }).version;

/** Every (method, pattern) GateApp registers with uWS, recorded without a network. */
function registered(): string[] {
  const seen: string[] = [];
  const app: Record<string, unknown> = new Proxy(
    {},
    {
      get: (_t, method: string) =>
        (pattern: unknown) => {
          if (typeof pattern === 'string') seen.push(`${method} ${pattern}`);
          return app;
        },
    },
  );
  new GateApp({ uws: { App: () => app }, runnerToken: null } as unknown as AppDeps);
  return seen;
}

/** A concrete path of a route (parameters filled in). */
const sample = (r: Route) => r.path.replace(/:[A-Za-z_]+/g, 'x1');

/** A method the route does not answer (a real one where possible: the classic wrong-method mistake). */
const wrongMethod = (r: Route) => (['POST', 'GET', 'PUT'] as const).find((m) => !(m in r.methods))!;

describe('the route table is the only source of routes', () => {
  it('GateApp registers exactly the table: each route and method, the WebSocket, and the fallback — nothing else', () => {
    const want: string[] = [];
    for (const r of ROUTES) {
      if (r.handler === 'ws') want.push(`ws ${r.path}`);
      for (const m of methodsOf(r)) want.push(`${m.toLowerCase()} ${r.path}`);
    }
    want.push('any /*');
    expect(registered().sort()).toEqual(want.sort());
  });

  it('paths are unique and the fallback matcher finds each route by a sample of its path', () => {
    expect(new Set(ROUTES.map((r) => r.path)).size).toBe(ROUTES.length);
    for (const r of ROUTES) expect(matchRoute(sample(r))).toBe(r);
    for (const p of ['/nope', '/pretrade/check/', '/ops/cooloff/', '/ops/cooloff/1/2', '/aurora', '/metrics//', '/openapiXjson', '']) expect(matchRoute(p), p).toBeUndefined();
  });

  it('every route and method is an OpenAPI operation, with the security of its auth class; nothing else is', () => {
    const doc = buildOpenApi(version) as { paths: Record<string, Record<string, { operationId: string; security?: unknown; parameters?: Array<{ name: string }>; responses: Record<string, unknown> }>> };
    expect(Object.keys(doc.paths).sort()).toEqual(ROUTES.map(openApiPath).sort());
    for (const r of ROUTES) {
      const item = doc.paths[openApiPath(r)];
      expect(Object.keys(item).sort(), r.path).toEqual(methodsOf(r).map((m) => m.toLowerCase()).sort());
      for (const m of methodsOf(r)) {
        const op = item[m.toLowerCase()];
        expect(op.operationId).toBe(r.methods[m]);
        expect(op.security, `${m} ${r.path}`).toEqual(r.auth === 'ops' ? [{ opsToken: [] }] : r.auth === 'runner' ? [{}, { runnerToken: [] }] : undefined);
        expect((op.parameters ?? []).map((p) => p.name)).toEqual(paramsOf(r));
        if (r.auth !== 'public') expect(op.responses['401'], `${m} ${r.path} 401`).toBeDefined();
        if (m !== 'HEAD') expect(op.responses['405'], `${m} ${r.path} 405`).toBeDefined();
      }
    }
  });

  it('the labels and the index stay what dashboards and clients know', () => {
    expect(Object.fromEntries(ROUTES.map((r) => [r.path, [r.label, r.wrongMethodLabel ?? r.label, allowOf(r)]]))).toEqual({
      '/pretrade/check': ['/pretrade/check', '/pretrade/check', 'POST'],
      '/posttrade/log': ['/posttrade/log', '/posttrade/log', 'POST'],
      '/ws': ['/ws', '/ws', 'GET'],
      '/health': ['/health', '/health', 'GET'],
      '/metrics': ['/metrics', '/metrics', 'GET, HEAD'],
      '/metrics/': ['/metrics', '/metrics/', 'GET, HEAD'],
      '/version': ['/version', '/version', 'GET'],
      '/openapi.json': ['/openapi.json', '/openapi.json', 'GET'],
      '/': ['/', '/', 'GET'],
      '/predict': ['/predict', '/predict', 'POST'],
      '/liveness': ['/liveness', '/liveness', 'GET'],
      '/readiness': ['/readiness', '/readiness', 'GET'],
      '/ops/cooloff/:sec': ['/ops/cooloff', '/ops/cooloff', 'POST'],
      '/ops/reset': ['/ops/reset', '/ops/reset', 'POST'],
      '/aurora/:mode': ['/aurora', '/aurora', 'POST'],
      '/risk/snapshot': ['/risk/snapshot', '/risk/snapshot', 'GET'],
      '/risk/set': ['/risk/set', '/risk/set', 'POST'],
      '/ops/rotate_token': ['/ops/rotate_token', '/ops/rotate_token', 'POST'],
      '/ops/limits': ['/ops/limits', '/ops/limits', 'GET, POST'],
      '/ops/trading_state': ['/ops/trading_state', '/ops/trading_state', 'POST'],
    });
    expect(INDEX_PATHS).toEqual(['/pretrade/check', '/posttrade/log', '/ws', '/health', '/metrics', '/version', '/openapi.json']);
  });
});

describe('a real gate answers the table', () => {
  let gate: TestGate;
  beforeAll(async () => {
    // ops auth failures go to stderr (D-38): one line each, not wanted in the test output
    const write = process.stderr.write.bind(process.stderr);
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) =>
      String(chunk).startsWith('ops auth failure') ? true : (write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stderr.write);
    // ops routes are called without a token (401, nothing changes): 11 failures, the 11th over the 10 a
    // minute limit (429 auth_rate_limited: still neither 404 nor 405, still counted under its label)
    gate = await startTestGate({ AURORA_POOL_THREADS: '0', OPS_TOKEN: 'route-table-token-0123456789abcdef' });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await gate?.stop();
  });

  const metrics = async () => (await http(`${gate.url}/metrics`, 'GET')).text;
  const count = (text: string, route: string, status: number) => metric(text, 'aurora_http_requests_total', { route, status: String(status) });

  it('every route and method is served (neither 404 nor 405) and counted under its label', async () => {
    for (const r of ROUTES) {
      for (const m of methodsOf(r)) {
        const m0 = await metrics();
        const res = await http(`${gate.url}${sample(r)}`, m);
        expect([404, 405], `${m} ${sample(r)} -> ${res.status} ${res.text.slice(0, 120)}`).not.toContain(res.status);
        const m1 = await metrics();
        // a scrape counts itself once before it is answered
        const self = r.label === '/metrics' && res.status === 200 ? 1 : 0;
        expect(count(m1, r.label, res.status) - count(m0, r.label, res.status), `${m} ${r.path} counted as ${r.label}`).toBe(1 + self);
      }
    }
  });

  it('a wrong method answers 405 method_not_allowed with the Allow header, counted under the 405 label', async () => {
    for (const r of ROUTES) {
      const m = wrongMethod(r);
      const label = r.wrongMethodLabel ?? r.label;
      const m0 = await metrics();
      const res = await fetch(`${gate.url}${sample(r)}`, { method: m });
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(res.status, `${m} ${r.path}`).toBe(405);
      expect(res.headers.get('allow')).toBe(allowOf(r));
      expect(body.error).toEqual({ code: 'method_not_allowed', message: `${sample(r)} accepts ${allowOf(r)}` });
      expect(count(await metrics(), label, 405) - count(m0, label, 405), `${m} ${r.path}`).toBe(1);
    }
  });

  it('only checks feed the pre-trade latency histogram', async () => {
    const n = async () => metric(await metrics(), 'aurora_pretrade_latency_us_count');
    const n0 = await n();
    await http(`${gate.url}/posttrade/log`, 'POST', { body: { symbol: 'BTCUSDT', status: 'new' } });
    expect(await n()).toBe(n0);
    await http(`${gate.url}/pretrade/check`, 'POST', { body: { account: {}, order: { symbol: 'BTCUSDT', side: 'buy', qty: 1 }, market: {} } });
    expect(await n()).toBe(n0 + 1);
  });

  it('a path outside the table answers 404 not_found, counted as "unknown"; GET / lists the index', async () => {
    const m0 = await metrics();
    const res = await http(`${gate.url}/no/such/route`, 'DELETE');
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: { code: 'not_found', message: 'no route DELETE /no/such/route' } });
    expect(count(await metrics(), 'unknown', 404) - count(m0, 'unknown', 404)).toBe(1);
    const index = await http(`${gate.url}/`, 'GET');
    expect(index.text).toBe(JSON.stringify({ name: 'aurora', version: (index.json as { version: string }).version, endpoints: INDEX_PATHS }));
  });
});
