import WebSocket from 'ws';

/** What one frame got: a reply frame, a close of the connection, or nothing in time. */
export type WsOutcome =
  | { kind: 'reply'; text: string; binary: boolean; json: unknown }
  | { kind: 'close'; code: number; reason: string }
  | { kind: 'timeout' };

/**
 * A WebSocket connection for the fuzz: one frame in flight at a time, so every reply (including the
 * `"id": null` ones) belongs to the frame just sent; reconnects after the server closes it. Frames go
 * out byte for byte (invalid UTF-8 in a text frame included: `ws` does not validate what it sends).
 */
export class WsFuzzConn {
  private socket: WebSocket | null = null;
  private waiter: ((o: WsOutcome) => void) | null = null;
  opened = 0;

  constructor(
    private readonly url: string,
    private readonly localAddress?: string,
  ) {}

  private open(): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const s = new WebSocket(this.url, { perMessageDeflate: false, localAddress: this.localAddress, maxPayload: 64 * 1024 * 1024 });
      s.once('open', () => {
        this.opened++;
        resolve(s);
      });
      s.once('error', reject);
      s.on('error', () => {
        /* surfaced through 'close' */
      });
      s.on('message', (data, isBinary) => {
        const b = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        const text = b.toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        this.settle({ kind: 'reply', text, binary: isBinary, json });
      });
      s.on('close', (code, reason) => {
        if (this.socket === s) this.socket = null;
        this.settle({ kind: 'close', code, reason: reason.toString('utf8') });
      });
    });
  }

  private settle(o: WsOutcome): void {
    const w = this.waiter;
    this.waiter = null;
    w?.(o);
  }

  async send(data: Buffer, binary: boolean, timeoutMs = 10_000): Promise<WsOutcome> {
    if (this.waiter !== null) throw new Error('one frame at a time per connection');
    if (this.socket === null || this.socket.readyState !== WebSocket.OPEN) this.socket = await this.open();
    const s = this.socket;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle({ kind: 'timeout' }), timeoutMs);
      this.waiter = (o) => {
        clearTimeout(timer);
        resolve(o);
      };
      s.send(data, { binary }, () => {
        /* errors surface through 'close' */
      });
    });
  }

  close(): void {
    const s = this.socket;
    this.socket = null;
    if (s !== null && s.readyState === WebSocket.OPEN) s.close(1000);
    else s?.terminate();
  }
}
