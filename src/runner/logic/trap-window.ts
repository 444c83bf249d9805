import type { BookView, Level } from './types.ts';

export interface TrapParams {
  /** `trap.window_s` of the gate library, in ms (2 s) */
  trap_window_ms: number;
  /** L: ranks reported per side (5) */
  trap_levels: number;
}

export const DEFAULT_TRAP: TrapParams = { trap_window_ms: 2000, trap_levels: 5 };

export interface TrapInputs {
  /** `trap_cancel_deltas[i]`: bid + ask size cancelled at rank i in the window, base units, length L */
  cancel: number[];
  /** `trap_add_deltas[i]`: bid + ask size added at rank i in the window */
  add: number[];
  /** `trap_trades_cnt`: trade prints in the window */
  tradesCnt: number;
}

type BookSide = 'bid' | 'ask';

interface Change {
  t: number;
  side: BookSide;
  rank: number;
  price: number;
  /** `dec`: size fell at a level still in the top L; `leave`: the level left the top L; `add`: size rose or a level entered */
  kind: 'dec' | 'leave' | 'add';
  size: number;
}

/**
 * The 2 s ring behind the TRAP inputs (§1.3 Ours). Each book update is diffed on its top-L view, price
 * by price: a size increase (or a level entering the view) is an add at its new rank; a decrease is a
 * cancel at its old rank unless trade prints at that price in the window explain it; a level leaving
 * the view is a full cancel unless it was traded through (a print at or beyond its price). Trades are
 * matched when the window is read, so a print arriving just after the book change still explains it.
 */
export class TrapWindow {
  private changes: Change[] = [];
  private trades: Array<{ t: number; price: number; qty: number }> = [];

  constructor(private readonly p: TrapParams = DEFAULT_TRAP) {}

  /** Records the difference between the top-L views before and after one book delta. */
  onBook(before: BookView, after: BookView, tMs: number): void {
    this.diff('bid', before.bids, after.bids, tMs);
    this.diff('ask', before.asks, after.asks, tMs);
    this.prune(tMs);
  }

  /** Records one (already de-duplicated) trade print. */
  onTrade(price: number, qty: number, tMs: number): void {
    if (!Number.isFinite(price) || !(qty >= 0)) return;
    this.trades.push({ t: tMs, price, qty });
    this.prune(tMs);
  }

  snapshot(nowMs: number): TrapInputs {
    const L = this.p.trap_levels;
    const cancel = new Array<number>(L).fill(0);
    const add = new Array<number>(L).fill(0);
    const from = nowMs - this.p.trap_window_ms;
    const budget = new Map<number, number>();
    const inWindow: Array<{ price: number; qty: number }> = [];
    for (const tr of this.trades) {
      if (tr.t < from || tr.t > nowMs) continue;
      inWindow.push(tr);
      budget.set(tr.price, (budget.get(tr.price) ?? 0) + tr.qty);
    }
    for (const c of this.changes) {
      if (c.t < from || c.t > nowMs) continue;
      if (c.kind === 'add') {
        add[c.rank] += c.size;
      } else if (c.kind === 'dec') {
        const left = budget.get(c.price) ?? 0;
        const explained = Math.min(left, c.size);
        if (explained > 0) budget.set(c.price, left - explained);
        cancel[c.rank] += c.size - explained;
      } else {
        const through = inWindow.some((tr) => (c.side === 'bid' ? tr.price <= c.price : tr.price >= c.price));
        if (!through) cancel[c.rank] += c.size;
      }
    }
    return { cancel, add, tradesCnt: inWindow.length };
  }

  private diff(side: BookSide, before: readonly Level[], after: readonly Level[], t: number): void {
    const L = this.p.trap_levels;
    const afterRank = new Map<number, number>();
    for (let i = 0; i < after.length && i < L; i++) afterRank.set(after[i][0], i);
    const beforePrices = new Set<number>();
    for (let i = 0; i < before.length && i < L; i++) {
      const [price, size] = before[i];
      beforePrices.add(price);
      const j = afterRank.get(price);
      if (j === undefined) {
        if (size > 0) this.changes.push({ t, side, rank: i, price, kind: 'leave', size });
        continue;
      }
      const now = after[j][1];
      if (now < size) this.changes.push({ t, side, rank: i, price, kind: 'dec', size: size - now });
      else if (now > size) this.changes.push({ t, side, rank: j, price, kind: 'add', size: now - size });
    }
    for (let j = 0; j < after.length && j < L; j++) {
      const [price, size] = after[j];
      if (!beforePrices.has(price) && size > 0) this.changes.push({ t, side, rank: j, price, kind: 'add', size });
    }
  }

  private prune(nowMs: number): void {
    // keep a little past the window: a late-stamped event may still be read by a snapshot at an earlier now
    const cut = nowMs - 2 * this.p.trap_window_ms;
    let k = 0;
    while (k < this.changes.length && this.changes[k].t < cut) k++;
    if (k > 0) this.changes.splice(0, k);
    k = 0;
    while (k < this.trades.length && this.trades[k].t < cut) k++;
    if (k > 0) this.trades.splice(0, k);
  }
}
