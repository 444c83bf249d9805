import { Piscina } from 'piscina';
import { threadModuleUrl } from '../thread-module.ts';
import { CTL_MAIN_BELL, CTL_MAIN_WAITING, CTL_READY, CTL_STOP } from '../shm/control.ts';
import { Ring, type RecordView, type RingBuffers } from '../shm/ring.ts';
import type { ServeArgs } from './worker.ts';

/** Where replies go: the transport implements this (HTTP response or WebSocket). */
export interface ReplySink<T> {
  /**
   * Replies `0..n-1` of one drained batch, in ring order (bodies are views into the reply ring, valid
   * only during the call). One call per batch lets the transport cork several replies to the same
   * WebSocket into one write.
   */
  deliver(targets: T[], statuses: Int32Array, bodies: Uint8Array[], n: number): void;
  /** a request that will get no reply from a worker (it died); `request` is its body, when still known */
  fail(target: T, status: number, body: string, request: Uint8Array | null): void;
}

export interface DispatcherOptions<T> {
  threads: number;
  ringBytes: number;
  /** requests in flight per worker (power of two) */
  maxInflight: number;
  /**
   * requests an awake worker may hold before a sleeping one is woken (pool.awake_share): waking a
   * worker costs a futex call here and a context switch there, so the first awake worker with room is
   * filled first instead of spreading a moderate load over workers that then all sleep and wake
   */
  awakeShare: number;
  control: SharedArrayBuffer;
  sink: ReplySink<T>;
  /** everything a worker needs except its rings and slot */
  args(slot: number, req: RingBuffers, resp: RingBuffers, journalRing: RingBuffers): ServeArgs;
  /**
   * the journal ring of a (re)started worker; detach once its task has ended or its thread died (every
   * record it committed is in the ring then): the writer drains it completely, then forgets it
   */
  attachJournal(name: string, ring: RingBuffers): void;
  detachJournal(name: string): void;
  /** a worker died: break the state lock if it held it */
  onWorkerDeath(slot: number, err: unknown, failed: number): void;
}

const JOURNAL_RING_BYTES = 4 << 20;

const EMPTY = new Uint8Array(0);

const WORKER_FAILED = '{"error":{"code":"worker_failed","message":"the worker deciding this request stopped; nothing was decided, retry"}}';

class Channel<T> {
  readonly slot: number;
  readonly reqBuffers: RingBuffers;
  readonly respBuffers: RingBuffers;
  readonly req: Ring;
  readonly resp: Ring;
  readonly pending: Array<T | undefined>;
  readonly mask: number;
  /** one drained batch handed to the sink (at most one reply per pending slot) */
  readonly outTargets: T[];
  readonly outStatus: Int32Array;
  readonly outBodies: Uint8Array[];
  nextId = 0;
  inflight = 0;
  alive = false;
  generation = 0;
  task: Promise<number> | null = null;

  constructor(slot: number, ringBytes: number, maxInflight: number) {
    this.slot = slot;
    this.reqBuffers = Ring.allocate(ringBytes);
    this.respBuffers = Ring.allocate(ringBytes);
    this.req = new Ring(this.reqBuffers);
    this.resp = new Ring(this.respBuffers);
    this.pending = new Array<T | undefined>(maxInflight);
    this.mask = maxInflight - 1;
    this.outTargets = new Array<T>(maxInflight);
    this.outStatus = new Int32Array(maxInflight);
    this.outBodies = new Array<Uint8Array>(maxInflight);
  }
}

/**
 * Main-thread side of the SharedArrayBuffer dispatch (docs/architecture.md): piscina owns the worker
 * threads; each runs one long-lived `serve` task over its request/response rings. The main thread
 * copies raw body bytes in, and is woken by Atomics.waitAsync when replies are ready.
 */
