/** The shared control state: layout, key index, buckets over simulated time, reservations, dedupe memory, capacity. */
import { describe, expect, it } from 'vitest';
import { KeyIndex } from '../../../src/core/controls/key-index.ts';
import { ControlsState, DEFAULT_CONTROLS_SIZES, IDLE_MS } from '../../../src/core/controls/state.ts';
import { symbolKey } from '../../../src/shm/state/symbol-table.ts';
import { Desk, SMALL, T0 } from './helpers.ts';

describe('layout', () => {
  it('bytesNeeded covers every section; a region can sit at an offset inside a larger SharedArrayBuffer', () => {
    const n = ControlsState.bytesNeeded(SMALL);
    expect(n % 8).toBe(0);
    const sab = new SharedArrayBuffer(1024 + n);
    const a = new ControlsState(sab, 1024, SMALL);
    a.init(2);
    const b = new ControlsState(sab, 1024, SMALL); // a second thread's views
    expect(b.tradingState).toBe(2);
    a.publishConfig('{"max_open_orders":3}');
    expect(b.configGeneration).toBe(1);
    expect(b.configText()).toBe('{"max_open_orders":3}');
    expect(() => new ControlsState(sab, 1028, SMALL)).toThrow(/multiple of 8/);
    expect(() => new ControlsState(new ArrayBuffer(n - 8), 0, SMALL)).toThrow(/too small/);
    expect(() => ControlsState.bytesNeeded({ ...SMALL, pairs: 0 })).toThrow(/pairs/);
  });
  it('the default sizes take under 14 MiB (13.2 MiB, 8 MiB of it the answers arena)', () => {
    expect(ControlsState.bytesNeeded(DEFAULT_CONTROLS_SIZES)).toBeLessThan(14 * 1024 * 1024);
  });
  it('a config larger than its arena is refused', () => {
    const st = ControlsState.create({ ...SMALL, configBytes: 16 }, 0, false);
    expect(() => st.publishConfig('x'.repeat(17))).toThrow(/too large/);
  });
});

describe('KeyIndex', () => {
  it('agrees with a Map through inserts and deletes (backward-shift deletion keeps probing right)', () => {
    // records of stride 2 holding their keys [k1, k2]; 64 slots for at most 32 records
    const recs = new Float64Array(64);
    const idx = new KeyIndex(new Int32Array(64), recs, 2, 0, 1);
    const free = Array.from({ length: 32 }, (_, i) => i);
    const ref = new Map<string, number>();
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 40;
    for (let i = 0; i < 4000; i++) {
      const k1 = rnd() + 1;
      const k2 = rnd() % 3;
      const key = `${k1}/${k2}`;
      const had = ref.get(key);
      if (had !== undefined) {
        expect(idx.remove(k1, k2)).toBe(true);
        recs[had * 2] = 0;
        free.push(had);
        ref.delete(key);
      } else if (free.length > 0) {
        const r = free.pop() as number;
        recs[r * 2] = k1;
        recs[r * 2 + 1] = k2;
        idx.insert(k1, k2, r);
        ref.set(key, r);
      }
      for (const [k, v] of ref) {
        const [a, b] = k.split('/').map(Number);
        expect(idx.find(a, b)).toBe(v);
      }
    }
    expect(idx.find(999, 0)).toBe(-1);
    expect(idx.remove(999, 0)).toBe(false);
    expect(() => new KeyIndex(new Int32Array(6), recs, 2, 0, 1)).toThrow(/power of two/);
  });
});

