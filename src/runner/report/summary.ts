import { denyFamily, isControlDenial } from '../gate/reasons.ts';
import type { GateAnswer } from '../gate/port.ts';
import { summarizeRtts, type RttSummary } from './percentiles.ts';

/** `summary.json` (runner.md §4.5), plus the run's feed/shutdown facts. */
export interface RunSummary {
  run_id: string;
  mode: string;
  seed: number;
  feed: string | null;
  gate_url: string;
  started_at: string;
  ended_at: string;
  /** feed time span covered (virtual clock), ISO */
  feed_start: string | null;
  feed_end: string | null;
  feed_events: number;
  ticks: number;
  intents: number;
  skipped_local: Record<string, number>;
  gate: {
    tried: number;
    allowed: number;
    denied: number;
    /** the gate's own denials (entries and exits), by reason family (`spread_bps_too_wide:x` → `spread_bps_too_wide`) */
    denied_by_reason: Record<string, number>;
    /** the same denials by rule: the desk controls' codes (controls.md §3) apart from the reference pipeline's families */
    denied_by_rule: { controls: Record<string, number>; reference: Record<string, number> };
    /** exit checks (reduce-only), included in tried/allowed/denied; `sent_gate_unavailable`: exits sent without a verdict (EXIT.GATE_UNAVAILABLE) */
    exits: { tried: number; allowed: number; denied: number; denied_by_reason: Record<string, number>; sent_gate_unavailable: number };
    /** checks sent again with the same client_order_id after a gate_timeout (each also counted in tried) */
    retries: number;
    /** entry pauses started by an exhausted quota or a desk-limit refusal, by quota key / code */
    quota_pauses: Record<string, number>;
    /** TRAP denials during the first `trap.warmup_s` (the gate's cold-start z, runner.md §5.21); included in denied_by_reason */
    denied_trap_warmup: number;
    /** calls decided without a gate verdict (fail-closed): gate_timeout, gate_unavailable, gate_error:<code>, … */
    errors: Record<string, number>;
    /** transport failures allowed by `gate.fail_open_in_paper` */
    fail_open: number;
    transport: { ws: number; http: number; stub: number };
    reconnects: number;
    late_responses: number;
    rtt_ms: RttSummary;
  };
  orders: {
    submitted: number;
    acked: number;
    filled: number;
    partial: number;
    cancelled: number;
    rejected_by_reason: Record<string, number>;
    expired: number;
    late_events: number;
  };
  fills: number;
  volume_base: number;
  notional_quote: number;
  fees_quote: number;
  pnl: { realized: number; unrealized: number; total: number; max_drawdown: number; per_exit_reason: Record<string, number> };
  positions_open_at_end: number;
  posttrade: { sent: number; failed: number; dropped: number };
  errors: Record<string, number>;
  shutdown: { reason: string; flatten_ok: boolean; exit_code: number };
}

const bump = (m: Record<string, number>, k: string, by = 1) => {
  m[k] = (m[k] ?? 0) + by;
};

/** Sorted-key copy, so the JSON of two equal runs is byte-identical. */
function sortedCounts(m: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k];
  return out;
}

/** Counters of one run, filled by the engine as things happen; `build()` makes the summary. */
export class SummaryCollector {
  feedEvents = 0;
  ticks = 0;
  intents = 0;
  readonly skipped: Record<string, number> = {};
  readonly gate = {
    tried: 0,
    allowed: 0,
    denied: 0,
    byReason: {} as Record<string, number>,
    byRuleControls: {} as Record<string, number>,
    byRuleReference: {} as Record<string, number>,
    exits: { tried: 0, allowed: 0, denied: 0, byReason: {} as Record<string, number>, sentUnavailable: 0 },
    retries: 0,
    trapWarmup: 0,
    errors: {} as Record<string, number>,
    failOpen: 0,
    transport: { ws: 0, http: 0, stub: 0 },
  };
  private readonly rtts: number[] = [];
  readonly orders = { submitted: 0, acked: 0, filled: 0, partial: 0, cancelled: 0, rejected: {} as Record<string, number>, expired: 0, late: 0 };
  fills = 0;
  volume = 0;
  notional = 0;
  fees = 0;
  readonly exitPnl: Record<string, number> = {};
  readonly posttrade = { sent: 0, failed: 0, dropped: 0 };
  readonly errors: Record<string, number> = {};
  private peak = 0;
  maxDrawdown = 0;

  skip(reason: string): void {
    bump(this.skipped, reason);
  }

  /** Counts `n` errors of a kind (default one). */
  error(kind: string, n = 1): void {
    bump(this.errors, kind, n);
  }

