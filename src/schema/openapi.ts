import Type, { type TSchema } from 'typebox';
import { ErrorBody } from './errors.ts';
import { OpsLimitsBody, TradingStateRequest } from './controls.ts';
import { EffectiveLimits, GuardSnapshot, LimitsResponse, LimitsSetResponse, RiskLimits, RiskSetRequest, RotateTokenRequest, TradingStateResponse } from './ops.ts';
import { PosttradeLogRequest, PosttradeLogResponse } from './posttrade.ts';
import { PretradeCheckRequest, PretradeCheckResponse } from './pretrade.ts';
import { CooloffResponse, OkResponse, RiskResponse, StateResponse, Version } from './replies.ts';
import { plainSchema, sortKeys } from './util.ts';
import { methodsOf, openApiPath, ROUTES, type Auth } from '../transport/routes.ts';
import { WsRequest, WsResponse } from './ws.ts';

/**
 * The OpenAPI 3.1 document of docs/api.md, built from the very TypeBox schemas the gate validates with
 * (TypeBox 1.x schemas are JSON Schema 2020-12, which OpenAPI 3.1 embeds as is). `npm run openapi`
 * writes it to docs/openapi.json; the gate serves it at `GET /openapi.json`.
 */

const Num = Type.Number();

/**
 * Reply schemas of the endpoints whose bodies are built inline in the transport (docs/api.md) that
 * only the document uses; the ones the ops CLI reads too live in replies.ts.
 */
const Health = Type.Object({
  status: Type.Literal('healthy'),
  models_loaded: Type.Boolean(),
  version: Type.Object({ sha: Type.String(), branch: Type.String(), build_ts: Type.String(), order_profile: Type.String() }, { additionalProperties: true }),
  uptime_s: Num,
  workers: Type.Union([Type.Integer(), Type.Literal('inline')], { description: 'worker threads alive, or "inline" at pool size 0' }),
  journal_failing: Type.Boolean(),
});
const Index = Type.Object({ name: Type.String(), version: Type.String(), endpoints: Type.Array(Type.String()) }, { additionalProperties: true });
const Liveness = Type.Object({ ok: Type.Literal(true) });
const Readiness = Type.Object({
  config_loaded: Type.Boolean(),
  last_event_ts: Type.Union([Num, Type.Null()], { description: 'epoch ms of the last journal write, or null' }),
  halt: Type.Boolean(),
  models_loaded: Type.Boolean(),
  armed: Type.Boolean(),
  cooloff_until: Num,
  journal_failing: Type.Boolean(),
  workers_alive: Type.Union([Type.Integer(), Type.Literal('inline')]),
});

/** Component schemas, by name. The request schemas are exactly the validators' schemas. */
const COMPONENT_SCHEMAS: Record<string, TSchema> = {
  PretradeCheckRequest,
  PretradeCheckResponse,
  PosttradeLogRequest,
  PosttradeLogResponse,
  ErrorBody,
  GuardSnapshot,
  RiskLimits,
  RiskSetRequest,
  RotateTokenRequest,
  WsRequest,
  WsResponse,
  Health,
  Version,
  Index,
  Liveness,
  Readiness,
  CooloffResponse,
  StateResponse,
  RiskResponse,
  OkResponse,
  OpsLimitsBody,
  TradingStateRequest,
  EffectiveLimits,
  LimitsResponse,
  LimitsSetResponse,
  TradingStateResponse,
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
/** TypeBox `Type.Ref('X')` becomes `{"$ref": "X"}`: point it at the component. */
function fixRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(fixRefs);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = k === '$ref' && typeof x === 'string' && !x.startsWith('#') ? `#/components/schemas/${x}` : fixRefs(x);
  return out;
}

/** Error responses: one component per status, listing the codes of docs/api.md. */
const ERRORS: Record<string, string> = {
  '400': 'malformed_json, invalid_utf8 (body); invalid_mode, invalid_token, cooloff_too_long (ops arguments)',
  '401': 'missing_token, ops_token_not_configured (ops); runner_token_required (when security.runner_token is set)',
  '403': 'forbidden: wrong ops token, or an address outside security.allowlist',
  '404': 'not_found: unknown path',
  '405': 'method_not_allowed: known path, other method (the Allow header lists the methods)',
  '413': 'body_too_large: body above api.max_body_bytes (64 KiB)',
  '415': 'unsupported_media_type: a Content-Type that is not JSON',
  '422': 'invalid_request: valid JSON that fails the schema; details = [{path, message}] (at most 20 entries)',
  '429': 'rotation_cooldown (token rotated < 30 s ago), auth_rate_limited (> 10 failed ops authentications a minute)',
  '500': 'internal_error: handling the request failed inside the gate (a bug); no decision was made, journaled as GATE.INTERNAL_ERROR',
  '503': 'overloaded, worker_failed, shutting_down, journal_unavailable, model_unavailable (retry where noted in docs/api.md)',
};

const json = (schema: unknown) => ({ 'application/json': { schema } });
const errs = (...codes: string[]) => Object.fromEntries(codes.map((c) => [c, { $ref: `#/components/responses/Error${c}` }]));
const ok = (description: string, schema: unknown) => ({ '200': { description, content: json(schema) } });

