/**
 * The engine against venues that misbehave (the paper exchange wrapped by the test: the exchange is
 * the outside world here) and the maker route on the real paper exchange: ack timeouts, late fills,
 * throwing venue calls, exits that cannot flatten (exit code 2).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PaperExchange } from '../../../src/runner/exchange/paper.ts';
import type { Exchange, ExchangeListener, PlaceRequest } from '../../../src/runner/exchange/types.ts';
import { runReplay } from '../../../src/runner/engine/run.ts';
import { startFakeGate, type FakeGate } from './fake-gate.ts';
import { readJsonl, syntheticFeed, testConfig } from './harness.ts';

let gate: FakeGate;
beforeAll(async () => {
  gate = await startFakeGate(() => ({ kind: 'answer' }));
});
afterAll(async () => {
  await gate.close();
});

/** Delegates to the paper exchange, with hooks to lose events, hide orders and fail calls. */
class Wrapped implements Exchange {
  constructor(
    readonly paper: PaperExchange,
    readonly hooks: {
      dropEvent?: (ev: Parameters<ExchangeListener>[0]) => boolean;
      hidden?: (cid: string) => boolean;
      failPlace?: (req: PlaceRequest) => boolean;
      /** events held back earlier, to deliver before an event of venue time `ts` */
      release?: (ts: number) => Array<Parameters<ExchangeListener>[0]>;
    },
  ) {}
  place(req: PlaceRequest) {
    if (this.hooks.failPlace?.(req)) return Promise.reject(new Error('venue unreachable (test)'));
    return this.paper.place(req);
  }
  cancel(cid: string) {
    return this.paper.cancel(cid);
  }
  cancelAll(symbol?: string) {
    return this.paper.cancelAll(symbol);
  }
  async fetchOrder(cid: string) {
    return this.hooks.hidden?.(cid) ? undefined : this.paper.fetchOrder(cid);
  }
  positions() {
    return this.paper.positions();
  }
  balance() {
    return this.paper.balance();
  }
  marketInfo(symbol: string) {
    return this.paper.marketInfo(symbol);
  }
  on(listener: ExchangeListener) {
    return this.paper.on((ev) => {
      for (const late of this.hooks.release?.(ev.ts) ?? []) listener(late);
      if (!this.hooks.dropEvent?.(ev)) listener(ev);
    });
  }
}

