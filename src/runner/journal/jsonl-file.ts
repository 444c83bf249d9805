import { closeSync, existsSync, fstatSync, openSync, renameSync, writeSync } from 'node:fs';

/**
 * One append-only JSONL file (runner.md §2.4 Ours): `write()` only buffers a complete line; `flush()`
 * appends the buffered lines with one write and is called on a timer and at shutdown, so a line is
 * never torn and at most one flush interval is lost on a crash. Rotation is by size only: when the
 * next write would pass `maxBytes`, the file is renamed to `<name>.<N>` (N = 1, 2, … oldest first)
 * and a new file is started; no compression in-process.
 */
export class JsonlFile {
  private fd: number;
  private size: number;
  private pending: string[] = [];
  private closed = false;
  /** lines written (flushed or pending) since open */
  lines = 0;
  rotations = 0;

  constructor(
    readonly path: string,
    private readonly maxBytes: number,
  ) {
    this.fd = openSync(path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  write(record: unknown): void {
    if (this.closed) return;
    const line = JSON.stringify(record) + '\n';
    this.pending.push(line);
    this.lines++;
  }

  flush(): void {
    if (this.pending.length === 0 || this.closed) return;
    const lines = this.pending;
    this.pending = [];
    let chunk = '';
    let chunkBytes = 0;
    for (const line of lines) {
      const n = Buffer.byteLength(line);
      if (this.size + chunkBytes + n > this.maxBytes && this.size + chunkBytes > 0) {
        this.append(chunk);
        chunk = '';
        chunkBytes = 0;
        this.rotate();
      }
      chunk += line;
      chunkBytes += n;
    }
    this.append(chunk);
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }

  private append(chunk: string): void {
    if (chunk === '') return;
    const buf = Buffer.from(chunk, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    this.size += buf.length;
  }

  private rotate(): void {
    closeSync(this.fd);
    let n = 1;
    while (existsSync(`${this.path}.${n}`)) n++;
    renameSync(this.path, `${this.path}.${n}`);
    this.fd = openSync(this.path, 'a');
    this.size = 0;
    this.rotations++;
  }
}