describe('token buckets over simulated time (refused orders do not consume)', () => {
  it('account_per_s = 2', () => {
    const d = new Desk({ rate: { account_per_s: 2 } });
    expect(d.reason()).toBe('ok');
    expect(d.reason()).toBe('ok');
    const v = d.check();
    expect(v.denial).toMatchObject({ reason: 'throttle_account', rule: 'rate.account_per_s', limit: 2, value: 2, cooldownMs: 500 });
    expect(d.check({}, 499).denial?.cooldownMs).toBe(1);
    expect(d.reason({}, 1)).toBe('ok'); // T0 + 500: one token back, the refusals took none
    expect(d.reason()).toBe('throttle_account');
    expect(d.reason({}, 250)).toBe('throttle_account'); // 0.5 token
    expect(d.reason({}, 250)).toBe('ok');
  });
  it('account_per_min = 3: a token every 20 s', () => {
    const d = new Desk({ rate: { account_per_min: 3 } });
    for (let i = 0; i < 3; i++) expect(d.reason()).toBe('ok');
    expect(d.check().denial).toMatchObject({ reason: 'throttle_account', rule: 'rate.account_per_min', cooldownMs: 20_000 });
    expect(d.reason({}, 19_999)).toBe('throttle_account');
    expect(d.reason({}, 1)).toBe('ok');
  });
  it('second and minute both empty: the cooldown waits for both', () => {
    const d = new Desk({ rate: { account_per_s: 1, account_per_min: 1 } });
    expect(d.reason()).toBe('ok');
    expect(d.check().denial).toMatchObject({ rule: 'rate.account_per_s', cooldownMs: 60_000 });
  });
  it('symbol buckets are per (account, symbol); account buckets per account', () => {
    const d = new Desk({ rate: { symbol_per_s: 1 } });
    expect(d.reason()).toBe('ok');
    expect(d.check().denial).toMatchObject({ reason: 'throttle_symbol', rule: 'rate.symbol_per_s', cooldownMs: 1000 });
    expect(d.reason({ order: { symbol: 'ETH/USDT' } })).toBe('ok');
    expect(d.reason({ account: { account_id: 'acc2' } })).toBe('ok');
    const a = new Desk({ rate: { account_per_s: 1 } });
    expect(a.reason()).toBe('ok');
    expect(a.reason({ order: { symbol: 'ETH/USDT' } })).toBe('throttle_account');
    expect(a.reason({ account: { account_id: 'acc2' } })).toBe('ok');
  });
  it('a rate raised live applies at once (buckets store tokens used)', () => {
    const d = new Desk({ rate: { account_per_s: 1 } });
    expect(d.reason()).toBe('ok');
    expect(d.reason()).toBe('throttle_account');
    d.cfg = new Desk({ rate: { account_per_s: 3 } }).cfg;
    expect(d.reason()).toBe('ok');
    expect(d.reason()).toBe('ok');
    expect(d.reason()).toBe('throttle_account');
  });
});

