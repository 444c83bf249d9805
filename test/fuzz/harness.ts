import { isDeepStrictEqual } from 'node:util';
import type { HttpCase, WsCase } from './generators.ts';
import { RawConnection, runPool, type RawResponse } from './raw-http.ts';
import { decisionProblem, ERROR_STATUS, errorShapeProblem, wsReplyProblem } from './spec-model.ts';
import { WsFuzzConn, type WsOutcome } from './ws-conn.ts';

/** One seed for every fuzz file: a failure names its case index, and the same run reproduces it. */
export const SEED = 20_261_126;

/**
 * Generated inputs across all of test/fuzz: `AURORA_FUZZ_RUNS` (npm run fuzz: 100 000), default 12 000
 * (npm test: >= 10 000 over HTTP and WebSocket). Each file takes its share.
 */
export function fuzzBudget(share: number): number {
  const env = process.env.AURORA_FUZZ_RUNS;
  const total = env === undefined || env === '' ? 12_000 : Number(env);
  if (!Number.isInteger(total) || total < 1) throw new Error(`AURORA_FUZZ_RUNS must be a positive integer, got ${JSON.stringify(env)}`);
  return Math.max(1, Math.round(total * share));
}

/** Inputs tried per category and what came back, printed as the file's summary. */
export class Tally {
  private readonly rows = new Map<string, Map<string, number>>();
  private readonly slowest = new Map<string, number>();
  total = 0;

  /** the slowest answer seen in a category, ms */
  time(cat: string, ms: number): void {
    if (ms > (this.slowest.get(cat) ?? 0)) this.slowest.set(cat, ms);
  }

  add(cat: string, outcome: string): void {
    let m = this.rows.get(cat);
    if (m === undefined) this.rows.set(cat, (m = new Map()));
    m.set(outcome, (m.get(outcome) ?? 0) + 1);
    this.total++;
  }

  count(cat: string): number {
    let n = 0;
    for (const v of this.rows.get(cat)?.values() ?? []) n += v;
    return n;
  }

  /** outcome -> count over every category */
  outcomes(): Map<string, number> {
    const all = new Map<string, number>();
    for (const m of this.rows.values()) for (const [k, v] of m) all.set(k, (all.get(k) ?? 0) + v);
    return all;
  }

