import { connect, type Socket } from 'node:net';

/** One HTTP request, byte for byte: method, path, header lines and a body (Content-Length added unless given). */
export interface RawRequest {
  method: string;
  path: string;
  headers?: Array<[string, string]>;
  body?: Buffer;
  /** send the body with Transfer-Encoding: chunked, in chunks of this size */
  chunkSize?: number;
  /** a Content-Length to declare instead of the real one (the body, if any, is still sent) */
  declaredLength?: string;
}

/** What came back: a parsed response, or the connection closed without one. */
export interface RawResponse {
  /** 0 when the server closed the connection without answering */
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** the server said `Connection: close` or closed the socket after answering */
  closed: boolean;
}

/**
 * A minimal HTTP/1.1 client on one keep-alive TCP connection, one request in flight at a time. The fuzz
 * needs exact bytes on the wire (invalid UTF-8, bogus Content-Length, odd methods) and a few thousand
 * requests per second, which `fetch` gives neither of on this box. Responses are read by Content-Length
 * (uWebSockets.js always sends one for `end(body)`); a close before a full response is status 0.
 */
export class RawConnection {
  private socket: Socket | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private waiter: ((r: RawResponse) => void) | null = null;
  private timer: NodeJS.Timeout | null = null;

  /** connections made so far (a server close costs a reconnect) */
  opened = 0;

  constructor(
    private readonly port: number,
    private readonly opts: { localAddress?: string; timeoutMs?: number } = {},
  ) {}

  private open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = connect({ port: this.port, host: '127.0.0.1', localAddress: this.opts.localAddress });
      this.opened++;
      s.setNoDelay(true);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
      s.on('data', (d: Buffer) => {
        this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
        this.tryParse(false);
      });
      s.on('error', () => {
        /* surfaced through 'close' */
      });
      s.on('close', () => {
        if (this.socket === s) this.socket = null;
        this.tryParse(true);
      });
    });
  }

  private tryParse(atClose: boolean): void {
    if (this.waiter === null) return;
    const end = this.buf.indexOf('\r\n\r\n');
    if (end >= 0) {
      const head = this.buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0])?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const len = Number(headers['content-length'] ?? 0);
      if (this.buf.length >= end + 4 + len) {
        const body = Buffer.from(this.buf.subarray(end + 4, end + 4 + len));
        this.buf = this.buf.subarray(end + 4 + len);
        const closed = atClose || headers.connection?.toLowerCase() === 'close';
        if (closed) this.drop();
        return this.settle({ status, headers, body, closed });
      }
    }
    if (atClose) {
      this.buf = Buffer.alloc(0);
      this.settle({ status: 0, headers: {}, body: Buffer.alloc(0), closed: true });
    }
  }

  private settle(r: RawResponse): void {
    const w = this.waiter;
    this.waiter = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    w?.(r);
  }

  private drop(): void {
    const s = this.socket;
    this.socket = null;
    s?.destroy();
  }

  /** Sends raw bytes and resolves with the response (or status 0 if the connection closes first). */
  async sendBytes(bytes: Buffer): Promise<RawResponse> {
    if (this.waiter !== null) throw new Error('one request at a time per connection');
    if (this.socket === null) {
      this.buf = Buffer.alloc(0);
      this.socket = await this.open();
    }
    const s = this.socket;
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.timer = setTimeout(() => {
        this.drop();
        this.settle({ status: -1, headers: {}, body: Buffer.alloc(0), closed: true });
      }, this.opts.timeoutMs ?? 10_000);
      s.write(bytes);
    });
  }

  send(req: RawRequest): Promise<RawResponse> {
    return this.sendBytes(encodeRequest(req));
  }

  close(): void {
    this.drop();
  }
}

/** The bytes of an HTTP/1.1 request. */
export function encodeRequest(req: RawRequest): Buffer {
  const lines = [`${req.method} ${req.path} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [k, v] of req.headers ?? []) lines.push(`${k}: ${v}`);
  if (req.chunkSize !== undefined) lines.push('Transfer-Encoding: chunked');
  else if (req.declaredLength !== undefined) lines.push(`Content-Length: ${req.declaredLength}`);
  else if (req.body !== undefined) lines.push(`Content-Length: ${req.body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  if (req.body === undefined) return req.chunkSize === undefined ? head : Buffer.concat([head, Buffer.from('0\r\n\r\n')]);
  if (req.chunkSize === undefined) return Buffer.concat([head, req.body]);
  const parts: Buffer[] = [head];
  for (let i = 0; i < req.body.length; i += req.chunkSize) {
    const c = req.body.subarray(i, i + req.chunkSize);
    parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** A fixed number of workers (connections), each taking the next job when its previous one is done. */
export async function runPool<C, T>(connections: C[], jobs: readonly T[], run: (c: C, job: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    connections.map(async (c) => {
      for (;;) {
        const i = next++;
        if (i >= jobs.length) return;
        await run(c, jobs[i], i);
      }
    }),
  );
}
