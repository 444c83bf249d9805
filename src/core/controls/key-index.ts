/**
 * Open addressing (linear probing) from a two-number key (k1, k2) to a record of a table whose records
 * hold their own keys. The index itself is one Int32Array of `record + 1` (0 = empty): 4 bytes a slot,
 * so the part of shared memory a lookup touches at random stays small (it was the dominant cost of a
 * reservation or dedupe lookup with 24-byte [k1, k2, record] slots: cache misses, not probes). A hit
 * compares the keys in the record, which the caller reads next anyway.
 *
 * Keys are 53-bit string hashes (symbolKey: never 0); k2 may be 0. The owner sizes the index at ≥ 2
 * slots per record, so the load stays ≤ 1/2 and probes short. Deletion shifts the following entries
 * back (no tombstones), as SymbolTable does; the removed record must still hold its keys. No locking:
 * callers hold the gate's lock (D23).
 */
export class KeyIndex {
  readonly slots: number;
  private readonly mask: number;
  private readonly s: Int32Array;
  private readonly rec: Float64Array;
  private readonly stride: number;
  private readonly k1: number;
  private readonly k2: number;

  /** `slots`: the index; `records`/`stride`: the table; `k1Off`/`k2Off`: where a record keeps its keys. */
  constructor(slots: Int32Array, records: Float64Array, stride: number, k1Off: number, k2Off: number) {
    this.slots = slots.length;
    if (this.slots < 2 || (this.slots & (this.slots - 1)) !== 0) throw new Error('key index size must be a power of two');
    this.mask = this.slots - 1;
    this.s = slots;
    this.rec = records;
    this.stride = stride;
    this.k1 = k1Off;
    this.k2 = k2Off;
  }

  /** Index slots for a table of `records` entries (a power of two ≥ 2 × records). */
  static slotsFor(records: number): number {
    let s = 8;
    while (s < records * 2) s *= 2;
    return s;
  }

  private home(k1: number, k2: number): number {
    const h = Math.imul((k1 >>> 0) ^ Math.imul(k2 >>> 0, 0x9e3779b1), 0x85ebca6b);
    return ((h ^ (h >>> 15)) >>> 0) & this.mask;
  }

  private matches(r: number, k1: number, k2: number): boolean {
    const o = r * this.stride;
    return this.rec[o + this.k1] === k1 && this.rec[o + this.k2] === k2;
  }

  /** The record of (k1, k2), or -1. */
  find(k1: number, k2: number): number {
    const s = this.s;
    let at = this.home(k1, k2);
    for (;;) {
      const e = s[at];
      if (e === 0) return -1;
      if (this.matches(e - 1, k1, k2)) return e - 1;
      at = (at + 1) & this.mask;
    }
  }

  /** Adds record `r` (which holds its keys (k1, k2)); the key must be absent (callers find first). */
  insert(k1: number, k2: number, r: number): void {
    const s = this.s;
    let at = this.home(k1, k2);
    while (s[at] !== 0) at = (at + 1) & this.mask;
    s[at] = r + 1;
  }

  /** Removes (k1, k2) (its record still holding the keys); false when absent. */
  remove(k1: number, k2: number): boolean {
    const s = this.s;
    let at = this.home(k1, k2);
    for (;;) {
      const e = s[at];
      if (e === 0) return false;
      if (this.matches(e - 1, k1, k2)) break;
      at = (at + 1) & this.mask;
    }
    let hole = at;
    let next = (at + 1) & this.mask;
    while (s[next] !== 0) {
      const o = (s[next] - 1) * this.stride;
      const home = this.home(this.rec[o + this.k1], this.rec[o + this.k2]);
      const inRange = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (!inRange) {
        s[hole] = s[next];
        hole = next;
      }
      next = (next + 1) & this.mask;
    }
    s[hole] = 0;
    return true;
  }

  clear(): void {
    this.s.fill(0);
  }
}
