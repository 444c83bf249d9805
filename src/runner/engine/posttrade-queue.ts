import type { GatePort } from '../gate/port.ts';
import type { PosttradeBody } from '../logic/posttrade.ts';

export interface PosttradeQueueOptions {
  /** bodies waiting at most (`posttrade.queue_max`); a body beyond it is dropped to the unsent file */
  queueMax: number;
  /** attempts per body (`posttrade.attempts`, 3) before it goes to the unsent file */
  attempts: number;
  /** wait before retry k (k = 1, 2, …): retry_base_ms · 2^(k−1) */
  retryBaseMs: number;
  /** bodies sent at once (`posttrade.concurrency`) */
  concurrency: number;
}

export interface PosttradeCounters {
  sent: number;
  failed: number;
  dropped: number;
}

interface Item {
  body: PosttradeBody;
  attempt: number;
}

/**
 * `/posttrade/log` is fire-and-forget for the trading loop (runner.md §2.3 Ours): bodies go through a
 * bounded queue with a few senders; a body the gate did not take after `attempts` tries, or one that
 * found the queue full, is written to `posttrade_unsent.jsonl` (via `unsent`) with the last error.
 */
export class PosttradeQueue {
  private readonly queue: Item[] = [];
  /** bodies being sent right now */
  private readonly sending = new Set<Item>();
  private readonly idleWaiters = new Set<() => void>();
  /** bodies waiting for their retry timer */
  private readonly waiting = new Map<NodeJS.Timeout, Item>();
  private closed = false;
  readonly counters: PosttradeCounters = { sent: 0, failed: 0, dropped: 0 };

  constructor(
    private readonly gate: GatePort,
    private readonly opts: PosttradeQueueOptions,
    private readonly unsent: (body: PosttradeBody, why: string, attempts: number) => void,
  ) {}

  push(body: PosttradeBody): void {
    if (this.closed || this.queue.length >= this.opts.queueMax) {
      this.counters.dropped++;
      this.unsent(body, this.closed ? 'queue_closed' : 'queue_full', 0);
      return;
    }
    this.queue.push({ body, attempt: 0 });
    this.pump();
  }

  /** Bodies not yet settled (queued, sending or waiting for a retry). */
  get pending(): number {
    return this.queue.length + this.sending.size + this.waiting.size;
  }

  /** Resolves true when everything is settled, false after `ms`. */
  drain(ms: number): Promise<boolean> {
    if (this.pending === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(t);
        this.idleWaiters.delete(onIdle);
        resolve(v);
      };
      const onIdle = () => done(true);
      const t = setTimeout(() => done(this.pending === 0), ms);
      this.idleWaiters.add(onIdle);
    });
  }

  /**
   * Stops sending: whatever is still queued or waiting for a retry goes to the unsent file; bodies
   * already being sent are waited for (up to `settleMs`), so each one ends up counted as sent or in the
   * unsent file before the counters are read and the files closed. A send still unanswered after
   * `settleMs` is given up: it goes to the unsent file as `shutdown_in_flight`, and its late answer is ignored.
   */
  async close(settleMs: number): Promise<void> {
    this.closed = true;
    for (const t of this.waiting.keys()) clearTimeout(t);
    const left = [...this.waiting.values(), ...this.queue.splice(0)];
    this.waiting.clear();
    for (const item of left) {
      this.counters.failed++;
      this.unsent(item.body, 'shutdown', item.attempt);
    }
    if (this.sending.size > 0) await this.drain(settleMs);
    for (const item of [...this.sending]) {
      this.sending.delete(item);
      this.counters.failed++;
      this.unsent(item.body, 'shutdown_in_flight', item.attempt);
    }
  }

  private pump(): void {
    while (!this.closed && this.sending.size < this.opts.concurrency && this.queue.length > 0) {
      const item = this.queue.shift()!;
      this.sending.add(item);
      void this.send(item);
    }
    if (this.pending === 0) for (const w of [...this.idleWaiters]) w();
  }

  private async send(item: Item): Promise<void> {
    item.attempt++;
    let ok = false;
    let reason = 'unknown';
    try {
      const r = await this.gate.log(item.body);
      ok = r.ok;
      if (!ok) reason = r.reason ?? 'unknown';
    } catch (e) {
      reason = `exception: ${(e as Error).message}`;
    }
    // given up by close(): already counted and in the unsent file
    if (!this.sending.delete(item)) return;
    if (ok) this.counters.sent++;
    else if (item.attempt >= this.opts.attempts || this.closed) {
      this.counters.failed++;
      this.unsent(item.body, reason, item.attempt);
    } else {
      const t = setTimeout(() => {
        this.waiting.delete(t);
        this.queue.push(item);
        this.pump();
      }, this.opts.retryBaseMs * 2 ** (item.attempt - 1));
      this.waiting.set(t, item);
    }
    this.pump();
  }
}
