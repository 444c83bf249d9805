/**
 * Main-thread handle of the journal writer thread (service.md 4.4, protocol.md "Journal").
 *
 * One dedicated `node:worker_threads` Worker (writer-thread.ts) owns every JSONL file of the session
 * directory. Producers (the main thread, pool workers) each copy their lines into their own shared-memory
 * ring (ring-producer.ts); the main thread registers every ring here with `attach(name, ring)` and ends
 * it with `detach(name)` ("write everything left in it, then forget it"). The thread writes each record
 * with whole-line writes, fsyncs on a timer and on a line threshold, rotates + gzips, and publishes
 * cumulative stats into a SharedArrayBuffer read by `stats()`.
 *
 * Supervision: the registry of rings lives here, so when the thread dies (crash, OOM, uncaught error,
 * terminate) the journal is marked failing at once (stats, onError callbacks), and a new thread is started
 * — after 0, 100, 200, 400 … ms (at most 5 s) while it keeps dying — on the same rings and stats buffer:
 * it continues the counters, settles the one record that was being written (never written twice), and
 * writes everything else still in the rings. No producer waits for it meanwhile (ring-producer.ts).
 */
import { Worker } from 'node:worker_threads';
import { writeSync } from 'node:fs';
import { threadModuleUrl } from '../thread-module.ts';
import type { RingBuffers } from '../shm/ring.ts';
import { registerTestHooks, type WriterTestOptions } from '../testing/hooks.ts';
import { BELL_BYTES } from '../shm/journal-bell.ts';
import { DEFAULT_FILES, JOURNAL_FILE_KEYS, type JournalFileKey, type JournalFiles } from './files.ts';
import { DEFAULT_WRITER_OPTIONS, type ControlMessage, type ProducerSpec, type ThreadMessage, type WriterOptions, type WriterThreadData } from './protocol.ts';
import { allocateStats } from '../shm/journal-stats-layout.ts';
import { StatsReader, type JournalStats } from './stats.ts';

export { DEFAULT_FILES, DEFAULT_WRITER_OPTIONS, JOURNAL_FILE_KEYS, type JournalFileKey, type JournalFiles, type JournalStats, type WriterOptions };

/** The `file` onError reports when the thread itself died. */
export const WRITER_THREAD = 'writer_thread';

/** Extra time the main thread grants the thread after the producers' wait, for the final write/fsync and pending gzips. */
const CLOSE_GRACE_MS = 3000;
/** A thread that served this long resets the restart backoff. */
const STABLE_MS = 10_000;

/** Delay before restart number `consecutive` (0-based) of a thread that keeps dying: 0, 100, 200, 400 … 5000 ms. */
export function restartDelayMs(consecutive: number): number {
  return consecutive <= 0 ? 0 : Math.min(5000, 100 * 2 ** (consecutive - 1));
}

export interface RestartInfo {
  /** restarts so far, this one included */
  restarts: number;
  /** why the previous thread is gone */
  reason: string;
  /** how long no thread served */
  downMs: number;
}

const THREAD_URL = threadModuleUrl('writer-thread');

