/**
 * Open addressing (linear probing) from a two-number key (k1, k2) to a record of a table whose records
 * hold their own keys. The index is one Int32Array of tagged entries, 4 bytes a slot:
 *
 *   entry = ((hash << 2) & ~recMask) | (record + 1)        0 = empty
 *
 * The low `recBits` bits hold the record (+1), the high bits the top bits of the key's 30-bit hash
 * (`keyHash`), and the home slot is the hash's top `slotBits` bits. So, without reading any record:
 * - a probe skips an entry whose tag differs from the key's (a miss reads no record at all; a hit reads
 *   the record's keys once, which the caller reads next anyway);
 * - deletion (backward shift, no tombstones) finds every following entry's home in the entry itself;
 * - `removeRecord(hash, r)` finds a record's slot by its number, not by comparing keys.
 * Reading records was the dominant cost of these lookups (cache misses in shared memory, not probes).
 * When `recBits + slotBits > 32` (tables of more than 32 768 records) the home no longer fits in the
 * tag: deletion then reads the following records' keys to find their homes, as before.
 *
 * Two indexes over the same keys can share one array, interleaved (`ways` = 2, `way` = 0 or 1: slot i
 * of way w is word i × 2 + w): the reservation and dedupe indexes, both keyed (account, client_order_id),
 * so a decision that looks up and inserts an id in both touches one random cache line, not two.
 *
 * Keys are 53-bit string hashes (symbolKey: never 0); k2 may be 0. The hash can be computed once
 * outside the lock (`keyHash`, ControlsFacts) and passed to the `…H` methods; it has 30 bits so that it
 * stays a small integer for the engine (a full int32 passed to a call may be boxed). The owner sizes the index at
 * ≥ 2 slots per record, so the load stays ≤ 1/2 and probes short. No locking: callers hold the gate's
 * lock (D23).
 */

