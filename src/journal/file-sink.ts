/**
 * One journal file of the writer thread: open (cutting a torn last line), whole-buffer appends, fsync,
 * the retry of a failing file, and the check of a record a dead predecessor was writing. Rotation is
 * asked for before each write (rotation.ts). No module state: the thread entry creates one per file.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { JournalFileKey } from './files.ts';
import { utcDay, type Rotator } from './rotation.ts';

export interface SinkEvents {
  /**
   * A failed open/write/fsync of the file (`count`: counted, the file is failing, the main thread is told),
   * or a rotation/gzip/repair problem that loses no line (`count` false: lastError and stderr only).
   */
  error(sink: FileSink, op: string, e: unknown, count: boolean): void;
  wrote(bytes: number): void;
  fsynced(): void;
  /** a line for stderr */
  note(line: string): void;
}

/** A failing file is proven writable again by appending this many bytes (then cut off): see retry(). */
const PROBE = Buffer.alloc(16 * 1024, 0x20);

export class FileSink {
  readonly key: JournalFileKey;
  /** index in JOURNAL_FILE_KEYS (the ring records' file index) */
  readonly index: number;
  readonly name: string;
  readonly path: string;
  readonly maxBytes: number;
  fd: number | null = null;
  /** bytes in the current file (fstat at open + bytes written since) */
  size = 0;
  /** UTC day of the last write/rotation (or of the file's mtime when an existing non-empty file was opened) */
  day = utcDay(Date.now());
  dirty = false;
  part = 0;
  failing = false;
  /** no rotation attempt before this time (backoff after a failed rename) */
  rotateNotBefore = 0;
  /** last write or retry (a failing file nothing is written to is retried on a timer) */
  lastAttemptMs = 0;
  /** stderr rate limit: one line per second per file */
  lastLogMs = 0;
  suppressedLogs = 0;
  /** used by src/testing only (WriterTestOptions): remaining failing writes (Infinity = forever, 0 = none) */
  private faultLeft: number;
  private readonly events: SinkEvents;
  private readonly rotator: Rotator;

  constructor(dir: string, key: JournalFileKey, index: number, name: string, maxBytes: number, faultLeft: number, events: SinkEvents, rotator: Rotator) {
    this.key = key;
    this.index = index;
    this.name = name;
    this.path = join(dir, name);
    this.maxBytes = maxBytes;
    this.faultLeft = faultLeft;
    this.events = events;
    this.rotator = rotator;
  }

  report(op: string, e: unknown, count: boolean): void {
    this.events.error(this, op, e, count);
  }