  format(title: string): string {
    const fmt = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}:${v}`).join(' ');
    const lines = [`${title}: ${this.total} inputs`];
    for (const [cat, m] of [...this.rows].sort((a, b) => a[0].localeCompare(b[0]))) {
      const slow = this.slowest.get(cat);
      lines.push(`  ${cat.padEnd(24)} ${String(this.count(cat)).padStart(6)}  ${fmt(m)}${slow === undefined ? '' : `  (slowest ${Math.round(slow)} ms)`}`);
    }
    lines.push(`  ${'ALL'.padEnd(24)} ${String(this.total).padStart(6)}  ${fmt(this.outcomes())}`);
    return lines.join('\n');
  }
}

const preview = (b: Buffer | undefined, n = 160) => (b === undefined ? '' : JSON.stringify(b.subarray(0, n).toString('latin1')) + (b.length > n ? `…(${b.length} bytes)` : ''));
export const describeHttp = (c: HttpCase) => `[${c.cat}] ${c.method} ${c.path} ${c.headers.map(([k, v]) => `${k}: ${v.slice(0, 40)}`).join('; ')} ${c.chunkSize !== undefined ? `chunked/${c.chunkSize} ` : ''}${c.declaredLength !== undefined ? `CL=${c.declaredLength} ` : ''}body=${preview(c.body)}`;
export const describeWs = (c: WsCase) => `[${c.cat}] ${c.binary ? 'binary' : 'text'} ${preview(c.data)}`;

const PATH_OF: Record<string, 'pretrade' | 'posttrade' | undefined> = { '/pretrade/check': 'pretrade', '/posttrade/log': 'posttrade' };
/** codes a data endpoint may answer with (api.md "Errors") */
const DATA_CODES = new Set(['malformed_json', 'invalid_utf8', 'invalid_request', 'body_too_large', 'unsupported_media_type']);

function namesField(details: unknown, field: string): boolean {
  if (!Array.isArray(details)) return false;
  return details.some((d) => typeof d?.path === 'string' && (d.path === field || d.path.startsWith(`${field}.`)));
}

/** Why an HTTP answer breaks the documents for this case, or null. */
export function judgeHttp(c: HttpCase, r: RawResponse): string | null {
  if (r.status === 0) return 'the connection closed without an answer';
  if (r.status < 0) return 'no answer within the timeout';
  const e = c.expect;
  const ct = r.headers['content-type'] ?? '';
  // /metrics answers Prometheus text (api.md); everything else is JSON
  if (r.status === 200 && e.kind === 'public_ok' && /^\/metrics\/?(\?|$)/.test(c.path)) return ct.startsWith('text/plain') ? null : `/metrics with Content-Type ${ct}`;
  if (!ct.startsWith('application/json')) return `status ${r.status} with Content-Type ${JSON.stringify(ct)}`;
  let json: unknown;
  try {
    json = JSON.parse(r.body.toString('utf8'));
  } catch {
    return `status ${r.status} with a body that is not JSON: ${preview(r.body)}`;
  }
  const target = PATH_OF[c.path.split('?')[0]];
  if (r.status === 200) {
    if (e.kind === 'public_ok') return null;
    if (e.kind === 'decision' || (e.kind === 'any' && target === 'pretrade')) return decisionProblem(json);
    if (e.kind === 'posttrade_ok' || (e.kind === 'any' && target === 'posttrade')) return isDeepStrictEqual(json, { status: 'ok' }) ? null : `post-trade 200 body ${r.body.toString().slice(0, 100)}`;
    return `200 where ${JSON.stringify(e)} was documented: ${r.body.toString().slice(0, 200)}`;
  }
  const shape = errorShapeProblem(json);
  if (shape !== null) return `status ${r.status}: ${shape}: ${r.body.toString().slice(0, 200)}`;
  const err = (json as { error: { code: string; details?: unknown } }).error;
  if (ERROR_STATUS[err.code] !== r.status) return `code ${err.code} with status ${r.status} (api.md: ${ERROR_STATUS[err.code] ?? 'undocumented code'})`;
  switch (e.kind) {
    case 'model_unavailable':
      return r.status === 503 && err.code === 'model_unavailable' ? null : `want 503 model_unavailable, got ${r.status} ${err.code}`;
    case 'error':
    case 'route': {
      if (e.status !== 0 && r.status !== e.status) return `want ${e.status} ${e.codes.join('|')}, got ${r.status} ${err.code}: ${r.body.toString().slice(0, 200)}`;
      if (e.codes.length > 0 && !e.codes.includes(err.code)) return `want code ${e.codes.join('|')}, got ${err.code}: ${r.body.toString().slice(0, 200)}`;
      if (r.status >= 500) return `5xx ${r.status} ${err.code}`;
      if (e.kind === 'error' && e.field !== undefined && !namesField(err.details, e.field)) return `details do not name ${e.field}: ${JSON.stringify(err.details).slice(0, 300)}`;
      if (e.kind === 'route' && e.allow !== undefined && r.headers.allow !== e.allow) return `Allow ${JSON.stringify(r.headers.allow)}, want ${e.allow}`;
      return null;
    }
    case 'any':
      if (r.status >= 500) return `5xx ${r.status} ${err.code}`;
      if (target !== undefined && !DATA_CODES.has(err.code)) return `code ${err.code} is not one a data endpoint answers`;
      return null;
    default:
      return `want ${JSON.stringify(e)}, got ${r.status} ${err.code}: ${r.body.toString().slice(0, 200)}`;
  }
}

export interface HttpRun {
  tally: Tally;
  failures: string[];
  /** 200 answers per path (decisions on /pretrade/check) */
  ok: Record<string, number>;
  /** answers per path (any status) */
  answered: Record<string, number>;
  reconnects: number;
}

/** Sends the cases over `connections` keep-alive connections (one request in flight each) and judges each answer. */
export async function runHttp(port: number, cases: readonly HttpCase[], opts: { connections: number; localAddress?: string }): Promise<HttpRun> {
  const conns = Array.from({ length: opts.connections }, () => new RawConnection(port, { localAddress: opts.localAddress, timeoutMs: 10_000 }));
  const run: HttpRun = { tally: new Tally(), failures: [], ok: {}, answered: {}, reconnects: 0 };
  await runPool(conns, cases, async (conn, c, i) => {
    const t0 = performance.now();
    const r = await conn.send({ method: c.method, path: c.path, headers: c.headers, body: c.body, chunkSize: c.chunkSize, declaredLength: c.declaredLength });
    run.tally.time(c.cat, performance.now() - t0);
    const route = c.path.split('?')[0];
    run.tally.add(c.cat, r.status <= 0 ? (r.status === 0 ? 'closed' : 'timeout') : String(r.status));
    if (r.status > 0) run.answered[route] = (run.answered[route] ?? 0) + 1;
    if (r.status === 200) run.ok[route] = (run.ok[route] ?? 0) + 1;
    const problem = judgeHttp(c, r);
    if (problem !== null) run.failures.push(`#${i} seed ${SEED}: ${problem}\n    ${describeHttp(c)}`);
  });
  for (const c of conns) {
    run.reconnects += c.opened - 1;
    c.close();
  }
  return run;
}

