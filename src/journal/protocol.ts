/**
 * What the main-thread handle (writer.ts) and the journal writer thread (writer-thread.ts) exchange:
 * options, the thread's start data and the control/report messages. Types only, plus the defaults.
 */
import type { RingBuffers } from '../shm/ring.ts';
import type { WriterTestOptions } from '../testing/hooks.ts';
import { DEFAULT_FILES, type JournalFiles } from './files.ts';

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
  /** how often a failing file is retried when nothing is written to it (default 1000 ms) */
  retryFailingMs: number;
}

export const DEFAULT_WRITER_OPTIONS: Omit<WriterOptions, 'sessionDir'> = {
  files: DEFAULT_FILES,
  fsyncIntervalMs: 50,
  fsyncLines: 256,
  eventsMaxBytes: 100 * 1024 * 1024,
  ordersMaxBytes: 200 * 1024 * 1024,
  retentionDays: 7,
  gzipLevel: 3,
  retryFailingMs: 1000,
};

/** A producer's shared-memory ring as the thread knows it (`id` is unique for the writer's lifetime). */
export interface ProducerSpec {
  id: number;
  name: string;
  ring: RingBuffers;
  /** detach() was called: drain it completely, then forget it */
  detaching: boolean;
}

/** Data handed to the thread (structured-cloned; the SharedArrayBuffers are shared, not copied). */
export interface WriterThreadData {
  opts: WriterOptions;
  /** used by src/testing only: a file to fail (JournalWriter.start's second argument; never from the configuration) */
  test?: WriterTestOptions;
  /** stats + in-flight record slot (stats.ts); outlives every thread of the writer */
  stats: SharedArrayBuffer;
  /** journal doorbell (src/shm/journal-bell.ts) */
  bell: SharedArrayBuffer;
  /** rings attached before this thread started (a restart: every live ring of the dead thread) */
  producers: ProducerSpec[];
  /**
   * true for a replacement thread: a file that cannot be opened is recorded as failing (and retried)
   * instead of refusing to start, and `failing` stays set until the inherited rings are drained
   */
  restart: boolean;
}

/** thread -> main */
export type ThreadMessage =
  | { type: 'ready' }
  | { type: 'startError'; message: string }
  /** `file`: a JournalFiles key, or 'ring' for lines a producer dropped (ring full) */
  | { type: 'error'; file: string; message: string }
  | { type: 'detached'; id: number }
  | { type: 'closed' };

/** TEST ONLY: where the `testCrash` control message makes the thread throw an uncaught error. */
export type CrashPoint = 'timer' | 'beforeWrite' | 'afterWrite';

/** main -> thread */
export type ControlMessage =
  | { type: 'attach'; producer: ProducerSpec }
  | { type: 'detach'; id: number }
  | { type: 'close'; timeoutMs: number }
  /** used by src/testing only (killJournalWriter): throw an uncaught error from a timer, or around the next record's write */
  | { type: 'testCrash'; at: CrashPoint };
