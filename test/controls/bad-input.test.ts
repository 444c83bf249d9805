import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, type TestGate } from '../helpers/gate.ts';
import { WsClient } from '../helpers/ws.ts';
import { check, decisions, events, journalWhen, pre, sleep, startGateWith, type Json } from './helpers.ts';

/**
 * Bad values of the request fields controls.md §1 adds (and of the two post-trade keys §3 reads): each is
 * refused 422 `invalid_request` with the field's path and what it must be, over HTTP and over the
 * WebSocket, nothing is decided (no POLICY.DECISION), and `null` means absent as everywhere in the request.
 */

type Edit = (b: Json) => void;
const CHECK_CASES: Array<[path: string, edit: Edit, must: RegExp]> = [
  ['account.account_id', (b) => (b.account.account_id = 'a'.repeat(65)), /at most 64 characters/],
  ['account.account_id', (b) => (b.account.account_id = 42), /account id/],
  ['order.client_order_id', (b) => (b.order.client_order_id = ''), /1\.\.64 characters/],
  ['order.client_order_id', (b) => (b.order.client_order_id = 'c'.repeat(65)), /1\.\.64 characters/],
  ['order.client_order_id', (b) => (b.order.client_order_id = 7), /client order id/],
  ['order.type', (b) => (b.order.type = 'stop'), /"market" or "limit"/],
  ['order.type', (b) => (b.order.type = 'LIMIT'), /"market" or "limit"/],
  ['order.reduce_only', (b) => (b.order.reduce_only = 'yes'), /boolean/],
  ['market.mid', (b) => (b.market.mid = 0), /a price > 0/],
  ['market.mid', (b) => (b.market.mid = -1), /a price > 0/],
  ['market.mid', (b) => (b.market.mid = '100'), /a price > 0/],
  ['market.mark_price', (b) => (b.market.mark_price = 0), /a price > 0/],
  ['market.ts_ms', (b) => (b.market.ts_ms = 1.5), /integer epoch time in ms/],
  ['market.ts_ms', (b) => (b.market.ts_ms = -1), /integer epoch time in ms/],
  ['market.ts_ms', (b) => (b.market.ts_ms = '1700000000000'), /integer epoch time in ms/],
];

const POST_CASES: Array<[path: string, body: Json, must: RegExp]> = [
  ['account_id', { symbol: 'BTCUSDT', account_id: 'x'.repeat(65) }, /at most 64 characters/],
  ['account_id', { symbol: 'BTCUSDT', account_id: 12 }, /account id/],
  ['client_order_id', { symbol: 'BTCUSDT', client_order_id: '' }, /1\.\.64 characters/],
  ['client_order_id', { symbol: 'BTCUSDT', client_order_id: ['a'] }, /client order id/],
];

function expect422(status: number, json: unknown, path: string, must: RegExp): void {
  expect(status).toBe(422);
  const e = (json as Json).error;
  expect(e.code).toBe('invalid_request');
  const d = (e.details as Array<{ path: string; message: string }>).find((x) => x.path === path);
  expect(d, JSON.stringify(e)).toBeDefined();
  expect(d!.message).toMatch(must);
}

describe('new request fields: 422 naming the path (controls.md §1)', () => {
  let gate: TestGate;
  let ws: WsClient;
  beforeAll(async () => {
    gate = await startGateWith({ controls: { max_order_notional_usdt: 1e6 } }, { threads: 1 });
    ws = await WsClient.connect(gate.url);
  });
  afterAll(async () => {
    await ws?.close();
    await gate?.stop();
  });

  it.each(CHECK_CASES)('/pretrade/check %s (HTTP and WebSocket)', async (path, edit, must) => {
    const body = check({ reqId: `bad-${path}` });
    edit(body);
    const r = await http(`${gate.url}/pretrade/check`, 'POST', { body });
    expect422(r.status, r.json, path, must);
    const env = await ws.request('pretrade.check', body);
    expect(env.ok).toBe(false);
    expect422(422, { error: env.error }, path, must);
  });

  it.each(POST_CASES)('/posttrade/log %s', async (path, body, must) => {
    const r = await http(`${gate.url}/posttrade/log`, 'POST', { body });
    expect422(r.status, r.json, path, must);
  });

  it('null is absent: account "default", no id, type from the price, no reference price', async () => {
    const body = check({ reqId: 'nulls' });
    Object.assign(body.account, { account_id: null });
    Object.assign(body.order, { client_order_id: null, type: null });
    Object.assign(body.market, { mid: null, mark_price: null, ts_ms: null });
    const r = await pre(gate, body);
    expect(r.allow).toBe(true);
    const post = await http(`${gate.url}/posttrade/log`, 'POST', { body: { symbol: 'BTCUSDT', account_id: null, client_order_id: null } });
    expect(post.status).toBe(200);
  });

  it('nothing refused was decided: one POLICY.DECISION (the valid request) in the journal', async () => {
    await journalWhen(gate, (e) => decisions(e).length >= 1);
    await sleep(100);
    expect(decisions(events(gate)).map((d) => d.details.req_id)).toEqual(['nulls']);
  });
});
