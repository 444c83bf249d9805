import { EXIT_OK, EXIT_REFUSED } from '../errors.ts';
import { duration, guardWords, jsonLine, num, plural } from '../format.ts';
import type { GateReply } from '../http.ts';
import { histogramQuantile, parsePrometheus, sumOf, type Sample } from '../prom.ts';
import { expectShape, HealthReply, ReadinessReply, VersionReply } from '../replies.ts';
import { compileValidator } from '../../schema/validate.ts';
import { gateOf, type Command } from './command.ts';

/** The few series an operator looks at first, read from `/metrics`. */
export interface KeyMetrics {
  pretrade_p95_ms: number | null;
  pretrade_count: number | null;
  decisions: { allow: number | null; deny: number | null };
  pool_workers_alive: number | null;
  pool_queue_depth: number | null;
  journal_lag_lines: number | null;
  journal_batches_pending: number | null;
  journal_dropped_total: number | null;
  journal_write_errors_total: number | null;
  invalid_requests_total: number | null;
  ops_auth_fail_total: number | null;
  ws_connections: number | null;
}

/** Picks the key series out of parsed samples (pure; null where the gate does not export one). */
export function keyMetrics(samples: readonly Sample[]): KeyMetrics {
  // the microsecond histogram has finer buckets at the low end where the gate lives
  const us = histogramQuantile(0.95, samples, 'aurora_pretrade_latency_us');
  const p95 = us !== null ? us / 1000 : histogramQuantile(0.95, samples, 'aurora_pretrade_latency_ms');
  return {
    pretrade_p95_ms: p95,
    pretrade_count: sumOf(samples, 'aurora_pretrade_latency_us_count') ?? sumOf(samples, 'aurora_pretrade_latency_ms_count'),
    decisions: {
      allow: sumOf(samples, 'aurora_pretrade_requests_total', { decision: 'allow' }),
      deny: sumOf(samples, 'aurora_pretrade_requests_total', { decision: 'deny' }),
    },
    pool_workers_alive: sumOf(samples, 'aurora_pool_workers_alive'),
    pool_queue_depth: sumOf(samples, 'aurora_pool_queue_depth'),
    journal_lag_lines: sumOf(samples, 'aurora_journal_lag_lines'),
    journal_batches_pending: sumOf(samples, 'aurora_journal_batches_pending'),
    journal_dropped_total: sumOf(samples, 'aurora_journal_dropped_total'),
    // a counter with labels and no samples yet means no errors
    journal_write_errors_total: sumOf(samples, 'aurora_journal_write_errors_total') ?? 0,
    invalid_requests_total: sumOf(samples, 'aurora_invalid_requests_total'),
    ops_auth_fail_total: sumOf(samples, 'aurora_ops_auth_fail_total'),
    ws_connections: sumOf(samples, 'aurora_ws_connections'),
  };
}