/** 30-bit hash (0 ≤ h < 2³⁰) of a (k1, k2) key: murmur3's finaliser over the keys' low 32 bits. */
export function keyHash(k1: number, k2: number): number {
  let h = (k1 >>> 0) ^ Math.imul(k2 >>> 0, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 2;
}

export class KeyIndex {
  readonly slots: number;
  private readonly mask: number;
  private readonly s: Int32Array;
  private readonly rec: Float64Array;
  private readonly stride: number;
  private readonly k1: number;
  private readonly k2: number;
  /** low bits of an entry holding record + 1 */
  private readonly recMask: number;
  /** hash >>> homeShift = home slot */
  private readonly homeShift: number;
  /** the home is in an entry's tag (recBits + slotBits ≤ 32) */
  private readonly homeInTag: boolean;
  /** word of slot i = i × ways + way (ways = 1 or 2) */
  private readonly waysShift: number;
  private readonly way: number;

  /**
   * `slots`: the index words (`ways` interleaved indexes: this one is `way`); `records`/`stride`: the
   * table; `k1Off`/`k2Off`: where a record keeps its keys.
   */
  constructor(slots: Int32Array, records: Float64Array, stride: number, k1Off: number, k2Off: number, ways: 1 | 2 = 1, way = 0) {
    if (way < 0 || way >= ways) throw new Error('key index: way out of range');
    this.waysShift = ways === 2 ? 1 : 0;
    this.way = way;
    this.slots = slots.length >> this.waysShift;
    if (this.slots < 2 || (this.slots & (this.slots - 1)) !== 0) throw new Error('key index size must be a power of two');
    this.mask = this.slots - 1;
    this.s = slots;
    this.rec = records;
    this.stride = stride;
    this.k1 = k1Off;
    this.k2 = k2Off;
    const capacity = Math.floor(records.length / stride);
    const recBits = 32 - Math.clz32(capacity);
    if (recBits > 30) throw new Error('key index: too many records');
    this.recMask = (1 << recBits) - 1;
    const slotBits = 31 - Math.clz32(this.slots);
    this.homeShift = 32 - slotBits;
    this.homeInTag = recBits + slotBits <= 32;
  }

  /** Index slots for a table of `records` entries (a power of two ≥ 2 × records). */
  static slotsFor(records: number): number {
    let s = 8;
    while (s < records * 2) s *= 2;
    return s;
  }

  /** home slot of a keyHash */
  private home(h: number): number {
    return (h << 2) >>> this.homeShift;
  }

  private entryHome(e: number): number {
    if (this.homeInTag) return e >>> this.homeShift;
    const o = ((e & this.recMask) - 1) * this.stride;
    return this.home(keyHash(this.rec[o + this.k1], this.rec[o + this.k2]));
  }

  /** The record of (k1, k2), or -1. */
  find(k1: number, k2: number): number {
    return this.findH(k1, k2, keyHash(k1, k2));
  }

  /** `find` with the key's keyHash computed already (outside the lock). */
  findH(k1: number, k2: number, h: number): number {
    this.key[0] = k1;
    this.key[1] = k2;
    return this.findK(h);
  }

  /**
   * The key of the next `findK` / `findLive`: the hot callers write it here rather than pass it, since a
   * 53-bit key passed to a call the compiler did not inline is allocated as a number object each time.
   */
  readonly key = new Float64Array(2);

  /** `find` of the key in `key` by its keyHash. */
  findK(h: number): number {
    const s = this.s;
    const tagMask = ~this.recMask;
    const hh = h << 2;
    const tag = hh & tagMask;
    const ws = this.waysShift;
    const way = this.way;
    const k1 = this.key[0];
    const k2 = this.key[1];
    let at = hh >>> this.homeShift;
    for (;;) {
      const e = s[(at << ws) + way];
      if (e === 0) return -1;
      if ((e & tagMask) === tag) {
        const r = (e & this.recMask) - 1;
        const o = r * this.stride;
        if (this.rec[o + this.k1] === k1 && this.rec[o + this.k2] === k2) return r;
      }
      at = (at + 1) & this.mask;
    }
  }

  /** Adds record `r` (which holds its keys (k1, k2)); the key must be absent (callers find first). */
  insert(k1: number, k2: number, r: number): void {
    this.insertH(keyHash(k1, k2), r);
  }

  /** `insert` by the key's keyHash. */
  insertH(h: number, r: number): void {
    const s = this.s;
    const ws = this.waysShift;
    const way = this.way;
    let at = this.home(h);
    while (s[(at << ws) + way] !== 0) at = (at + 1) & this.mask;
    s[(at << ws) + way] = ((h << 2) & ~this.recMask) | (r + 1);
  }

  /** Removes (k1, k2) (its record still holding the keys); false when absent. */
  remove(k1: number, k2: number): boolean {
    const r = this.find(k1, k2);
    return r >= 0 && this.removeRecord(keyHash(k1, k2), r);
  }

  /** Removes record `r`'s entry, found by its key's keyHash and its number (no record is read); false when absent. */
  removeRecord(h: number, r: number): boolean {
    const s = this.s;
    const mask = this.mask;
    const ws = this.waysShift;
    const way = this.way;
    const want = ((h << 2) & ~this.recMask) | (r + 1);
    let at = this.home(h);
    for (;;) {
      const e = s[(at << ws) + way];
      if (e === 0) return false;
      if (e === want) break;
      at = (at + 1) & mask;
    }
    this.removeAt(at);
    return true;
  }

  /** Empties slot `at` (occupied), moving back every following entry whose home is not in (hole, next]. */
  private removeAt(at: number): void {
    const s = this.s;
    const mask = this.mask;
    const ws = this.waysShift;
    const way = this.way;
    let hole = at;
    let next = (at + 1) & mask;
    for (let e = s[(next << ws) + way]; e !== 0; e = s[(next << ws) + way]) {
      const home = this.entryHome(e);
      const inRange = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (!inRange) {
        s[(hole << ws) + way] = e;
        hole = next;
      }
      next = (next + 1) & mask;
    }
    s[(hole << ws) + way] = 0;
  }

  // -------------------------------------------------------------------------------------------------
  // Records that form a ring (the dedupe memory): an entry whose record lies outside the ring's live
  // range [head, head + count) (mod `ring`) is dead. Its removal is lazy: the owner forgets records by
  // moving the ring's head, without touching the index (that was a random cache line per forgotten id);
  // dead entries are skipped — and removed — by the probes that meet them, `cleanLine` removes those of
  // the line an insertion touches anyway, and `cleanAll` is the owner's backstop when they pile up. An
  // entry whose record was reused by a newer id is harmless: its tag or, on a tag match, the record's
  // keys differ (or are the same key, and then the record is the right one).

  /** Record of an entry is outside the ring's live range. */
  private dead(e: number, head: number, count: number, ring: number): boolean {
    let i = (e & this.recMask) - 1 - head;
    if (i < 0) i += ring;
    return i >= count;
  }

  /** `findK` for ring records: skips dead entries (and removes them: adds how many to `removed[0]`). */
  findLive(h: number, head: number, count: number, ring: number, removed: Int32Array): number {
    const k1 = this.key[0];
    const k2 = this.key[1];
    const s = this.s;
    const tagMask = ~this.recMask;
    const hh = h << 2;
    const tag = hh & tagMask;
    const ws = this.waysShift;
    const way = this.way;
    let at = hh >>> this.homeShift;
    for (;;) {
      const e = s[(at << ws) + way];
      if (e === 0) return -1;
      if (this.dead(e, head, count, ring)) {
        this.removeAt(at);
        removed[0]++;
        continue; // the slot now holds the next entry of the cluster (or is empty)
      }
      if ((e & tagMask) === tag) {
        const r = (e & this.recMask) - 1;
        const o = r * this.stride;
        if (this.rec[o + this.k1] === k1 && this.rec[o + this.k2] === k2) return r;
      }
      at = (at + 1) & this.mask;
    }
  }

  /** Removes the dead entries of the cache line (16 words) holding the home slot of `h`; returns how many. */
  cleanLine(h: number, head: number, count: number, ring: number): number {
    const s = this.s;
    const ws = this.waysShift;
    const way = this.way;
    const perLine = 16 >> ws; // the home slot's cache line
    const first = this.home(h) & ~(perLine - 1);
    let n = 0;
    for (let at = first; at < first + perLine && at < this.slots; ) {
      const e = s[(at << ws) + way];
      if (e !== 0 && this.dead(e, head, count, ring)) {
        this.removeAt(at);
        n++;
      } else at++;
    }
    return n;
  }

  /** Removes every dead entry; returns how many. */
  cleanAll(head: number, count: number, ring: number): number {
    const s = this.s;
    const ws = this.waysShift;
    const way = this.way;
    let n = 0;
    for (let at = 0; at < this.slots; ) {
      const e = s[(at << ws) + way];
      if (e !== 0 && this.dead(e, head, count, ring)) {
        this.removeAt(at);
        n++;
      } else at++;
    }
    return n;
  }

  /** Empties this index (its way only, when interleaved). */
  clear(): void {
    if (this.waysShift === 0) this.s.fill(0);
    else for (let i = this.way; i < this.s.length; i += 2) this.s[i] = 0;
  }
}
