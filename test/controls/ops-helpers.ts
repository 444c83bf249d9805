import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestGate } from '../helpers/gate.ts';

/** Helpers of the desk-control ops tests (test/controls/ops-*.test.ts). */

export interface EventLine {
  ts_ns: number;
  event_code: string;
  symbol: unknown;
  side: unknown;
  qty: unknown;
  details: Record<string, unknown>;
}

/** Every line of the gate's aurora_events.jsonl so far. */
export function events(gate: TestGate): EventLine[] {
  const file = join(gate.sessionDir, 'aurora_events.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as EventLine);
}

export const eventsOf = (gate: TestGate, code: string) => events(gate).filter((e) => e.event_code === code);

/** Waits until the journal holds `n` events of `code` (the writer thread writes asynchronously). */
export async function waitEvents(gate: TestGate, code: string, n: number, timeoutMs = 3000): Promise<EventLine[]> {
  const t0 = Date.now();
  for (;;) {
    const got = eventsOf(gate, code);
    if (got.length >= n || Date.now() - t0 > timeoutMs) return got;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A journal marker: an event every test can wait for, so "nothing else was written" can be asserted after it. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pre-trade check the embedded configuration allows when no control refuses it. */
export function checkBody(opts: { account?: string; symbol?: string; side?: string; qty?: number; price?: number; cid?: string; reduceOnly?: boolean; market?: Record<string, unknown> } = {}) {
  return {
    account: { mode: 'testnet', ...(opts.account === undefined ? {} : { account_id: opts.account }) },
    order: {
      symbol: opts.symbol ?? 'BTCUSDT',
      side: opts.side ?? 'buy',
      qty: opts.qty ?? 0.01,
      price: opts.price ?? 50000,
      base_notional: 100,
      ...(opts.cid === undefined ? {} : { client_order_id: opts.cid }),
      ...(opts.reduceOnly === undefined ? {} : { reduce_only: opts.reduceOnly }),
    },
    market: { latency_ms: 5, score: 0.5, a_bps: 5, b_bps: 10, slip_bps_est: 1, spread_bps: 3, ...(opts.market ?? {}) },
  };
}