export class Dispatcher<T> {
  private readonly opts: DispatcherOptions<T>;
  private readonly channels: Channel<T>[] = [];
  private readonly pool: Piscina;
  private readonly view: RecordView = { id: 0, meta: 0, bytes: new Uint8Array(0) };
  private readonly control: Int32Array;
  private rr = 0;
  private stopping = false;
  private readonly awakeShare: number;


  constructor(opts: DispatcherOptions<T>) {
    if ((opts.maxInflight & (opts.maxInflight - 1)) !== 0) throw new Error('maxInflight must be a power of two');
    this.opts = opts;
    this.awakeShare = opts.awakeShare;
    this.control = new Int32Array(opts.control);
    this.pool = new Piscina({
      filename: threadModuleUrl('worker', './worker.ts', import.meta.url).href,
      minThreads: opts.threads,
      maxThreads: opts.threads,
      idleTimeout: 2 ** 31 - 1,
      concurrentTasksPerWorker: 1,
    });
    for (let s = 1; s <= opts.threads; s++) this.channels.push(new Channel<T>(s, opts.ringBytes, opts.maxInflight));
  }

  get threads(): number {
    return this.channels.length;
  }

  /** Starts every worker; resolves once all of them serve (or rejects after `timeoutMs`). */
  async start(timeoutMs = 30_000): Promise<void> {
    for (const ch of this.channels) this.launch(ch);
    this.arm();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = Atomics.load(this.control, CTL_READY);
      if (ready >= this.channels.length) return;
      if (Date.now() > deadline) throw new Error(`only ${ready} of ${this.channels.length} workers started within ${timeoutMs} ms`);
      const w = Atomics.waitAsync(this.control, CTL_READY, ready, 100);
      if (w.async) await w.value;
    }
  }

  /** Requests accepted and not yet answered. */
  inflight(): number {
    let n = 0;
    for (const ch of this.channels) n += ch.inflight;
    return n;
  }

  aliveWorkers(): number {
    return this.channels.filter((c) => c.alive).length;
  }

  /** Queues a request; false when every worker is full or down (the caller answers 503). */
  submit(kind: number, body: Uint8Array, target: T): boolean {
    if (this.stopping) return false;
    const chs = this.channels;
    let best: Channel<T> | null = null;
    for (let i = 0; i < chs.length; i++) {
      const ch = chs[i];
      if (ch.alive && ch.inflight < this.awakeShare && !ch.req.sleeping()) {
        best = ch;
        break;
      }
    }
    if (best === null) {
      for (let i = 0; i < chs.length; i++) {
        const ch = chs[(this.rr + i) % chs.length];
        if (ch.alive && (best === null || ch.inflight < best.inflight)) best = ch;
      }
      this.rr = (this.rr + 1) % chs.length;
    }
    if (best === null) return false;
    const id = best.nextId;
    const slot = id & best.mask;
    if (best.pending[slot] !== undefined) return false;
    if (!best.req.push(id, kind, body)) return false;
    best.pending[slot] = target;
    best.nextId = (id + 1) >>> 0;
    best.inflight++;
    best.req.ringIfSleeping();
    return true;
  }

  /** Stop: workers finish what is queued, post their last journal lines and end their tasks. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    Atomics.store(this.control, CTL_STOP, 1);
    for (const ch of this.channels) ch.req.ring();
    const tasks = this.channels.map((c) => c.task).filter((t): t is Promise<number> => t !== null);
    await Promise.race([Promise.allSettled(tasks), new Promise((r) => setTimeout(r, timeoutMs))]);
    for (const ch of this.channels) this.drain(ch);
    this.stopped = true;
    await this.pool.destroy();
  }

  private launch(ch: Channel<T>): void {
    ch.req.reset();
    ch.resp.reset();
    ch.generation++;
    const gen = ch.generation;
    const name = `worker-${ch.slot}`;
    // a fresh journal ring per (re)start: the writer may still be draining a dead worker's ring
    const journalRing = Ring.allocate(JOURNAL_RING_BYTES);
    this.opts.attachJournal(name, journalRing);
    const args = this.opts.args(ch.slot, ch.reqBuffers, ch.respBuffers, journalRing);
    ch.alive = true;
    ch.task = this.pool.run(args);
    ch.task.then(
      () => this.onTaskEnd(ch, gen, null),
      (err: unknown) => this.onTaskEnd(ch, gen, err ?? new Error('worker exited')),
    );
  }

  private onTaskEnd(ch: Channel<T>, gen: number, err: unknown): void {
    if (gen !== ch.generation) return;
    ch.alive = false;
    this.drain(ch);
    let failed = 0;
    // requests the worker had not finished are still in its request ring (records are released only
    // after their replies): fail each with its own bytes, so a WebSocket error can carry the frame's id
    const view: RecordView = { id: 0, meta: 0, bytes: new Uint8Array(0) };
    while (ch.req.next(view)) {
      const slot = view.id & ch.mask;
      const t = ch.pending[slot];
      if (t !== undefined) {
        ch.pending[slot] = undefined;
        failed++;
        this.opts.sink.fail(t, 503, WORKER_FAILED, view.bytes.slice());
      }
    }
    for (let i = 0; i < ch.pending.length; i++) {
      const t = ch.pending[i];
      if (t !== undefined) {
        ch.pending[i] = undefined;
        failed++;
        this.opts.sink.fail(t, 503, WORKER_FAILED, null);
      }
    }
    ch.inflight = 0;
    // the task is over: the worker commits nothing more to its journal ring
    this.opts.detachJournal(`worker-${ch.slot}`);
    if (this.stopping) return;
    this.opts.onWorkerDeath(ch.slot, err, failed);
    setTimeout(() => {
      if (!this.stopping) this.launch(ch);
    }, 50);
  }

  /**
   * Waits for the workers' shared reply doorbell, then drains every channel. The waiting flag lets
   * workers skip the notification while this thread is busy; seq-cst ordering makes the re-check after
   * raising the flag see any reply published before a worker read the flag.
   */
  private arm(): void {
    if (this.armed || this.stopped) return;
    const seen = Atomics.load(this.control, CTL_MAIN_BELL);
    Atomics.store(this.control, CTL_MAIN_WAITING, 1);
    if (this.anyReplies()) {
      Atomics.store(this.control, CTL_MAIN_WAITING, 0);
      this.armed = true;
      setImmediate(this.onWake);
      return;
    }
    const w = Atomics.waitAsync(this.control, CTL_MAIN_BELL, seen);
    this.armed = true;
    if (w.async) w.value.then(this.onWake);
    else setImmediate(this.onWake);
  }

  private armed = false;
  private stopped = false;

  private readonly onWake = (): void => {
    this.armed = false;
    Atomics.store(this.control, CTL_MAIN_WAITING, 0);
    try {
      for (const ch of this.channels) this.drain(ch);
    } finally {
      // whatever a reply did, keep listening: a lost wake-up would leave every later request unanswered
      this.arm();
    }
  };

  private anyReplies(): boolean {
    for (const ch of this.channels) if (!ch.resp.isEmpty()) return true;
    return false;
  }

  private drain(ch: Channel<T>): void {
    const view = this.view;
    let records = 0;
    let n = 0;
    while (ch.resp.next(view)) {
      const slot = view.id & ch.mask;
      const target = ch.pending[slot];
      if (target !== undefined) {
        ch.pending[slot] = undefined;
        ch.inflight--;
        ch.outTargets[n] = target;
        ch.outStatus[n] = view.meta;
        ch.outBodies[n] = view.bytes;
        n++;
      }
      records++;
    }
    if (n > 0) {
      this.opts.sink.deliver(ch.outTargets, ch.outStatus, ch.outBodies, n);
      ch.outTargets.fill(undefined as T, 0, n); // no target or ring view outlives its batch
      ch.outBodies.fill(EMPTY, 0, n);
    }
    if (records > 0) ch.resp.release();
  }
}