describe('venue edge cases', () => {
  test('maker route: post-only limits at own best; unfilled rests are cancelled after cancel_after_ms', async () => {
    const cfg = testConfig(await syntheticFeed(), gate.wsUrl, { execution: { route: 'maker', cancel_after_ms: 1500 } });
    const r = await runReplay(cfg, { env: {} });
    const orders = readJsonl(r, 'orders');
    const entries = orders.filter((o) => o.to === 'NEW' && o.action === 'open');
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.type === 'limit')).toBe(true);
    // the order goes out at the price (own-side best) and size the gate was asked about
    const checks = new Map(gate.checks.map((c) => [c.body.req_id, c.body]));
    for (const e of entries) expect(checks.get(e.req_id)!.order).toMatchObject({ price: e.price, qty: e.qty });
    const cancelRequests = orders.filter((o) => o.event === 'cancel_request');
    expect(cancelRequests.length).toBeGreaterThan(0);
    for (const c of cancelRequests) expect(['cancel_after_ms', 'signal_flip', 'shutdown']).toContain(c.detail);
    const s = r.summary;
    expect(s.orders.cancelled).toBeGreaterThan(0);
    // one posttrade per fill, plus one "canceled, filled 0" body per entry cancelled unfilled
    const fills = readJsonl(r, 'fills');
    const unfilledCancels = orders.filter((o) => o.to === 'CANCELLED' && o.action === 'open' && o.filled === 0).length;
    expect(s.posttrade.sent).toBe(fills.length + unfilledCancels);
    expect(fills.filter((f) => f.action === 'open').every((f) => f.liquidity === 'maker')).toBe(true);
    expect(s.positions_open_at_end).toBe(0);
  });

  test('lost ack: query once after ack_timeout_ms, EXPIRED + timeout posttrade; the late fill still moves the position', async () => {
    let victim: string | null = null;
    let held: Array<Parameters<ExchangeListener>[0]> = [];
    let releaseAt = Number.POSITIVE_INFINITY;
    const cfg = testConfig(await syntheticFeed(), gate.wsUrl);
    const r = await runReplay(cfg, {
      env: {},
      venue: (paper) =>
        new Wrapped(paper, {
          // the first order's ack and fills are held back for 2.5 s of venue time, then delivered
          dropEvent: (ev) => {
            if (victim === null && ev.type === 'ack') {
              victim = ev.clientOrderId;
              releaseAt = ev.ts + cfg.execution.ack_timeout_ms + 500;
            }
            if (ev.clientOrderId === victim && ev.ts < releaseAt) {
              held.push(ev);
              return true;
            }
            return false;
          },
          release: (ts) => {
            if (ts < releaseAt || held.length === 0) return [];
            const out = held;
            held = [];
            return out;
          },
          hidden: (cid) => cid === victim,
        }),
    });
    expect(victim).not.toBeNull();
    const orders = readJsonl(r, 'orders').filter((o) => o.cid === victim);
    // the late ack makes the runner cancel the order it gave up on; it had filled meanwhile
    expect(orders.map((o) => o.to ?? o.event)).toEqual(['NEW', 'SUBMITTED', 'ack_timeout_query', 'EXPIRED', 'late_ack', 'cancel_request', 'late_fill', 'cancel_failed']);
    expect(orders[3].ts - orders[1].ts).toBeGreaterThanOrEqual(cfg.execution.ack_timeout_ms);
    expect(orders[2].venue_status).toBeNull();
    expect(r.summary.orders.expired).toBe(1);
    expect(r.summary.orders.late_events).toBe(2);
    // the expiry was posted as a timeout failure, the late fill as a fill
    const posted = gate.posttrades.filter((p) => p.body.cid === victim).map((p) => p.body);
    expect(posted.map((b) => b.status)).toEqual(['expired', 'filled']);
    expect(posted[0].error_code).toBe('timeout');
    // the late fill moved the runner's position (even on top of a newer entry), and it was flattened
    const fills = readJsonl(r, 'fills');
    const k = fills.findIndex((f) => f.cid === victim);
    expect(k).toBeGreaterThanOrEqual(0);
    expect(Math.abs(fills[k].position_qty)).toBeGreaterThanOrEqual(fills[k].qty);
    expect(fills.slice(k + 1).some((f) => f.action === 'close' && f.position_qty === 0)).toBe(true);
    expect(r.summary.positions_open_at_end).toBe(0);
  });

  test('a venue call that throws rejects that order only; an exit that can never fill ends with exit code 2', async () => {
    const cfg = testConfig(await syntheticFeed(), gate.wsUrl, { execution: { exit_alert_after: 3, exit_retry_base_ms: 100, exit_retry_max_ms: 400 } });
    const r = await runReplay(cfg, { env: {}, venue: (paper) => new Wrapped(paper, { failPlace: (req) => req.reduceOnly === true }) });
    const s = r.summary;
    expect(s.fills).toBeGreaterThan(0); // the entry filled; no exit ever could
    expect(s.orders.rejected_by_reason.unknown).toBeGreaterThan(0);
    expect(s.errors['exchange.place:Error']).toBe(s.orders.rejected_by_reason.unknown);
    expect(s.errors.exit_stuck).toBe(1);
    expect(s.positions_open_at_end).toBe(1);
    expect(s.shutdown).toMatchObject({ flatten_ok: false, exit_code: 2 });
    const events = readJsonl(r, 'events');
    expect(events.some((e) => e.kind === 'alert' && e.code === 'EXIT.STUCK')).toBe(true);
    expect(events.some((e) => e.kind === 'alert' && e.code === 'SHUTDOWN.FLATTEN_FAILED')).toBe(true);
    // retries back off: consecutive exit attempts are at least exit_retry_base_ms apart on the feed clock
    const exits = events.filter((e) => e.kind === 'exit').map((e) => e.ts);
    for (let i = 1; i < exits.length; i++) expect(exits[i] - exits[i - 1]).toBeGreaterThanOrEqual(100);
    // entries stay blocked while the position is stuck
    expect(s.orders.submitted - exits.length).toBe(1);
  });
});