/**
 * Each operation's own text, by operationId. Where it is served (path, method), its `security` and its
 * authentication and 405 error replies come from the route table (transport/routes.ts), so a route's
 * auth class and its document cannot disagree.
 */
const OPERATIONS = {
  pretradeCheck: {
    summary: 'Decide one order (decisions.md)',
    description:
      'The reference pipeline, preceded by the desk controls when configured (docs/controls.md): a controls denial has hard_gate true and ' +
      'observability.controls {rule, limit, value, ...}; with any control on, quotas are the five controls quotas (null for a limit that is off) ' +
      'and an answer the controls let through carries observability.controls {reserved_usdt, quotas}; a retry of a remembered ' +
      'client_order_id with the same order gets the original answer with observability.idempotent_replay true. With no controls section every ' +
      'answer is the reference\'s (quotas the constant {trades_pm_left: 999, symbol_exposure_left_usdt: 1e12}).',
    requestBody: { required: true, content: json(ref('PretradeCheckRequest')) },
    responses: { ...ok('the decision', ref('PretradeCheckResponse')), ...errs('400', '413', '415', '422', '500', '503') },
  },
  posttradeLog: {
    summary: 'Record an order outcome (service.md 3)',
    requestBody: { required: true, content: json(ref('PosttradeLogRequest')) },
    responses: { ...ok('recorded', ref('PosttradeLogResponse')), ...errs('400', '413', '415', '422', '500', '503') },
  },
  websocket: {
    summary: 'WebSocket upgrade: text frames WsRequest -> WsResponse (docs/api.md "WebSocket /ws")',
    description: 'ops: pretrade.check (body PretradeCheckRequest), posttrade.log (body PosttradeLogRequest), ping. Backpressure closes with code 4008.',
    responses: { '101': { description: 'switching protocols; frames are WsRequest / WsResponse' } },
  },
  health: { summary: 'Process health', responses: ok('healthy', ref('Health')) },
  version: { summary: 'Gate version', responses: ok('the version', ref('Version')) },
  metrics: { summary: 'Prometheus metrics (text format 0.0.4)', responses: { '200': { description: 'Prometheus text', content: { 'text/plain': { schema: { type: 'string' } } } } } },
  metricsHead: { summary: 'Prometheus metrics headers', responses: { '200': { description: 'headers only' } } },
  metricsSlash: { summary: 'Same as /metrics (no redirect)', responses: { '200': { description: 'Prometheus text', content: { 'text/plain': { schema: { type: 'string' } } } } } },
  metricsSlashHead: { summary: 'Same as HEAD /metrics', responses: { '200': { description: 'headers only' } } },
  index: { summary: 'A JSON index', responses: ok('the index', ref('Index')) },
  openapi: { summary: 'This document', responses: { ...ok('the OpenAPI document', { type: 'object' }), ...errs('404') } },
  predict: { summary: 'Legacy; no model is served', responses: { '503': { $ref: '#/components/responses/Error503' } } },
  liveness: { summary: 'Ops liveness', responses: ok('alive', ref('Liveness')) },
  readiness: {
    summary: 'Ops readiness',
    responses: { ...ok('ready', ref('Readiness')), '503': { description: 'not ready (same body)', content: json(ref('Readiness')) } },
  },
  opsCooloff: {
    summary: 'Start or lengthen a cool-off',
    parameters: [{ name: 'sec', in: 'path', required: true, schema: { type: 'integer', maximum: 86400 }, description: 'seconds (integer <= 86 400); it can only lengthen a cool-off' }],
    responses: { ...ok('cool-off set', ref('CooloffResponse')), ...errs('400', '422') },
  },
  opsReset: { summary: 'Clear WARNs, cool-off, halt and a Governance halt', responses: ok('reset', ref('StateResponse')) },
  auroraArm: {
    summary: 'Arm or disarm the gate',
    parameters: [{ name: 'mode', in: 'path', required: true, schema: { type: 'string', enum: ['arm', 'disarm'] }, description: 'arm | disarm (case-insensitive)' }],
    responses: { ...ok('new state', ref('StateResponse')), ...errs('400') },
  },
  riskSnapshot: { summary: 'Risk limits', responses: ok('the limits', ref('RiskResponse')) },
  riskSet: {
    summary: 'Change risk limits (null/absent = unchanged)',
    requestBody: { required: true, content: json(ref('RiskSetRequest')) },
    responses: { ...ok('the new limits', ref('RiskResponse')), ...errs('400', '413', '415', '422') },
  },
  opsRotateToken: {
    summary: 'Replace the ops token (the previous one stops working at once)',
    requestBody: { required: true, content: json(ref('RotateTokenRequest')) },
    responses: { ...ok('rotated', ref('OkResponse')), ...errs('400', '413', '415', '422') },
  },
  opsLimits: {
    summary: 'Desk controls: effective limits, trading state, and per account positions, reservations, bucket levels, utilisation (docs/controls.md)',
    responses: ok('the live controls', ref('LimitsResponse')),
  },
  opsLimitsSet: {
    summary: 'Change desk-control limits: a partial controls object merged into the live ones (null turns a limit off); all or nothing',
    description:
      'A JSON merge patch of the controls section (docs/controls.md): objects (rate, max_order_qty) merge key by key, lists replace, null removes a key. ' +
      'The result is validated like start-up configuration; any error changes nothing (422 naming the field). Journals one LIMIT.UPDATE {key, old, new, token_mask} per effective value that moved.',
    requestBody: { required: true, content: json(ref('OpsLimitsBody')) },
    responses: { ...ok('the new effective limits and the changes', ref('LimitsSetResponse')), ...errs('400', '413', '415', '422') },
  },
  opsTradingState: {
    summary: 'Set the desk trading state (ACTIVE, REDUCING, HALTED); journals TRADING_STATE {from, to, source} when it changes',
    requestBody: { required: true, content: json(ref('TradingStateRequest')) },
    responses: { ...ok('the new trading state', ref('TradingStateResponse')), ...errs('400', '413', '415', '422') },
  },
} satisfies Record<string, { summary: string; responses: Record<string, unknown> } & Record<string, unknown>>;

