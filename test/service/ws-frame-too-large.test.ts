import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';
import { WsClient } from '../helpers/ws.ts';
import { WS_TRANSPORT_CAP_BYTES } from '../../src/transport/app.ts';

/**
 * Issue 12 item 5: a WebSocket frame over ws.max_payload_bytes (64 KiB) used to make uWS drop the TCP
 * connection without a close frame (a fuzzer's 69 690-byte frame). Up to the transport cap (1 MiB) it is
 * now answered like HTTP's 413 — an error envelope `body_too_large` carrying the frame's id — and the
 * connection stays open; above the cap uWS drops the connection itself (see the last test).
 */
const OPS = { 'X-OPS-TOKEN': 'ws-frame-too-large-token-0123456789' };
const CLEAN = {
  account: { mode: 'testnet' },
  order: { symbol: 'BTCUSDT', side: 'buy', qty: 0.5, price: 50000, base_notional: 100 },
  market: { latency_ms: 5, score: 0.5, a_bps: 5, b_bps: 10, slip_bps_est: 1, spread_bps: 3 },
};

/** A pretrade.check frame of exactly `size` bytes, the id placed first or last. */
function frameOf(size: number, id: string | number, idLast = false): string {
  const env = (pad: string) => (idLast ? { op: 'pretrade.check', body: { ...CLEAN, pad }, id } : { id, op: 'pretrade.check', body: { ...CLEAN, pad } });
  const base = JSON.stringify(env(''));
  const text = JSON.stringify(env('x'.repeat(size - Buffer.byteLength(base))));
  expect(Buffer.byteLength(text)).toBe(size);
  return text;
}

for (const threads of [1, 0]) {
  describe(`WebSocket frames over ws.max_payload_bytes, pool size ${threads}`, () => {
    let gate: TestGate;
    const metric = async (name: string): Promise<number> => {
      const text = (await http(`${gate.url}/metrics`, 'GET')).text;
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return Number(line?.split(' ')[1] ?? NaN);
    };
    const samples = async (): Promise<number> => ((await http(`${gate.url}/ops/reset`, 'POST', { headers: OPS })).json as { state: { samples: number } }).state.samples;

    beforeAll(async () => {
      gate = await startTestGate({ AURORA_POOL_THREADS: String(threads), OPS_TOKEN: OPS['X-OPS-TOKEN'] });
    });
    afterAll(async () => {
      await gate?.stop();
    });

    it("a 69 690-byte frame gets a body_too_large envelope with its id; the connection then answers a ping; counted as invalid, nothing decided", async () => {
      const ws = await WsClient.connect(gate.url);
      const invalid0 = await metric('aurora_invalid_requests_total');
      const s0 = await samples();
      const env = await ws.requestText(frameOf(69_690, 'fuzz-69690'), 'fuzz-69690');
      expect(env).toMatchObject({ id: 'fuzz-69690', ok: false, error: { code: 'body_too_large' } });
      expect(env.error!.message).toMatch(/65536/);
      expect(ws.isOpen).toBe(true);
      const pong = await ws.request('ping', undefined, 'after-big');
      expect(pong).toMatchObject({ id: 'after-big', ok: true, body: { pong: true } });
      expect(await metric('aurora_invalid_requests_total')).toBe(invalid0 + 1);
      expect(await samples()).toBe(s0);
      await ws.close();
    });

    it('the id is read wherever it is in the frame (integer, last key); an unreadable id is null; the frame at the limit is still decided', async () => {
      const ws = await WsClient.connect(gate.url);
      expect(await ws.requestText(frameOf(65_537, 424242, true), 424242)).toMatchObject({ id: 424242, ok: false, error: { code: 'body_too_large' } });
      expect(await ws.requestText(frameOf(WS_TRANSPORT_CAP_BYTES, 'at-cap'), 'at-cap')).toMatchObject({ id: 'at-cap', ok: false, error: { code: 'body_too_large' } });
      await ws.sendRaw(`{"op":"ping","id":{"not":"an id"},"pad":"${'y'.repeat(70_000)}"}`);
      expect((await ws.next()).json).toMatchObject({ id: null, ok: false, error: { code: 'body_too_large' } });
      await ws.sendRaw(Buffer.alloc(70_000, 0x41), true);
      expect((await ws.next()).json).toMatchObject({ id: null, ok: false, error: { code: 'body_too_large' } });
      const ok = await ws.requestText(frameOf(65_536, 'at-limit'), 'at-limit');
      expect(ok.ok, ok.text.slice(0, 200)).toBe(true);
      await ws.close();
    });

    it('a 2 MiB frame (over the 1 MiB transport cap) closes that connection — uWS drops it: 1006, no close frame — counted; the gate keeps serving', async () => {
      const ws = await WsClient.connect(gate.url);
      const invalid0 = await metric('aurora_invalid_requests_total');
      await ws.sendRaw(frameOf(2 * 1024 * 1024, 'two-mib')).catch(() => undefined);
      const closed = await ws.waitClosed(5000);
      // uWebSockets.js 20.30 refuses the frame from its header and closes the socket itself (its close
      // handler gets 1006 "Received too big message"); it has no way to send 1009 first, so the client
      // sees an abnormal closure. Should a uWS upgrade send 1009, this assertion is the one to update.
      expect(closed.code).toBe(1006);
      await expect.poll(() => metric('aurora_invalid_requests_total')).toBe(invalid0 + 1);
      const fresh = await WsClient.connect(gate.url);
      expect(await fresh.request('pretrade.check', CLEAN, 'fresh')).toMatchObject({ id: 'fresh', ok: true });
      await fresh.close();
    });
  });
}
