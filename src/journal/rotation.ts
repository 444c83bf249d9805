/**
 * Rotation for the journal writer thread (service.md 4.4): when a file rotates (Rotator), archive naming,
 * gzip, retention. Used only by the writer thread's modules.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

export const DAY_MS = 86_400_000;

/** UTC day number (days since the epoch). */
export function utcDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

const p2 = (n: number): string => (n < 10 ? '0' : '') + n;

/** `YYYYMMDD.HHMMSS` in UTC. */
export function utcStamp(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}.` +
    `${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}`
  );
}

/** `aurora_events.jsonl` -> `aurora_events` (names without the suffix are kept whole). */
export function stem(name: string): string {
  return name.endsWith('.jsonl') ? name.slice(0, -'.jsonl'.length) : name;
}

/** `<stem>.<UTC YYYYMMDD.HHMMSS>.part<N>.jsonl` */
export function archiveName(name: string, ms: number, part: number): string {
  return `${stem(name)}.${utcStamp(ms)}.part${part}.jsonl`;
}

/** Matches the retention glob `<stem>.*.jsonl.gz`. */
export function isArchiveOf(name: string, candidate: string): boolean {
  const prefix = stem(name) + '.';
  return candidate.startsWith(prefix) && candidate.endsWith('.jsonl.gz') && candidate.length >= prefix.length + '.jsonl.gz'.length;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Plain (not yet gzipped) archives of `name`, e.g. left behind when a previous run stopped mid-gzip. */
export function plainArchivesOf(dir: string, name: string): string[] {
  const re = new RegExp(`^${escapeRe(stem(name))}\\.\\d{8}\\.\\d{6}\\.part\\d+\\.jsonl$`);
  try {
    return fs.readdirSync(dir).filter((f) => re.test(f));
  } catch {
    return [];
  }
}

/** Best-effort fsync of a directory (makes renames/creates durable). */
export function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* not supported everywhere; best effort */
  } finally {
    if (fd !== null) try { fs.closeSync(fd); } catch { /* ignore */ }
  }
}

const GZIP_READ_BYTES = 1 << 20;
const GZIP_CHUNK_BYTES = 64 << 10;

/**
 * gzip `plainPath` to `plainPath + '.gz'` (streamed through zlib on the libuv pool, so the writer thread keeps
 * writing meanwhile). Written to `.gz.tmp`, fsynced, renamed, then the plain file is removed: a crash leaves
 * either the complete plain archive or the complete `.gz`, never a truncated `.gz` under the archive name.
 *
 * Large pieces: the stream defaults (64 KiB reads, 16 KiB zlib chunks) made ~8 000 thread-pool hand-offs per
 * 100 MiB archive; with 1 MiB reads and 64 KiB chunks the same archive costs about half the CPU (and a third
 * at level 3 instead of 6), CPU the decision threads share (docs/performance.md).
 */
export async function gzipArchive(plainPath: string, level = 3): Promise<string> {
  const gz = plainPath + '.gz';
  const tmp = gz + '.tmp';
  await pipeline(
    fs.createReadStream(plainPath, { highWaterMark: GZIP_READ_BYTES }),
    createGzip({ level, chunkSize: GZIP_CHUNK_BYTES }),
    fs.createWriteStream(tmp, { highWaterMark: GZIP_CHUNK_BYTES }),
  );
  const fd = fs.openSync(tmp, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, gz);
  fs.unlinkSync(plainPath);
  return gz;
}

/** Delete `<stem>.*.jsonl.gz` in `dir` whose mtime is older than `retentionDays` (0 = keep all). Returns deleted names. */
export function applyRetention(dir: string, name: string, retentionDays: number, now: number): string[] {
  if (!(retentionDays > 0)) return [];
  const cutoff = now - retentionDays * DAY_MS;
  const deleted: string[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return deleted;
  }
  for (const f of entries) {
    if (!isArchiveOf(name, f)) continue;
    const p = join(dir, f);
    try {
      if (fs.statSync(p).mtimeMs < cutoff) {
        fs.unlinkSync(p);
        deleted.push(f);
      }
    } catch {
      /* raced with another deletion, or unreadable: skip */
    }
  }
  return deleted;
}

/** What rotation needs of a journal file (file-sink.ts FileSink). */
export interface RotatableFile {
  readonly name: string;
  readonly path: string;
  readonly maxBytes: number;
  fd: number | null;
  size: number;
  day: number;
  dirty: boolean;
  part: number;
  rotateNotBefore: number;
  fsync(): void;
  closeFd(): void;
  /** throws on failure */
  open(): void;
  report(op: string, e: unknown, count: boolean): void;
}

/** The rotation of a session directory's files and their background gzips (one per writer thread). */
export class Rotator {
  private readonly pending = new Set<Promise<void>>();
  private readonly dir: string;
  private readonly gzipLevel: number;
  private readonly retentionDays: number;

  constructor(dir: string, gzipLevel: number, retentionDays: number) {
    this.dir = dir;
    this.gzipLevel = gzipLevel;
    this.retentionDays = retentionDays;
  }

  /**
   * Before a chunk is written to `f`: if the UTC day changed since the last write/rotation, or size >= max bytes,
   * and the current file is non-empty, rename it to `<stem>.<UTC YYYYMMDD.HHMMSS>.part<N>.jsonl`, reopen a fresh
   * file, gzip the archive (in the background, on the libuv pool) and then apply retention.
   * The check happens before a record is written, so a file may exceed max bytes by one record.
   */
  maybeRotate(f: RotatableFile): void {
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
    if (f.dirty) f.fsync();
    const dir = this.dir;
    let part = f.part + 1;
    let arch = archiveName(f.name, now, part);
    while (fs.existsSync(join(dir, arch)) || fs.existsSync(join(dir, arch + '.gz'))) arch = archiveName(f.name, now, ++part);
    f.closeFd();
    try {
      fs.renameSync(f.path, join(dir, arch));
    } catch (e) {
      // keep appending to the current file; retry the rotation in 10 s
      f.report('rotate (rename)', e, false);
      f.rotateNotBefore = now + 10_000;
      try {
        f.open();
      } catch (e2) {
        f.report('reopen', e2, true);
      }
      return;
    }
    f.part = part;
    try {
      f.open();
    } catch (e) {
      f.report('open', e, true); // the next write retries the open
    }
    f.day = day;
    fsyncDir(dir);
    this.compress(f, join(dir, arch));
  }

  /** Plain archives an earlier writer left (stopped mid-gzip): gzip them now. */
  compressLeftovers(f: RotatableFile): void {
    for (const plain of plainArchivesOf(this.dir, f.name)) {
      fs.rmSync(join(this.dir, plain + '.gz.tmp'), { force: true });
      this.compress(f, join(this.dir, plain));
    }
  }

  private compress(f: RotatableFile, plainPath: string): void {
    const p: Promise<void> = gzipArchive(plainPath, this.gzipLevel)
      .then(
        () => {
          applyRetention(this.dir, f.name, this.retentionDays, Date.now());
        },
        (e: unknown) => {
          // no line is lost: the plain archive stays (and is retried at the next start)
          f.report('gzip archive of', e, false);
          try {
            fs.rmSync(plainPath + '.gz.tmp', { force: true });
          } catch {
            /* ignore */
          }
        },
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Resolves once no gzip runs. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