describe('reservations: lifecycle through /posttrade/log', () => {
  const cfg = { max_gross_notional_usdt: 1_000_000, reservation_ttl_ms: 30_000 };
  const order = (cid: string, qty = 2) => ({ order: { client_order_id: cid, qty } });
  const acc = (d: Desk) => d.st.accounts.findAccount(symbolKey('acc1'));

  it('an allowed order reserves qty × price; a partial fill shrinks it; the final fill ends it into the position', () => {
    const d = new Desk(cfg);
    expect(d.check(order('c1')).reservedUsdt).toBe(200);
    expect(d.st.accounts.reserved(acc(d))).toBe(200);
    expect(d.st.accounts.openOrders(acc(d))).toBe(1);
    const p1 = d.posttrade({ account_id: 'acc1', client_order_id: 'c1', symbol: 'BTC/USDT', side: 'buy', status: 'partially_filled', filled: 0.5, average: 100 });
    expect(p1).toMatchObject({ reservation: 'shrunk', fillQty: 0.5, positionQty: 0.5 });
    expect(d.st.accounts.reserved(acc(d))).toBe(150);
    expect(d.st.accounts.grossPositions(acc(d))).toBe(50);
    const p2 = d.posttrade({ account_id: 'acc1', client_order_id: 'c1', symbol: 'BTC/USDT', side: 'buy', status: 'closed', filled: 2, average: 100 });
    expect(p2).toMatchObject({ reservation: 'ended', fillQty: 1.5, positionQty: 2 });
    expect(d.st.accounts.reserved(acc(d))).toBe(0);
    expect(d.st.accounts.openOrders(acc(d))).toBe(0);
    expect(d.st.accounts.grossPositions(acc(d))).toBe(200);
    expect(d.st.reservations.live).toBe(0);
    // the record is freed (a repeated final record is the service's duplicate, dropped before this call);
    // a partial record arriving after the final one adds nothing
    expect(d.st.reservations.ended).toBe(0);
    expect(d.posttrade({ account_id: 'acc1', client_order_id: 'c1', symbol: 'BTC/USDT', side: 'buy', status: 'partially_filled', filled: 1 })).toMatchObject({ reservation: 'none', fillQty: 0, positionQty: 2 });
  });

  it('cancel (both spellings), reject, expire, failure (error field) end it; fills before a cancel stay', () => {
    for (const end of [{ status: 'canceled' }, { status: 'CANCELLED' }, { status: 'rejected' }, { status: 'expired' }, { error: 'insufficient balance' }]) {
      const d = new Desk(cfg);
      d.check(order('c1'));
      const p = d.posttrade({ account_id: 'acc1', client_order_id: 'c1', symbol: 'BTC/USDT', side: 'buy', filled: 0.5, average: 100, ...end });
      expect(p, JSON.stringify(end)).toMatchObject({ reservation: 'ended', fillQty: 0.5, positionQty: 0.5 });
      expect(d.st.accounts.reserved(acc(d))).toBe(0);
      expect(d.st.accounts.openOrders(acc(d))).toBe(0);
    }
  });

  it('the id spellings: client_order_id, clientOrderId, response.clientOrderId (CCXT order)', () => {
    const d = new Desk(cfg);
    d.check(order('a'));
    d.check(order('b'));
    d.check(order('c'));
    expect(d.posttrade({ account_id: 'acc1', clientOrderId: 'a', status: 'canceled' }).reservation).toBe('ended');
    expect(d.posttrade({ account_id: 'acc1', response: { clientOrderId: 'b', status: 'closed', filled: 2, average: 101, side: 'buy', symbol: 'BTC/USDT' } })).toMatchObject({ reservation: 'ended', fillQty: 2, positionQty: 2 });
    expect(d.posttrade({ account_id: 'acc1', client_order_id: 'c', status: 'closed', filled: 2 })).toMatchObject({ reservation: 'ended', positionQty: 4 }); // side and price from the reservation
    expect(d.st.accounts.grossPositions(acc(d))).toBe(402);
  });

  it('the account comes from the top-level account_id ("default" when absent)', () => {
    const d = new Desk(cfg);
    d.check(order('c1'));
    expect(d.posttrade({ client_order_id: 'c1', status: 'canceled' }).reservation).toBe('none');
    expect(d.st.reservations.live).toBe(1);
    expect(d.posttrade({ account_id: 'acc1', client_order_id: 'c1', status: 'canceled' }).reservation).toBe('ended');
    const n = new Desk(cfg);
    n.check({ account: { account_id: null }, order: { client_order_id: 'x' } });
    expect(n.posttrade({ client_order_id: 'x', status: 'canceled' })).toMatchObject({ accountId: 'default', reservation: 'ended' });
  });

  it('expires at reservation_ttl_ms (RESERVATION.EXPIRED); a later record applies only new fills', () => {
    const d = new Desk(cfg);
    d.check(order('c1'));
    d.posttrade({ account_id: 'acc1', client_order_id: 'c1', symbol: 'BTC/USDT', side: 'buy', status: 'partially_filled', filled: 0.5, average: 100 });
    expect(d.posttrade({}, 29_999).events).toEqual([]);
    expect(d.st.reservations.live).toBe(1);
    const e = d.posttrade({}, 1).events;
    expect(e).toEqual([
      { code: 'RESERVATION.EXPIRED', symbol: 'BTC/USDT', side: 'buy', qty: 2, details: { account_id: 'acc1', client_order_id: 'c1', notional_usdt: 150, age_ms: 30_000 } },
    ]);
    expect(d.st.accounts.reserved(acc(d))).toBe(0);
    expect(d.posttrade({ account_id: 'acc1', client_order_id: 'c1', symbol: 'BTC/USDT', side: 'buy', status: 'closed', filled: 2, average: 100 })).toMatchObject({ reservation: 'late', fillQty: 1.5, positionQty: 2 });
  });

  it('expiry is also swept by decisions (the events ride on the decision)', () => {
    const d = new Desk(cfg);
    d.check(order('c1'));
    const v = d.check(order('c2'), 30_000);
    expect(v.events.map((e) => e.code)).toEqual(['RESERVATION.EXPIRED']);
    expect(d.st.reservations.live).toBe(1);
  });

  it('an order without client_order_id reserves until the TTL only', () => {
    const d = new Desk(cfg);
    expect(d.check().reservedUsdt).toBe(100);
    expect(d.posttrade({ account_id: 'acc1', symbol: 'BTC/USDT', side: 'buy', status: 'closed', filled: 1, average: 100 })).toMatchObject({ reservation: 'none', fillQty: 1, positionQty: 1 });
    expect(d.st.accounts.reserved(acc(d))).toBe(100); // still reserved: no id to end it
    expect(d.posttrade({}, 30_000).events[0].details).toMatchObject({ client_order_id: null, notional_usdt: 100 });
    expect(d.st.accounts.reserved(acc(d))).toBe(0);
  });

  it('records without a reservation: final or status-less fills count once, partial ones are skipped', () => {
    const d = new Desk(undefined);
    expect(d.position(1).positionQty).toBe(1);
    expect(d.posttrade({ account_id: 'acc1', symbol: 'BTC/USDT', side: 'buy', status: 'partially_filled', filled: 3 }).fillQty).toBe(0);
    expect(d.posttrade({ account_id: 'acc1', symbol: 'BTC/USDT', side: 'sell', filled: 0.25, average: 120 }).positionQty).toBe(0.75);
    expect(d.posttrade({ account_id: 'acc1', symbol: 'btc/usdt', side: 'sell', status: 'closed', filled: 0.75 }).positionQty).toBe(0);
    expect(d.posttrade({ account_id: 'acc1', symbol: 'BTC/USDT', side: 'sell', status: 'closed', filled: 2, average: 50 }).positionQty).toBe(-2);
  });
});

