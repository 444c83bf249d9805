/**
 * The journal writer thread (service.md 4.4, protocol.md "Journal"). Started by writer.ts; never imported
 * elsewhere. Owns every JSONL file of the session directory; it is the only writer of those files.
 *
 * - Producer batches arrive on one MessagePort per producer, are queued in arrival order and written in a
 *   setImmediate drain: per batch, one whole-buffer write per non-empty file chunk (looping on partial writes),
 *   so lines of one producer stay in order and producers interleave only at batch boundaries.
 * - fsync: every `fsyncIntervalMs` (dirty files) and as soon as `fsyncLines` lines were written since the last one.
 * - Rotation before a file's chunk is written (see maybeRotate).
 * - Write errors never throw out of a handler: counted per file, stderr (1/s per file), posted to the main thread.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import {
  JOURNAL_FILE_KEYS,
  ST,
  ST_ERR_BYTES,
  ST_ERR_OFFSET,
  ST_F64_OFFSET,
  ST_FIELDS,
  type ControlMessage,
  type JournalFileKey,
  type ProducerMessage,
  type ThreadMessage,
  type WriterThreadData,
} from './writer.ts';
import { applyRetention, archiveName, fsyncDir, gzipArchive, plainArchivesOf, utcDay } from './rotation.ts';
import { Ring, type RecordView, type RingBuffers } from '../pool/ring.ts';
import { BELL_SEQ, BELL_SLEEPING } from './bell.ts';

type Batch = Extract<ProducerMessage, { type: 'batch' }>;

interface FileState {
  key: JournalFileKey;
  name: string;
  path: string;
  fd: number | null;
  /** bytes in the current file (fstat at open + bytes written since) */
  size: number;
  /** UTC day of the last write/rotation (or of the file's mtime when an existing non-empty file was opened) */
  day: number;
  dirty: boolean;
  part: number;
  maxBytes: number;
  failing: boolean;
  lastLogMs: number;
  suppressedLogs: number;
  /** no rotation attempt before this time (backoff after a failed rename) */
  rotateNotBefore: number;
  /** fault injection: remaining failing writes (Infinity = forever, 0 = none) */
  faultLeft: number;
}

interface Producer {
  name: string;
  port: MessagePort;
  ended: boolean;
  /** shared-memory journal ring (pool workers): records `[file index | lines << 8]` + UTF-8 lines */
  ring: Ring | null;
}

const port = parentPort!;
const { opts, stats: sab, bell: bellSab } = workerData as WriterThreadData;
const bell = new Int32Array(bellSab);
const dir = opts.sessionDir;

// ---- stats (published into the SharedArrayBuffer under a seqlock, see writer.ts) --------------------------
const seq = new Int32Array(sab, 0, 1);
const f64 = new Float64Array(sab, ST_F64_OFFSET, ST_FIELDS);
const errBytes = new Uint8Array(sab, ST_ERR_OFFSET, ST_ERR_BYTES);
const encoder = new TextEncoder();
const st = {
  linesReceived: 0,
  linesWritten: 0,
  bytesWritten: 0,
  fsyncs: 0,
  writeErrors: [0, 0, 0, 0, 0],
  lastWriteMs: NaN,
  batchesPending: 0,
  lastError: null as string | null,
  lastErrorGen: 0,
  publishedErrorGen: 0,
};

function publish(): void {
  Atomics.add(seq, 0, 1); // odd: update in progress
  f64[ST.linesReceived] = st.linesReceived;
  f64[ST.linesWritten] = st.linesWritten;
  f64[ST.bytesWritten] = st.bytesWritten;
  f64[ST.fsyncs] = st.fsyncs;
  for (let i = 0; i < 5; i++) f64[ST.writeErrors0 + i] = st.writeErrors[i];
  f64[ST.lastWriteMs] = st.lastWriteMs;
  f64[ST.failing] = anyFailing() ? 1 : 0;
  f64[ST.batchesPending] = st.batchesPending;
  if (st.publishedErrorGen !== st.lastErrorGen) {
    if (st.lastError === null) f64[ST.lastErrorLen] = -1;
    else {
      // encodeInto never splits a character; the message is truncated to the buffer size
      const tmp = new Uint8Array(ST_ERR_BYTES);
      const { written } = encoder.encodeInto(st.lastError, tmp);
      errBytes.set(tmp.subarray(0, written));
      f64[ST.lastErrorLen] = written;
    }
    f64[ST.lastErrorGen] = st.lastErrorGen;
    st.publishedErrorGen = st.lastErrorGen;
  }
  Atomics.add(seq, 0, 1); // even: consistent
}

