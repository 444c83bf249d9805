import { sideSign, type PositionSide, type Side } from './types.ts';

export interface Fill {
  /** venue fill id: a fill seen twice is applied once */
  fillId: string;
  side: Side;
  qty: number;
  price: number;
  /** fee of this fill in quote currency (convert base-currency fees before) */
  feeQuote: number;
  tsMs: number;
}

export interface FillEffect {
  applied: boolean;
  /** realised PnL of this fill, fee-inclusive, quote */
  realized: number;
  closedQty: number;
  openedQty: number;
}

interface Lot {
  qty: number;
  price: number;
  /** entry fee per unit still carried by this lot */
  feePerUnit: number;
}

/**
 * A position built from fills only (§2.2 Ours, §5.7): FIFO lots, average entry, realised PnL including
 * both the entry fees of the closed lots and the exit fee, unrealised PnL marked to mid (net of the
 * open lots' entry fees, so realised + unrealised is the account's change). A fill larger than the
 * position flips it; its fee is split pro rata.
 */
export class Position {
  private lots: Lot[] = [];
  private dir: 1 | -1 | 0 = 0;
  private seen = new Set<string>();
  realized = 0;
  feesPaid = 0;
  /** time of the fill that opened the current position; null when flat */
  openedAtMs: number | null = null;

  applyFill(f: Fill): FillEffect {
    const none: FillEffect = { applied: false, realized: 0, closedQty: 0, openedQty: 0 };
    if (this.seen.has(f.fillId)) return none;
    if (!(f.qty > 0) || !Number.isFinite(f.qty) || !(f.price > 0) || !Number.isFinite(f.price)) return none;
    this.seen.add(f.fillId);
    const fee = Number.isFinite(f.feeQuote) ? f.feeQuote : 0;
    this.feesPaid += fee;
    const feePerUnit = fee / f.qty;
    const s = sideSign(f.side);
    if (this.dir === 0 || this.dir === s) {
      if (this.dir === 0) this.openedAtMs = f.tsMs;
      this.dir = s;
      this.lots.push({ qty: f.qty, price: f.price, feePerUnit });
      return { applied: true, realized: 0, closedQty: 0, openedQty: f.qty };
    }
    let left = f.qty;
    let pnl = 0;
    const eps = 1e-12 * f.qty;
    while (left > eps && this.lots.length > 0) {
      const lot = this.lots[0];
      const m = Math.min(left, lot.qty);
      pnl += this.dir * (f.price - lot.price) * m - lot.feePerUnit * m - feePerUnit * m;
      lot.qty -= m;
      left -= m;
      if (lot.qty <= 1e-12 * Math.max(1, m)) this.lots.shift();
    }
    const closed = f.qty - Math.max(0, left);
    this.realized += pnl;
    let opened = 0;
    if (this.lots.length === 0) {
      this.dir = 0;
      this.openedAtMs = null;
      if (left > eps) {
        this.dir = s;
        this.openedAtMs = f.tsMs;
        this.lots.push({ qty: left, price: f.price, feePerUnit });
        opened = left;
      }
    }
    return { applied: true, realized: pnl, closedQty: closed, openedQty: opened };
  }

  /** Signed quantity: > 0 long, < 0 short. */
  get qty(): number {
    let q = 0;
    for (const l of this.lots) q += l.qty;
    return this.dir * q;
  }

  get side(): PositionSide | null {
    return this.dir > 0 ? 'LONG' : this.dir < 0 ? 'SHORT' : null;
  }

  /** Quantity-weighted entry price of the open lots; null when flat. */
  get avgEntry(): number | null {
    let q = 0;
    let c = 0;
    for (const l of this.lots) {
      q += l.qty;
      c += l.qty * l.price;
    }
    return q > 0 ? c / q : null;
  }

  /** Entry fees still carried by the open lots, quote. */
  get openFees(): number {
    let f = 0;
    for (const l of this.lots) f += l.feePerUnit * l.qty;
    return f;
  }

  unrealized(mid: number): number {
    let u = 0;
    for (const l of this.lots) u += this.dir * (mid - l.price) * l.qty - l.feePerUnit * l.qty;
    return u;
  }

  /** Open notional at `price`, quote (absolute). */
  exposure(price: number): number {
    return Math.abs(this.qty) * price;
  }
}