/** Why a WebSocket outcome breaks the documents for this frame, or null. */
export function judgeWs(c: WsCase, o: WsOutcome): string | null {
  const e = c.expect;
  if (o.kind === 'timeout') return 'no reply and no close within the timeout';
  if (o.kind === 'close') {
    if (e.kind === 'close' || e.kind === 'utf8') return o.code === 1000 ? 'a normal close (1000) for a refused frame' : null;
    return `the connection closed (${o.code} ${o.reason})`;
  }
  if (e.kind === 'close') return `a reply to a frame the server must refuse by closing: ${o.text.slice(0, 200)}`;
  if (o.binary) return 'a binary reply';
  const shape = wsReplyProblem(o.json);
  if (shape !== null) return `reply ${o.text.slice(0, 200)}: ${shape}`;
  const v = o.json as { id: unknown; ok: boolean; body?: unknown; error?: { code: string; details?: unknown } };
  const bodyProblem = (kind: string): string | null => {
    if (kind === 'decision') return decisionProblem(v.body);
    if (kind === 'posttrade_ok') return isDeepStrictEqual(v.body, { status: 'ok' }) ? null : `post-trade body ${JSON.stringify(v.body)}`;
    if (kind === 'pong') return (v.body as { pong?: unknown })?.pong === true && typeof (v.body as { ts_ms?: unknown }).ts_ms === 'number' ? null : `pong body ${JSON.stringify(v.body)}`;
    // unknown kind: one of the three shapes
    return decisionProblem(v.body) === null || isDeepStrictEqual(v.body, { status: 'ok' }) || (v.body as { pong?: unknown })?.pong === true ? null : `ok body of no documented shape: ${JSON.stringify(v.body).slice(0, 200)}`;
  };
  if (v.ok === false && ERROR_STATUS[v.error!.code] === undefined) return `undocumented code ${v.error!.code}`;
  if (v.ok === false && (ERROR_STATUS[v.error!.code] ?? 0) >= 500) return `a 5xx-class error ${v.error!.code}`;
  switch (e.kind) {
    case 'utf8':
      return v.ok === false && v.id === null && v.error!.code === 'invalid_utf8' ? null : `want invalid_utf8 or a close, got ${o.text.slice(0, 200)}`;
    case 'error':
      if (v.ok !== false) return `want error ${e.codes.join('|')}, got ${o.text.slice(0, 200)}`;
      if (!isDeepStrictEqual(v.id, e.id)) return `id ${JSON.stringify(v.id)}, want ${JSON.stringify(e.id)}`;
      if (!e.codes.includes(v.error!.code)) return `want ${e.codes.join('|')}, got ${v.error!.code}: ${o.text.slice(0, 200)}`;
      if (e.field !== undefined && !namesField(v.error!.details, e.field)) return `details do not name ${e.field}: ${JSON.stringify(v.error!.details).slice(0, 300)}`;
      return null;
    case 'ok':
      if (v.ok !== true) return `want ok, got ${o.text.slice(0, 300)}`;
      if (!isDeepStrictEqual(v.id, e.id)) return `id ${JSON.stringify(v.id)}, want ${JSON.stringify(e.id)}`;
      return bodyProblem(e.body);
    case 'any':
      if (e.id !== null && !isDeepStrictEqual(v.id, e.id)) return `id ${JSON.stringify(v.id)}, want ${JSON.stringify(e.id)}`;
      if (v.ok) return bodyProblem(e.bodyKind === 'decision' || e.bodyKind === 'posttrade_ok' || e.bodyKind === 'pong' ? e.bodyKind : 'unknown');
      return null;
  }
}

