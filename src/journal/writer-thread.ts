/**
 * The journal writer thread (service.md 4.4, protocol.md "Journal"). Started by writer.ts (also again,
 * after a death); never imported elsewhere. Owns every JSONL file of the session directory; it is the
 * only writer of those files. This module wires the parts; all state lives in the objects it creates:
 *
 * - ring-intake.ts: the producers' shared-memory rings, one record (a batch's lines for one file) at a
 *   time, ring space released per record; the record a dead predecessor left in doubt;
 * - file-sink.ts: one file (open, whole-buffer writes, fsync, the retry of a failing file);
 * - rotation.ts: rotation + gzip + retention; stats.ts: the seqlock stats buffer.
 *
 * fsync: every `fsyncIntervalMs` (dirty files) and as soon as `fsyncLines` lines were written since the
 * last one. Write errors never throw out of a handler: counted per file, stderr (1/s per file), posted to
 * the main thread. A failing file nothing is written to is retried every `retryFailingMs`.
 */
import * as fs from 'node:fs';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { BELL_DROPS, BELL_SEQ, BELL_SLEEPING } from '../shm/journal-bell.ts';
import { FileSink, type SinkEvents } from './file-sink.ts';
import { JOURNAL_FILE_KEYS } from './files.ts';
import type { ControlMessage, ThreadMessage, WriterOptions, WriterThreadData } from './protocol.ts';
import { RingIntake, TestCrash } from './ring-intake.ts';
import { fsyncDir, Rotator } from './rotation.ts';
import { StatsPublisher } from './stats.ts';

/** after a drain with lines, wait this long before the next: measured 5.7 -> 3.8 us of writer CPU per decision */
const COALESCE_MS = 1;
/** dropped lines keep the journal failing at least this long (visible in /health, /readiness, fail_closed) */
const OVERFLOW_HOLD_MS = 1000;

function errMessage(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as NodeJS.ErrnoException).code;
  return code && !e.message.startsWith(code) ? `${code}: ${e.message}` : e.message;
}

function stderr(line: string): void {
  try {
    fs.writeSync(2, line + '\n');
  } catch {
    /* nothing left to report to */
  }
}

class WriterThread implements SinkEvents {
  private readonly port: MessagePort;
  private readonly data: WriterThreadData;
  private readonly opts: WriterOptions;
  private readonly bell: Int32Array;
  private readonly stats: StatsPublisher;
  private readonly rotator: Rotator;
  private readonly sinks: FileSink[];
  private readonly intake: RingIntake;
  /** a replacement thread: failing until the rings it inherited are drained */
  private recovering: boolean;
  /** producers dropped lines (ring full): failing until the rings were drained, for at least OVERFLOW_HOLD_MS */
  private overflow = false;
  private overflowUntil = 0;
  private linesSinceFsync = 0;
  private lastFsyncMs = Date.now();
  private closing = false;
  private finishing = false;
  private closeTimer: NodeJS.Timeout | null = null;
  private fsyncTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(port: MessagePort, data: WriterThreadData) {
    this.port = port;
    this.data = data;
    this.opts = data.opts;
    this.bell = new Int32Array(data.bell);
    this.stats = new StatsPublisher(data.stats);
    this.recovering = data.restart;
    const o = this.opts;
    this.rotator = new Rotator(o.sessionDir, o.gzipLevel, o.retentionDays);
    this.sinks = JOURNAL_FILE_KEYS.map(
      (key, i) =>
        new FileSink(
          o.sessionDir,
          key,
          i,
          o.files[key],
          key === 'events' ? o.eventsMaxBytes : o.ordersMaxBytes,
          data.test?.failWritesFor === key ? (data.test.failCount ?? Infinity) : 0,
          this,
          this.rotator,
        ),
    );
    this.intake = new RingIntake({
      sinks: this.sinks,
      stats: this.stats,
      publish: () => this.publish(),
      written: (n) => (this.linesSinceFsync += n),
      drained: () => this.maybeFsync(),
    });
  }

