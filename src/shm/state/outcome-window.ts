/**
 * Rolling window of post-trade outcomes (time, rejected?) feeding Governance's reject-storm rule with
 * real numbers (service.md 2.4). Typed-array backed so it can live in shared memory.
 * meta (Int32Array, 4 slots): [head, count, rejects, unused].
 */
export class OutcomeWindow {
  readonly capacity: number;
  private readonly meta: Int32Array;
  private readonly times: Float64Array;
  private readonly failed: Uint8Array;

  constructor(meta: Int32Array, times: Float64Array, failed: Uint8Array) {
    this.capacity = times.length;
    this.meta = meta;
    this.times = times;
    this.failed = failed;
  }

  get total(): number {
    return this.meta[1];
  }

  get rejects(): number {
    return this.meta[2];
  }

  push(time: number, rejected: boolean): void {
    if (this.meta[1] === this.capacity) this.dropOldest();
    const tail = (this.meta[0] + this.meta[1]) % this.capacity;
    this.times[tail] = time;
    this.failed[tail] = rejected ? 1 : 0;
    this.meta[1]++;
    if (rejected) this.meta[2]++;
  }

  dropOlderThan(cutoff: number): void {
    while (this.meta[1] > 0 && this.times[this.meta[0]] < cutoff) this.dropOldest();
  }

  clear(): void {
    this.meta[0] = 0;
    this.meta[1] = 0;
    this.meta[2] = 0;
  }

  private dropOldest(): void {
    const head = this.meta[0];
    if (this.failed[head] === 1) this.meta[2]--;
    this.meta[0] = (head + 1) % this.capacity;
    this.meta[1]--;
  }
}
