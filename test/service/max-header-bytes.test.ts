import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_DEFAULTS } from '../../src/config/defaults.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { startTestGate, type TestGate } from '../helpers/gate.ts';

/**
 * Issue 12 item 6a: `api.max_header_bytes` was validated and resolved but never enforced. It is removed
 * (docs/decisions.md "api.max_header_bytes"): a configuration that still sets it starts with a warning
 * saying so, and request headers are limited by uWebSockets.js alone — whose behaviour, the documented
 * answer, is pinned here.
 */
const BODY = JSON.stringify({
  account: { mode: 'testnet' },
  order: { symbol: 'BTCUSDT', side: 'buy', qty: 0.5, price: 50000, base_notional: 100 },
  market: { latency_ms: 5, score: 0.5, a_bps: 5, b_bps: 10, slip_bps_est: 1, spread_bps: 3 },
});

describe('api.max_header_bytes (removed)', () => {
  it('a configuration that sets it gets a start-up warning that it is ignored; the service settings have no such limit', () => {
    const cfg = resolveConfig({ api: { max_header_bytes: 8192 } }, {}, 'test');
    expect(cfg.warnings).toContain('api.max_header_bytes is ignored (removed): uWebSockets.js limits request headers itself (docs/decisions.md)');
    expect(cfg.service).not.toHaveProperty('maxHeaderBytes');
    // any value: the key is not validated any more either
    expect(resolveConfig({ api: { max_header_bytes: 'big' } }, {}, 'test').warnings.some((w) => w.startsWith('api.max_header_bytes is ignored'))).toBe(true);
  });

  it('the embedded defaults do not set it (no warning by default)', () => {
    expect((EMBEDDED_DEFAULTS as unknown as { api: Record<string, unknown> }).api).not.toHaveProperty('max_header_bytes');
    expect(resolveConfig(EMBEDDED_DEFAULTS as unknown as Record<string, unknown>, {}, 'test').warnings.join('\n')).not.toMatch(/max_header_bytes/);
  });
});

describe("request headers: uWebSockets.js's own limits (the documented answer)", () => {
  let gate: TestGate;
  beforeAll(async () => {
    gate = await startTestGate({ AURORA_POOL_THREADS: '0' });
  });
  afterAll(async () => {
    await gate?.stop();
  });

  /** Sends a POST /pretrade/check whose header block carries `pad` bytes of X-Pad, in one or two writes. */
  function send(pad: number, split: boolean): Promise<{ status: number | null; closed: boolean }> {
    const head = `POST /pretrade/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Pad: ${'p'.repeat(pad)}\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n`;
    return new Promise((resolve) => {
      const s = net.connect(gate.port, '127.0.0.1');
      let out = '';
      const done = (closed: boolean) => {
        clearTimeout(timer);
        s.destroy();
        const m = /^HTTP\/1\.1 (\d{3})/.exec(out);
        resolve({ status: m === null ? null : Number(m[1]), closed });
      };
      const timer = setTimeout(() => done(false), 3000);
      s.on('error', () => undefined);
      s.on('data', (d) => {
        out += d.toString('latin1');
        if (out.includes('\r\n\r\n{')) done(false);
      });
      s.on('close', () => done(true));
      s.on('connect', () => {
        if (!split) return void s.write(head + BODY);
        s.write(head.slice(0, 64));
        setTimeout(() => s.write(head.slice(64) + BODY), 50);
      });
    });
  }

  it('a 16 KiB header block (the old key\'s default) read in one piece is served: no gate-side limit', async () => {
    expect(await send(16 * 1024, false)).toEqual({ status: 200, closed: false });
  });

  it('a small header block split over two reads is served', async () => {
    expect(await send(1000, true)).toEqual({ status: 200, closed: false });
  });

  it('a header block over ~4 KiB split over two reads is closed by uWS without an answer', async () => {
    expect(await send(6 * 1024, true)).toEqual({ status: null, closed: true });
  });
});
