import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../fuzz/harness.ts';
import { RawConnection } from '../fuzz/raw-http.ts';
import { startGateProcess, type GateProcess } from '../helpers/process.ts';

/**
 * Header and body limits against the real process (docs/api.md 413, decisions.md limits:
 * `api.max_body_bytes`, here lowered with AURORA_MAX_BODY_BYTES to prove the setting is used; "uWS
 * enforces its own header limit"). Each oversized input is refused — a 4xx, or for headers the
 * connection dropped without an answer — and the process stays up (same pid, /health 200). Streaming
 * far past the body limit does not grow the process's memory with the stream.
 */

const MAX_BODY = 4096;
const TOKEN = 'sec-limits-token-Jd5u-0123456789abcdef';

/**
 * Sends raw bytes on a fresh connection; resolves with what came back and whether it closed — on the
 * close, after `waitMs`, or (unless `untilClose`) as soon as one complete response has arrived.
 */
function rawExchange(port: number, bytes: Buffer | string, waitMs: number, untilClose = false): Promise<{ text: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed, ms: performance.now() - t0 });
    };
    s.on('data', (d) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const len = Number(/\r\ncontent-length: (\d+)/i.exec(text)?.[1] ?? -1);
      if (!untilClose && end >= 0 && len >= 0 && text.length >= end + 4 + len) finish(false);
    });
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
    const timer = setTimeout(() => finish(false), waitMs);
    s.write(bytes);
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

describe('limits on a child-process gate', () => {
  let gate: GateProcess;
  beforeAll(async () => {
    gate = await startGateProcess({ env: { OPS_TOKEN: TOKEN, AURORA_MAX_BODY_BYTES: String(MAX_BODY) } });
  });
  afterAll(async () => {
    await gate?.kill();
  });

  const alive = async () => {
    expect(gate.child.exitCode).toBeNull();
    expect(() => process.kill(gate.pid, 0)).not.toThrow();
    expect((await call(gate.port, 'GET', '/health')).status).toBe(200);
  };

  /** A valid check padded to exactly `size` bytes. */
  const bodyOf = (size: number) => {
    const base = JSON.stringify({ account: {}, order: {}, market: { latency_ms: 1 }, pad: '' });
    return Buffer.from(base.replace('"pad":""', `"pad":"${'x'.repeat(size - base.length)}"`));
  };

  it('AURORA_MAX_BODY_BYTES is the limit: at it decided, one byte over 413 (Content-Length and chunked)', async () => {
    const c = new RawConnection(gate.port);
    const at = await c.send({ method: 'POST', path: '/pretrade/check', headers: [['Content-Type', 'application/json']], body: bodyOf(MAX_BODY) });
    expect(at.status, at.body.toString().slice(0, 200)).toBe(200);
    for (const chunkSize of [undefined, 1000]) {
      const over = await c.send({ method: 'POST', path: '/pretrade/check', headers: [['Content-Type', 'application/json']], body: bodyOf(MAX_BODY + 1), chunkSize });
      expect(over.status).toBe(413);
      expect(JSON.parse(over.body.toString()).error.code).toBe('body_too_large');
    }
    // an ops body route too (with the token: authentication comes first)
    const ops = await c.send({ method: 'POST', path: '/risk/set', headers: [['Content-Type', 'application/json'], ['X-OPS-TOKEN', TOKEN]], body: Buffer.from(`{"size_scale":0,"pad":"${'x'.repeat(MAX_BODY)}"}`) });
    expect(ops.status).toBe(413);
    expect((await call(gate.port, 'GET', '/risk/snapshot', { token: TOKEN })).json.risk.size_scale).toBe(1);
    c.close();
    await alive();
  });

  it('a declared Content-Length of 100 MB is refused at once (413, connection closed), before any body byte', async () => {
    const r = await rawExchange(gate.port, 'POST /pretrade/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n', 5000, true);
    expect(statusOf(r.text)).toBe(413);
    expect(r.text).toMatch(/\r\nConnection: close\r\n/i);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeLessThan(4000);
    await alive();
  });

  it('a Content-Length too large to parse (1 TB, 30 digits): dropped or 4xx, never decided', async () => {
    for (const cl of ['1000000000000', '9'.repeat(30)]) {
      const r = await rawExchange(gate.port, `POST /pretrade/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${cl}\r\n\r\n{}`, 5000, true);
      const status = statusOf(r.text);
      expect(status === 0 || (status >= 400 && status < 500), `${cl}: ${r.text.slice(0, 80)}`).toBe(true);
      expect(r.closed).toBe(true);
    }
    await alive();
  });

  it('streaming 64 MiB of chunked body past the limit: 413, and the process memory does not follow the stream', async () => {
    const rss0 = rssKb(gate.pid);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const head = Buffer.from('POST /posttrade/log HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    const parts = [head, ...Array.from({ length: 1024 }, () => framed), Buffer.from('0\r\n\r\n')];
    const r = await rawExchange(gate.port, Buffer.concat(parts), 15_000);
    expect(statusOf(r.text)).toBe(413);
    expect(r.ms).toBeLessThan(10_000);
    const grownMb = (rssKb(gate.pid) - rss0) / 1024;
    expect(grownMb, `RSS grew by ${grownMb.toFixed(1)} MB`).toBeLessThan(32);
    await alive();
  });

  it('a 1 MB header, and 500 header lines: dropped without an answer, never a 2xx/5xx', async () => {
    const huge = await rawExchange(gate.port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(1024 * 1024)}\r\n\r\n`, 5000, true);
    const many = await rawExchange(gate.port, `GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 500 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`, 5000, true);
    for (const [what, r] of [
      ['1 MB header', huge],
      ['500 headers', many],
    ] as const) {
      const status = statusOf(r.text);
      expect(status === 0 || (status >= 400 && status < 500), `${what}: ${r.text.slice(0, 80)}`).toBe(true);
      expect(r.closed, `${what}: the connection is closed`).toBe(true);
    }
    await alive();
  });

  it('60 header lines (over uWS header count, under its size): not answered, and closed by the server within 15 s', async () => {
    const r = await rawExchange(gate.port, `GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 60 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`, 15_000, true);
    expect(statusOf(r.text), r.text.slice(0, 80)).toBe(0);
    expect(r.closed, 'the server closes the connection (uWS idle timeout)').toBe(true);
    await alive();
  }, 20_000);
});