export interface WsRun {
  tally: Tally;
  failures: string[];
  /** ok:true replies carrying a decision */
  decisions: number;
  closes: number;
  reconnects: number;
}

export async function runWs(url: string, cases: readonly WsCase[], opts: { connections: number; localAddress?: string }): Promise<WsRun> {
  const conns = Array.from({ length: opts.connections }, () => new WsFuzzConn(url, opts.localAddress));
  const run: WsRun = { tally: new Tally(), failures: [], decisions: 0, closes: 0, reconnects: 0 };
  let next = 0;
  await Promise.all(
    conns.map(async (conn) => {
      for (;;) {
        const i = next++;
        if (i >= cases.length) return;
        const c = cases[i];
        const t0 = performance.now();
        const o = await conn.send(c.data, c.binary);
        run.tally.time(c.cat, performance.now() - t0);
        const v = o.kind === 'reply' ? (o.json as { ok?: boolean; body?: unknown; error?: { code?: string } } | undefined) : undefined;
        const label = o.kind === 'reply' ? (v?.ok === true ? 'ok' : (v?.error?.code ?? 'unparsed')) : o.kind === 'close' ? `close:${o.code}` : 'timeout';
        run.tally.add(c.cat, label);
        if (o.kind === 'close') run.closes++;
        if (v?.ok === true && decisionProblem(v.body) === null) run.decisions++;
        const problem = judgeWs(c, o);
        if (problem !== null) run.failures.push(`#${i} seed ${SEED}: ${problem}\n    ${describeWs(c)}`);
      }
    }),
  );
  for (const c of conns) {
    run.reconnects += Math.max(0, c.opened - 1);
    c.close();
  }
  return run;
}

// ---------------------------------------------------------------------------------------------------
// State: probes and fingerprint
// ---------------------------------------------------------------------------------------------------

/**
 * Fixed valid checks (hand-written, gate.md 3 / decisions.md 1): one allowed, four denied for different
 * reasons, all stateless with the embedded defaults (no TRAP, no latency above the p95 threshold, no
 * dq flags). `round` gives every probe a fresh symbol, so anti-churn state of an earlier round cannot
 * matter; the decisions of two rounds must be byte-identical when nothing changed in between.
 */
export function probes(round: string): Array<{ body: Record<string, unknown>; reason: string }> {
  const base = (i: number, market: Record<string, unknown>, order: Record<string, unknown> = {}) => ({
    req_id: `probe-${round}-${i}`,
    account: { mode: 'paper' },
    order: { symbol: `PROBE${round}X${i}`, side: 'buy', qty: 1, price: 100, base_notional: 100, ...order },
    market: { latency_ms: 5, slip_bps_est: 1, a_bps: 5, b_bps: 20, spread_bps: 5, score: 2, ...market },
    fees_bps: 1,
  });
  return [
    // p = 1/(1+e^-4) = 0.982; e_pi = 0.982*20 - 0.018*5 - 2 = 17.55 > 2; slip 1 <= 0.3*20
    { body: base(1, {}), reason: 'ok' },
    // score -2: p = 0.018; e_pi = 0.36 - 4.91 - 2 < 2
    { body: base(2, { score: -2 }), reason: 'expected_return_gate' },
    // spread 90 > 80 (embedded limit): the spread guard overwrites the reason
    { body: base(3, { spread_bps: 90 }), reason: 'spread_bps_too_wide:90.0' },
    // slip 10 > 0.3*20 = 6 (ER still passes: 17.55 - 9 = 8.55 > 2)
    { body: base(4, { slip_bps_est: 10 }), reason: 'slippage_guard' },
    // -pnl 20 >= dd_day_pct 10
    { body: base(5, { pnl_today_pct: -20 }), reason: 'risk_dd_day_cap' },
    // SPRT over fixed samples (stateless)
    { body: base(6, { sprt_samples: [0.5, 1, 1.5, 2, 2.5] }), reason: 'ok' },
  ];
}

