import { requestParams } from '../config/params.ts';
import type { PretradeCheckRequest, PretradeCheckResponse } from '../../schema/pretrade.ts';
import type { GateAnswer } from '../gate/port.ts';
import type { FeatureSnapshot } from '../logic/feature-engine.ts';
import { buildPretradeRequest, RequestBuildError } from '../logic/request.ts';
import { applyGateAnswer, SIZED_OUT_BY_GATE } from '../logic/sizing.ts';
import { logError, logEvent, pnlNow, type EngineContext } from './context.ts';
import { localSkip } from './filters.ts';
import { answered, askGate } from './gate-call.ts';
import { marketTsMs, sizeIntent, type SizedIntent } from './intent.ts';
import type { OrderFlow } from './order-flow.ts';
import { notSentBody } from './posttrade-bodies.ts';
import { isQuotaDenial } from './quota-guard.ts';
import type { SymbolState } from './symbol-state.ts';

/** Local skip: an exhausted gate quota holds new entries (quota-guard.ts). */
export const QUOTA_EXHAUSTED = 'quota_exhausted';

/** Pretrade calls in flight across symbols (the runner's own `gate.max_inflight` bound). */
export interface InflightCounter {
  n: number;
}

/**
 * One decision tick's entry path (runner.md §1.1 Ours): signal → local filters → size → the full
 * PretradeCheckRequest → gate → place only on `allow && !hard_gate`, with max_qty, risk_scale and
 * cooldown_ms applied. Every skip and every answer is counted and journaled.
 */
export class EntryFlow {
  /** UTC day of the last `pnl_today_pct` and the PnL at its start */
  private day = Number.NaN;
  private dayStartPnl = 0;

  constructor(
    private readonly ctx: EngineContext,
    private readonly flow: OrderFlow,
    private readonly inflight: InflightCounter,
  ) {}

  async onTick(st: SymbolState, snap: FeatureSnapshot, rawScore: number, feedStartMs: number): Promise<void> {
    const { ctx } = this;
    const side = st.history.intent();
    if (side === null) return;
    const now = ctx.clock.nowMs();
    ctx.summary.intents++;
    const skip = (reason: string, extra: Record<string, unknown> = {}) => {
      ctx.summary.skip(reason);
      logEvent(ctx, 'skip', 'local', { symbol: st.symbol, side, reason, score: rawScore, ...extra });
    };
    const local = localSkip(st, snap, side, now, ctx.cfg);
    if (local !== null) return skip(local);
    const balance = await ctx.exchange.balance();
    const mid = snap.mid ?? 0;
    const sized = sizeIntent({
      snap,
      side,
      rawScore,
      calibrator: ctx.calibrator,
      equity: balance.equity,
      exposureUsdt: st.position.exposure(mid),
      market: st.market!,
      nowMs: now,
      cfg: ctx.cfg,
    });
    if (!sized.ok) return skip(sized.reason);
    const quota = ctx.quotas.blocked(st.symbol, sized.intent.qty * sized.intent.price, now);
    if (quota !== null) return skip(QUOTA_EXHAUSTED, { quota });
    if (this.inflight.n >= ctx.cfg.gate.max_inflight) return skip('gate_backpressure');
    let req: PretradeCheckRequest;
    let cid: string;
    try {
      cid = this.flow.newCid();
      req = this.request(st, snap, sized.intent, now, cid);
    } catch (e) {
      if (!(e instanceof RequestBuildError)) throw e;
      logError(ctx, 'request_build', e);
      return skip('request_invalid', { message: e.message });
    }
    logEvent(ctx, 'intent', 'local', {
      symbol: st.symbol,
      req_id: req.req_id,
      client_order_id: cid,
      side,
      qty: sized.intent.qty,
      price: sized.intent.price,
      raw_score: rawScore,
      score_sent: sized.intent.score,
      p_win: sized.intent.pWin,
      route: sized.intent.route,
      latency_ms: sized.intent.latencyMs,
      spread_bps: sized.intent.spreadBps,
      ...sized.intent.er,
    });
    st.inflight = true;
    this.inflight.n++;
    let answer: GateAnswer;
    let reqId: string;
    try {
      const inWarmup = () => ctx.clock.nowMs() - feedStartMs < ctx.cfg.trap.warmup_s * 1000;
      const r = await askGate(ctx, req, 'entry', inWarmup);
      answer = r.answer;
      reqId = r.req.req_id!;
    } finally {
      st.inflight = false;
      this.inflight.n--;
    }
    await this.onAnswer(st, sized.intent, reqId, cid, answer);
  }

