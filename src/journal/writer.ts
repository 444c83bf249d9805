/**
 * Main-thread handle of the journal writer thread (service.md 4.4, protocol.md "Journal").
 *
 * One dedicated `node:worker_threads` Worker (writer-thread.ts) owns every JSONL file of the session directory.
 * Producers (the main thread, pool workers) get a MessagePort from `attachProducer()` and post
 * `{type:'batch', events, denied, success, failed, raw, lines}` messages on it, then `{type:'end'}`.
 * The thread writes each file's chunk of a batch with whole-line writes, fsyncs on a timer and on a line
 * threshold, rotates + gzips, and publishes cumulative stats into a SharedArrayBuffer read by `stats()`.
 */
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { threadModuleUrl } from '../thread-module.ts';
import type { RingBuffers } from '../pool/ring.ts';
import { writeSync } from 'node:fs';

import { DEFAULT_FILES, JOURNAL_FILE_KEYS, type JournalFileKey, type JournalFiles } from './files.ts';

export { DEFAULT_FILES, JOURNAL_FILE_KEYS, type JournalFileKey, type JournalFiles };

export interface FaultInjection {
  /** TEST ONLY: open this file read-only so every write to it fails for real (EBADF from write(2)). */
  failWritesFor?: JournalFileKey;
  /** Number of failing writes before the file is reopened normally (default: fail forever). */
  failCount?: number;
}

export interface WriterOptions {
  sessionDir: string;
  files: JournalFiles;
  /** default 50: fsync dirty files at least this often */
  fsyncIntervalMs: number;
  /** default 256: or as soon as this many lines were written since the last fsync */
  fsyncLines: number;
  /** rotation threshold of `events` (default 100 MiB) */
  eventsMaxBytes: number;
  /** rotation threshold of the four order files (default 200 MiB) */
  ordersMaxBytes: number;
  /** delete rotated archives (mtime) older than this; 0 = keep. Default 7. */
  retentionDays: number;
  /**
   * zlib level of rotated archives, 1..9. Default 3: on JSONL journals it costs about a third of level 6's
   * CPU for archives ~13 % larger (docs/performance.md); the CPU is taken from the decision threads.
   */
  gzipLevel: number;
  /** TEST ONLY, see FaultInjection. */
  faultInjection?: FaultInjection;
}

export const DEFAULT_WRITER_OPTIONS: Omit<WriterOptions, 'sessionDir'> = {
  files: DEFAULT_FILES,
  fsyncIntervalMs: 50,
  fsyncLines: 256,
  eventsMaxBytes: 100 * 1024 * 1024,
  ordersMaxBytes: 200 * 1024 * 1024,
  retentionDays: 7,
  gzipLevel: 3,
};

export interface JournalStats {
  linesReceived: number;
  linesWritten: number;
  bytesWritten: number;
  fsyncs: number;
  writeErrors: Record<JournalFileKey, number>;
  lastWriteMs: number | null;
  failing: boolean;
  lastError: string | null;
  /** messages received by the thread but not yet written (lag) */
  batchesPending: number;
}

/** A producer message (each string: zero or more complete lines, each ending "\n"). */
export type ProducerMessage =
  | { type: 'batch'; events: string; denied: string; success: string; failed: string; raw: string; lines: number }
  | { type: 'end' };

// ---------------------------------------------------------------------------------------------------------
// Stats buffer layout (shared with writer-thread.ts). A seqlock makes every snapshot consistent:
// Int32 [0] = sequence (odd while the thread is updating), Float64 fields from byte 8, then the UTF-8 bytes of
// lastError. Float64 stores are not atomic in JS; the seqlock detects torn reads and the reader retries.
// ---------------------------------------------------------------------------------------------------------
export const ST = {
  linesReceived: 0,
  linesWritten: 1,
  bytesWritten: 2,
  fsyncs: 3,
  writeErrors0: 4, // 5 slots, JOURNAL_FILE_KEYS order
  lastWriteMs: 9, // NaN = null
  failing: 10,
  batchesPending: 11,
  lastErrorLen: 12, // bytes; -1 = null
  lastErrorGen: 13, // bumped whenever lastError changes
} as const;
export const ST_FIELDS = 14;
export const ST_F64_OFFSET = 8;
export const ST_ERR_OFFSET = ST_F64_OFFSET + ST_FIELDS * 8;
export const ST_ERR_BYTES = 1024;
export const ST_BYTES = ST_ERR_OFFSET + ST_ERR_BYTES;

/** Data handed to the thread (structured-cloned; the SharedArrayBuffer is shared, not copied). */
export interface WriterThreadData {
  opts: WriterOptions;
  stats: SharedArrayBuffer;
  /** journal doorbell: [0] bumped by producers, [1] = 1 while the thread sleeps on it */
  bell: SharedArrayBuffer;
}