  /**
   * A file that ends inside a line (a process killed in the middle of a large write(2), power loss before
   * the last fsync, a writer thread that died inside a write or a probe) would get the next record glued
   * onto the fragment: cut the fragment off so every line stays whole.
   */
  private cutIncompleteTail(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.path, 'r+');
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
      this.events.note(`[journal] ${this.name}: cut an incomplete last line (${size - keep} bytes) left by an earlier writer`);
    } catch (e) {
      this.report('repair of the last line of', e, false);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Open (O_APPEND|O_CREAT) and learn size/day. Throws on failure. */
  open(): void {
    this.cutIncompleteTail();
    let fd: number;
    if (this.faultLeft > 0) {
      // TEST ONLY fault injection: a read-only fd makes write(2) really fail with EBADF
      fs.closeSync(fs.openSync(this.path, 'a', 0o644));
      fd = fs.openSync(this.path, 'r');
    } else {
      fd = fs.openSync(this.path, 'a', 0o644);
    }
    try {
      const s = fs.fstatSync(fd);
      this.size = s.size;
      this.day = utcDay(s.size > 0 ? s.mtimeMs : Date.now());
    } catch {
      this.size = 0;
      this.day = utcDay(Date.now());
    }
    this.fd = fd;
  }

  closeFd(): void {
    if (this.fd === null) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already broken */
    }
    this.fd = null;
  }

  fsync(): void {
    if (this.fd === null || !this.dirty) return;
    this.dirty = false;
    try {
      fs.fsyncSync(this.fd);
      this.events.fsynced();
    } catch (e) {
      this.report('fsync', e, true);
    }
  }

  /**
   * Appends whole lines with whole-buffer writes (looping on short writes); `begin(offset)` is called just
   * before the first write(2) with the offset the bytes will start at. Returns false if the bytes were not
   * (entirely) written; a partial write is cut back, so no torn line stays in the file.
   */
  write(buf: Uint8Array, begin?: (offset: number) => void): boolean {
    this.lastAttemptMs = Date.now();
    if (this.fd === null) {
      try {
        this.open(); // `raw` on its first write, or a file whose open/fd failed earlier
      } catch (e) {
        this.report('open', e, true);
        return false;
      }
    }
    this.rotator.maybeRotate(this);
    const fd = this.fd;
    if (fd === null) return false; // reopen after rotation failed (already recorded)
    begin?.(this.size);
    let off = 0;
    try {
      while (off < buf.length) {
        const n = fs.writeSync(fd, buf, off, buf.length - off);
        if (n <= 0) throw new Error(`write returned ${n}`);
        off += n;
      }
    } catch (e) {
      if (off > 0) {
        try {
          fs.ftruncateSync(fd, fs.fstatSync(fd).size - off);
        } catch {
          /* best effort: the next open cuts an incomplete last line */
        }
      }
      this.report('write', e, true);
      const code = (e as NodeJS.ErrnoException).code;
      if (this.faultLeft > 0 && --this.faultLeft === 0) this.closeFd(); // fault injection over: reopen normally next time
      else if (code === 'EBADF' && this.faultLeft === 0) this.closeFd(); // broken fd: reopen on the next write
      return false;
    }
    this.size += buf.length;
    this.dirty = true;
    this.failing = false;
    this.events.wrote(buf.length);
    return true;
  }

  /**
   * A failing file nothing was written to for a while (under fail_closed, orders_denied.jsonl gets no line
   * while checks are refused): reopen it and prove it writable — append PROBE (spaces, no newline), cut it
   * off again, fsync. Only that clears `failing`: a reopen, or an fsync of a file with nothing new in it,
   * also succeeds on a full disk or a file at its size limit, and the file would flap to healthy until the
   * next real write failed (losing that line). A failed retry is not counted again (no line was lost).
   * Returns true when the file is healthy again.
   */
  retry(): boolean {
    this.lastAttemptMs = Date.now();
    this.closeFd();
    try {
      this.open();
    } catch {
      return false;
    }
    const fd = this.fd!;
    const size = this.size;
    let off = 0;
    let ok = true;
    try {
      while (off < PROBE.length) {
        const n = fs.writeSync(fd, PROBE, off, PROBE.length - off);
        if (n <= 0) throw new Error(`write returned ${n}`);
        off += n;
      }
    } catch {
      ok = false;
    }
    if (off > 0) {
      try {
        fs.ftruncateSync(fd, size);
      } catch {
        // the spaces stay for now: reopen next time, which cuts them (an incomplete last line)
        this.closeFd();
        return false;
      }
    }
    if (!ok) return false;
    try {
      fs.fsyncSync(fd);
    } catch {
      return false;
    }
    this.dirty = false;
    this.failing = false;
    this.events.note(`[journal] ${this.name}: writable again (reopened, probe write and fsync succeeded)`);
    return true;
  }

  /**
   * A predecessor thread died while writing `bytes` (a ring record) at `offset` of this file: true when
   * they all reached the file (the record must not be written again); false when they did not, after
   * cutting back a partial write of them (whole lines of it that survived the open's repair).
   */
  settleInDoubt(offset: number, bytes: Uint8Array): boolean {
    if (this.fd === null) {
      try {
        this.open();
      } catch {
        return false; // the write reports it
      }
    }
    const size = this.size;
    if (size <= offset) return false;
    const have = Math.min(size - offset, bytes.length);
    if (!this.fileEquals(offset, bytes.subarray(0, have))) return false; // not ours: leave the file alone
    if (have === bytes.length) return true;
    try {
      fs.ftruncateSync(this.fd!, offset);
      this.size = offset;
      this.events.note(`[journal] ${this.name}: cut ${have} bytes of a record whose write a dead writer thread did not finish`);
    } catch (e) {
      this.report('repair of the last record of', e, false);
    }
    return false;
  }

  private fileEquals(offset: number, bytes: Uint8Array): boolean {
    let fd: number | null = null;
    try {
      fd = fs.openSync(this.path, 'r');
      const buf = Buffer.alloc(bytes.length);
      let got = 0;
      while (got < buf.length) {
        const n = fs.readSync(fd, buf, got, buf.length - got, offset + got);
        if (n <= 0) break;
        got += n;
      }
      return got === buf.length && buf.equals(bytes);
    } catch {
      return false;
    } finally {
      if (fd !== null) fs.closeSync(fd);
    }
  }

  /** stderr rate limit: the suffix to print now, or null to stay quiet (one line per second per file). */
  logSuffix(now: number): string | null {
    if (now - this.lastLogMs < 1000) {
      this.suppressedLogs++;
      return null;
    }
    const extra = this.suppressedLogs > 0 ? ` (+${this.suppressedLogs} similar errors suppressed)` : '';
    this.lastLogMs = now;
    this.suppressedLogs = 0;
    return extra;
  }
}
