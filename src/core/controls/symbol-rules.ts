import { symbolKey } from '../../shm/state/symbol-table.ts';

export const SYM_ALLOWED = 1;
export const SYM_BLOCKED = 2;
/** the symbol has its own max_order_qty entry (`qty[slot]`) */
export const SYM_QTY = 4;

/**
 * The per-symbol part of the configuration (`symbols_allowed`, `symbols_blocked`, `max_order_qty`) as one
 * small open-addressing table keyed by the symbol's 53-bit key (ControlsFacts.symKey, hashed outside the
 * lock): one probe answers rules 3 and 4 for a symbol, where two Set lookups and one Map lookup by
 * string did. A hit is confirmed by comparing the symbol's text, so a key collision cannot let a symbol
 * through a list. Built once with the configuration (ControlsConfig.symbolRules), never changed.
 */
export class SymbolRules {
  private readonly mask: number;
  private readonly keys: Float64Array;
  private readonly names: ReadonlyArray<string | null>;
  /** SYM_* bits per slot */
  readonly flags: Int32Array;
  /** the symbol's own max qty (valid when SYM_QTY is set) */
  readonly qty: Float64Array;

  constructor(allowed: readonly string[] | null, blocked: readonly string[] | null, qtyMap: ReadonlyMap<string, number> | null) {
    const symbols = new Set<string>([...(allowed ?? []), ...(blocked ?? []), ...(qtyMap?.keys() ?? [])]);
    let size = 8;
    while (size < symbols.size * 2) size *= 2;
    this.mask = size - 1;
    this.keys = new Float64Array(size);
    this.flags = new Int32Array(size);
    this.qty = new Float64Array(size);
    const names: Array<string | null> = new Array<string | null>(size).fill(null);
    const allowedSet = new Set(allowed ?? []);
    const blockedSet = new Set(blocked ?? []);
    for (const s of symbols) {
      const k = symbolKey(s);
      let at = this.home(k);
      while (this.keys[at] !== 0) at = (at + 1) & this.mask;
      this.keys[at] = k;
      names[at] = s;
      const q = qtyMap?.get(s);
      this.flags[at] = (allowedSet.has(s) ? SYM_ALLOWED : 0) | (blockedSet.has(s) ? SYM_BLOCKED : 0) | (q !== undefined ? SYM_QTY : 0);
      this.qty[at] = q ?? Infinity;
    }
    this.names = names;
  }

  private home(k: number): number {
    // symbolKey's low 32 bits are hash bits
    const h = Math.imul(k >>> 0, 0x9e3779b1);
    return (h ^ (h >>> 16)) & this.mask;
  }

  /** The slot of a request's symbol (facts: symKey and its text), or -1 (no symbol, or not configured). */
  slotOf(f: { readonly symKey: number; readonly symbol: string | null }): number {
    const symbol = f.symbol;
    if (symbol === null) return -1;
    const k = f.symKey;
    const keys = this.keys;
    for (let at = this.home(k); ; at = (at + 1) & this.mask) {
      const x = keys[at];
      if (x === 0) return -1;
      if (x === k && this.names[at] === symbol) return at;
    }
  }
}