// ---- files -----------------------------------------------------------------------------------------------
const files = {} as Record<JournalFileKey, FileState>;
const fileList: FileState[] = [];
for (const key of JOURNAL_FILE_KEYS) {
  const name = opts.files[key];
  const f: FileState = {
    key,
    name,
    path: join(dir, name),
    fd: null,
    size: 0,
    day: utcDay(Date.now()),
    dirty: false,
    part: 0,
    maxBytes: key === 'events' ? opts.eventsMaxBytes : opts.ordersMaxBytes,
    failing: false,
    lastLogMs: 0,
    suppressedLogs: 0,
    rotateNotBefore: 0,
    faultLeft: opts.faultInjection?.failWritesFor === key ? (opts.faultInjection.failCount ?? Infinity) : 0,
  };
  files[key] = f;
  fileList.push(f);
}

const anyFailing = (): boolean => fileList.some((f) => f.failing);

function errMessage(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as NodeJS.ErrnoException).code;
  return code && !e.message.startsWith(code) ? `${code}: ${e.message}` : e.message;
}

function post(m: ThreadMessage): void {
  try {
    port.postMessage(m);
  } catch {
    /* main side gone */
  }
}

function stderr(line: string): void {
  try {
    fs.writeSync(2, line + '\n');
  } catch {
    /* nothing left to report to */
  }
}

/**
 * A failed write/open/fsync of `f` (count = true): count it, mark the file failing, post it to the main thread
 * (onError). Rotation/gzip problems lose no line (count = false): lastError + stderr only.
 * stderr is rate-limited to one line per second per file.
 */
function recordError(f: FileState, op: string, e: unknown, count = true): void {
  const message = `${op} ${f.name}: ${errMessage(e)}`;
  if (count) {
    st.writeErrors[JOURNAL_FILE_KEYS.indexOf(f.key)]++;
    f.failing = true;
  }
  st.lastError = message;
  st.lastErrorGen++;
  const now = Date.now();
  if (now - f.lastLogMs >= 1000) {
    const extra = f.suppressedLogs > 0 ? ` (+${f.suppressedLogs} similar errors suppressed)` : '';
    stderr(`[journal] ${message}${extra}`);
    f.lastLogMs = now;
    f.suppressedLogs = 0;
  } else {
    f.suppressedLogs++;
  }
  // publish before posting: /health must show `failing` even when no line of this drain was written
  // (a drain publishes only after written lines), and before the main thread acts on the message
  publish();
  if (count) post({ type: 'error', file: f.key, message });
}

/**
 * A file that ends inside a line (an earlier process killed in the middle of a large write(2), or power
 * loss before the last fsync) would get this process's first record glued onto the fragment: cut the
 * fragment off so every line stays whole. Only an earlier process can leave one: this writer writes
 * whole lines and cuts back its own short writes.
 */
function cutIncompleteTail(f: FileState): void {
  let fd: number;
  try {
    fd = fs.openSync(f.path, 'r+');
  } catch {
    return; // missing (the open creates it) or not openable (the open reports it)
  }
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(64 * 1024);
    let end = size;
    let keep = -1;
    while (end > 0 && keep < 0) {
      const start = Math.max(0, end - buf.length);
      const n = fs.readSync(fd, buf, 0, end - start, start);
      if (end === size && n > 0 && buf[n - 1] === 0x0a) return; // ends with a whole line (the usual case)
      const nl = buf.subarray(0, n).lastIndexOf(0x0a);
      if (nl >= 0) keep = start + nl + 1;
      end = start;
    }
    if (size === 0) return;
    keep = Math.max(0, keep);
    fs.ftruncateSync(fd, keep);
    fs.fsyncSync(fd);
    stderr(`[journal] ${f.name}: cut an incomplete last line (${size - keep} bytes) left by an earlier process`);
  } catch (e) {
    recordError(f, 'repair of the last line of', e, false);
  } finally {
    fs.closeSync(fd);
  }
}

/** Open (O_APPEND|O_CREAT) and learn size/day. Throws on failure. */
function openFile(f: FileState): void {
  cutIncompleteTail(f);
  let fd: number;
  if (f.faultLeft > 0) {
    // TEST ONLY fault injection: a read-only fd makes write(2) really fail with EBADF
    fs.closeSync(fs.openSync(f.path, 'a', 0o644));
    fd = fs.openSync(f.path, 'r');
  } else {
    fd = fs.openSync(f.path, 'a', 0o644);
  }
  try {
    const s = fs.fstatSync(fd);
    f.size = s.size;
    f.day = utcDay(s.size > 0 ? s.mtimeMs : Date.now());
  } catch {
    f.size = 0;
    f.day = utcDay(Date.now());
  }
  f.fd = fd;
}