/** thread -> main */
export type ThreadMessage =
  | { type: 'ready' }
  | { type: 'startError'; message: string }
  | { type: 'error'; file: JournalFileKey; message: string }
  | { type: 'closed' };

/** main -> thread */
export type ControlMessage =
  | { type: 'attach'; name: string; port: MessagePort; ring?: RingBuffers }
  | { type: 'detach'; name: string }
  | { type: 'close'; timeoutMs: number };

/** Extra time the main thread grants the thread after the 'end' wait, for the final write/fsync and pending gzips. */
const CLOSE_GRACE_MS = 3000;

const THREAD_URL = threadModuleUrl('writer-thread', './writer-thread.ts', import.meta.url);

/**
 * Start the writer thread from its .ts source.
 *
 * `new Worker(new URL('./writer-thread.ts', import.meta.url))` does NOT load on Node 20, neither under
 * `tsx src/main.ts` nor under vitest: tsx (4.x) only registers its module hooks in a Worker on Node >= 22.22.3
 * (on Node 20 its inherited `--import tsx` loader is a no-op outside the main thread because it cannot tell user
 * workers from the internal hooks thread), so inheriting execArgv or adding `--import tsx` to execArgv gives
 * ERR_UNKNOWN_FILE_EXTENSION; vitest transforms TS in-process and gives the same error.
 * Robust approach, verified under `npx tsx` and vitest: a tiny eval'd bootstrap first tries to import the thread
 * module directly (works wherever a TS loader is already active in workers, e.g. newer Node + tsx) and, only on
 * ERR_UNKNOWN_FILE_EXTENSION, registers tsx's ESM hooks inside the worker (`tsx/esm/api` register()) and imports
 * it again. The first attempt carries a query string because Node caches a failed import per URL.
 * A compiled .js build would load the file directly (no bootstrap).
 */
function spawnWriterThread(workerData: WriterThreadData): Worker {
  if (!THREAD_URL.pathname.endsWith('.ts')) return new Worker(THREAD_URL, { workerData });
  let tsxApi = 'tsx/esm/api';
  try {
    tsxApi = import.meta.resolve('tsx/esm/api');
  } catch {
    /* bare specifier: resolved from the working directory */
  }
  const u = JSON.stringify(THREAD_URL.href);
  const code =
    `import(${u} + '?direct').catch(async (e) => {\n` +
    `  if (!e || e.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;\n` +
    `  (await import(${JSON.stringify(tsxApi)})).register();\n` +
    `  await import(${u});\n` +
    `}).catch((e) => { setImmediate(() => { throw e; }); });\n`;
  return new Worker(code, { eval: true, workerData });
}

function readStats(i32: Int32Array, f64: Float64Array, bytes: Uint8Array, cache: { gen: number; text: string | null }): JournalStats {
  let snap: Float64Array = f64.slice();
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const s1 = Atomics.load(i32, 0);
    if (s1 & 1) continue;
    snap = f64.slice();
    if (Atomics.load(i32, 0) === s1) break;
  }
  const gen = snap[ST.lastErrorGen];
  if (gen !== cache.gen) {
    const len = snap[ST.lastErrorLen];
    // copy out of the shared buffer first: TextDecoder refuses shared views
    cache.text = len < 0 ? null : new TextDecoder().decode(bytes.slice(0, Math.min(len, ST_ERR_BYTES)));
    cache.gen = gen;
  }
  const writeErrors = {} as Record<JournalFileKey, number>;
  JOURNAL_FILE_KEYS.forEach((k, i) => (writeErrors[k] = snap[ST.writeErrors0 + i]));
  const lw = snap[ST.lastWriteMs];
  return {
    linesReceived: snap[ST.linesReceived],
    linesWritten: snap[ST.linesWritten],
    bytesWritten: snap[ST.bytesWritten],
    fsyncs: snap[ST.fsyncs],
    writeErrors,
    lastWriteMs: Number.isNaN(lw) ? null : lw,
    failing: snap[ST.failing] !== 0,
    lastError: cache.text,
    batchesPending: snap[ST.batchesPending],
  };
}

export class JournalWriter {
  readonly #worker: Worker;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #bytes: Uint8Array;
  readonly #errCache = { gen: 0, text: null as string | null };
  readonly #errorCbs: ((file: string, message: string) => void)[] = [];
  #closePromise: Promise<JournalStats> | null = null;
  #onClosed: (() => void) | null = null;
  #exited = false;

  /** the shared doorbell producers with a journal ring use to wake the thread */
  readonly bell: SharedArrayBuffer;

