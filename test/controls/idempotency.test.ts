import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GateClient } from '../../src/client/gate-client.ts';
import { testHooks } from '../../src/testing/index.ts';
import type { TestGate } from '../helpers/gate.ts';
import { WsClient } from '../helpers/ws.ts';
import { check, decisions, events, fill, journalWhen, ops, post, pre, sleep, startGateWith, type Json } from './helpers.ts';

/**
 * Idempotent retries (controls.md §3 rule 1, §5 last bullet): a runner whose WebSocket call times out
 * retries over HTTP with the same client_order_id and gets the ORIGINAL answer (with
 * `observability.idempotent_replay: true`), and the gate holds ONE reservation for it, not two; the
 * journal has the original POLICY.DECISION and one marked `replay: true`. Driven through the runner's own
 * GateClient (src/client): its socket goes through a TCP proxy that stalls the gate's replies (the
 * call times out, fail-closed), then drops the connection so the retry takes the HTTP fallback.
 */

/** A TCP proxy to the gate whose gate→client direction can be stalled, and which can be shut. */
class StallingProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  stalled = false;
  port = 0;

  constructor(private readonly targetPort: number) {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      client.on('data', (b) => upstream.write(b));
      upstream.on('data', (b) => {
        if (!this.stalled) client.write(b);
      });
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => {
        this.port = (this.server.address() as { port: number }).port;
        resolve();
      }),
    );
  }

  /** Stops listening (reconnects are refused) and drops every connection. */
  shut(): void {
    this.server.close();
    for (const s of this.sockets) s.destroy();
  }
}

const CONTROLS = { dedupe_window_s: 60, max_gross_notional_usdt: 1_000_000, reservation_ttl_ms: 600_000 };

describe('idempotent retry: WebSocket timeout, then HTTP fallback, same client_order_id (GateClient)', () => {
  let gate: TestGate;
  let proxy: StallingProxy;
  let client: GateClient;

  beforeAll(async () => {
    gate = await startGateWith({ controls: CONTROLS }, { threads: 1 });
    proxy = new StallingProxy(gate.port);
    await proxy.listen();
    client = await GateClient.connect({ url: `ws://127.0.0.1:${proxy.port}/ws`, httpUrl: gate.url, timeoutMs: 400, pingMs: 0, reconnectBaseMs: 20, reconnectMaxMs: 50 });
    expect(client.connected).toBe(true);
  });
  afterAll(async () => {
    await client?.close();
    proxy?.shut();
    await gate?.stop();
  });

  it('gets the original answer once more and the gate holds one reservation', async () => {
    const body = check({ account: 'runner-1', cid: 'cid-timeout-1', qty: 2, price: 100, reqId: 'req-timeout-1' });
    const controls = testHooks(gate).controls();
    const live0 = controls.reservations.live;

    // 1. over the WebSocket: the gate decides (and reserves), the reply is stalled, the call times out
    proxy.stalled = true;
    const first = await client.checkDetailed(body as never);
    expect(first.outcome).toBe('timeout');
    expect(first.decision.allow).toBe(false); // fail-closed on the runner's side
    const evs = await journalWhen(gate, (e) => decisions(e).some((d) => d.details.req_id === 'req-timeout-1'));
    const original = decisions(evs).filter((d) => d.details.req_id === 'req-timeout-1');
    expect(original).toHaveLength(1);
    expect(original[0].details).toMatchObject({ allow: true, reason: 'ok' });
    expect(original[0].details.ws_id).toBe('req-timeout-1');
    expect(controls.reservations.live).toBe(live0 + 1);

    // 2. the socket goes down; the retry (same request, same client_order_id) takes the HTTP fallback
    proxy.shut();
    for (let i = 0; i < 100 && client.connected; i++) await sleep(10);
    expect(client.connected).toBe(false);
    const retry = await client.checkDetailed(body as never);
    expect(retry.outcome).toBe('http');
    expect(retry.transport).toBe('http');
    const d = retry.decision as unknown as Json;
    expect(d.allow).toBe(true);
    expect(d.reason).toBe('ok');
    expect(d.observability.idempotent_replay).toBe(true);
    // the original answer: the journaled decision's observability, plus the replay marker
    const { idempotent_replay, ...obs } = d.observability;
    expect(idempotent_replay).toBe(true);
    expect(obs).toEqual(original[0].details.observability);
    expect(d.observability.controls.reserved_usdt).toBe(200);

    // 3. one reservation, not two; the journal has the original and one replay line
    expect(controls.reservations.live).toBe(live0 + 1);
    const after = await journalWhen(gate, (e) => decisions(e).filter((x) => x.details.req_id === 'req-timeout-1').length >= 2);
    const lines = decisions(after).filter((x) => x.details.req_id === 'req-timeout-1');
    expect(lines).toHaveLength(2);
    expect(lines[0].details.replay).toBeUndefined();
    expect(lines[1].details).toMatchObject({ replay: true, allow: true, reason: 'ok', decision: 'EXECUTE' });
    expect(lines[1].details.ws_id).toBeUndefined();
    // the ops view agrees (GET /ops/limits), when the ops side is there
    const limits = await ops(gate, 'GET', '/ops/limits');
    if (limits.status === 200) expect((limits.json as Json).reservations_open).toBe(controls.reservations.live);
  });
});