function closeFd(f: FileState): void {
  if (f.fd === null) return;
  try {
    fs.closeSync(f.fd);
  } catch {
    /* already broken */
  }
  f.fd = null;
}

function fsyncFile(f: FileState): void {
  if (f.fd === null || !f.dirty) return;
  f.dirty = false;
  try {
    fs.fsyncSync(f.fd);
    st.fsyncs++;
  } catch (e) {
    recordError(f, 'fsync', e);
  }
}

let linesSinceFsync = 0;
let lastFsyncMs = Date.now();

function fsyncAll(): void {
  for (const f of fileList) fsyncFile(f);
  linesSinceFsync = 0;
  lastFsyncMs = Date.now();
}

// ---- rotation --------------------------------------------------------------------------------------------
const pendingGzips = new Set<Promise<void>>();

function compressInBackground(f: FileState, plainPath: string): void {
  const p: Promise<void> = gzipArchive(plainPath, opts.gzipLevel)
    .then(
      () => {
        applyRetention(dir, f.name, opts.retentionDays, Date.now());
      },
      (e: unknown) => {
        // no line is lost: the plain archive stays (and is retried at the next start)
        recordError(f, 'gzip archive of', e, false);
        try {
          fs.rmSync(plainPath + '.gz.tmp', { force: true });
        } catch {
          /* ignore */
        }
        publish();
      },
    )
    .finally(() => pendingGzips.delete(p));
  pendingGzips.add(p);
}

/**
 * Before a chunk is written to `f`: if the UTC day changed since the last write/rotation, or size >= max bytes,
 * and the current file is non-empty, rename it to `<stem>.<UTC YYYYMMDD.HHMMSS>.part<N>.jsonl`, reopen a fresh
 * file, gzip the archive (in the background, on the libuv pool) and then apply retention.
 * The check happens before a batch's chunk is written, so a file may exceed max bytes by one batch chunk.
 */
function maybeRotate(f: FileState): void {
  if (f.fd === null) return;
  const now = Date.now();
  const day = utcDay(now);
  if (f.size === 0) {
    f.day = day;
    return;
  }
  if (day === f.day && f.size < f.maxBytes) return;
  if (now < f.rotateNotBefore) return;
  // the archive must be complete on disk before it is renamed/compressed
  if (f.dirty) fsyncFile(f);
  let part = f.part + 1;
  let arch = archiveName(f.name, now, part);
  while (fs.existsSync(join(dir, arch)) || fs.existsSync(join(dir, arch + '.gz'))) arch = archiveName(f.name, now, ++part);
  closeFd(f);
  try {
    fs.renameSync(f.path, join(dir, arch));
  } catch (e) {
    // keep appending to the current file; retry the rotation in 10 s
    recordError(f, 'rotate (rename)', e, false);
    f.rotateNotBefore = now + 10_000;
    try {
      openFile(f);
    } catch (e2) {
      recordError(f, 'reopen', e2);
    }
    return;
  }
  f.part = part;
  try {
    openFile(f);
  } catch (e) {
    recordError(f, 'open', e); // the next write retries the open
  }
  f.day = day;
  fsyncDir(dir);
  compressInBackground(f, join(dir, arch));
}

// ---- writing ---------------------------------------------------------------------------------------------
function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** Write one chunk (complete lines) with whole-buffer writes. Returns false if it was not (entirely) written. */
function writeChunk(f: FileState, chunk: string | Uint8Array): boolean {
  if (f.fd === null) {
    try {
      openFile(f); // `raw` on its first write, or a file whose open/fd failed earlier
    } catch (e) {
      recordError(f, 'open', e);
      return false;
    }
  }
  maybeRotate(f);
  const fd = f.fd;
  if (fd === null) return false; // reopen after rotation failed (already recorded)
  const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  let off = 0;
  try {
    while (off < buf.length) {
      const n = fs.writeSync(fd, buf, off, buf.length - off);
      if (n <= 0) throw new Error(`write returned ${n}`);
      off += n;
    }
  } catch (e) {
    if (off > 0) {
      // a partial write before the error: cut it off again so no torn line stays in the file
      try {
        fs.ftruncateSync(fd, fs.fstatSync(fd).size - off);
      } catch {
        /* best effort */
      }
    }
    recordError(f, 'write', e);
    const code = (e as NodeJS.ErrnoException).code;
    if (f.faultLeft > 0 && --f.faultLeft === 0) closeFd(f); // fault injection over: reopen normally next time
    else if (code === 'EBADF' && f.faultLeft === 0) closeFd(f); // broken fd: reopen on the next write
    return false;
  }
  f.size += buf.length;
  f.dirty = true;
  f.failing = false;
  st.bytesWritten += buf.length;
  st.lastWriteMs = Date.now();
  return true;
}

