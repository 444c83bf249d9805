/**
 * A minimal ustar (POSIX.1-1988) writer and reader: regular files and directories, names up to
 * 255 bytes via the prefix field, sizes below 8 GiB. Enough for session archives without a
 * dependency; anything else (pax, GNU long names, links) is reported as its raw type for the caller
 * to refuse.
 */

export const BLOCK = 512;
const MAX_SIZE = 0o77777777777; // 11 octal digits: 8 GiB - 1
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8');

export interface TarHeader {
  /** full path (prefix + name) */
  name: string;
  size: number;
  mtimeSec: number;
  mode: number;
  /** the typeflag character: '0' regular file ('\0' is read as '0'), '5' directory, others raw */
  type: string;
}

/** Splits a path into ustar `prefix` and `name` fields (byte limits 155 and 100). */
export function splitName(path: string): { prefix: string; name: string } {
  if (enc.encode(path).length <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (name !== '' && enc.encode(prefix).length <= 155 && enc.encode(name).length <= 100) return { prefix, name };
  }
  throw new Error(`path too long for a ustar archive: ${path}`);
}

function writeString(buf: Uint8Array, offset: number, length: number, s: string): void {
  const bytes = enc.encode(s);
  if (bytes.length > length) throw new Error(`tar header field too long: ${s}`);
  buf.set(bytes, offset);
}

/** `digits` octal digits, zero-padded, then NUL. */
function writeOctal(buf: Uint8Array, offset: number, digits: number, value: number): void {
  const s = Math.trunc(value).toString(8);
  if (s.length > digits || value < 0) throw new Error(`tar header value out of range: ${value}`);
  writeString(buf, offset, digits + 1, `${s.padStart(digits, '0')}\0`);
}

/** The unsigned sum of the header bytes with the checksum field counted as spaces. */
function headerChecksum(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  return sum;
}

/** One 512-byte ustar header. */
export function encodeHeader(h: TarHeader): Uint8Array {
  if (h.size > MAX_SIZE) throw new Error(`${h.name}: ${h.size} bytes is too large for a ustar archive`);
  const b = new Uint8Array(BLOCK);
  const { prefix, name } = splitName(h.name);
  writeString(b, 0, 100, name);
  writeOctal(b, 100, 7, h.mode);
  writeOctal(b, 108, 7, 0); // uid
  writeOctal(b, 116, 7, 0); // gid
  writeOctal(b, 124, 11, h.size);
  writeOctal(b, 136, 11, h.mtimeSec);
  b[156] = h.type.charCodeAt(0);
  writeString(b, 257, 6, 'ustar\0');
  writeString(b, 263, 2, '00');
  writeString(b, 345, 155, prefix);
  writeOctal(b, 148, 6, headerChecksum(b));
  b[155] = 0x20; // "6 digits, NUL, space" as the POSIX and GNU tools write it
  return b;
}

function readString(b: Uint8Array, offset: number, length: number): string {
  const field = b.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return dec.decode(nul === -1 ? field : field.subarray(0, nul));
}