describe('idempotency over both transports (controls.md §3 rule 1)', () => {
  let gate: TestGate;
  let ws: WsClient;
  beforeAll(async () => {
    gate = await startGateWith({ controls: { ...CONTROLS, max_order_qty: { '*': 10 } } }, { threads: 1 });
    ws = await WsClient.connect(gate.url);
  });
  afterAll(async () => {
    await ws?.close();
    await gate?.stop();
  });

  it('an HTTP original is replayed over the WebSocket byte for byte (plus the marker), with no second reservation', async () => {
    const controls = testHooks(gate).controls();
    const body = check({ account: 'acc-b', cid: 'b-1', qty: 1 });
    const r1 = await pre(gate, body);
    expect(r1.allow).toBe(true);
    const live = controls.reservations.live;
    const env = await ws.request('pretrade.check', { ...body, req_id: 'another-req-id' }, 'w1');
    expect(env.ok).toBe(true);
    const r2 = env.body as Json;
    expect(r2).toEqual({ ...r1, observability: { ...r1.observability, idempotent_replay: true } });
    expect(controls.reservations.live).toBe(live);
    // the replay line carries the retry's own ids
    const evs = await journalWhen(gate, (e) => decisions(e).some((d) => d.details.req_id === 'another-req-id'));
    expect(decisions(evs).find((d) => d.details.req_id === 'another-req-id')!.details).toMatchObject({ replay: true, ws_id: 'w1' });
  });

  it('a refused original is replayed as the refusal (a new attempt needs a new id)', async () => {
    const body = check({ account: 'acc-b', cid: 'b-2', qty: 11 });
    const r1 = await pre(gate, body);
    expect(r1.reason).toBe('order_qty_limit');
    const r2 = await pre(gate, body);
    expect(r2).toEqual({ ...r1, observability: { ...r1.observability, idempotent_replay: true } });
  });

  it('whitespace and key spacing of the body do not matter; the same id with another order is refused', async () => {
    const body = check({ account: 'acc-b', cid: 'b-3', qty: 1 });
    const r1 = await pre(gate, body);
    const spaced = JSON.stringify(body, null, 2);
    const env = await ws.requestText(`{"id":"w3","op":"pretrade.check","body":${spaced}}`, 'w3');
    expect((env.body as Json).observability.idempotent_replay).toBe(true);
    expect((env.body as Json).allow).toBe(r1.allow);
    const other = await pre(gate, check({ account: 'acc-b', cid: 'b-3', qty: 2 }));
    expect(other).toMatchObject({ allow: false, reason: 'duplicate_client_order_id', hard_gate: true, observability: { controls: { rule: 'dedupe_window_s', limit: 60, value: 'b-3' } } });
  });

  it('a fill reported with the client_order_id ends the reservation (the retry still replays, reserving nothing)', async () => {
    const controls = testHooks(gate).controls();
    const body = check({ account: 'acc-c', cid: 'c-1', qty: 1 });
    expect((await pre(gate, body)).allow).toBe(true);
    const live = controls.reservations.live;
    await post(gate, fill({ account: 'acc-c', cid: 'c-1', qty: 1 }));
    expect(controls.reservations.live).toBe(live - 1);
    expect((await pre(gate, body)).observability.idempotent_replay).toBe(true);
    expect(controls.reservations.live).toBe(live - 1);
    expect(events(gate).filter((e) => e.event_code === 'RESERVATION.EXPIRED')).toEqual([]);
  });
});

describe('reservation expiry (reservation_ttl_ms): RESERVATION.EXPIRED', () => {
  let gate: TestGate;
  beforeAll(async () => {
    gate = await startGateWith({ controls: { max_open_orders: 1, reservation_ttl_ms: 300 } }, { threads: 0 });
  });
  afterAll(async () => {
    await gate?.stop();
  });

  it('an order without a post-trade outcome holds its slot until the TTL, then the slot is free and the expiry journaled', async () => {
    expect((await pre(gate, check({ account: 'ttl', cid: 'ttl-1' }))).allow).toBe(true);
    expect((await pre(gate, check({ account: 'ttl', cid: 'ttl-2' }))).reason).toBe('open_orders_limit');
    await sleep(400);
    expect((await pre(gate, check({ account: 'ttl', cid: 'ttl-3' }))).allow).toBe(true);
    const evs = await journalWhen(gate, (e) => e.some((x) => x.event_code === 'RESERVATION.EXPIRED'));
    const exp = evs.filter((x) => x.event_code === 'RESERVATION.EXPIRED');
    expect(exp).toHaveLength(1);
    expect(exp[0]).toMatchObject({ symbol: 'BTCUSDT', side: 'buy', qty: 1, details: { account_id: 'ttl', client_order_id: 'ttl-1', notional_usdt: 100 } });
    expect(exp[0].details.age_ms).toBeGreaterThanOrEqual(300);
  });

  it('a post-trade record sweeps expired reservations too', async () => {
    await sleep(400);
    await post(gate, fill({ account: 'x', symbol: 'ETHUSDT', qty: 1 }));
    const evs = await journalWhen(gate, (e) => e.filter((x) => x.event_code === 'RESERVATION.EXPIRED').length >= 2);
    expect(evs.filter((x) => x.event_code === 'RESERVATION.EXPIRED').map((x) => x.details.client_order_id)).toEqual(['ttl-1', 'ttl-3']);
  });
});