  private request(st: SymbolState, snap: FeatureSnapshot, it: SizedIntent, now: number, cid: string): PretradeCheckRequest {
    const { ctx } = this;
    const c = ctx.cfg;
    const seq = ++ctx.seq.req;
    return buildPretradeRequest(
      {
        runId: ctx.runId,
        seq,
        tsMs: now,
        mode: ctx.mode,
        accountId: ctx.accountId,
        clientOrderId: cid,
        orderType: it.route === 'maker' ? 'limit' : 'market',
        reduceOnly: false,
        symbol: st.symbol,
        side: it.side,
        qty: it.qty,
        price: it.price,
        mid: it.mid,
        marketTsMs: marketTsMs(snap.bookExchTs, snap.bookRecvTs, c.feed.clock_offset_ms),
        score: it.score,
        er: it.er,
        spreadBps: it.spreadBps,
        latencyMs: it.latencyMs,
        regime: snap.regime,
        trap: snap.trap,
        obiSign: snap.obiSign,
        tfiSign: snap.tfiSign,
        sprtSamples: c.sprt.n > 0 ? st.history.sprtSamples(it.side) : null,
        pnlTodayPct: this.pnlTodayPct(now),
        openPositions: this.openPositions(),
        ...(c.gate.send_extras ? { extras: extras(snap) } : {}),
      },
      requestParams(c),
    );
  }

  private async onAnswer(st: SymbolState, it: SizedIntent, reqId: string, cid: string, a: GateAnswer): Promise<void> {
    const { ctx } = this;
    const now = ctx.clock.nowMs();
    let d: PretradeCheckResponse = a.decision;
    const byGate = answered(a);
    const unsent = (why: string) =>
      ctx.posttrade.push(
        notSentBody(
          { reqId, cid, accountId: ctx.accountId, symbol: st.symbol, side: it.side, action: 'open', type: it.route === 'maker' ? 'limit' : 'market', qty: it.qty, price: it.price, reason: 'open' },
          now,
          why,
        ),
      );
    if (!byGate && ctx.cfg.gate.fail_open_in_paper && ctx.mode === 'paper') {
      ctx.summary.gate.failOpen++;
      logEvent(ctx, 'fail_open', 'local', { symbol: st.symbol, req_id: reqId, reason: d.reason });
      d = { ...d, allow: true, hard_gate: false, max_qty: it.qty, risk_scale: 1, cooldown_ms: 0 };
    }
    // a desk-limit refusal's cooldown_ms is the quota guard's pause (counted as quota_exhausted), not a symbol cool-down
    if (d.cooldown_ms > 0 && !(byGate && isQuotaDenial(d.reason))) st.cooldownUntilMs = Math.max(st.cooldownUntilMs, now + d.cooldown_ms);
    if (!(d.allow === true && d.hard_gate !== true)) {
      const paused = byGate ? ctx.quotas.onDeny(st.symbol, d.reason, d.cooldown_ms, now) : null;
      logEvent(ctx, 'deny', byGate ? 'gate' : 'local', {
        symbol: st.symbol,
        req_id: reqId,
        client_order_id: cid,
        side: it.side,
        reason: d.reason,
        reasons: d.observability.reasons,
        hard_gate: d.hard_gate,
        cooldown_ms: d.cooldown_ms,
        ...(paused !== null ? { entries_paused: paused } : {}),
      });
      // sent, but no verdict came back: the gate may have allowed and reserved it
      if (!byGate && a.transport !== 'none') unsent(a.outcome);
      return;
    }
    if (byGate) {
      const paused = ctx.quotas.onAllow(st.symbol, d.quotas, d.cooldown_ms, now, false);
      if (paused !== null) logEvent(ctx, 'quota_exhausted', 'gate', { symbol: st.symbol, req_id: reqId, quota: paused, quotas: d.quotas });
    }
    const g = applyGateAnswer({ qty: it.qty, maxQty: d.max_qty, riskScale: d.risk_scale, price: it.price, venue: st.market! });
    if (g.reason !== null) {
      ctx.summary.skip(SIZED_OUT_BY_GATE);
      logEvent(ctx, 'skip', 'local', { symbol: st.symbol, req_id: reqId, side: it.side, reason: SIZED_OUT_BY_GATE, max_qty: d.max_qty, risk_scale: d.risk_scale });
      if (byGate) unsent(SIZED_OUT_BY_GATE);
      return;
    }
    logEvent(ctx, 'allow', 'gate', { symbol: st.symbol, req_id: reqId, client_order_id: cid, side: it.side, qty: g.qty, asked_qty: it.qty, max_qty: d.max_qty, risk_scale: d.risk_scale });
    await this.placeEntry(st, it, g.qty, reqId, cid);
  }

