import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';
import { REPO_ROOT } from '../helpers/process.ts';

const body = JSON.stringify({
  account: { mode: 'testnet' },
  order: { symbol: 'BTCUSDT', side: 'buy', qty: 0.5 },
  market: { latency_ms: 1, score: 0.5, a_bps: 5, b_bps: 10, slip_bps_est: 1, spread_bps: 3 },
});

describe('transport guards', () => {
  it('refuses to serve on the slow JavaScript fallback of uWebSockets.js (exit 3, clear message)', () => {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/main.mjs')], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', UWS_USE_FALLBACK: '1', AURORA_PORT: '0', AURORA_SESSION_DIR: mkdtempSync(join(tmpdir(), 'aurora-fallback-')) },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/UWS_USE_FALLBACK.*refusing the slow JavaScript fallback/);
  });

  describe('a WebSocket client that stops reading', () => {
    let gate: TestGate;
    beforeAll(async () => {
      gate = await startTestGate({ OPS_TOKEN: 'transport-guards-token-0123456789' }, 'ws:\n  max_backpressure_bytes: 65536\n');
    });
    afterAll(async () => {
      await gate.stop();
    });

    it('is closed with code 4008 once its unread replies pass ws.max_backpressure_bytes, and counted; others are unaffected', async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${gate.port}/ws`);
      await new Promise((r, j) => ws.once('open', r).once('error', j));
      const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
      // stop reading: replies pile up in the kernel buffers, then in the server's send buffer
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      let sent = 0;
      const deadline = Date.now() + 20_000;
      let result: { code: number; reason: string } | null = null;
      void closed.then((c) => (result = c));
      while (result === null && Date.now() < deadline && sent < 60_000) {
        for (let i = 0; i < 500 && ws.readyState === WebSocket.OPEN; i++) ws.send(`{"id":${sent++},"op":"pretrade.check","body":${body}}`);
        await new Promise((r) => setTimeout(r, 10));
        if (ws.readyState !== WebSocket.OPEN) (ws as unknown as { _socket: { resume(): void } })._socket.resume();
      }
      (ws as unknown as { _socket: { resume(): void } })._socket.resume();
      const c = await Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
      expect(c, `sent ${sent} frames without being closed`).not.toBeNull();
      expect(c!.code).toBe(4008);
      expect(c!.reason).toMatch(/backpressure/);
      const metrics = await http(`${gate.url}/metrics`, 'GET');
      expect(metrics.text).toMatch(/aurora_ws_backpressure_closed_total 1\b/);
      // the gate keeps serving everyone else
      const ok = await http(`${gate.url}/pretrade/check`, 'POST', { raw: body, headers: { 'Content-Type': 'application/json' } });
      expect(ok.status).toBe(200);
    });
  });
});
