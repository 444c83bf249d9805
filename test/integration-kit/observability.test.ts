import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dump as dumpYaml, load as loadYaml } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dashboard = JSON.parse(readFileSync(resolve(root, 'docs/grafana-dashboard.json'), 'utf8')) as any;
const alertsText = readFileSync(resolve(root, 'docs/alerts.yml'), 'utf8');
const alerts = loadYaml(alertsText) as { groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; for?: string }> }> };

function which(cmd: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}
const promtool = which('promtool');
/**
 * The alert-rule checks never skip: without promtool they fail and say how to get it. CI's .ci/run installs
 * it (scripts/ensure-promtool.sh: Debian package `prometheus`, the only one that ships promtool).
 */
const PROMTOOL_MISSING =
  'promtool is not installed, so docs/alerts.yml cannot be checked. Install it with `bash scripts/ensure-promtool.sh` ' +
  'or directly `sudo apt-get update && sudo apt-get install --no-install-recommends prometheus` (Debian/Ubuntu; the package ships /usr/bin/promtool), ' +
  'or put a promtool binary on PATH';

/** Runs promtool; fails with the instructions above when it is missing, with its whole output when it fails. */
function runPromtool(args: string[]): string {
  if (promtool === null) throw new Error(PROMTOOL_MISSING);
  const r = spawnSync(promtool, args, { encoding: 'utf8' });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  expect(r.error, `promtool ${args.join(' ')}: ${r.error?.message}`).toBeUndefined();
  expect(r.status, `promtool ${args.join(' ')} exited ${r.status}:\n${out}`).toBe(0);
  return out;
}

const FUNCTIONS_AND_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);

/** Metric names a PromQL expression reads: identifiers outside strings, label matchers, ranges and grouping lists, not called as functions. */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out = new Set<string>();
  for (const m of s.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (m[2] !== undefined) continue; // a function call
    if (FUNCTIONS_AND_KEYWORDS.has(m[1])) continue;
    out.add(m[1]);
  }
  return [...out];
}

/** Every series name in a Prometheus text exposition (TYPE lines and samples). */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)/.exec(line);
    if (t !== null) {
      names.add(t[1]);
      if (t[2] === 'histogram') for (const suf of ['_bucket', '_sum', '_count']) names.add(t[1] + suf);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (m !== null) names.add(m[1]);
  }
  return names;
}

function panelsOf(d: any): any[] {
  const out: any[] = [];
  for (const p of d.panels ?? []) {
    out.push(p);
    if (Array.isArray(p.panels)) out.push(...p.panels);
  }
  return out;
}