  private async placeEntry(st: SymbolState, it: SizedIntent, qty: number, reqId: string, cid: string): Promise<void> {
    const { ctx, flow } = this;
    const now = ctx.clock.nowMs();
    const maker = it.route === 'maker';
    st.positionId = `${ctx.runId}-p${++ctx.seq.position}`;
    st.entryReqId = reqId;
    st.entryAtr = it.atrPx;
    const o = ctx.orders.add({
      cid,
      accountId: ctx.accountId,
      symbol: st.symbol,
      side: it.side,
      type: maker ? 'limit' : 'market',
      action: 'open',
      reason: 'open',
      reqId,
      positionId: st.positionId,
      qty,
      price: it.price,
      reduceOnly: false,
      createdMs: now,
      ackDeadlineMs: now + ctx.cfg.execution.ack_timeout_ms,
      cancelAtMs: maker ? now + ctx.cfg.execution.cancel_after_ms : null,
    });
    st.entryOrder = o;
    st.opens.push(now);
    await flow.submit(st, o, maker && ctx.cfg.execution.post_only);
  }

  /** `market.pnl_today_pct`: PnL since the UTC day began on the runner's clock, % of that day's starting equity. */
  private pnlTodayPct(now: number): number {
    const { realized, unrealized } = pnlNow(this.ctx);
    const total = realized + unrealized;
    const day = Math.floor(now / 86_400_000);
    if (day !== this.day) {
      this.day = day;
      this.dayStartPnl = total;
    }
    const equity0 = this.ctx.cfg.paper.start_equity_usdt + this.dayStartPnl;
    return equity0 > 0 ? ((total - this.dayStartPnl) / equity0) * 100 : 0;
  }

  /** `market.open_positions`: symbols with a position or a working entry order. */
  private openPositions(): number {
    let n = 0;
    for (const s of this.ctx.symbols.values()) if (!s.flat || s.entryOrder !== null) n++;
    return n;
  }
}

/** Gen-1's diagnostic features, sent only with `gate.send_extras` (§1.8). */
function extras(s: FeatureSnapshot): Record<string, number | string | boolean | null> {
  return {
    mid: s.mid,
    obi_l5: s.obi,
    tfi_5s: s.tfi,
    vol_1m_bps: s.vol1mBps,
    rv_1m_bps: s.vol1mBps,
    sweep_score: s.sweep,
    liquidity_ahead_bid: s.liquidityAheadBid,
    liquidity_ahead_ask: s.liquidityAheadAsk,
    micro_bias: s.microBias,
    obi_persist_3s: s.obiPersist.pos,
    ofi_5s: s.ofi,
    absorb_norm: s.absorb.norm,
    trap_flag: s.trapFlag,
    spread_bps_raw: s.spreadBpsRaw,
    effective_spread_bps: s.effSpreadBps,
  };
}