describe('positions: signed quantity and entry notional', () => {
  it('adds at cost, reduces at the average, flips at the fill price', () => {
    const d = new Desk(undefined);
    const p = d.st.pairs;
    const pair = () => p.findPair(symbolKey('acc1'), symbolKey('BTC/USDT'));
    const acc = () => d.st.accounts.findAccount(symbolKey('acc1'));
    d.position(1, 100);
    d.position(1, 200);
    expect([p.positionQty(pair()), p.positionCost(pair())]).toEqual([2, 300]); // avg 150
    d.position(-0.5, 400);
    expect([p.positionQty(pair()), p.positionCost(pair())]).toEqual([1.5, 225]); // avg still 150
    expect(d.st.accounts.grossPositions(acc())).toBe(225);
    d.position(-2.5, 100);
    expect([p.positionQty(pair()), p.positionCost(pair())]).toEqual([-1, -100]); // flipped at 100
    expect(d.st.accounts.grossPositions(acc())).toBe(100);
    d.position(1, 90);
    expect([p.positionQty(pair()), p.positionCost(pair())]).toEqual([0, 0]);
    expect(d.st.accounts.grossPositions(acc())).toBe(0);
  });
});

describe('capacity: fail closed (controls_capacity_exhausted, not in the spec)', () => {
  it('reservations: every record live → an order that must reserve is refused; an end frees one', () => {
    const d = new Desk({ max_gross_notional_usdt: 1e9 }, { ...SMALL, reservations: 2 });
    d.check({ order: { client_order_id: 'a' } });
    d.check({ order: { client_order_id: 'b' } });
    expect(d.check({ order: { client_order_id: 'c' } }).denial).toMatchObject({ reason: 'controls_capacity_exhausted', rule: 'capacity', limit: 2, value: 'reservations' });
    d.posttrade({ account_id: 'acc1', client_order_id: 'a', status: 'canceled' });
    expect(d.reason({ order: { client_order_id: 'c' } })).toBe('ok'); // the ended record is recycled
    expect(d.st.reservations.live).toBe(2);
  });
  it('without an exposure limit a full reservation book refuses nothing (nothing needs it)', () => {
    const d = new Desk({ max_order_qty: { '*': 10 } }, { ...SMALL, reservations: 1 });
    expect(d.reason()).toBe('ok');
    expect(d.reason()).toBe('ok');
  });
  it('accounts: full of active accounts → a new account is refused; an idle one (60 s, flat, nothing open) is evicted', () => {
    const d = new Desk({ rate: { account_per_s: 10 } }, { ...SMALL, accounts: 2 });
    expect(d.reason({ account: { account_id: 'a' } })).toBe('ok');
    expect(d.reason({ account: { account_id: 'b' } })).toBe('ok');
    expect(d.check({ account: { account_id: 'c' } }).denial).toMatchObject({ reason: 'controls_capacity_exhausted', value: 'accounts' });
    // a and b each hold a (anonymous) reservation until the TTL (30 s) and were touched now
    expect(d.reason({ account: { account_id: 'c' } }, IDLE_MS - 1)).toBe('controls_capacity_exhausted');
    expect(d.reason({ account: { account_id: 'c' } }, 1)).toBe('ok');
    expect(d.st.accounts.count).toBe(2);
  });
  it('dedupe ids: all within the window → a new id is refused until the oldest expires', () => {
    const d = new Desk({ dedupe_window_s: 10 }, { ...SMALL, dedupeIds: 2 });
    d.check({ order: { client_order_id: 'a' } });
    d.check({ order: { client_order_id: 'b' } }, 1000);
    expect(d.check({ order: { client_order_id: 'c' } }, 1000).denial).toMatchObject({ reason: 'controls_capacity_exhausted', value: 'dedupe', cooldownMs: 8000 });
    expect(d.reason({ order: {} })).toBe('ok'); // no id: nothing to remember
    expect(d.reason({ order: { client_order_id: 'c' } }, 8000)).toBe('ok');
  });
  it('a fill that cannot be recorded blocks new exposure until ops clear it', () => {
    const d = new Desk({ max_gross_notional_usdt: 1e9 }, { ...SMALL, pairs: 1 });
    d.position(1, 100, 'acc1', 'BTC/USDT');
    expect(d.posttrade({ account_id: 'acc1', symbol: 'ETH/USDT', side: 'buy', status: 'closed', filled: 1, average: 10 })).toMatchObject({ lost: true });
    expect(d.st.lostFills).toBe(1);
    expect(d.check().denial).toMatchObject({ reason: 'controls_capacity_exhausted', value: 'positions' });
    d.st.clearLostFills();
    expect(d.reason()).toBe('ok');
  });
});