describe('observability kit (dashboard, alert rules) against a live gate', () => {
  let gate: TestGate;
  let names: Set<string>;
  beforeAll(async () => {
    gate = await startTestGate({ OPS_TOKEN: 'ops-token-for-integration-kit-0123456789' });
    // some traffic so labelled series have samples
    await http(`${gate.url}/pretrade/check`, 'POST', { body: { account: {}, order: { symbol: 'BTCUSDT', side: 'buy', qty: 1 }, market: { spread_bps: 3, latency_ms: 5, score: 0.5, a_bps: 5, b_bps: 10 } } });
    await http(`${gate.url}/ops/reset`, 'POST', { headers: { 'X-OPS-TOKEN': 'wrong' } });
    const r = await http(`${gate.url}/metrics`, 'GET');
    expect(r.status).toBe(200);
    names = exposedNames(r.text);
  });
  afterAll(async () => {
    await gate?.stop();
  });

  it('the metric-name extractor works on the shapes used', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le) (rate(aurora_pretrade_latency_us_bucket[5m]))) > 1000')).toEqual(['aurora_pretrade_latency_us_bucket']);
    expect(metricNames('sum(increase(aurora_events_emitted_total{code=~"AURORA.HALT|x"}[5m])) > 0')).toEqual(['aurora_events_emitted_total']);
    expect(metricNames('aurora_pool_queue_depth')).toEqual(['aurora_pool_queue_depth']);
  });

  it('dashboard: Grafana JSON with a Prometheus datasource variable; every query panel has a datasource and targets over real metrics', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.schemaVersion).toBeLessThanOrEqual(41);
    expect(typeof dashboard.uid).toBe('string');
    const dsVar = dashboard.templating.list.find((v: any) => v.type === 'datasource');
    expect(dsVar).toMatchObject({ name: 'DS_PROMETHEUS', query: 'prometheus' });
    const ids = new Set<number>();
    let queried = 0;
    const used = new Set<string>();
    for (const p of panelsOf(dashboard)) {
      expect(ids.has(p.id), `duplicate panel id ${p.id}`).toBe(false);
      ids.add(p.id);
      expect(p.gridPos).toBeDefined();
      if (p.type === 'row') continue;
      if (p.type === 'text') {
        expect(p.options.content).toMatch(/journal/); // deny reasons live in the journal, not in metrics
        continue;
      }
      queried++;
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      expect(Array.isArray(p.targets) && p.targets.length > 0, p.title).toBe(true);
      for (const t of p.targets) {
        expect(t.datasource ?? p.datasource).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
        expect(typeof t.expr).toBe('string');
        const ms = metricNames(t.expr);
        expect(ms.length, t.expr).toBeGreaterThan(0);
        for (const m of ms) {
          expect(names.has(m), `${p.title}: ${m} is not exposed by /metrics`).toBe(true);
          used.add(m);
        }
      }
    }
    expect(queried).toBeGreaterThanOrEqual(10);
    for (const m of ['aurora_pretrade_requests_total', 'aurora_events_emitted_total', 'aurora_orders_denied_total', 'aurora_pretrade_latency_us_bucket', 'aurora_pool_queue_depth', 'aurora_pool_workers_alive', 'aurora_journal_lag_lines', 'aurora_journal_dropped_total', 'aurora_journal_write_errors_total', 'aurora_ops_auth_fail_total', 'aurora_ws_connections', 'aurora_ws_backpressure_closed_total', 'aurora_http_requests_total', 'aurora_control_denials_total', 'aurora_limit_utilization', 'aurora_trading_state', 'aurora_reservations_open']) {
      expect(used.has(m), m).toBe(true);
    }
    const exprs = panelsOf(dashboard).flatMap((p) => (p.targets ?? []).map((t: any) => t.expr as string));
    for (const q of ['0.5', '0.9', '0.99']) expect(exprs.some((e) => e.startsWith(`histogram_quantile(${q},`) && e.includes('aurora_pretrade_latency_us_bucket'))).toBe(true);
  });

  it('alert rules: the required alerts exist and read only real metrics', () => {
    const rules = alerts.groups.flatMap((g) => g.rules);
    const byName = new Map(rules.map((r) => [r.alert, r]));
    expect(byName.get('AuroraGateHalted')?.expr).toContain('aurora_events_emitted_total{code=~"AURORA.HALT|AURORA.ESCALATION"}[5m]');
    expect(byName.get('AuroraJournalDrops')?.expr).toContain('aurora_journal_dropped_total');
    expect(byName.get('AuroraJournalWriteErrors')?.expr).toContain('aurora_journal_write_errors_total');
    expect(byName.get('AuroraPretradeLatencyP99OverSLO')?.expr).toMatch(/^histogram_quantile\(0\.99, .*aurora_pretrade_latency_us_bucket.*> 1000$/);
    expect(byName.get('AuroraPretradeLatencyP99OverSLO')?.for).toBe('5m');
    expect(byName.get('AuroraNoWorkersAlive')?.expr).toContain('aurora_pool_workers_alive');
    expect(byName.get('AuroraOpsAuthFailureBurst')?.expr).toContain('aurora_ops_auth_fail_total');
    expect(byName.get('AuroraLimitUtilizationHigh')?.expr).toMatch(/aurora_limit_utilization.*> 0\.9$/);
    expect(byName.get('AuroraLimitUtilizationHigh')?.for).toBe('5m');
    expect(byName.get('AuroraTradingHalted')?.expr).toBe('max(aurora_trading_state) == 2');
    for (const r of rules) for (const m of metricNames(r.expr)) expect(names.has(m), `${r.alert}: ${m}`).toBe(true);
  });

  // never skipped: without promtool both fail with PROMTOOL_MISSING (how to install it)
  it('promtool check rules docs/alerts.yml: every rule parses', () => {
    const out = runPromtool(['check', 'rules', resolve(root, 'docs/alerts.yml')]);
    const count = alerts.groups.reduce((n, g) => n + g.rules.length, 0);
    expect(out).toContain(`SUCCESS: ${count} rules found`);
  });

  it('promtool test rules: halt, journal drop and p99 alerts fire on synthetic series', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aurora-promtool-'));
    // the same rules without annotations (promtool compares annotations exactly; ours embed $value)
    const bare = { groups: alerts.groups.map((g) => ({ ...g, rules: g.rules.map(({ annotations: _a, ...r }: any) => r) })) };
    writeFileSync(join(dir, 'rules.yml'), dumpYaml(bare));
    const test = {
      rule_files: [join(dir, 'rules.yml')],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: 'aurora_events_emitted_total{code="AURORA.HALT"}', values: '0 0 1 1 1 1 1 1' },
            { series: 'aurora_journal_dropped_total', values: '0 0 2 2 2 2 2 2' },
            { series: 'aurora_pretrade_latency_us_bucket{le="800"}', values: '0+10x20' },
            { series: 'aurora_pretrade_latency_us_bucket{le="1600"}', values: '0+10x20' },
            { series: 'aurora_pretrade_latency_us_bucket{le="3200"}', values: '0+1000x20' },
            { series: 'aurora_pretrade_latency_us_bucket{le="+Inf"}', values: '0+1000x20' },
            { series: 'aurora_limit_utilization{account="desk-a",limit="max_open_orders"}', values: '0.5 0.95x12' },
            { series: 'aurora_limit_utilization{account="desk-b",limit="max_gross_notional_usdt"}', values: '0.85x12' },
            { series: 'aurora_trading_state', values: '0 0 2 2 1 0' },
          ],
          alert_rule_test: [
            { eval_time: '4m', alertname: 'AuroraGateHalted', exp_alerts: [{ exp_labels: { severity: 'critical' } }] },
            { eval_time: '1m', alertname: 'AuroraJournalDrops', exp_alerts: [] },
            { eval_time: '4m', alertname: 'AuroraJournalDrops', exp_alerts: [{ exp_labels: { severity: 'critical' } }] },
            { eval_time: '3m', alertname: 'AuroraPretradeLatencyP99OverSLO', exp_alerts: [] },
            { eval_time: '15m', alertname: 'AuroraPretradeLatencyP99OverSLO', exp_alerts: [{ exp_labels: { severity: 'warning' } }] },
            { eval_time: '4m', alertname: 'AuroraLimitUtilizationHigh', exp_alerts: [] },
            { eval_time: '7m', alertname: 'AuroraLimitUtilizationHigh', exp_alerts: [{ exp_labels: { severity: 'warning', account: 'desk-a', limit: 'max_open_orders' } }] },
            { eval_time: '1m', alertname: 'AuroraTradingHalted', exp_alerts: [] },
            { eval_time: '3m', alertname: 'AuroraTradingHalted', exp_alerts: [{ exp_labels: { severity: 'critical' } }] },
            { eval_time: '4m', alertname: 'AuroraTradingHalted', exp_alerts: [] },
          ],
        },
      ],
    };
    const file = join(dir, 'alerts.test.yml');
    writeFileSync(file, dumpYaml(test));
    const out = runPromtool(['test', 'rules', file]);
    expect(out).toMatch(/SUCCESS/);
  });
});