/** The line threshold; and the interval also while a long backlog is drained (the timer only covers idle times). */
function maybeFsync(): void {
  if (linesSinceFsync >= opts.fsyncLines || st.lastWriteMs - lastFsyncMs >= opts.fsyncIntervalMs) fsyncAll();
}

function writeBatch(b: Batch): void {
  let failedLines = 0;
  for (const f of fileList) {
    const chunk = b[f.key];
    if (typeof chunk !== 'string' || chunk.length === 0) continue;
    if (!writeChunk(f, chunk)) failedLines += countLines(chunk);
  }
  const written = Math.max(0, (b.lines | 0) - failedLines);
  st.linesWritten += written;
  linesSinceFsync += written;
  maybeFsync();
}

/** Received, not yet written batches, in arrival order; `qHead` = next to write. */
const queue: (Batch | undefined)[] = [];
let qHead = 0;
let drainScheduled = false;

function scheduleDrain(): void {
  if (drainScheduled) return;
  drainScheduled = true;
  setImmediate(drain);
}

/**
 * Write queued batches for at most `budgetMs`, then yield (so control messages, the fsync timer and stats keep
 * going during a large backlog) and continue in the next turn.
 */
function drain(budgetMs = 20): void {
  drainScheduled = false;
  const t0 = Date.now();
  while (qHead < queue.length) {
    const b = queue[qHead]!;
    queue[qHead++] = undefined; // let the strings go
    try {
      writeBatch(b);
    } catch (e) {
      // should be unreachable (writeChunk catches); never let one batch kill the thread
      stderr(`[journal] unexpected error writing a batch: ${errMessage(e)}`);
    }
    st.batchesPending--;
    if ((qHead & 63) === 0 && Date.now() - t0 >= budgetMs) break;
  }
  if (qHead >= queue.length) {
    queue.length = 0;
    qHead = 0;
  } else {
    if (qHead >= 8192) {
      queue.splice(0, qHead);
      qHead = 0;
    }
    scheduleDrain();
  }
  publish();
}

function enqueue(b: Batch): void {
  queue.push(b);
  st.linesReceived += b.lines | 0;
  st.batchesPending++;
  scheduleDrain();
  publish();
}

// ---- shared-memory rings ---------------------------------------------------------------------------------
const ringView: RecordView = { id: 0, meta: 0, bytes: new Uint8Array(0) };

/** Writes every record waiting in one producer's ring straight from shared memory; returns the lines. */
function drainRing(p: Producer): number {
  const ring = p.ring;
  if (ring === null) return 0;
  let lines = 0;
  let any = false;
  while (ring.next(ringView)) {
    any = true;
    const f = fileList[ringView.meta & 0xff];
    const n = ringView.meta >>> 8;
    st.linesReceived += n;
    if (f !== undefined && writeChunk(f, ringView.bytes)) {
      st.linesWritten += n;
      linesSinceFsync += n;
      lines += n;
    }
  }
  if (any) {
    ring.release();
    maybeFsync();
  }
  return lines;
}

function drainRings(): number {
  let n = 0;
  for (const p of producers.values()) n += drainRing(p);
  if (n > 0) publish();
  return n;
}

function ringsEmpty(): boolean {
  for (const p of producers.values()) if (p.ring !== null && !p.ring.isEmpty()) return false;
  return true;
}

/** after a drain with lines, wait this long before the next: measured 5.7 -> 3.8 us of writer CPU per decision */
const COALESCE_MS = 1;

/**
 * Serves the rings: drain, yield to the event loop (control messages, fsync timer), repeat; when all
 * are empty, announce sleep and wait on the doorbell (producers ring it only then) or the fsync
 * interval, whichever comes first.
 */
async function ringLoop(): Promise<void> {
  while (!finishing) {
    const seen = Atomics.load(bell, BELL_SEQ);
    if (drainRings() > 0) {
      // let lines accumulate briefly: fewer, larger writes (lag stays ~1 ms, far inside the fsync policy)
      await new Promise((r) => setTimeout(r, COALESCE_MS));
      continue;
    }
    Atomics.store(bell, BELL_SLEEPING, 1);
    if (ringsEmpty()) {
      const w = Atomics.waitAsync(bell, BELL_SEQ, seen, Math.max(1, opts.fsyncIntervalMs));
      if (w.async) await w.value;
    }
    Atomics.store(bell, BELL_SLEEPING, 0);
  }
}