describe('answers arena', () => {
  it('stores and reads UTF-8; an overwritten answer is reported lost, not corrupted', () => {
    const st = ControlsState.create({ ...SMALL, answerBytes: 256 }, 0, false);
    const m = st.dedupe;
    const r1 = m.remember(1, 1, 9, T0);
    expect(m.answer(r1)).toBe('pending');
    expect(m.storeAnswer(r1, 1, 1, '{"mode":"pâper"}')).toBe(true);
    expect(m.storeAnswer(r1, 1, 1, 'again')).toBe(false); // once
    expect(m.answer(r1)).toBe('{"mode":"pâper"}');
    const r2 = m.remember(1, 2, 9, T0);
    expect(m.storeAnswer(r2, 1, 3, 'wrong key')).toBe(false);
    expect(m.storeAnswer(r2, 1, 2, 'x'.repeat(64))).toBe(false); // 3 × 64 > 256 / 4
    expect(m.answer(r2)).toBeNull();
    for (let i = 0; i < 12; i++) {
      const r = m.remember(2, 100 + i, 9, T0);
      expect(m.storeAnswer(r, 2, 100 + i, 'y'.repeat(20))).toBe(true);
    }
    expect(m.answer(r1)).toBeNull(); // 16 + 12 × 20 bytes written since: its bytes were reused
  });
});
