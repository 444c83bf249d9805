import client from 'prom-client';
import { C_ALLOW, C_INTERNAL_ERRORS, C_JOURNAL_DROPPED, C_DENIED_ORDERS, C_DENY, C_INVALID, C_REJECTED, C_SUCCESS } from '../shm/counters.ts';
import { EVENT_CODE_LIST, sliceCounter, sumControlDenials, sumCounter, sumEvent } from '../gate/counters.ts';
import { CONTROL_REASONS } from '../core/controls/rules.ts';
import type { ControlsGauges } from './controls.ts';

/** What the metrics read from the rest of the process at scrape time. */
export interface MetricSources {
  counters: SharedArrayBuffer | ArrayBuffer;
  opsAuthFailures(): number;
  rotations(): number;
  queueDepth(): number;
  workersAlive(): number;
  journal(): { linesReceived: number; linesWritten: number; writeErrors: Record<string, number>; batchesPending: number; writerRestarts: number };
  wsConnections(): number;
  wsBackpressureClosed(): number;
  /** the desk-control gauges (read under the state lock: Ops.controlsGauges); absent = not exported */
  controls?(): ControlsGauges;
}

const LEGACY_MS_BUCKETS = [1, 2, 5, 7.5, 10, 15, 25, 50, 75, 100, 150, 250];
const US_BUCKETS = [25, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600];

/**
 * The Prometheus registry (service.md 4.5): the reference's ten series with identical names, plus the
 * gate's own. Counters kept by workers in shared memory are summed when scraped, so the hot path never
 * touches prom-client.
 */
export class Metrics {
  readonly registry = new client.Registry();
  /** route -> status -> count (no string building per request) */
  private readonly httpCounts = new Map<string, Map<number, number>>();
  private readonly latency = new LatencyBuckets();
  /** forgets what the previous scrape read once per scrape */
  private scrapeStart: () => void = () => {};

