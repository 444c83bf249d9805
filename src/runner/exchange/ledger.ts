import type { OrderSide } from './types.ts';
import { cleanQty } from './paper-book.ts';

/** An open slice of a position, closed first-in first-out; `fee` is its still-unrealised entry fee. */
interface Lot {
  qty: number;
  price: number;
  fee: number;
}

interface SymbolBook {
  /** +1 long lots, −1 short lots (all lots share one direction). */
  dir: 1 | -1;
  lots: Lot[];
  realized: number;
}

/**
 * Positions and cash of a linear (USDT-margined) account. Fees are paid in quote at each fill;
 * realised PnL is FIFO and fee-inclusive: closing `q` of a lot books `(exit − entry)·q·dir` minus
 * the lot's entry fee pro rata and the closing fill's fee pro rata. A fill that flips the position
 * closes lots first and opens a new lot with the rest (carrying the rest of the fill's fee).
 */
export class Ledger {
  private readonly books = new Map<string, SymbolBook>();
  cash: number;
  feesPaid = 0;

  constructor(readonly startEquity: number) {
    this.cash = startEquity;
  }

  /** Applies a fill; returns the fee-inclusive PnL it realised (0 for a pure open). */
  fill(symbol: string, side: OrderSide, price: number, qty: number, fee: number): number {
    const book = this.book(symbol);
    const dir = side === 'buy' ? 1 : -1;
    let left = qty;
    let realized = 0;
    while (left > 0 && book.lots.length > 0 && book.dir !== dir) {
      const lot = book.lots[0];
      const take = Math.min(lot.qty, left);
      const gross = (price - lot.price) * take * book.dir;
      const entryFee = (lot.fee * take) / lot.qty;
      const exitFee = (fee * take) / qty;
      realized += gross - entryFee - exitFee;
      this.cash += gross;
      lot.fee -= entryFee;
      lot.qty = cleanQty(lot.qty - take);
      left = cleanQty(left - take);
      if (lot.qty === 0) book.lots.shift();
    }
    if (left > 0) {
      if (book.lots.length === 0) book.dir = dir;
      book.lots.push({ qty: left, price, fee: (fee * left) / qty });
    }
    this.cash -= fee;
    this.feesPaid += fee;
    book.realized += realized;
    return realized;
  }

  /** Signed position (base units): > 0 long. */
  position(symbol: string): number {
    const book = this.books.get(symbol);
    if (!book) return 0;
    return cleanQty(book.dir * book.lots.reduce((s, l) => s + l.qty, 0));
  }

  avgEntry(symbol: string): number | null {
    const book = this.books.get(symbol);
    if (!book || book.lots.length === 0) return null;
    const qty = book.lots.reduce((s, l) => s + l.qty, 0);
    return book.lots.reduce((s, l) => s + l.price * l.qty, 0) / qty;
  }

  realized(symbol: string): number {
    return this.books.get(symbol)?.realized ?? 0;
  }

  /** Gross unrealised PnL at `mark` (0 without a mark). */
  unrealized(symbol: string, mark: number | undefined): number {
    const book = this.books.get(symbol);
    if (!book || mark === undefined) return 0;
    return book.lots.reduce((s, l) => s + (mark - l.price) * l.qty * book.dir, 0);
  }

  symbols(): string[] {
    return [...this.books.keys()];
  }

  totalRealized(): number {
    let s = 0;
    for (const b of this.books.values()) s += b.realized;
    return s;
  }

  private book(symbol: string): SymbolBook {
    let b = this.books.get(symbol);
    if (!b) {
      b = { dir: 1, lots: [], realized: 0 };
      this.books.set(symbol, b);
    }
    return b;
  }
}
