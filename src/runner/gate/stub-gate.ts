import { runSprt } from '../../core/sprt.ts';
import { trapScore } from '../../core/trap.ts';
import { expectedReturnBps, gateProbability } from '../logic/expected-return.ts';
import type { PretradeCheckRequest, PretradeCheckResponse } from '../../schema/pretrade.ts';
import type { GateAnswer, GatePort, GatePortStats, LogAnswer } from './port.ts';

/**
 * The fixed thresholds of the stub (the gate's reference defaults, runner.md §1.8): latency ≤ 30 ms,
 * spread ≤ 100 bps, E[π] > 2 bps, slippage ≤ 0.3·b, trap score ≤ 0.8, daily drawdown above −10 %,
 * fewer than 10 open positions, SPRT with A = 2, B = −2, σ = 1, at most 10 samples.
 */
export const STUB_THRESHOLDS = {
  latency_ms: 30,
  spread_bps: 100,
  pi_min_bps: 2,
  slip_eta: 0.3,
  trap_score: 0.8,
  trap_window_s: 2,
  dd_day_pct: 10,
  max_concurrent: 10,
  sprt: { enabled: true, sigma: 1, A: 2, B: -2, maxObs: 10, timeoutMs: Number.POSITIVE_INFINITY },
} as const;

/** The reference gate's constant `quotas` (no desk control on: src/gate/pretrade.ts), echoed on every answer. */
export const STUB_QUOTAS = { trades_pm_left: 999, symbol_exposure_left_usdt: 1e12 } as const;

const num = (v: unknown, dflt = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : dflt);
const nums = (v: unknown): number[] => (Array.isArray(v) ? v.map((x) => num(x)) : []);

/**
 * The reference rules of §1.8 applied to one request, statelessly (no TRAP z history, no latency
 * window, no anti-churn): the same request always gets the same answer, which makes `--gate stub`
 * runs bit-for-bit reproducible. The first failing rule gives the reason; the spread rule overwrites
 * it, as the gate's does. The new request fields (client_order_id, type, mid, ts_ms, account_id) are
 * accepted and change nothing: the stub has no desk controls, so `quotas` is the reference constant.
 *
 * A reduce-only order (an exit) is allowed: every rule of the stub is an entry-quality rule (expected
 * return, slippage, TRAP, SPRT, risk caps, latency, spread), which the runner needs the gate not to
 * apply to a close (docs/runner.md, "Exits through the gate"); a stateless stub cannot verify a position.
 */
export function stubDecide(req: PretradeCheckRequest): PretradeCheckResponse {
  const t = STUB_THRESHOLDS;
  const m = req.market as Record<string, unknown>;
  const qty = num(req.order.qty);
  if (req.order.reduce_only === true) {
    return { allow: true, max_qty: qty, risk_scale: 1, cooldown_ms: 0, reason: 'ok', hard_gate: false, quotas: { ...STUB_QUOTAS }, observability: { gate_state: 'PASS', reasons: ['reduce_only'] } };
  }
  const reasons: string[] = [];
  let reason = 'ok';
  const deny = (r: string, note: string = r) => {
    reasons.push(note);
    if (reason === 'ok') reason = r;
  };
  const latency = num(m.latency_ms);
  if (!(latency <= t.latency_ms)) deny('latency_guard', `latency_guard_exceeded:${latency.toFixed(1)}>${t.latency_ms.toFixed(1)}`);
  const cancel = nums(m.trap_cancel_deltas);
  const add = nums(m.trap_add_deltas);
  if (cancel.length > 0 || add.length > 0) {
    const s = trapScore(cancel, add, t.trap_window_s);
    if (s > t.trap_score) deny('trap_guard_score', `trap_guard_score:${s.toFixed(2)}>${t.trap_score.toFixed(2)}`);
  }
  const score = num(m.score);
  const a = num(m.a_bps);
  const b = num(m.b_bps);
  const slip = num(m.slip_bps_est);
  const ePi = expectedReturnBps(gateProbability(score), { a_bps: a, b_bps: b, fees_bps: num(req.fees_bps), slip_bps_est: slip });
  if (!(ePi > t.pi_min_bps)) deny('expected_return_gate', 'expected_return_below_threshold');
  if (b > 0 && !(slip <= t.slip_eta * b)) deny('slippage_guard', `slippage_guard_exceeded:${slip.toFixed(2)}>${(t.slip_eta * b).toFixed(2)}`);
  if (num(m.pnl_today_pct) <= -t.dd_day_pct) deny('risk_dd_day_cap');
  if (num(m.open_positions) >= t.max_concurrent) deny('risk_max_concurrent');
  if (reason === 'ok' && Array.isArray(m.sprt_samples)) {
    const s = runSprt(t.sprt, score, nums(m.sprt_samples), () => 0);
    if (s.decision === 'REJECT') deny('sprt_reject');
    else reasons.push(s.decision === 'ACCEPT' ? 'sprt_accept' : 'sprt_continue');
  }
  const spread = num(m.spread_bps);
  if (spread > t.spread_bps) reason = `spread_bps_too_wide:${spread.toFixed(1)}`;
  const allow = reason === 'ok';
  return {
    allow,
    max_qty: qty,
    risk_scale: 1,
    cooldown_ms: 0,
    reason,
    hard_gate: false,
    quotas: { ...STUB_QUOTAS },
    observability: { gate_state: allow ? 'PASS' : 'BLOCK', reasons },
  };
}

/** `--gate stub`: the rules above in-process; posttrade bodies are accepted and counted. */
export class StubGate implements GatePort {
  readonly name = 'stub';
  logged = 0;

  async start(): Promise<boolean> {
    return true;
  }

  async check(req: PretradeCheckRequest): Promise<GateAnswer> {
    const t0 = performance.now();
    const decision = stubDecide(req);
    return { decision, transport: 'stub', outcome: 'stub', rttMs: performance.now() - t0 };
  }

  async log(): Promise<LogAnswer> {
    this.logged++;
    return { ok: true };
  }

  stats(): GatePortStats {
    return { connected: true, reconnects: 0, late: 0 };
  }

  async close(): Promise<void> {}
}