  // ---- SinkEvents ----------------------------------------------------------------------------------------
  error(sink: FileSink, op: string, e: unknown, count: boolean): void {
    const message = `${op} ${sink.name}: ${errMessage(e)}`;
    if (count) {
      this.stats.writeErrors[sink.index]++;
      sink.failing = true;
    }
    this.stats.setError(message);
    const suffix = sink.logSuffix(Date.now());
    if (suffix !== null) stderr(`[journal] ${message}${suffix}`);
    // publish before posting: /health must show `failing` before the main thread acts on the message
    this.publish();
    if (count) this.post({ type: 'error', file: sink.key, message });
  }

  wrote(bytes: number): void {
    this.stats.bytesWritten += bytes;
    this.stats.lastWriteMs = Date.now();
  }

  fsynced(): void {
    this.stats.fsyncs++;
  }

  note(line: string): void {
    stderr(line);
  }

  // ---- state -----------------------------------------------------------------------------------------------
  private failing(): boolean {
    return this.recovering || this.overflow || this.sinks.some((f) => f.failing);
  }

  private publish(): void {
    this.stats.publish(this.failing());
  }

  private post(m: ThreadMessage): void {
    try {
      this.port.postMessage(m);
    } catch {
      /* main side gone */
    }
  }

  /** Producers count the lines they could not fit into the bell: the journal is failing until we catch up. */
  private checkDrops(): void {
    const drops = Atomics.load(this.bell, BELL_DROPS);
    if (drops === this.stats.dropsSeen) return;
    const n = (drops - this.stats.dropsSeen) | 0;
    this.stats.dropsSeen = drops;
    this.overflow = true;
    this.overflowUntil = Date.now() + OVERFLOW_HOLD_MS;
    const message = `journal rings full: producers dropped ${n} lines (the writer thread was down or behind)`;
    this.stats.setError(message);
    stderr(`[journal] ${message}`);
    this.publish();
    this.post({ type: 'error', file: 'ring', message });
  }

  /**
   * After a complete pass over the rings (each was drained until empty): a restart's backlog is written;
   * an overflow is over once its hold time passed.
   */
  private caughtUp(): void {
    let changed = false;
    if (this.recovering) {
      this.recovering = false;
      changed = true;
    }
    if (this.overflow && Date.now() >= this.overflowUntil) {
      this.overflow = false;
      changed = true;
    }
    if (changed) this.publish();
  }

  // ---- fsync / retry ---------------------------------------------------------------------------------------
  private fsyncAll(): void {
    for (const f of this.sinks) f.fsync();
    this.linesSinceFsync = 0;
    this.lastFsyncMs = Date.now();
  }

  /** The line threshold; and the interval also while a long backlog is drained (the timer only covers idle times). */
  private maybeFsync(): void {
    if (this.linesSinceFsync < this.opts.fsyncLines && this.stats.lastWriteMs - this.lastFsyncMs < this.opts.fsyncIntervalMs) return;
    this.fsyncAll();
    this.publish();
  }

  private retryFailing(): void {
    this.caughtUp(); // an overflow's hold time may have passed while the rings stayed empty
    const now = Date.now();
    let healed = false;
    for (const f of this.sinks) if (f.failing && now - f.lastAttemptMs >= this.opts.retryFailingMs) healed = f.retry() || healed;
    if (healed) this.publish();
  }

  // ---- rings -----------------------------------------------------------------------------------------------
  /**
   * Serves the rings: drain, yield to the event loop (control messages, timers), repeat; when all are
   * empty, announce sleep and wait on the doorbell (producers ring it only then) or the fsync interval,
   * whichever comes first. An exception here (only the test crash) is an unhandled rejection: the thread dies.
   */
  private async loop(): Promise<void> {
    const bell = this.bell;
    while (!this.finishing) {
      const seen = Atomics.load(bell, BELL_SEQ);
      this.checkDrops();
      const lines = this.intake.drainAll();
      this.caughtUp();
      if (lines > 0) {
        // let lines accumulate briefly: fewer, larger writes (lag stays ~1 ms, far inside the fsync policy)
        await new Promise((r) => setTimeout(r, COALESCE_MS));
        continue;
      }
      Atomics.store(bell, BELL_SLEEPING, 1);
      if (this.intake.empty()) {
        const w = Atomics.waitAsync(bell, BELL_SEQ, seen, Math.max(1, this.opts.fsyncIntervalMs));
        if (w.async) await w.value;
      }
      Atomics.store(bell, BELL_SLEEPING, 0);
    }
  }

