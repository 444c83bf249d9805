import type { Trade } from './types.ts';

export interface TradeTapeParams {
  /** how long trades are kept for the windowed features (the longest window wins) */
  retention_ms: number;
  /** how long a trade id is remembered for de-duplication (REST polls overlap by seconds, not minutes) */
  id_retention_ms: number;
}

export const DEFAULT_TRADE_TAPE: TradeTapeParams = { retention_ms: 10_000, id_retention_ms: 60_000 };

/**
 * The recent public trades of one symbol, de-duplicated by trade id and ordered by local receive
 * time (§1.2 Ours, §5.19): every windowed feature reads this one tape on one clock.
 */
export class TradeTape {
  private trades: Trade[] = [];
  private ids = new Map<string, number>();

  constructor(private readonly p: TradeTapeParams = DEFAULT_TRADE_TAPE) {}

  /** Adds a trade; false when its id was already seen (or its numbers are unusable). */
  add(t: Trade): boolean {
    if (this.ids.has(t.id)) return false;
    if (!Number.isFinite(t.price) || !Number.isFinite(t.qty) || t.qty < 0) return false;
    this.ids.set(t.id, t.recvTs);
    // feeds deliver in receive order; an out-of-order print is inserted so windows stay contiguous
    let i = this.trades.length;
    while (i > 0 && this.trades[i - 1].recvTs > t.recvTs) i--;
    this.trades.splice(i, 0, t);
    return true;
  }

  /** Drops trades and ids older than their retention. */
  prune(nowMs: number): void {
    const cut = nowMs - this.p.retention_ms;
    let k = 0;
    while (k < this.trades.length && this.trades[k].recvTs < cut) k++;
    if (k > 0) this.trades.splice(0, k);
    const idCut = nowMs - this.p.id_retention_ms;
    // Map iterates in insertion order, which is (nearly) receive order
    for (const [id, ts] of this.ids) {
      if (ts >= idCut) break;
      this.ids.delete(id);
    }
  }

  /** Trades with `nowMs − windowMs ≤ recvTs ≤ nowMs`, oldest first. */
  window(nowMs: number, windowMs: number): Trade[] {
    const from = nowMs - windowMs;
    const out: Trade[] = [];
    for (const t of this.trades) if (t.recvTs >= from && t.recvTs <= nowMs) out.push(t);
    return out;
  }

  get size(): number {
    return this.trades.length;
  }
}