/** Starts a writer thread (a plain-JavaScript bundle: see thread-module.ts). */
function spawnWriterThread(workerData: WriterThreadData): Worker {
  return new Worker(THREAD_URL, { workerData });
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function stderr(line: string): void {
  try {
    writeSync(2, line + '\n');
  } catch {
    /* nothing left to report to */
  }
}

export class JournalWriter {
  /** the shared doorbell producers use to wake the thread (and count dropped lines) */
  readonly bell: SharedArrayBuffer;
  readonly #opts: WriterOptions;
  /** used by src/testing only: the thread's test start data (every thread of this writer gets it) */
  readonly #test: WriterTestOptions | undefined;
  readonly #statsBuffer: SharedArrayBuffer;
  readonly #reader: StatsReader;
  /** every ring not yet fully drained: what a replacement thread starts with */
  readonly #producers = new Map<number, ProducerSpec>();
  readonly #byName = new Map<string, number>();
  #nextId = 1;
  /** the current thread (starting or serving), and whether it said 'ready' */
  #thread: Worker | null = null;
  #ready = false;
  /** why no thread serves (null while one does) */
  #down: string | null = null;
  #downSinceMs = 0;
  #upSinceMs = 0;
  #restarts = 0;
  #consecutiveDeaths = 0;
  #restartTimer: NodeJS.Timeout | null = null;
  /** a restart is due (its delay passed) but waits: for the hold (tests), or for a start in progress */
  #restartDue = false;
  #hold = false;
  #closeState: { deadline: number; finish: () => void } | null = null;
  #closePromise: Promise<JournalStats> | null = null;
  /** closed (or never started): no thread is started any more */
  #finished = false;
  #deathWaiters: (() => void)[] = [];
  readonly #errorCbs: ((file: string, message: string) => void)[] = [];
  readonly #restartCbs: ((info: RestartInfo) => void)[] = [];

  private constructor(opts: WriterOptions, test: WriterTestOptions | undefined) {
    this.#opts = opts;
    this.#test = test;
    this.#statsBuffer = allocateStats();
    this.#reader = new StatsReader(this.#statsBuffer);
    this.bell = new SharedArrayBuffer(BELL_BYTES);
    // used by src/testing only (testHooks(writer), testHooks(gate)): kill the thread, hold its restart
    registerTestHooks(this, {
      kind: 'writer',
      kill: (how) => this.#testKill(how),
      holdRestart: (hold) => {
        this.#hold = hold;
        this.#maybeRestart();
      },
    });
  }

  /**
   * Start the thread; resolves when all files are open (events + the three order files created empty if missing;
   * `raw` is created on first write). Rejects if the session dir or one of those files cannot be opened.
   * Options not given take DEFAULT_WRITER_OPTIONS (a full WriterOptions is accepted as is).
   * `test`: used by src/testing only (startJournalWriter), never by the gate.
   */
  static async start(opts: Pick<WriterOptions, 'sessionDir'> & Partial<WriterOptions>, test?: WriterTestOptions): Promise<JournalWriter> {
    const w = new JournalWriter({ ...DEFAULT_WRITER_OPTIONS, ...opts, files: { ...DEFAULT_FILES, ...opts.files } }, test);
    try {
      await w.#spawn(false);
    } catch (e) {
      w.#finished = true;
      throw e;
    }
    return w;
  }

  /**
   * Registers a producer's ring (the thread starts reading it). Attaching a name again detaches the old
   * ring first (it is still written completely). Throws once close() was called.
   */
  attach(name: string, ring: RingBuffers): void {
    if (this.#closePromise || this.#finished) throw new Error('journal writer is closing/closed');
    if (this.#byName.has(name)) this.detach(name);
    const spec: ProducerSpec = { id: this.#nextId++, name, ring, detaching: false };
    this.#producers.set(spec.id, spec);
    this.#byName.set(name, spec.id);
    this.#post({ type: 'attach', producer: spec });
  }

  /**
   * The producer is done (its task ended or its thread died; every record it committed is in the ring):
   * the thread writes everything left in the ring, then forgets it — also a thread started after a death.
   */
  detach(name: string): void {
    const id = this.#byName.get(name);
    if (id === undefined) return;
    this.#byName.delete(name);
    const spec = this.#producers.get(id);
    if (spec === undefined) return;
    spec.detaching = true;
    this.#post({ type: 'detach', id });
  }

  /** Cumulative stats, synchronous (read from the SharedArrayBuffer the threads update). */
  stats(): JournalStats {
    const s = this.#reader.read(this.#restarts);
    if (this.#down !== null) s.failing = true;
    return s;
  }

  /**
   * Waits until every attached producer was detached (or `timeoutMs` passed; what a producer still not
   * detached put into its ring is written anyway), writes everything, fsyncs and closes every file,
   * terminates the thread. While no thread serves (it died), waits for the replacement first. Idempotent.
   * If the thread does not confirm within timeoutMs + 3 s (e.g. a huge gzip still running), it is
   * terminated anyway: live files are already fsynced and closed by then; an unfinished archive stays as a
   * plain `.partN.jsonl` and is gzipped at the next start.
   */
  close(timeoutMs = 4000): Promise<JournalStats> {
    if (this.#closePromise) return this.#closePromise;
    this.#closePromise = new Promise<JournalStats>((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(safety);
        this.#finished = true;
        if (this.#restartTimer) clearTimeout(this.#restartTimer);
        const stats = this.stats();
        const w = this.#thread;
        this.#thread = null;
        if (w === null) return resolve(stats);
        void w.terminate().then(
          () => resolve(stats),
          () => resolve(stats),
        );
      };
      const safety = setTimeout(() => {
        stderr(`[journal] writer thread did not confirm close within ${timeoutMs + CLOSE_GRACE_MS} ms; terminating`);
        finish();
      }, timeoutMs + CLOSE_GRACE_MS);
      this.#closeState = { deadline: Date.now() + timeoutMs, finish };
      if (this.#finished) return finish();
      if (this.#thread !== null && this.#ready) this.#post({ type: 'close', timeoutMs });
      else if (this.#restartTimer !== null) {
        // do not sit out a backoff: restart now (the hold of the tests does not apply either)
        clearTimeout(this.#restartTimer);
        this.#restartTimer = null;
        this.#restartDue = true;
        this.#maybeRestart();
      } else this.#maybeRestart();
    });
    return this.#closePromise;
  }

  /** Called on the main thread for each write error (`file` = a JournalFiles key), dropped lines (`'ring'`), and a death of the thread (WRITER_THREAD). */
  onError(cb: (file: string, message: string) => void): void {
    this.#errorCbs.push(cb);
  }

  /** Called when a replacement thread serves. */
  onRestart(cb: (info: RestartInfo) => void): void {
    this.#restartCbs.push(cb);
  }

  // ---- the thread --------------------------------------------------------------------------------------------

  #post(m: ControlMessage): void {
    // a thread still starting queues it (its snapshot of the registry is older than this message)
    this.#thread?.postMessage(m);
  }

  /** Starts a thread on the current registry; resolves once it serves, rejects if it exits first. */
  #spawn(restart: boolean): Promise<void> {
    const worker = spawnWriterThread({ opts: this.#opts, test: this.#test, stats: this.#statsBuffer, bell: this.bell, producers: [...this.#producers.values()], restart });
    this.#thread = worker;
    this.#ready = false;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      let crash: string | null = null;
      worker.on('message', (m: ThreadMessage) => {
        if (worker !== this.#thread) return;
        switch (m.type) {
          case 'ready':
            ready = true;
            this.#ready = true;
            this.#up(restart);
            resolve();
            break;
          case 'startError':
            crash = m.message;
            void worker.terminate();
            break;
          case 'error':
            this.#emitError(m.file, m.message);
            break;
          case 'detached': {
            const spec = this.#producers.get(m.id);
            if (spec?.detaching) this.#producers.delete(m.id);
            break;
          }
          case 'closed':
            this.#closeState?.finish();
            break;
        }
      });
      worker.on('error', (e) => {
        crash = describe(e);
        stderr(`[journal] writer thread crashed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      });
      worker.on('exit', (code) => {
        if (worker !== this.#thread) return;
        this.#thread = null;
        this.#ready = false;
        const reason = crash !== null ? `${crash} (exit code ${code})` : `exit code ${code}`;
        if (!ready) {
          reject(new Error(`journal writer: ${crash ?? `thread exited during start (code ${code})`}`));
          return;
        }
        this.#died(`journal writer thread died: ${reason}`);
      });
    });
  }

  #up(restart: boolean): void {
    this.#upSinceMs = Date.now();
    if (restart) {
      const info: RestartInfo = { restarts: this.#restarts, reason: this.#down ?? 'unknown', downMs: Date.now() - this.#downSinceMs };
      this.#down = null; // before the callbacks: they may read stats()
      for (const cb of this.#restartCbs) {
        try {
          cb(info);
        } catch {
          /* a listener's bug must not break the others */
        }
      }
    }
    if (this.#closeState !== null) this.#post({ type: 'close', timeoutMs: Math.max(0, this.#closeState.deadline - Date.now()) });
  }

  /** No thread serves any more: failing at once (stats, callbacks), and a replacement is scheduled. */
  #died(reason: string): void {
    if (this.#finished) return; // terminated by close()
    if (Date.now() - this.#upSinceMs >= STABLE_MS) this.#consecutiveDeaths = 0;
    this.#markDown(reason);
    this.#scheduleRestart();
  }

  #markDown(reason: string): void {
    if (this.#down === null) this.#downSinceMs = Date.now();
    this.#down = reason;
    this.#reader.markDown(reason); // no thread runs: the main thread is the stats buffer's one writer now
    stderr(`[journal] ${reason}`);
    this.#emitError(WRITER_THREAD, reason);
    for (const r of this.#deathWaiters.splice(0)) r();
  }

  #scheduleRestart(): void {
    // while closing, do not sit out a long backoff (close() is bounded by its own deadline)
    const backoff = restartDelayMs(this.#consecutiveDeaths++);
    const delay = this.#closeState !== null ? Math.min(backoff, 100) : backoff;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      this.#restartDue = true;
      this.#maybeRestart();
    }, delay);
  }

  #maybeRestart(): void {
    if (!this.#restartDue || this.#thread !== null || this.#finished) return;
    if (this.#hold && this.#closeState === null) return;
    this.#restartDue = false;
    this.#restarts++;
    this.#spawn(true).catch((e: unknown) => {
      this.#markDown(`journal writer thread restart failed: ${describe(e)}`);
      this.#scheduleRestart();
    });
  }

  #emitError(file: string, message: string): void {
    for (const cb of this.#errorCbs) {
      try {
        cb(file, message);
      } catch {
        /* a listener's bug must not break the others */
      }
    }
  }

  /** Used by src/testing only (testHooks killJournalWriter): resolves once the death was handled (stats say failing). */
  #testKill(how: 'terminate' | 'throw' | 'throw-before-write' | 'throw-after-write'): Promise<void> {
    const w = this.#thread;
    if (w === null || !this.#ready) return Promise.reject(new Error('no journal writer thread serves'));
    const died = new Promise<void>((r) => this.#deathWaiters.push(r));
    if (how === 'terminate') void w.terminate();
    else w.postMessage({ type: 'testCrash', at: how === 'throw' ? 'timer' : how === 'throw-before-write' ? 'beforeWrite' : 'afterWrite' } satisfies ControlMessage);
    return died;
  }
}
