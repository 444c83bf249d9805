/**
 * Per-symbol anti-churn and position state (gate.md 1.7, service.md 2.3/3.3) as an open-addressing hash
 * table in one Float64Array, so it can be shared by every worker. Keys are 53-bit hashes of the
 * canonical symbol (two independent 32-bit FNV-style hashes): with the 10 000-entry cap the chance of
 * any collision is about 1e-8, and a collision can only merge two symbols' anti-churn clocks.
 * When the table holds `maxEntries` symbols the least recently touched one is evicted (D-37).
 */
const STRIDE = 8;
const K_KEY = 0;
const K_TOUCH = 1;
const K_LAST_ALLOW = 2;
const K_COOLDOWN_UNTIL = 3;
const K_POS_SIDE = 4;
const K_POS_SINCE = 5;

export const SIDE_NONE = 0;
export const SIDE_BUY = 1;
export const SIDE_SELL = 2;

export interface SymbolSlot {
  lastAllowMs: number;
  cooldownUntilMs: number;
  posSide: number;
  posSinceMs: number;
}

export class SymbolTable {
  readonly slots: number;
  readonly maxEntries: number;
  private readonly data: Float64Array;
  private readonly meta: Int32Array; // [count]
  private readonly mask: number;

  constructor(meta: Int32Array, data: Float64Array, maxEntries: number) {
    this.slots = data.length / STRIDE;
    if ((this.slots & (this.slots - 1)) !== 0) throw new Error('symbol table size must be a power of two');
    this.mask = this.slots - 1;
    this.maxEntries = Math.min(maxEntries, Math.floor(this.slots * 0.75));
    this.data = data;
    this.meta = meta;
  }

  static words(slots: number): number {
    return slots * STRIDE;
  }

  get count(): number {
    return this.meta[0];
  }

  clear(): void {
    this.data.fill(0);
    this.meta[0] = 0;
  }

  /** Slot index of a symbol, or -1. */
  find(symbol: string): number {
    return this.findKey(symbolKey(symbol));
  }

  /** Slot index of a symbol, inserting an empty entry (evicting the stalest when full). */
  upsert(symbol: string, nowMs: number): number {
    const key = symbolKey(symbol);
    let at = this.findKey(key);
    if (at >= 0) {
      this.data[at * STRIDE + K_TOUCH] = nowMs;
      return at;
    }
    if (this.meta[0] >= this.maxEntries) this.evictStalest();
    at = this.home(key);
    while (this.data[at * STRIDE + K_KEY] !== 0) at = (at + 1) & this.mask;
    const o = at * STRIDE;
    this.data[o + K_KEY] = key;
    this.data[o + K_TOUCH] = nowMs;
    this.data[o + K_LAST_ALLOW] = NaN;
    this.data[o + K_COOLDOWN_UNTIL] = 0;
    this.data[o + K_POS_SIDE] = SIDE_NONE;
    this.data[o + K_POS_SINCE] = NaN;
    this.meta[0]++;
    return at;
  }

  lastAllowMs(slot: number): number {
    return this.data[slot * STRIDE + K_LAST_ALLOW];
  }
  setLastAllowMs(slot: number, ms: number): void {
    this.data[slot * STRIDE + K_LAST_ALLOW] = ms;
  }
  cooldownUntilMs(slot: number): number {
    return this.data[slot * STRIDE + K_COOLDOWN_UNTIL];
  }
  setCooldownUntilMs(slot: number, ms: number): void {
    this.data[slot * STRIDE + K_COOLDOWN_UNTIL] = ms;
  }
  positionSide(slot: number): number {
    return this.data[slot * STRIDE + K_POS_SIDE];
  }
  positionSinceMs(slot: number): number {
    return this.data[slot * STRIDE + K_POS_SINCE];
  }
  setPosition(slot: number, side: number, sinceMs: number): void {
    this.data[slot * STRIDE + K_POS_SIDE] = side;
    this.data[slot * STRIDE + K_POS_SINCE] = sinceMs;
  }
  clearPosition(slot: number): void {
    this.setPosition(slot, SIDE_NONE, NaN);
  }

  private home(key: number): number {
    // low bits of the second hash half are as good as any
    return key % this.slots & this.mask;
  }

  private findKey(key: number): number {
    let at = this.home(key);
    for (let probes = 0; probes < this.slots; probes++) {
      const k = this.data[at * STRIDE + K_KEY];
      if (k === key) return at;
      if (k === 0) return -1;
      at = (at + 1) & this.mask;
    }
    return -1;
  }

  private evictStalest(): void {
    let victim = -1;
    let oldest = Infinity;
    for (let i = 0; i < this.slots; i++) {
      const o = i * STRIDE;
      if (this.data[o + K_KEY] !== 0 && this.data[o + K_TOUCH] < oldest) {
        oldest = this.data[o + K_TOUCH];
        victim = i;
      }
    }
    if (victim >= 0) this.remove(victim);
  }

  /** Backward-shift deletion keeps linear probing correct without tombstones. */
  private remove(slot: number): void {
    const d = this.data;
    let hole = slot;
    let at = (slot + 1) & this.mask;
    while (d[at * STRIDE + K_KEY] !== 0) {
      const home = this.home(d[at * STRIDE + K_KEY]);
      // move `at` into the hole if its home is not cyclically in (hole, at]
      const inRange = hole <= at ? home > hole && home <= at : home > hole || home <= at;
      if (!inRange) {
        d.copyWithin(hole * STRIDE, at * STRIDE, at * STRIDE + STRIDE);
        hole = at;
      }
      at = (at + 1) & this.mask;
    }
    d.fill(0, hole * STRIDE, hole * STRIDE + STRIDE);
    this.meta[0]--;
  }
}

/** 53-bit key of a symbol from two 32-bit multiplicative hashes over its UTF-16 code units; never 0. */
export function symbolKey(s: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 ^= s.length;
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b);
  h1 ^= h1 >>> 13;
  const key = (h1 >>> 0) * 2097152 + ((h2 >>> 0) >>> 11);
  return key === 0 ? 1 : key;
}
