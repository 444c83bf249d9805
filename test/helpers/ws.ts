import WebSocket from 'ws';

/** A response envelope of protocol.md, plus the exact text of the frame it came in. */
export interface WsEnvelope {
  id: unknown;
  ok: boolean;
  body?: unknown;
  error?: { code: string; message: string; details?: unknown };
  /** the frame text as received (for byte-level comparisons) */
  text: string;
}

/** One received frame: its text and, when it parses, the JSON value. */
export interface WsMessage {
  text: string;
  json: unknown;
  binary: boolean;
}

export interface WsCloseInfo {
  code: number;
  reason: string;
}

/**
 * A small promise-based client for the gate's `/ws` endpoint (protocol.md "WebSocket"). Replies whose
 * `id` matches a pending `request` resolve that request (they may arrive in any order); every other
 * frame (`"id": null` errors, replies to `sendRaw`) is queued for `next()`.
 */
export class WsClient {
  private readonly pending = new Map<string, { resolve: (e: WsEnvelope) => void; reject: (e: Error) => void }>();
  private readonly queue: WsMessage[] = [];
  private readonly waiters: Array<{ resolve: (m: WsMessage) => void; reject: (e: Error) => void }> = [];
  private seq = 0;
  private closeInfo: WsCloseInfo | null = null;
  /** resolves when the connection is closed (by either side) */
  readonly closed: Promise<WsCloseInfo>;

  private constructor(readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        const err = new Error(`WebSocket closed (${code} ${this.closeInfo.reason})`);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        for (const w of this.waiters.splice(0)) w.reject(err);
        resolve(this.closeInfo);
      });
    });
    socket.on('message', (data, isBinary) => this.onMessage(data as Buffer | Buffer[] | ArrayBuffer, isBinary));
    socket.on('error', () => {
      /* surfaced through 'close' */
    });
  }

  /** Opens `ws://…/ws` (`url` may be the gate's http:// base URL). */
  static connect(url: string, opts: { headers?: Record<string, string>; path?: string } = {}): Promise<WsClient> {
    const base = url.replace(/^http/, 'ws');
    const full = base.endsWith('/ws') ? base : `${base}${opts.path ?? '/ws'}`;
    const socket = new WebSocket(full, { headers: opts.headers, perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new WsClient(socket)));
      socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
      socket.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** The close code and reason once closed, else null. */
  get closeState(): WsCloseInfo | null {
    return this.closeInfo;
  }

  /** Sends `{"id", "op", "body"}` (body omitted when undefined) and resolves with the reply of that id. */
  request(op: string, body?: unknown, id?: string | number): Promise<WsEnvelope> {
    const rid = id ?? `r-${++this.seq}`;
    const env: Record<string, unknown> = { id: rid, op };
    if (body !== undefined) env.body = body;
    return this.requestText(JSON.stringify(env), rid);
  }

  /** Sends a hand-made envelope text and resolves with the reply carrying `id`. */
  requestText(text: string, id: string | number): Promise<WsEnvelope> {
    const key = JSON.stringify(id);
    if (this.pending.has(key)) return Promise.reject(new Error(`id ${key} is already pending`));
    return new Promise((resolve, reject) => {
      this.pending.set(key, { resolve, reject });
      this.socket.send(text, { binary: false }, (err) => {
        if (err) {
          this.pending.delete(key);
          reject(err);
        }
      });
    });
  }

  /** Sends a frame as is: text by default (a Buffer is sent byte for byte), binary when asked. */
  sendRaw(data: string | Buffer, binary = false): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(data, { binary }, (err) => (err ? reject(err) : resolve())));
  }

  /** The next frame not claimed by a pending request (rejects on close or after `timeoutMs`). */
  next(timeoutMs = 5000): Promise<WsMessage> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closeInfo !== null) return Promise.reject(new Error(`WebSocket closed (${this.closeInfo.code})`));
    return new Promise((resolve, reject) => {
      const w = {
        resolve: (m: WsMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no WebSocket message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Closes from our side and resolves with the close code and reason seen. */
  async close(code = 1000, reason = ''): Promise<WsCloseInfo> {
    if (this.closeInfo === null && this.socket.readyState !== WebSocket.CLOSED) {
      if (this.socket.readyState === WebSocket.OPEN) this.socket.close(code, reason);
      else this.socket.terminate();
    }
    return this.closed;
  }

  /** Waits for the server to close the connection (rejects after `timeoutMs`). */
  waitClosed(timeoutMs = 5000): Promise<WsCloseInfo> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the connection was not closed within ${timeoutMs} ms`)), timeoutMs);
      this.closed.then((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  private onMessage(data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): void {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    const text = buf.toString('utf8');
    let json: unknown = undefined;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON: queued as is */
    }
    if (json !== null && typeof json === 'object' && !Array.isArray(json) && 'id' in json) {
      const id = (json as { id: unknown }).id;
      if (id !== null) {
        const key = JSON.stringify(id);
        const p = this.pending.get(key);
        if (p !== undefined) {
          this.pending.delete(key);
          p.resolve({ ...(json as Omit<WsEnvelope, 'text'>), text });
          return;
        }
      }
    }
    const m: WsMessage = { text, json, binary: isBinary };
    const w = this.waiters.shift();
    if (w !== undefined) w.resolve(m);
    else this.queue.push(m);
  }
}

/**
 * The response body text inside a WebSocket reply `{"id":…,"ok":true,"body":<body>}`, byte for byte,
 * or null when the frame does not have exactly that shape.
 */
export function wsBodyText(env: WsEnvelope): string | null {
  const prefix = `{"id":${JSON.stringify(env.id)},"ok":true,"body":`;
  if (!env.text.startsWith(prefix) || !env.text.endsWith('}')) return null;
  return env.text.slice(prefix.length, -1);
}