  // ---- control ---------------------------------------------------------------------------------------------
  private wake(): void {
    Atomics.add(this.bell, BELL_SEQ, 1);
    Atomics.notify(this.bell, BELL_SEQ);
  }

  private onControl(m: ControlMessage): void {
    switch (m.type) {
      case 'attach':
        if (this.finishing) break;
        this.intake.attach(m.producer, false);
        // the loop may be asleep with this ring unknown: its records were committed before the attach
        this.wake();
        break;
      case 'detach':
        this.intake.detach(m.id);
        this.post({ type: 'detached', id: m.id });
        this.checkClose();
        break;
      case 'close':
        if (this.closing) return;
        this.closing = true;
        this.closeTimer = setTimeout(() => void this.finish(), Math.max(0, m.timeoutMs));
        this.checkClose();
        break;
      case 'testCrash':
        if (m.at === 'timer') {
          setTimeout(() => {
            throw new TestCrash('TEST ONLY: uncaught error thrown in the journal writer thread');
          }, 0);
        } else this.intake.crashAt = m.at;
        break;
    }
  }

  private checkClose(): void {
    if (this.closing && !this.finishing && this.intake.size === 0) void this.finish();
  }

  /** close: every producer detached (or the timeout): write what is left, fsync, close every file. */
  private async finish(): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    if (this.closeTimer) clearTimeout(this.closeTimer);
    if (this.intake.size > 0) stderr(`[journal] close: ${this.intake.size} producer(s) not detached before the timeout; writing what they posted`);
    this.checkDrops();
    this.intake.drainAll();
    this.recovering = false;
    this.overflow = false;
    if (this.fsyncTimer) clearInterval(this.fsyncTimer);
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.fsyncAll();
    for (const f of this.sinks) f.closeFd();
    fsyncDir(this.opts.sessionDir);
    this.publish();
    // live files are durable now; wait for background gzips (the main thread bounds this wait)
    await this.rotator.idle();
    this.publish();
    this.post({ type: 'closed' }); // the main thread terminates the thread on this message
  }

  // ---- start -----------------------------------------------------------------------------------------------
  start(): void {
    const dir = this.opts.sessionDir;
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch {
      /* service.md 4.4: creation errors ignored (the opens below report real problems) */
    }
    try {
      for (const f of this.sinks) {
        // `raw` (orders.jsonl) is created on first write; open it now only if it already exists
        if (f.key === 'raw' && !fs.existsSync(f.path)) continue;
        try {
          f.open();
        } catch (e) {
          // the first thread refuses to start (the gate never serves without a journal); a replacement
          // serves the other files and retries this one
          if (!this.data.restart) throw e;
          f.report('open', e, true);
        }
      }
      fsyncDir(dir);
    } catch (e) {
      for (const f of this.sinks) f.closeFd();
      this.post({ type: 'startError', message: `cannot open the journal files in ${dir}: ${errMessage(e)}` });
      return;
    }
    for (const f of this.sinks) this.rotator.compressLeftovers(f);
    for (const p of this.data.producers) this.intake.attach(p, true);
    this.publish();
    this.port.on('message', (m: ControlMessage) => {
      try {
        this.onControl(m);
      } catch (e) {
        if (e instanceof TestCrash) throw e;
        stderr(`[journal] control message failed: ${errMessage(e)}`);
      }
    });
    this.post({ type: 'ready' });
    for (const id of this.intake.detaching()) {
      this.intake.detach(id);
      this.post({ type: 'detached', id });
    }
    this.fsyncTimer = setInterval(
      () => {
        if (!this.sinks.some((f) => f.dirty)) return;
        this.fsyncAll();
        this.publish();
      },
      Math.max(1, Math.min(this.opts.fsyncIntervalMs, 2 ** 31 - 1)),
    );
    this.retryTimer = setInterval(() => this.retryFailing(), Math.max(1, Math.min(this.opts.retryFailingMs, 2 ** 31 - 1)));
    void this.loop();
  }
}

new WriterThread(parentPort!, workerData as WriterThreadData).start();