  /**
   * One pretrade call and how it ended; `inWarmup` = within `trap.warmup_s` of the feed start; `exit`:
   * a reduce-only exit check (also counted apart in `gate.exits`).
   */
  gateCall(a: GateAnswer, inWarmup: boolean, exit = false): void {
    this.gate.tried++;
    if (exit) this.gate.exits.tried++;
    if (a.transport === 'ws' || a.transport === 'http' || a.transport === 'stub') this.gate.transport[a.transport]++;
    if (a.transport !== 'none') this.rtts.push(a.rttMs);
    const answered = a.outcome === 'ws' || a.outcome === 'http' || a.outcome === 'stub';
    const d = a.decision;
    if (answered && d.allow === true && d.hard_gate !== true) {
      this.gate.allowed++;
      if (exit) this.gate.exits.allowed++;
      return;
    }
    this.gate.denied++;
    if (exit) this.gate.exits.denied++;
    if (!answered) {
      bump(this.gate.errors, d.reason);
      if (exit) bump(this.gate.exits.byReason, d.reason);
      return;
    }
    const family = d.allow === true ? 'hard_gate' : denyFamily(d.reason);
    bump(this.gate.byReason, family);
    if (exit) bump(this.gate.exits.byReason, family);
    bump(isControlDenial(d.reason, d.observability) ? this.gate.byRuleControls : this.gate.byRuleReference, family);
    if (inWarmup && family.startsWith('trap_guard')) this.gate.trapWarmup++;
  }

  fill(qty: number, price: number, feeQuote: number): void {
    this.fills++;
    this.volume += qty;
    this.notional += qty * price;
    this.fees += feeQuote;
  }

  exit(reason: string, realized: number): void {
    bump(this.exitPnl, reason, realized);
  }

  reject(code: string): void {
    bump(this.orders.rejected, code);
  }

  /** Marks equity PnL (realised + unrealised) for the drawdown: peak-to-trough of this curve. */
  markPnl(total: number): void {
    if (total > this.peak) this.peak = total;
    const dd = this.peak - total;
    if (dd > this.maxDrawdown) this.maxDrawdown = dd;
  }

  build(a: {
    runId: string;
    mode: string;
    seed: number;
    feed: string | null;
    gateUrl: string;
    startedAt: Date;
    endedAt: Date;
    feedStartMs: number | null;
    feedEndMs: number | null;
    realized: number;
    unrealized: number;
    positionsOpen: number;
    reconnects: number;
    late: number;
    quotaPauses?: Record<string, number>;
    shutdown: RunSummary['shutdown'];
  }): RunSummary {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      run_id: a.runId,
      mode: a.mode,
      seed: a.seed,
      feed: a.feed,
      gate_url: a.gateUrl,
      started_at: a.startedAt.toISOString(),
      ended_at: a.endedAt.toISOString(),
      feed_start: iso(a.feedStartMs),
      feed_end: iso(a.feedEndMs),
      feed_events: this.feedEvents,
      ticks: this.ticks,
      intents: this.intents,
      skipped_local: sortedCounts(this.skipped),
      gate: {
        tried: this.gate.tried,
        allowed: this.gate.allowed,
        denied: this.gate.denied,
        denied_by_reason: sortedCounts(this.gate.byReason),
        denied_by_rule: { controls: sortedCounts(this.gate.byRuleControls), reference: sortedCounts(this.gate.byRuleReference) },
        exits: {
          tried: this.gate.exits.tried,
          allowed: this.gate.exits.allowed,
          denied: this.gate.exits.denied,
          denied_by_reason: sortedCounts(this.gate.exits.byReason),
          sent_gate_unavailable: this.gate.exits.sentUnavailable,
        },
        retries: this.gate.retries,
        quota_pauses: sortedCounts(a.quotaPauses ?? {}),
        denied_trap_warmup: this.gate.trapWarmup,
        errors: sortedCounts(this.gate.errors),
        fail_open: this.gate.failOpen,
        transport: { ...this.gate.transport },
        reconnects: a.reconnects,
        late_responses: a.late,
        rtt_ms: summarizeRtts(this.rtts),
      },
      orders: {
        submitted: this.orders.submitted,
        acked: this.orders.acked,
        filled: this.orders.filled,
        partial: this.orders.partial,
        cancelled: this.orders.cancelled,
        rejected_by_reason: sortedCounts(this.orders.rejected),
        expired: this.orders.expired,
        late_events: this.orders.late,
      },
      fills: this.fills,
      volume_base: round(this.volume, 9),
      notional_quote: round(this.notional, 6),
      fees_quote: round(this.fees, 8),
      pnl: {
        realized: round(a.realized, 8),
        unrealized: round(a.unrealized, 8),
        total: round(a.realized + a.unrealized, 8),
        max_drawdown: round(this.maxDrawdown, 8),
        per_exit_reason: Object.fromEntries(Object.keys(this.exitPnl).sort().map((k) => [k, round(this.exitPnl[k], 8)])),
      },
      positions_open_at_end: a.positionsOpen,
      posttrade: { ...this.posttrade },
      errors: sortedCounts(this.errors),
      shutdown: a.shutdown,
    };
  }
}

/** Rounds away binary noise (sums of fills) so summaries compare and print cleanly. */
function round(x: number, digits: number): number {
  const f = 10 ** digits;
  const r = Math.round(x * f) / f;
  return r === 0 ? 0 : r;
}
