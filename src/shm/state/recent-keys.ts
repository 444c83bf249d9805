/**
 * The last N keys seen (53-bit hashes), FIFO, for de-duplicating post-trade success records
 * (service.md 3.2 step 6, 16 384 records). Membership is a linear scan: post-trade traffic is a few
 * records per second, and a scan of 16 384 doubles costs a few microseconds.
 * meta (Int32Array): [head, count].
 */
export class RecentKeys {
  private readonly keys: Float64Array;
  private readonly meta: Int32Array;

  constructor(meta: Int32Array, keys: Float64Array) {
    this.meta = meta;
    this.keys = keys;
  }

  has(key: number): boolean {
    const n = this.meta[1];
    const k = this.keys;
    for (let i = 0; i < n; i++) if (k[i] === key) return true;
    return false;
  }

  add(key: number): void {
    const cap = this.keys.length;
    const head = this.meta[0];
    this.keys[head] = key;
    this.meta[0] = (head + 1) % cap;
    if (this.meta[1] < cap) this.meta[1]++;
  }

  clear(): void {
    this.meta[0] = 0;
    this.meta[1] = 0;
  }
}
