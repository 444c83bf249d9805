import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { http, startTestGate, type HttpResult, type TestGate } from '../helpers/gate.ts';

/**
 * Shared pieces of the service-level desk-controls tests (controls.md): a gate with a `controls:` section,
 * request bodies the reference pipeline allows, post-trade fills that open positions, and the journal.
 */

export const TOKEN = 'controls-tests-ops-token-0123456789ab';
export const OPS = { 'X-OPS-TOKEN': TOKEN };

export type Json = Record<string, any>;

/**
 * A real gate (test/helpers/gate.ts) whose YAML is `tree` written as JSON (YAML is a superset): only the
 * given sections, so every decision key takes its code default (the body below is allowed by them).
 */
export function startGateWith(tree: Json, opts: { threads?: number; env?: Record<string, string> } = {}): Promise<TestGate> {
  return startTestGate({ OPS_TOKEN: TOKEN, AURORA_POOL_THREADS: String(opts.threads ?? 1), ...(opts.env ?? {}) }, JSON.stringify({ env: 'controls-test', ...tree }));
}

export interface Order {
  account?: string | null;
  symbol?: string;
  side?: 'buy' | 'sell';
  qty?: number;
  price?: number | null;
  cid?: string;
  reduceOnly?: boolean;
  type?: 'market' | 'limit';
  /** market.mid (default 100; null = absent) */
  mid?: number | null;
  markPrice?: number;
  tsMs?: number | null;
  reqId?: string;
  market?: Json;
}

/**
 * A /pretrade/check body the reference pipeline allows (latency 5 ms, E[pi] ≈ 17.5 bps, slippage 1 bps ≤
 * 0.3 × 20): account `acc`, buy 1 BTCUSDT limit at 100, mid 100, snapshot taken now.
 */
export function check(o: Order = {}): Json {
  const order: Json = { symbol: o.symbol ?? 'BTCUSDT', side: o.side ?? 'buy', qty: o.qty ?? 1, base_notional: 100 };
  if (o.price !== null) order.price = o.price ?? 100;
  if (o.cid !== undefined) order.client_order_id = o.cid;
  if (o.reduceOnly !== undefined) order.reduce_only = o.reduceOnly;
  if (o.type !== undefined) order.type = o.type;
  const market: Json = { latency_ms: 5, slip_bps_est: 1, a_bps: 5, b_bps: 20, spread_bps: 5, score: 2 };
  if (o.mid !== null) market.mid = o.mid ?? 100;
  Object.assign(market, o.market ?? {});
  if (o.markPrice !== undefined) market.mark_price = o.markPrice;
  if (o.tsMs !== null) market.ts_ms = o.tsMs ?? Date.now();
  const account: Json = { mode: 'paper' };
  if (o.account !== null) account.account_id = o.account ?? 'acc';
  const body: Json = { account, order, market, fees_bps: 1 };
  if (o.reqId !== undefined) body.req_id = o.reqId;
  return body;
}

/** A /posttrade/log record of a complete fill: opens (or adds to) the position of (account, symbol). */
export function fill(o: { account?: string; symbol?: string; side?: 'buy' | 'sell'; qty?: number; price?: number; cid?: string; status?: string } = {}): Json {
  const r: Json = {
    account_id: o.account ?? 'acc',
    symbol: o.symbol ?? 'BTCUSDT',
    side: o.side ?? 'buy',
    qty: o.qty ?? 1,
    filled: o.qty ?? 1,
    average: o.price ?? 100,
    price: o.price ?? 100,
    status: o.status ?? 'closed',
    order_id: `oid-${Math.random().toString(36).slice(2)}`,
  };
  if (o.cid !== undefined) r.client_order_id = o.cid;
  return r;
}

export async function pre(gate: TestGate, body: Json): Promise<Json> {
  const r = await http(`${gate.url}/pretrade/check`, 'POST', { body });
  if (r.status !== 200) throw new Error(`pretrade ${r.status}: ${r.text}`);
  return r.json as Json;
}

export async function preRaw(gate: TestGate, body: unknown): Promise<HttpResult> {
  return http(`${gate.url}/pretrade/check`, 'POST', { body });
}

export async function post(gate: TestGate, body: Json): Promise<void> {
  const r = await http(`${gate.url}/posttrade/log`, 'POST', { body });
  if (r.status !== 200) throw new Error(`posttrade ${r.status}: ${r.text}`);
}

export async function ops(gate: TestGate, method: string, path: string, body?: unknown): Promise<HttpResult> {
  return http(`${gate.url}${path}`, method, { headers: OPS, body });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every record of aurora_events.jsonl so far. */
export function events(gate: TestGate): Json[] {
  let text = '';
  try {
    text = readFileSync(join(gate.sessionDir, 'aurora_events.jsonl'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Json);
}

/**
 * The journal once `until` holds (lines reach the file a few ms after the reply: journal-before-reply
 * hands them to the writer thread, which writes them on its next pass), or after `timeoutMs`.
 */
export async function journalWhen(gate: TestGate, until: (evs: Json[]) => boolean, timeoutMs = 5000): Promise<Json[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const evs = events(gate);
    if (until(evs) || Date.now() > end) return evs;
    await sleep(20);
  }
}

/** POLICY.DECISION records of the journal. */
export const decisions = (evs: Json[]): Json[] => evs.filter((e) => e.event_code === 'POLICY.DECISION');
