import { erParams, sizingParams } from '../config/params.ts';
import type { RunnerConfig } from '../config/schema.ts';
import type { Calibrator } from '../logic/calibration.ts';
import { erInputs, erPrecheck, type ErInputs, type Route } from '../logic/expected-return.ts';
import type { FeatureSnapshot } from '../logic/feature-engine.ts';
import { latencyMs } from '../logic/features.ts';
import { sideAligned } from '../logic/signal.ts';
import { sizeOrder } from '../logic/sizing.ts';
import type { MarketInfo, Side } from '../logic/types.ts';

/** An intent that passed sizing: what goes into the request and, if allowed, to the venue. */
export interface SizedIntent {
  side: Side;
  route: Route;
  qty: number;
  /** limit price (maker: own best) or reference price (taker: best opposite) */
  price: number;
  rawScore: number;
  /** side-aligned score sent as market.score (§1.5 Ours) */
  score: number;
  pWin: number;
  er: ErInputs;
  spreadBps: number;
  latencyMs: number;
  /** ATR at the decision, price units (fixes the exits' geometry) */
  atrPx: number;
  mid: number;
}

/**
 * `market.ts_ms`: when the book the decision used was current, on the runner's clock — the exchange
 * time of its newest update mapped with `feed.clock_offset_ms`, else its receive time (the same base
 * `latency_ms` is measured from, so `send time − ts_ms = latency_ms`). Null without a book.
 */
export function marketTsMs(exchTs: number | null, recvTs: number | null, clockOffsetMs: number): number | null {
  const t = exchTs !== null && Number.isFinite(exchTs) ? exchTs + clockOffsetMs : recvTs;
  return t !== null && Number.isFinite(t) && t >= 0 ? Math.floor(t) : null;
}

export type IntentResult = { ok: true; intent: SizedIntent } | { ok: false; reason: string };

/**
 * Prices, ER inputs, probability and size of an intent (§1.5–§1.8 Ours). `exposureUsdt` is the
 * symbol's open notional; `equity` the account equity from the exchange. Local skip reasons:
 * `atr_unavailable`, `er_precheck` (only with `filters.er_precheck`), `sizing_*`.
 */
export function sizeIntent(a: {
  snap: FeatureSnapshot;
  side: Side;
  rawScore: number;
  calibrator: Calibrator;
  equity: number;
  exposureUsdt: number;
  market: MarketInfo;
  nowMs: number;
  cfg: RunnerConfig;
}): IntentResult {
  const { snap, side, cfg } = a;
  const route: Route = cfg.execution.route;
  const bid = snap.bestBid?.[0];
  const ask = snap.bestAsk?.[0];
  if (bid === undefined || ask === undefined || snap.mid === null) return { ok: false, reason: 'bad_book' };
  const price = route === 'taker' ? (side === 'buy' ? ask : bid) : side === 'buy' ? bid : ask;
  const spreadBps = snap.effSpreadBps ?? snap.spreadBpsRaw ?? 0;
  const erp = erParams(cfg);
  const er = erInputs({ atrBps: snap.atrBps, route, spreadBps, makerBps: a.market.makerBps, takerBps: a.market.takerBps }, erp);
  if (er === null) return { ok: false, reason: 'atr_unavailable' };
  const score = sideAligned(side, a.rawScore);
  const pWin = a.calibrator.p(score);
  if (cfg.filters.er_precheck) {
    const pre = erPrecheck(pWin, er, erp);
    if (!pre.erOk || !pre.slipOk) return { ok: false, reason: 'er_precheck' };
  }
  const sized = sizeOrder(
    { pWin, rr: er.a_bps > 0 ? er.b_bps / er.a_bps : 0, equity: a.equity, price, symbolExposureUsdt: a.exposureUsdt, venue: a.market },
    sizingParams(cfg),
  );
  if (sized.reason !== null) return { ok: false, reason: sized.reason };
  const lat = latencyMs({ tSendMs: a.nowMs, tExchMs: snap.bookExchTs, tRecvMs: snap.bookRecvTs ?? a.nowMs, clockOffsetMs: cfg.feed.clock_offset_ms });
  return {
    ok: true,
    intent: {
      side,
      route,
      qty: sized.qty,
      price,
      rawScore: a.rawScore,
      score,
      pWin,
      er,
      spreadBps,
      latencyMs: lat,
      atrPx: (snap.mid * snap.atrBps) / 1e4,
      mid: snap.mid,
    },
  };
}