/** An operation's key in OPERATIONS: its operationId, named by the route table. */
export type OperationId = keyof typeof OPERATIONS;

/** What each auth class adds to its operations. */
const AUTH: Record<Auth, { security?: unknown[]; errors: string[] }> = {
  public: { errors: [] },
  runner: { security: [{}, { runnerToken: [] as string[] }], errors: ['401'] },
  ops: { security: [{ opsToken: [] as string[] }], errors: ['401', '403', '429'] },
};

/** The `paths` object: every route of the table, every method with its operation. */
function paths(): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {};
  const used = new Set<string>();
  for (const r of ROUTES) {
    const item: Record<string, unknown> = {};
    for (const method of methodsOf(r)) {
      const id = r.methods[method]!;
      if (used.has(id)) throw new Error(`operation ${id} is served by two routes`);
      used.add(id);
      const op: { responses: Record<string, unknown> } & Record<string, unknown> = OPERATIONS[id];
      const auth = AUTH[r.auth];
      // a 405 belongs to the path: listed on every operation that is not a HEAD
      const wrongMethod = method === 'HEAD' ? {} : errs('405');
      item[method.toLowerCase()] = {
        operationId: id,
        ...op,
        ...(auth.security === undefined ? {} : { security: auth.security }),
        responses: { ...op.responses, ...errs(...auth.errors), ...wrongMethod },
      };
    }
    out[openApiPath(r)] = item;
  }
  const unused = Object.keys(OPERATIONS).filter((id) => !used.has(id));
  if (unused.length > 0) throw new Error(`operations no route serves: ${unused.join(', ')}`);
  return out;
}

/**
 * A component as published: a property whose schema is itself another component (by identity, e.g.
 * StateResponse.state = GuardSnapshot) becomes a `$ref` to it instead of an inline copy.
 */
function componentSchema(s: TSchema, names: ReadonlyMap<unknown, string>): unknown {
  const plain = fixRefs(plainSchema(s)) as Record<string, unknown>;
  const props = (s as { properties?: Record<string, unknown> }).properties;
  if (props === undefined || typeof plain.properties !== 'object' || plain.properties === null) return plain;
  const out = { ...(plain.properties as Record<string, unknown>) };
  for (const [k, v] of Object.entries(props)) {
    const name = names.get(v);
    if (name !== undefined && v !== s) out[k] = ref(name);
  }
  return { ...plain, properties: out };
}

export function buildOpenApi(version: string): Record<string, unknown> {
  const names = new Map<unknown, string>();
  // first name wins: PosttradeLogResponse and OkResponse are one schema, referenced by neither
  for (const [name, s] of Object.entries(COMPONENT_SCHEMAS)) if (!names.has(s)) names.set(s, name);
  const schemas: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(COMPONENT_SCHEMAS)) schemas[name] = componentSchema(s, names);
  const responses: Record<string, unknown> = {};
  for (const [status, codes] of Object.entries(ERRORS)) responses[`Error${status}`] = { description: codes, content: json(ref('ErrorBody')) };
  return sortKeys({
    openapi: '3.1.0',
    info: { title: 'AURORA pre-trade risk gate', version, description: 'Generated from src/schema (TypeBox) by `npm run openapi`; see docs/api.md.' },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: 'http://127.0.0.1:8037' }],
    paths: paths(),
    components: {
      schemas,
      responses,
      securitySchemes: {
        opsToken: { type: 'apiKey', in: 'header', name: 'X-OPS-TOKEN', description: 'ops token, compared in constant time; only from security.allowlist addresses' },
        runnerToken: { type: 'apiKey', in: 'header', name: 'X-RUNNER-TOKEN', description: 'required only when security.runner_token is set' },
      },
    },
  }) as Record<string, unknown>;
}

/** The document as written to docs/openapi.json and served by the gate. */
export function openApiText(version: string): string {
  return JSON.stringify(buildOpenApi(version), null, 2) + '\n';
}
