import type { RunSummary } from './summary.ts';

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

function countsRows(title: string, m: Record<string, number>): Array<[string, string]> {
  const keys = Object.keys(m).sort((a, b) => m[b] - m[a] || a.localeCompare(b));
  if (keys.length === 0) return [[title, '-']];
  return keys.map((k, i) => [i === 0 ? title : '', `${k} ${m[k]}`]);
}

/** The summary as a two-column text table for the terminal (the JSON has everything). */
export function formatSummaryTable(s: RunSummary): string {
  const g = s.gate;
  const rows: Array<[string, string]> = [
    ['run', `${s.run_id} (${s.mode}, seed ${s.seed})`],
    ['feed', `${s.feed ?? '-'} (${s.feed_events} events, ${s.feed_start ?? '-'} → ${s.feed_end ?? '-'})`],
    ['gate', s.gate_url],
    ['ticks / intents', `${s.ticks} / ${s.intents}`],
    ...countsRows('skipped locally', s.skipped_local),
    ['orders tried (gate checks)', `${g.tried} (entries ${g.tried - g.exits.tried}, exits ${g.exits.tried}; same-id retries ${g.retries})`],
    ['allowed', `${g.allowed} (exits ${g.exits.allowed})`],
    ['denied', `${g.denied} (${g.denied - Object.values(g.errors).reduce((a, b) => a + b, 0)} by the gate; exits ${g.exits.denied})`],
    ...countsRows('denied by rule: controls', g.denied_by_rule.controls),
    ...countsRows('denied by rule: reference', g.denied_by_rule.reference),
    ...countsRows('exit denials', g.exits.denied_by_reason),
    ['exits sent, gate unreachable', String(g.exits.sent_gate_unavailable)],
    ...countsRows('entry pauses by quota', g.quota_pauses),
    ['trap denials in warm-up', String(g.denied_trap_warmup)],
    ...countsRows('gate errors (fail-closed)', g.errors),
    ['transport', `ws ${g.transport.ws}, http ${g.transport.http}, stub ${g.transport.stub}; reconnects ${g.reconnects}, late ${g.late_responses}`],
    ['gate round trip ms', `p50 ${fmt(g.rtt_ms.p50, 3)}  p90 ${fmt(g.rtt_ms.p90, 3)}  p99 ${fmt(g.rtt_ms.p99, 3)}  max ${fmt(g.rtt_ms.max, 3)}  mean ${fmt(g.rtt_ms.mean, 3)}`],
    [
      'orders',
      `submitted ${s.orders.submitted}, acked ${s.orders.acked}, filled ${s.orders.filled}, partial ${s.orders.partial}, cancelled ${s.orders.cancelled}, expired ${s.orders.expired}`,
    ],
    ...countsRows('rejected by venue', s.orders.rejected_by_reason),
    ['fills', `${s.fills} (volume ${fmt(s.volume_base, 6)}, notional ${fmt(s.notional_quote)}, fees ${fmt(s.fees_quote, 4)})`],
    ['PnL (quote)', `realized ${fmt(s.pnl.realized, 4)}, unrealized ${fmt(s.pnl.unrealized, 4)}, total ${fmt(s.pnl.total, 4)}, max drawdown ${fmt(s.pnl.max_drawdown, 4)}`],
    ...countsRows('PnL by exit reason', Object.fromEntries(Object.entries(s.pnl.per_exit_reason).map(([k, v]) => [k, Number(v.toFixed(4))]))),
    ['positions open at end', String(s.positions_open_at_end)],
    ['posttrade', `sent ${s.posttrade.sent}, failed ${s.posttrade.failed}, dropped ${s.posttrade.dropped}`],
    ...countsRows('runner errors', s.errors),
    ['shutdown', `${s.shutdown.reason}, flatten ${s.shutdown.flatten_ok ? 'ok' : 'FAILED'}, exit ${s.shutdown.exit_code}`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
