import { clamp, type Level } from './types.ts';

export interface OfiParams {
  /** OFI summing window (§1.3 Ours: 5 s) */
  ofi_window_ms: number;
}

export const DEFAULT_OFI: OfiParams = { ofi_window_ms: 5000 };

/**
 * One best-level order-flow-imbalance increment (Cont–Kukanov–Stoikov), from previous to current L1:
 * bid term +q' if the bid rose, q' − q if unchanged, −q if it fell; the ask term mirrored and subtracted.
 */
export function ofiIncrement(prevBid: Level, prevAsk: Level, bid: Level, ask: Level): number {
  const [pb, qb] = prevBid;
  const [pb2, qb2] = bid;
  const [pa, qa] = prevAsk;
  const [pa2, qa2] = ask;
  const bidTerm = pb2 > pb ? qb2 : pb2 === pb ? qb2 - qb : -qb;
  const askTerm = pa2 < pa ? qa2 : pa2 === pa ? qa2 - qa : -qa;
  return bidTerm - askTerm;
}

/**
 * OFI over a time window (§1.3 Ours, §5.20): the sum of increments of the last 5 s divided by the mean
 * L1 depth ((q_bid + q_ask)/2 per update) over the same updates, clamped to [−1, 1]. An empty side
 * breaks the chain: the next update starts afresh.
 */
export class OfiWindow {
  private prev: { bid: Level; ask: Level } | null = null;
  private events: Array<{ t: number; e: number; depth: number }> = [];

  constructor(private readonly p: OfiParams = DEFAULT_OFI) {}

  update(bid: Level | null, ask: Level | null, tMs: number): void {
    if (bid === null || ask === null) {
      this.prev = null;
      return;
    }
    const e = this.prev === null ? 0 : ofiIncrement(this.prev.bid, this.prev.ask, bid, ask);
    this.events.push({ t: tMs, e, depth: (bid[1] + ask[1]) / 2 });
    this.prev = { bid: [bid[0], bid[1]], ask: [ask[0], ask[1]] };
    this.prune(tMs);
  }

  value(nowMs: number): number {
    this.prune(nowMs);
    let sum = 0;
    let depth = 0;
    for (const ev of this.events) {
      sum += ev.e;
      depth += ev.depth;
    }
    const mean = this.events.length > 0 ? depth / this.events.length : 0;
    return mean > 0 ? clamp(sum / mean, -1, 1) : 0;
  }

  private prune(nowMs: number): void {
    const cut = nowMs - this.p.ofi_window_ms;
    let k = 0;
    while (k < this.events.length && this.events[k].t < cut) k++;
    if (k > 0) this.events.splice(0, k);
  }
}