  constructor(src: MetricSources) {
    const r = [this.registry];
    /** a counter whose value is read from elsewhere at scrape time */
    const simple = (name: string, help: string, read: () => number) =>
      new client.Counter({
        name,
        help,
        registers: r,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    const fromShared = (name: string, help: string, slot: number) => simple(name, help, () => sumCounter(src.counters, slot));
    new client.Counter({
      name: 'aurora_events_emitted_total',
      help: 'Journal events written, by event code',
      labelNames: ['code'],
      registers: r,
      collect() {
        this.reset();
        for (const code of EVENT_CODE_LIST) {
          const v = sumEvent(src.counters, code);
          if (v > 0) this.inc({ code }, v);
        }
      },
    });
    fromShared('aurora_orders_denied_total', 'Pre-trade denials (anti-churn included)', C_DENIED_ORDERS);
    fromShared('aurora_orders_success_total', 'Post-trade records classified success (de-duplicated)', C_SUCCESS);
    fromShared('aurora_orders_rejected_total', 'Post-trade records classified failed', C_REJECTED);
    fromShared('aurora_invalid_requests_total', 'Requests rejected before deciding (400/422)', C_INVALID);
    fromShared('aurora_internal_errors_total', 'Requests answered 500 internal_error because handling them threw (each journaled as GATE.INTERNAL_ERROR; target: 0)', C_INTERNAL_ERRORS);
    simple('aurora_ops_auth_fail_total', 'Ops authentication failures (401/403/429)', src.opsAuthFailures);
    simple('aurora_ops_token_rotations_total', 'Successful ops token rotations', src.rotations);
    simple('aurora_ws_backpressure_closed_total', 'WebSocket connections closed for exceeding the send buffer limit', src.wsBackpressureClosed);
    new client.Counter({ name: 'aurora_prediction_requests_total', help: 'Legacy /predict successes (always 0)', registers: r });
    new client.Histogram({ name: 'aurora_prediction_latency_ms', help: 'Legacy /predict latency (unused)', buckets: LEGACY_MS_BUCKETS, registers: r });
    new client.Gauge({ name: 'aurora_regime', help: 'Legacy regime gauge (unused)', registers: r });
    new client.Gauge({ name: 'aurora_kappa_plus', help: 'Legacy gauge (declared, never set)', registers: r });
    new client.Counter({
      name: 'aurora_pretrade_requests_total',
      help: 'Pre-trade decisions by outcome',
      labelNames: ['decision'],
      registers: r,
      collect() {
        this.reset();
        this.inc({ decision: 'allow' }, sumCounter(src.counters, C_ALLOW));
        this.inc({ decision: 'deny' }, sumCounter(src.counters, C_DENY));
      },
    });
    const lat = this.latency;
    this.registry.registerMetric(histogramFrom('aurora_pretrade_latency_ms', 'Pre-trade request latency in the gate (arrival to reply), ms', LEGACY_MS_BUCKETS, () => lat.snapshot(LEGACY_MS_BUCKETS, 1000)) as never);
    this.registry.registerMetric(histogramFrom('aurora_pretrade_latency_us', 'Pre-trade request latency in the gate (arrival to reply), microseconds', US_BUCKETS, () => lat.snapshot(US_BUCKETS, 1)) as never);
    const http = this.httpCounts;
    new client.Counter({
      name: 'aurora_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers: r,
      collect() {
        this.reset();
        for (const [route, byStatus] of http) for (const [status, v] of byStatus) this.inc({ route, status: String(status) }, v);
      },
    });
    new client.Counter({
      name: 'aurora_journal_write_errors_total',
      help: 'Journal write failures by file',
      labelNames: ['file'],
      registers: r,
      collect() {
        this.reset();
        for (const [file, v] of Object.entries(src.journal().writeErrors)) this.inc({ file }, v);
      },
    });
    new client.Gauge({ name: 'aurora_journal_lag_lines', help: 'Journal lines received by the writer and not yet written', registers: r, collect() { const j = src.journal(); this.set(Math.max(0, j.linesReceived - j.linesWritten)); } });
    new client.Gauge({ name: 'aurora_journal_batches_pending', help: 'Journal batches queued in the writer', registers: r, collect() { this.set(src.journal().batchesPending); } });
    // Producers never wait for ring space (docs/reliability.md "Journal writer thread"): lines that do not fit
    // into a thread's journal ring (writer down or behind) are dropped at once, counted here, logged
    // (rate-limited) and mark the journal failing. Under fail_closed a check is refused before it is decided
    // when its lines might not fit, so only post-trade/ops lines can be dropped then.
    fromShared('aurora_journal_dropped_total', 'Journal lines dropped because their thread\'s ring to the writer was full (writer thread down or behind; target: 0). Under fail_closed no decided check\'s lines are dropped: the check is refused first', C_JOURNAL_DROPPED);
    simple('aurora_journal_writer_restarts_total', 'Journal writer threads started to replace one that died (crash, OOM, uncaught error, terminate)', () => src.journal().writerRestarts);
    simple('aurora_journal_lines_written_total', 'Journal lines written', () => src.journal().linesWritten);
    new client.Gauge({ name: 'aurora_pool_queue_depth', help: 'Requests handed to workers and not yet answered', registers: r, collect() { this.set(src.queueDepth()); } });
    new client.Counter({
      name: 'aurora_pool_decisions_total',
      help: 'Pre-trade decisions by the thread that made them: main (pool size 0, or pool.inline_when_idle) or a worker',
      labelNames: ['thread'],
      registers: r,
      collect() {
        this.reset();
        const main = sliceCounter(src.counters, 0, C_ALLOW) + sliceCounter(src.counters, 0, C_DENY);
        this.inc({ thread: 'main' }, main);
        this.inc({ thread: 'worker' }, sumCounter(src.counters, C_ALLOW) + sumCounter(src.counters, C_DENY) - main);
      },
    });
    new client.Gauge({ name: 'aurora_pool_workers_alive', help: 'Worker threads serving', registers: r, collect() { this.set(src.workersAlive()); } });
    new client.Gauge({ name: 'aurora_ws_connections', help: 'Open WebSocket connections', registers: r, collect() { this.set(src.wsConnections()); } });
    // desk controls (docs/controls.md "Metrics"): bounded label sets — `rule` is one of CONTROL_REASONS,
    // `limit` one of three exposure limits, `account` the top UTILIZATION_TOP_ACCOUNTS by utilisation
    new client.Counter({
      name: 'aurora_control_denials_total',
      help: 'Pre-trade orders refused by a desk control, by reason code (docs/controls.md; every reason is exported, 0 until it happens)',
      labelNames: ['rule'],
      registers: r,
      collect() {
        this.reset();
        for (const rule of CONTROL_REASONS) this.inc({ rule }, sumControlDenials(src.counters, rule));
      },
    });
    const controls = src.controls;
    if (controls !== undefined) {
      // one read of the shared control state per scrape (text() forgets it), shared by the three gauges
      let cached: ControlsGauges | null = null;
      this.scrapeStart = () => (cached = null);
      const read = (): ControlsGauges => (cached ??= controls());
      new client.Gauge({
        name: 'aurora_limit_utilization',
        help: 'Exposure limit use / limit per account (max_open_orders, max_gross_notional_usdt, max_position_notional_usdt = its most used symbol); only limits that are on, only the 20 most utilised accounts',
        labelNames: ['account', 'limit'],
        registers: r,
        collect() {
          this.reset();
          for (const u of read().utilization) this.set({ account: u.account, limit: u.limit }, u.value);
        },
      });
      new client.Gauge({ name: 'aurora_trading_state', help: 'Desk trading state: 0 ACTIVE, 1 REDUCING, 2 HALTED', registers: r, collect() { this.set(read().tradingState); } });
      new client.Gauge({ name: 'aurora_reservations_open', help: 'Allowed orders whose notional is still reserved (no final post-trade outcome, TTL not passed)', registers: r, collect() { this.set(read().reservationsOpen); } });
    }
    client.collectDefaultMetrics({ register: this.registry });
  }

  http(route: string, status: number): void {
    let byStatus = this.httpCounts.get(route);
    if (byStatus === undefined) this.httpCounts.set(route, (byStatus = new Map()));
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  }

  pretradeLatency(us: number): void {
    this.latency.observe(us);
  }

  text(): Promise<string> {
    this.scrapeStart();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * Latency observations in fine log-spaced microsecond buckets (a counter increment per request, no
 * prom-client call on the hot path); Prometheus histograms with any bucket edges are derived at
 * scrape time. Resolution: 8 buckets per power of two, so a derived bucket edge is off by < 9 %.
 */
class LatencyBuckets {
  private static readonly PER_OCTAVE = 8;
  private readonly counts = new Float64Array(40 * LatencyBuckets.PER_OCTAVE);
  private sum = 0;
  private n = 0;

  observe(us: number): void {
    const i = us <= 1 ? 0 : Math.min(this.counts.length - 1, Math.ceil(Math.log2(us) * LatencyBuckets.PER_OCTAVE));
    this.counts[i]++;
    this.sum += us;
    this.n++;
  }

  /** Cumulative counts at each edge (in the histogram's unit = us / divisor), plus sum and count. */
  snapshot(edges: readonly number[], divisor: number): { buckets: number[]; sum: number; count: number } {
    const buckets = edges.map((edge) => {
      const limit = Math.floor(Math.log2(edge * divisor) * LatencyBuckets.PER_OCTAVE);
      let c = 0;
      for (let i = 0; i <= limit && i < this.counts.length; i++) c += this.counts[i];
      return c;
    });
    return { buckets, sum: this.sum / divisor, count: this.n };
  }
}

/** A prom-client-compatible metric object exposing a histogram computed at scrape time. */
function histogramFrom(name: string, help: string, edges: readonly number[], read: () => { buckets: number[]; sum: number; count: number }) {
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    collect: undefined,
    reset() {},
    get() {
      const s = read();
      const values = edges.map((le, i) => ({ labels: { le }, value: s.buckets[i], metricName: `${name}_bucket` }));
      values.push({ labels: { le: '+Inf' as unknown as number }, value: s.count, metricName: `${name}_bucket` });
      values.push({ labels: {} as { le: number }, value: s.sum, metricName: `${name}_sum` });
      values.push({ labels: {} as { le: number }, value: s.count, metricName: `${name}_count` });
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
}