  private constructor(worker: Worker, sab: SharedArrayBuffer, bell: SharedArrayBuffer) {
    this.#worker = worker;
    this.bell = bell;
    this.#i32 = new Int32Array(sab, 0, 1);
    this.#f64 = new Float64Array(sab, ST_F64_OFFSET, ST_FIELDS);
    this.#bytes = new Uint8Array(sab, ST_ERR_OFFSET, ST_ERR_BYTES);
    worker.on('message', (m: ThreadMessage) => {
      if (m.type === 'error') {
        for (const cb of this.#errorCbs) {
          try {
            cb(m.file, m.message);
          } catch {
            /* a listener's bug must not break the others */
          }
        }
      } else if (m.type === 'closed') {
        this.#onClosed?.();
      }
    });
    worker.on('error', (e) => {
      writeSync(2, `[journal] writer thread crashed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    });
    worker.on('exit', () => {
      this.#exited = true;
      this.#onClosed?.();
    });
  }

  /**
   * Start the thread; resolves when all files are open (events + the three order files created empty if missing;
   * `raw` is created on first write). Rejects if the session dir or one of those files cannot be opened.
   * Options not given take DEFAULT_WRITER_OPTIONS (a full WriterOptions is accepted as is).
   */
  static start(opts: Pick<WriterOptions, 'sessionDir'> & Partial<WriterOptions>): Promise<JournalWriter> {
    const full: WriterOptions = { ...DEFAULT_WRITER_OPTIONS, ...opts, files: { ...DEFAULT_FILES, ...opts.files } };
    const sab = new SharedArrayBuffer(ST_BYTES);
    const f64 = new Float64Array(sab, ST_F64_OFFSET, ST_FIELDS);
    f64[ST.lastWriteMs] = NaN;
    f64[ST.lastErrorLen] = -1;
    const bell = new SharedArrayBuffer(16);
    const worker = spawnWriterThread({ opts: full, stats: sab, bell });
    return new Promise<JournalWriter>((resolve, reject) => {
      const cleanup = (): void => {
        worker.off('message', onMsg);
        worker.off('error', onErr);
        worker.off('exit', onExit);
      };
      const onMsg = (m: ThreadMessage): void => {
        if (m.type === 'ready') {
          cleanup();
          resolve(new JournalWriter(worker, sab, bell));
        } else if (m.type === 'startError') {
          cleanup();
          void worker.terminate();
          reject(new Error(`journal writer: ${m.message}`));
        }
      };
      const onErr = (e: unknown): void => {
        cleanup();
        void worker.terminate();
        reject(e instanceof Error ? e : new Error(String(e)));
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`journal writer thread exited during start (code ${code})`));
      };
      worker.on('message', onMsg);
      worker.on('error', onErr);
      worker.on('exit', onExit);
    });
  }

  /**
   * A new producer: returns the producer end of a new MessageChannel (transfer it to a worker, or keep it on the
   * main thread). Attaching an existing name replaces the old producer (its already-posted batches are written
   * first). Throws once close() was called.
   */
  attachProducer(name: string, ring?: RingBuffers): MessagePort {
    if (this.#closePromise || this.#exited) throw new Error('journal writer is closing/closed');
    const { port1, port2 } = new MessageChannel();
    this.#worker.postMessage({ type: 'attach', name, port: port2, ring } satisfies ControlMessage, [port2]);
    return port1;
  }

  /** The producer died: write what it already posted, stop waiting for its 'end'. */
  detachProducer(name: string): void {
    if (this.#exited) return;
    this.#worker.postMessage({ type: 'detach', name } satisfies ControlMessage);
  }

  /** Cumulative stats, synchronous (read from the SharedArrayBuffer the thread updates). */
  stats(): JournalStats {
    return readStats(this.#i32, this.#f64, this.#bytes, this.#errCache);
  }

  /**
   * Waits until every attached producer posted {type:'end'} (or was detached, or `timeoutMs` passed; batches
   * already queued on a timed-out producer's port are still written), writes everything received, fsyncs and
   * closes every file, terminates the thread. Idempotent. If the thread does not confirm within
   * timeoutMs + 3 s (e.g. a huge gzip still running), it is terminated anyway: live files are already fsynced
   * and closed by then; an unfinished archive stays as a plain `.partN.jsonl` and is gzipped at the next start.
   */
  close(timeoutMs = 4000): Promise<JournalStats> {
    if (this.#closePromise) return this.#closePromise;
    this.#closePromise = new Promise<JournalStats>((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(safety);
        this.#onClosed = null;
        const stats = this.stats();
        void this.#worker.terminate().then(
          () => resolve(stats),
          () => resolve(stats),
        );
      };
      const safety = setTimeout(() => {
        writeSync(2, `[journal] writer thread did not confirm close within ${timeoutMs + CLOSE_GRACE_MS} ms; terminating\n`);
        finish();
      }, timeoutMs + CLOSE_GRACE_MS);
      this.#onClosed = finish;
      if (this.#exited) return finish();
      this.#worker.postMessage({ type: 'close', timeoutMs } satisfies ControlMessage);
    });
    return this.#closePromise;
  }

  /** Called on the main thread for each write error; `file` is the JournalFiles key (e.g. 'events'). */
  onError(cb: (file: string, message: string) => void): void {
    this.#errorCbs.push(cb);
  }
}
