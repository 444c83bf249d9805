/**
 * Shared shapes of the runner's pure logic (runner.md §1–§2). Prices are quote units, sizes base
 * units, times epoch ms on the runner's one local clock (real or virtual) unless a name says `exch`.
 */

/** One book level: `[price, size]`. */
export type Level = readonly [price: number, size: number];

/** Order side as the gate and the venue spell it. */
export type Side = 'buy' | 'sell';

/** Position direction (journal / exit engine only; never sent as an order side, §5.9). */
export type PositionSide = 'LONG' | 'SHORT';

/** Taker side of a trade print; null when the venue did not say (counted on neither side, §5.19). */
export type Aggressor = 'buy' | 'sell' | null;

export interface Trade {
  /** venue trade id: trades are de-duplicated by it (§1.2 Ours) */
  id: string;
  price: number;
  qty: number;
  aggressor: Aggressor;
  /** exchange event time, ms (null when the venue gave none) */
  exchTs: number | null;
  /** local receive time, ms: every time window is measured on this clock */
  recvTs: number;
}

/** A read-only top-of-book view: bids best (highest) first, asks best (lowest) first. */
export interface BookView {
  bids: readonly Level[];
  asks: readonly Level[];
}

/** Venue metadata used for sizing and fee estimates (the feed's `market_info` line). */
export interface MarketInfo {
  lotStep: number;
  minQty: number;
  minNotional: number;
  tick: number;
  makerBps: number;
  takerBps: number;
}

/** +1 for a buy / long, −1 for a sell / short. */
export function sideSign(side: Side | PositionSide): 1 | -1 {
  return side === 'buy' || side === 'LONG' ? 1 : -1;
}

/** The order side that reduces a position. */
export function closingSide(side: PositionSide): Side {
  return side === 'LONG' ? 'sell' : 'buy';
}

/** sign(x) as −1/0/1; null and NaN give 0. */
export function sign0(x: number | null): -1 | 0 | 1 {
  if (x === null || !(x === x)) return 0;
  return x > 0 ? 1 : x < 0 ? -1 : 0;
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
