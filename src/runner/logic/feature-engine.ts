import { atrBps, BarBuilder, DEFAULT_BARS, type Bar, type BarParams } from './bars.ts';
import { DEFAULT_BOOK, OrderBook, type BookHealth, type BookParams } from './book.ts';
import {
  absorption,
  consensus,
  DEFAULT_FEATURES,
  effectiveSpreadBps,
  liquidityAhead,
  localTrapFlag,
  microBias,
  microPrice,
  obi,
  spreadBpsRaw,
  sweepScore,
  tfi,
  type Absorption,
  type FeatureParams,
} from './features.ts';
import { DEFAULT_OFI, OfiWindow, type OfiParams } from './ofi.ts';
import type { AlphaInputs } from './signal.ts';
import { DEFAULT_TRADE_TAPE, TradeTape, type TradeTapeParams } from './trade-tape.ts';
import { DEFAULT_TRAP, TrapWindow, type TrapInputs, type TrapParams } from './trap-window.ts';
import { DEFAULT_TREND, ObiPersistence, TrendTracker, type Regime, type TrendParams } from './trend.ts';
import { sign0, type Level, type Trade } from './types.ts';
import { DEFAULT_VOL, RealizedVol, type VolParams } from './volatility.ts';

export interface FeatureEngineParams {
  features: FeatureParams;
  book: BookParams;
  tape: TradeTapeParams;
  vol: VolParams;
  bars: BarParams;
  ofi: OfiParams;
  trend: TrendParams;
  trap: TrapParams;
}

export const DEFAULT_FEATURE_ENGINE: FeatureEngineParams = {
  features: DEFAULT_FEATURES,
  book: DEFAULT_BOOK,
  tape: DEFAULT_TRADE_TAPE,
  vol: DEFAULT_VOL,
  bars: DEFAULT_BARS,
  ofi: DEFAULT_OFI,
  trend: DEFAULT_TREND,
  trap: DEFAULT_TRAP,
};

/** Every §1.3 feature of one symbol at one decision tick. */
export interface FeatureSnapshot {
  tMs: number;
  health: BookHealth;
  bestBid: Level | null;
  bestAsk: Level | null;
  mid: number | null;
  spreadBpsRaw: number | null;
  effSpreadBps: number | null;
  obi: number | null;
  tfi: number | null;
  microPrice: number | null;
  microBias: number | null;
  absorb: Absorption;
  sweep: number;
  liquidityAheadBid: number;
  liquidityAheadAsk: number;
  vol1mBps: number;
  /** the reference's price-dispersion "volatility", diagnostic only (§5.18) */
  dispersionBps: number;
  /** Wilder ATR in price units, null with too few bars */
  atr: number | null;
  /** ATR in bps of mid, falling back to vol_1m_bps */
  atrBps: number;
  ofi: number;
  trendAlign: number;
  regime: Regime;
  obiPersist: { pos: number; neg: number };
  consensus: 'long' | 'short' | null;
  trapFlag: boolean;
  trap: TrapInputs;
  obiSign: -1 | 0 | 1;
  tfiSign: -1 | 0 | 1;
  /** exchange / receive time of the newest book update (for latency_ms) */
  bookExchTs: number | null;
  bookRecvTs: number | null;
}

/**
 * The per-symbol market state behind the features: L2 book, trade tape, TRAP ring, realised vol, bars,
 * OFI (fed on every event) and the per-decision-tick trend and OBI persistence (fed by `tick`). Feed
 * handlers call `on*` with the event's receive time; the decision loop calls `tick(nowMs)`.
 */
export class FeatureEngine {
  readonly book = new OrderBook();
  private readonly tape: TradeTape;
  private readonly trapWindow: TrapWindow;
  private readonly vol: RealizedVol;
  private readonly bars: BarBuilder;
  private readonly ofiWindow: OfiWindow;
  private readonly trend: TrendTracker;
  private readonly persist: ObiPersistence;

  constructor(private readonly p: FeatureEngineParams = DEFAULT_FEATURE_ENGINE) {
    this.tape = new TradeTape(p.tape);
    this.trapWindow = new TrapWindow(p.trap);
    this.vol = new RealizedVol(p.vol);
    this.bars = new BarBuilder(p.bars);
    this.ofiWindow = new OfiWindow(p.ofi);
    this.trend = new TrendTracker(p.trend);
    this.persist = new ObiPersistence(p.trend);
  }

