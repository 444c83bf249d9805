import type { OperationId } from '../schema/openapi.ts';

/**
 * The route table: every HTTP path the gate answers, written once. Derived from it:
 * - the uWebSockets.js registrations (transport/app.ts: one handler per route and method),
 * - the fallback's answers: 405 `method_not_allowed` with the route's Allow header for a known path,
 *   404 `not_found` for any other (`matchRoute`),
 * - the `route` label of `aurora_http_requests_total` (never the raw URL: junk paths must not create
 *   one series each),
 * - the endpoint list of `GET /` (`INDEX_PATHS`),
 * - the paths, methods, security and auth errors of the OpenAPI document (schema/openapi.ts holds each
 *   operation's text under its operationId).
 * Data only: no uWS, no handler code. app.ts maps `handler` to code with an exhaustive switch per auth
 * class, so a route cannot be registered without auth of its class (an ops handler is always behind
 * the ops-token check).
 */

export type Method = 'GET' | 'HEAD' | 'POST';

/** who may call: anyone; the runner (X-RUNNER-TOKEN when security.runner_token is set); ops (X-OPS-TOKEN, allowlist) */
export type Auth = 'public' | 'runner' | 'ops';

export type PublicHandler = 'health' | 'version' | 'index' | 'openapi' | 'metrics' | 'predict';
export type RunnerHandler = 'pretrade' | 'posttrade' | 'ws';
export type OpsHandler = 'liveness' | 'readiness' | 'cooloff' | 'reset' | 'arm' | 'riskSnapshot' | 'riskSet' | 'rotateToken' | 'limits' | 'tradingState';

interface RouteBase {
  /** uWS pattern; `:name` is a path parameter (`{name}` in OpenAPI, one path segment) */
  readonly path: string;
  /** the methods answered, in Allow-header order, each with its OpenAPI operation */
  readonly methods: Readonly<Partial<Record<Method, OperationId>>>;
  /** the `route` label of aurora_http_requests_total for every answer on this route */
  readonly label: string;
  /** the label of a 405 here, where it is not `label` (kept as it always was) */
  readonly wrongMethodLabel?: string;
  /** listed by `GET /` (in table order) */
  readonly index?: true;
}

export type Route = RouteBase &
  ({ readonly auth: 'public'; readonly handler: PublicHandler } | { readonly auth: 'runner'; readonly handler: RunnerHandler } | { readonly auth: 'ops'; readonly handler: OpsHandler });

/** Order: the `GET /` index order first; uWS matches by path and priority, not registration order. */
export const ROUTES: readonly Route[] = [
  { path: '/pretrade/check', methods: { POST: 'pretradeCheck' }, label: '/pretrade/check', auth: 'runner', handler: 'pretrade', index: true },
  { path: '/posttrade/log', methods: { POST: 'posttradeLog' }, label: '/posttrade/log', auth: 'runner', handler: 'posttrade', index: true },
  // the WebSocket upgrade; a plain GET (no Upgrade) answers 426 upgrade_required
  { path: '/ws', methods: { GET: 'websocket' }, label: '/ws', auth: 'runner', handler: 'ws', index: true },
  { path: '/health', methods: { GET: 'health' }, label: '/health', auth: 'public', handler: 'health', index: true },
  { path: '/metrics', methods: { GET: 'metrics', HEAD: 'metricsHead' }, label: '/metrics', auth: 'public', handler: 'metrics', index: true },
  // a wrong method on /metrics/ was always counted under its URL
  { path: '/metrics/', methods: { GET: 'metricsSlash', HEAD: 'metricsSlashHead' }, label: '/metrics', wrongMethodLabel: '/metrics/', auth: 'public', handler: 'metrics' },
  { path: '/version', methods: { GET: 'version' }, label: '/version', auth: 'public', handler: 'version', index: true },
  { path: '/openapi.json', methods: { GET: 'openapi' }, label: '/openapi.json', auth: 'public', handler: 'openapi', index: true },
  { path: '/', methods: { GET: 'index' }, label: '/', auth: 'public', handler: 'index' },
  { path: '/predict', methods: { POST: 'predict' }, label: '/predict', auth: 'public', handler: 'predict' },
  { path: '/liveness', methods: { GET: 'liveness' }, label: '/liveness', auth: 'ops', handler: 'liveness' },
  { path: '/readiness', methods: { GET: 'readiness' }, label: '/readiness', auth: 'ops', handler: 'readiness' },
  { path: '/ops/cooloff/:sec', methods: { POST: 'opsCooloff' }, label: '/ops/cooloff', auth: 'ops', handler: 'cooloff' },
  { path: '/ops/reset', methods: { POST: 'opsReset' }, label: '/ops/reset', auth: 'ops', handler: 'reset' },
  { path: '/aurora/:mode', methods: { POST: 'auroraArm' }, label: '/aurora', auth: 'ops', handler: 'arm' },
  { path: '/risk/snapshot', methods: { GET: 'riskSnapshot' }, label: '/risk/snapshot', auth: 'ops', handler: 'riskSnapshot' },
  { path: '/risk/set', methods: { POST: 'riskSet' }, label: '/risk/set', auth: 'ops', handler: 'riskSet' },
  { path: '/ops/rotate_token', methods: { POST: 'opsRotateToken' }, label: '/ops/rotate_token', auth: 'ops', handler: 'rotateToken' },
  // desk controls (controls.md §5, docs/controls.md): GET shows, POST merges a partial controls object
  { path: '/ops/limits', methods: { GET: 'opsLimits', POST: 'opsLimitsSet' }, label: '/ops/limits', auth: 'ops', handler: 'limits' },
  { path: '/ops/trading_state', methods: { POST: 'opsTradingState' }, label: '/ops/trading_state', auth: 'ops', handler: 'tradingState' },
];

/** The label of a request that matches no route (404). */
export const UNKNOWN_ROUTE_LABEL = 'unknown';

/** The methods of a route, in Allow-header order. */
export const methodsOf = (r: Route): Method[] => Object.keys(r.methods) as Method[];

/** The value of the Allow header of a 405 on this route. */
export const allowOf = (r: Route): string => methodsOf(r).join(', ');

/** The path parameters of a route, in order (uWS getParameter(i) order). */
export const paramsOf = (r: Route): string[] => [...r.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]);

/** The route's path as an OpenAPI path template (`/aurora/:mode` -> `/aurora/{mode}`). */
export const openApiPath = (r: Route): string => r.path.replace(/:([A-Za-z_]+)/g, '{$1}');

/** Paths listed by `GET /`. */
export const INDEX_PATHS: readonly string[] = ROUTES.filter((r) => r.index === true).map((r) => r.path);

/** The `GET /` body. */
export const indexBody = (version: string) => ({ name: 'aurora', version, endpoints: INDEX_PATHS });

const MATCHERS: ReadonlyArray<readonly [RegExp, Route]> = ROUTES.map((r) => [
  new RegExp(`^${r.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')}$`),
  r,
]);

/** The route a URL path belongs to (a parameter matches one non-empty segment), if any: the fallback's 404 vs 405. */
export function matchRoute(url: string): Route | undefined {
  for (const [re, r] of MATCHERS) if (re.test(url)) return r;
  return undefined;
}