// ---- producers -------------------------------------------------------------------------------------------
const producers = new Map<string, Producer>();

function onProducerMessage(p: Producer, m: ProducerMessage): void {
  if (p.ended || m === null || typeof m !== 'object') return;
  if (m.type === 'batch') enqueue(m);
  else if (m.type === 'end') {
    drainRing(p); // the producer wrote its last records before posting 'end'
    p.ended = true;
    p.port.close();
    checkClose();
  }
}

/** Take whatever the producer already posted (synchronously, in order), then stop listening. */
function drainPort(p: Producer): void {
  if (p.ended) return;
  drainRing(p);
  for (let r = receiveMessageOnPort(p.port); r !== undefined; r = receiveMessageOnPort(p.port)) {
    onProducerMessage(p, r.message as ProducerMessage);
    if (p.ended) break;
  }
  p.ended = true;
  p.port.close();
}

function attach(name: string, p2: MessagePort, ring?: RingBuffers): void {
  const old = producers.get(name);
  if (old && !old.ended) {
    stderr(`[journal] producer '${name}' attached again before its 'end': treating the old one as detached`);
    drainPort(old);
  }
  const p: Producer = { name, port: p2, ended: false, ring: ring ? new Ring(ring) : null };
  producers.set(name, p);
  p2.on('message', (m: ProducerMessage) => {
    try {
      onProducerMessage(p, m);
    } catch (e) {
      stderr(`[journal] bad producer message from '${name}': ${errMessage(e)}`);
    }
  });
}

// ---- close -----------------------------------------------------------------------------------------------
let closing = false;
let finishing = false;
let closeTimer: NodeJS.Timeout | null = null;

function checkClose(): void {
  if (!closing || finishing) return;
  for (const p of producers.values()) if (!p.ended) return;
  void finish();
}

async function finish(): Promise<void> {
  if (finishing) return;
  finishing = true;
  if (closeTimer) clearTimeout(closeTimer);
  const late = [...producers.values()].filter((p) => !p.ended).map((p) => p.name);
  if (late.length > 0) stderr(`[journal] close: no 'end' from ${late.join(', ')} before the timeout; writing what they posted`);
  for (const p of producers.values()) drainPort(p);
  drain(Infinity);
  clearInterval(fsyncTimer);
  fsyncAll();
  for (const f of fileList) closeFd(f);
  fsyncDir(dir);
  publish();
  // live files are durable now; wait for background gzips (the main thread bounds this wait)
  while (pendingGzips.size > 0) await Promise.allSettled([...pendingGzips]);
  publish();
  post({ type: 'closed' }); // the main thread terminates the thread on this message
}

// ---- startup ---------------------------------------------------------------------------------------------
const fsyncTimer = setInterval(
  () => {
    let dirty = false;
    for (const f of fileList) dirty ||= f.dirty;
    if (!dirty) return;
    fsyncAll();
    publish();
  },
  Math.max(1, Math.min(opts.fsyncIntervalMs, 2 ** 31 - 1)),
);

port.on('message', (m: ControlMessage) => {
  try {
    if (m.type === 'attach') {
      if (finishing) m.port.close();
      else attach(m.name, m.port, m.ring);
    } else if (m.type === 'detach') {
      const p = producers.get(m.name);
      if (p) {
        drainPort(p);
        checkClose();
      }
    } else if (m.type === 'close') {
      if (closing) return;
      closing = true;
      closeTimer = setTimeout(() => void finish(), Math.max(0, m.timeoutMs));
      checkClose();
    }
  } catch (e) {
    stderr(`[journal] control message failed: ${errMessage(e)}`);
  }
});

try {
  fs.mkdirSync(dir, { recursive: true });
} catch {
  /* service.md 4.4: creation errors ignored (the opens below report real problems) */
}
try {
  for (const f of fileList) {
    // `raw` (orders.jsonl) is created on first write; open it now only if it already exists
    if (f.key === 'raw' && !fs.existsSync(f.path)) continue;
    openFile(f);
  }
  fsyncDir(dir);
  // archives a previous run left uncompressed (stopped mid-gzip)
  for (const f of fileList) {
    for (const plain of plainArchivesOf(dir, f.name)) {
      fs.rmSync(join(dir, plain + '.gz.tmp'), { force: true });
      compressInBackground(f, join(dir, plain));
    }
  }
  publish();
  post({ type: 'ready' });
  void ringLoop();
} catch (e) {
  clearInterval(fsyncTimer);
  for (const f of fileList) closeFd(f);
  post({ type: 'startError', message: `cannot open the journal files in ${dir}: ${errMessage(e)}` });
}