  /** A snapshot re-syncs the book; it is not diffed into the TRAP ring (a gap's changes are unknown). */
  onSnapshot(bids: readonly Level[], asks: readonly Level[], exchTs: number | null, recvTs: number): void {
    this.book.applySnapshot(bids, asks, exchTs, recvTs);
    this.afterBook(recvTs);
  }

  /** Applies a delta; false (ignored) before the first snapshot. */
  onDelta(bids: readonly Level[], asks: readonly Level[], exchTs: number | null, recvTs: number): boolean {
    if (!this.book.hasSnapshot) return false;
    const L = this.p.trap.trap_levels;
    const before = this.book.top(L);
    this.book.applyDelta(bids, asks, exchTs, recvTs);
    this.trapWindow.onBook(before, this.book.top(L), recvTs);
    this.afterBook(recvTs);
    return true;
  }

  /** Adds a trade print; false for a duplicate id. Bars use exchange time when the venue gave it. */
  onTrade(t: Trade): boolean {
    if (!this.tape.add(t)) return false;
    this.trapWindow.onTrade(t.price, t.qty, t.recvTs);
    this.bars.addTrade(t.price, t.qty, t.exchTs ?? t.recvTs);
    this.tape.prune(t.recvTs);
    return true;
  }

  onBar(bar: Bar): void {
    this.bars.addBar(bar);
  }

  /** Computes every feature at `nowMs` and advances the per-tick state (trend EMAs, OBI persistence). */
  tick(nowMs: number): FeatureSnapshot {
    const f = this.p.features;
    const { bids, asks } = this.book.top(Math.max(f.obi_levels, f.eff_spread_levels, f.liquidity_levels));
    const mid = this.book.mid();
    const o = obi(bids, asks, f.obi_levels);
    const tfiTrades = this.tape.window(nowMs, f.tfi_window_ms);
    const t = tfi(tfiTrades);
    if (mid !== null) this.trend.update(mid);
    this.persist.push(o);
    const vol1mBps = this.vol.volBps(nowMs);
    // bars are stamped with exchange time, which may run ahead of or behind the local clock by the offset
    const atr = this.bars.closedAtr(Math.max(nowMs, this.book.lastExchTs ?? nowMs));
    const align = this.trend.align();
    return {
      tMs: nowMs,
      health: this.book.health(nowMs, this.p.book),
      bestBid: this.book.bestBid(),
      bestAsk: this.book.bestAsk(),
      mid,
      spreadBpsRaw: spreadBpsRaw(bids, asks),
      effSpreadBps: effectiveSpreadBps(bids, asks, f.order_size, f.eff_spread_levels),
      obi: o,
      tfi: t,
      microPrice: microPrice(bids, asks),
      microBias: microBias(bids, asks),
      absorb: absorption(this.tape.window(nowMs, f.absorb_window_ms)),
      sweep: sweepScore(tfiTrades, f.sweep_window_ms),
      liquidityAheadBid: liquidityAhead(bids, f.liquidity_levels),
      liquidityAheadAsk: liquidityAhead(asks, f.liquidity_levels),
      vol1mBps,
      dispersionBps: this.vol.dispersionBps(),
      atr,
      atrBps: atrBps(atr, mid, vol1mBps),
      ofi: this.ofiWindow.value(nowMs),
      trendAlign: align,
      regime: this.trend.regime(),
      obiPersist: this.persist.shares(),
      consensus: consensus(o, t, f),
      trapFlag: localTrapFlag(o, t, f),
      trap: this.trapWindow.snapshot(nowMs),
      obiSign: sign0(o),
      tfiSign: sign0(t),
      bookExchTs: this.book.lastExchTs,
      bookRecvTs: this.book.lastRecvTs,
    };
  }

  private afterBook(recvTs: number): void {
    const mid = this.book.mid();
    if (mid !== null) this.vol.push(mid, recvTs);
    this.ofiWindow.update(this.book.bestBid(), this.book.bestAsk(), recvTs);
  }
}

/** The six alpha inputs of §1.4 from a snapshot (nulls stay null: the scorer treats them as 0). */
export function alphaInputs(s: FeatureSnapshot): AlphaInputs {
  return { OBI: s.obi, TFI: s.tfi, ABSORB: s.absorb.norm, MICRO_BIAS: s.microBias, OFI: s.ofi, TREND_ALIGN: s.trendAlign };
}