export const status: Command = {
  def: {
    name: 'status',
    summary: 'health, readiness, version and key metrics in one summary; exit 1 when not healthy',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    flags: [],
    token: 'optional',
    help: [
      'Reads GET /health, /version, /metrics and, when a token is available, /readiness (ops).',
      'Without a token the guard state (armed, cool-off, halt) is not shown.',
      'Exit 0 healthy (and ready); 1 not healthy, not ready, or /readiness refused the token; 3 unreachable.',
    ],
  },
  async run(ctx) {
    const gate = gateOf(ctx);
    // /health first: if the gate is unreachable that is the one error worth showing
    const healthReply = await gate.request('GET', '/health');
    const [versionReply, metricsReply, readinessReply] = await Promise.all([
      gate.request('GET', '/version'),
      gate.request('GET', '/metrics'),
      ctx.hasToken ? gate.request('GET', '/readiness', { ops: true }) : Promise.resolve(null),
    ]);
    const problems: string[] = [];
    const health = healthReply.status === 200 ? expectShape<HealthReply>(HealthReply, healthReply, '/health') : null;
    if (health === null) problems.push(`/health answered HTTP ${healthReply.status}`);
    else {
      if (health.status !== 'healthy') problems.push(`/health status is ${JSON.stringify(health.status)}`);
      if (health.journal_failing === true) problems.push('the journal is failing to write');
    }
    const version = versionReply.status === 200 ? expectShape<VersionReply>(VersionReply, versionReply, '/version').version : null;
    const metrics = metricsReply.status === 200 ? keyMetrics(parsePrometheus(metricsReply.text)) : null;
    if (metrics === null) problems.push(`/metrics answered HTTP ${metricsReply.status}`);
    const readiness = readinessReply === null ? null : { http_status: readinessReply.status, body: readinessReply.json ?? null };
    const guard = readinessReply === null ? null : readinessState(readinessReply, problems);
    const healthy = problems.length === 0;

    if (ctx.json) {
      ctx.io.out(
        jsonLine({
          url: gate.url,
          healthy,
          problems,
          health: healthReply.json ?? null,
          version,
          readiness,
          metrics,
        }),
      );
      return healthy ? EXIT_OK : EXIT_REFUSED;
    }

    const now = ctx.io.nowMs();
    const lines: string[] = [];
    lines.push(`gate       ${gate.url}  ${healthy ? 'HEALTHY' : 'NOT HEALTHY'}${readiness?.http_status === 200 ? ', ready' : ''}`);
    for (const p of problems) lines.push(`  problem  ${p}`);
    const v = health?.version;
    const up = health?.uptime_s !== undefined ? `, up ${duration(health.uptime_s)}` : '';
    lines.push(`version    ${version ?? '?'}${v ? ` (sha ${v.sha ?? '?'} on ${v.branch ?? '?'})` : ''}${up}`);
    if (guard !== null) lines.push(`state      ${guardWords({ armed: guard.armed, cooloff_until: guard.cooloff_until, halted: guard.halt }, now)}`);
    else lines.push(`state      unknown (${ctx.hasToken ? '/readiness did not answer it' : 'no ops token: /readiness not read'})`);
    if (metrics !== null) {
      const m = metrics;
      lines.push(`latency    p95 ${m.pretrade_p95_ms === null ? 'n/a' : `${m.pretrade_p95_ms.toFixed(3)} ms`} over ${num(m.pretrade_count)} checks (gate-side, arrival to reply)`);
      const workers = health?.workers === 'inline' ? 'inline (no worker threads)' : m.pool_workers_alive === null ? 'worker threads: n/a' : `${plural(m.pool_workers_alive, 'worker thread')} alive`;
      lines.push(`pool       ${workers}, queue ${num(m.pool_queue_depth)}`);
      lines.push(
        `journal    lag ${num(m.journal_lag_lines)} lines, ${num(m.journal_batches_pending)} batches pending, ${num(m.journal_dropped_total)} dropped, ${num(m.journal_write_errors_total)} write errors`,
      );
      lines.push(`decisions  ${num(m.decisions.allow)} allow, ${num(m.decisions.deny)} deny; ${num(m.invalid_requests_total)} invalid requests`);
      lines.push(`ops        ${plural(m.ops_auth_fail_total ?? 0, 'auth failure')}, ${plural(m.ws_connections ?? 0, 'WebSocket connection')}`);
    }
    ctx.io.out(`${lines.join('\n')}\n`);
    return healthy ? EXIT_OK : EXIT_REFUSED;
  },
};

const readinessShape = compileValidator<ReadinessReply>(ReadinessReply);

/**
 * The guard state from `/readiness` (200, or 503 = not ready with the same body), or null when it
 * refused the token; either way anything but 200 is a problem.
 */
function readinessState(reply: GateReply, problems: string[]): ReadinessReply | null {
  if (reply.status === 503) problems.push('/readiness: not ready (HTTP 503)');
  else if (reply.status !== 200) {
    const e = (reply.json as { error?: { code?: string; message?: string } } | undefined)?.error;
    problems.push(`/readiness answered HTTP ${reply.status}${e ? ` ${e.code}: ${e.message}` : ''}`);
    return null;
  }
  if (reply.status === 200) return expectShape<ReadinessReply>(ReadinessReply, reply, '/readiness');
  return readinessShape.check(reply.json) ? reply.json : null;
}