function readOctal(b: Uint8Array, offset: number, length: number, what: string): number {
  if (b[offset] & 0x80) throw new Error(`tar header: base-256 ${what} is not supported`);
  const s = readString(b, offset, length).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new Error(`tar header: ${what} is not octal: ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

/** Decodes a header block; null for an all-zero block (end of archive). Throws on a bad checksum. */
export function decodeHeader(b: Uint8Array): TarHeader | null {
  if (b.every((x) => x === 0)) return null;
  const stored = readOctal(b, 148, 8, 'checksum');
  if (stored !== headerChecksum(b)) throw new Error(`tar header checksum mismatch (stored ${stored}, computed ${headerChecksum(b)})`);
  const magic = readString(b, 257, 6);
  const name = readString(b, 0, 100);
  // POSIX ustar carries a prefix; the GNU format ("ustar  ") uses those bytes for other things
  const isPosix = magic === 'ustar' && readString(b, 263, 2) === '00';
  const prefix = isPosix ? readString(b, 345, 155) : '';
  const flag = b[156] === 0 ? '0' : String.fromCharCode(b[156]);
  return {
    name: prefix === '' ? name : `${prefix}/${name}`,
    size: readOctal(b, 124, 12, 'size'),
    mtimeSec: readOctal(b, 136, 12, 'mtime'),
    mode: readOctal(b, 100, 8, 'mode'),
    type: flag,
  };
}

const paddingFor = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

/** A file to write: its header fields and a function opening its content. */
export interface TarSource {
  name: string;
  size: number;
  mtimeSec: number;
  mode: number;
  content(): AsyncIterable<Uint8Array>;
}

/**
 * The archive as a stream of chunks (pipe it through gzip). A file whose content is not exactly the
 * announced size (it changed since it was measured) aborts the stream with an error.
 */
export async function* tarStream(sources: Iterable<TarSource> | AsyncIterable<TarSource>): AsyncGenerator<Uint8Array> {
  for await (const s of sources) {
    yield encodeHeader({ name: s.name, size: s.size, mtimeSec: s.mtimeSec, mode: s.mode, type: '0' });
    let written = 0;
    for await (const chunk of s.content()) {
      written += chunk.length;
      if (written > s.size) break;
      yield chunk;
    }
    if (written !== s.size) throw new Error(`${s.name} changed while it was being archived (${s.size} bytes expected, ${written > s.size ? 'more' : written} read)`);
    const pad = paddingFor(s.size);
    if (pad > 0) yield new Uint8Array(pad);
  }
  yield new Uint8Array(2 * BLOCK);
}

/** Receives one entry's content. */
export interface TarEntrySink {
  data(chunk: Uint8Array): void;
  end(): Promise<void> | void;
}

/**
 * A push parser: feed it the decompressed archive in chunks of any size; it calls `onEntry` per
 * header and streams the content to the returned sink. `finish()` throws if the archive was cut short.
 */
export class TarParser {
  private header = new Uint8Array(BLOCK);
  private headerFill = 0;
  private sink: TarEntrySink | null = null;
  private bodyLeft = 0;
  private padLeft = 0;
  private ended = false;
  entries = 0;

  constructor(private readonly onEntry: (h: TarHeader) => TarEntrySink) {}

  async push(chunk: Uint8Array): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, chunk.length - at);
        this.sink!.data(chunk.subarray(at, at + n));
        at += n;
        this.bodyLeft -= n;
        if (this.bodyLeft === 0) await this.closeEntry();
        continue;
      }
      if (this.padLeft > 0) {
        const n = Math.min(this.padLeft, chunk.length - at);
        at += n;
        this.padLeft -= n;
        continue;
      }
      if (this.ended) return; // trailing zero blocks / record padding after the end marker
      const n = Math.min(BLOCK - this.headerFill, chunk.length - at);
      this.header.set(chunk.subarray(at, at + n), this.headerFill);
      this.headerFill += n;
      at += n;
      if (this.headerFill < BLOCK) continue;
      this.headerFill = 0;
      const h = decodeHeader(this.header);
      if (h === null) {
        this.ended = true;
        continue;
      }
      this.entries++;
      this.sink = this.onEntry(h);
      this.bodyLeft = h.size;
      this.padLeft = paddingFor(h.size);
      if (h.size === 0) await this.closeEntry();
    }
  }

  private async closeEntry(): Promise<void> {
    const s = this.sink!;
    this.sink = null;
    await s.end();
  }

  finish(): void {
    if (this.bodyLeft > 0 || this.padLeft > 0 || this.headerFill > 0) throw new Error('the archive is truncated (it ends inside an entry)');
    if (!this.ended) throw new Error('the archive has no end-of-archive marker (truncated?)');
  }
}