/** A JSON request to the gate from 127.0.0.1 (the fuzz itself talks from other loopback addresses). */
export async function call(port: number, method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<{ status: number; text: string; json: any }> {
  const c = new RawConnection(port, { timeoutMs: 10_000 });
  try {
    const headers: Array<[string, string]> = [];
    if (opts.token !== undefined) headers.push(['X-OPS-TOKEN', opts.token]);
    let body: Buffer | undefined;
    if (opts.body !== undefined) {
      headers.push(['Content-Type', 'application/json']);
      body = Buffer.from(JSON.stringify(opts.body));
    }
    const r = await c.send({ method, path, headers, body });
    const text = r.body.toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: r.status, text, json };
  } finally {
    c.close();
  }
}

/** Decision texts of a probe round, in order. */
export async function runProbes(port: number, round: string): Promise<Array<{ reason: string; text: string }>> {
  const out: Array<{ reason: string; text: string }> = [];
  for (const p of probes(round)) {
    const r = await call(port, 'POST', '/pretrade/check', { body: p.body });
    if (r.status !== 200) throw new Error(`probe ${round}: ${r.status} ${r.text}`);
    out.push({ reason: (r.json as { reason: string }).reason, text: r.text });
  }
  return out;
}

/** Prometheus text -> value of a series (sum over label sets matching `labels`). */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const kv of (m[2] ?? '').match(/[a-zA-Z_]+="[^"]*"/g) ?? []) {
      const i = kv.indexOf('=');
      have[kv.slice(0, i)] = kv.slice(i + 2, -1);
    }
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  return total;
}

/** Everything ops can see of the gate's state (needs the ops token), and the counters that move with it. */
export interface Fingerprint {
  risk: unknown;
  guard: unknown;
  readiness: unknown;
  controls: unknown;
  counters: Record<string, number>;
}

const COUNTERS = ['aurora_pretrade_requests_total', 'aurora_orders_denied_total', 'aurora_orders_success_total', 'aurora_orders_rejected_total', 'aurora_ops_token_rotations_total'] as const;

export async function fingerprint(port: number, token: string): Promise<Fingerprint> {
  const risk = await call(port, 'GET', '/risk/snapshot', { token });
  // /aurora/arm answers the whole GuardSnapshot (samples, warns, cool-off, halt) and changes nothing
  // while the gate is armed, which fuzz input must not have changed either
  const guard = await call(port, 'POST', '/aurora/arm', { token });
  const ready = await call(port, 'GET', '/readiness', { token });
  // the desk controls: limits, trading state, per-account state (docs/controls.md)
  const controls = await call(port, 'GET', '/ops/limits', { token });
  if (risk.status !== 200 || guard.status !== 200) throw new Error(`fingerprint: ${risk.status} ${risk.text} / ${guard.status} ${guard.text}`);
  const { last_event_ts: _ignored, ...readiness } = ready.json as Record<string, unknown>;
  const m = (await call(port, 'GET', '/metrics')).text;
  const counters: Record<string, number> = {};
  for (const c of COUNTERS) counters[c] = metric(m, c);
  counters['events:POSTTRADE.LOG'] = metric(m, 'aurora_events_emitted_total', { code: 'POSTTRADE.LOG' });
  counters['events:RISK.UPDATE'] = metric(m, 'aurora_events_emitted_total', { code: 'RISK.UPDATE' });
  counters['events:OPS.TOKEN_ROTATE'] = metric(m, 'aurora_events_emitted_total', { code: 'OPS.TOKEN_ROTATE' });
  counters['events:AURORA.COOL_OFF'] = metric(m, 'aurora_events_emitted_total', { code: 'AURORA.COOL_OFF' });
  return { risk: risk.json, guard: guard.json, readiness, controls: controls.json, counters };
}
