/**
 * Edge cases of the data structures behind the controls' hot path (see state.ts, key-index.ts,
 * symbol-rules.ts): tagged index entries (collisions, deletion, interleaved indexes, the large-table
 * fallback), the dedupe memory's lazy deletion and amortised expiry, the reservation free stack and the
 * head-created word, the per-symbol table.
 */
import { describe, expect, it } from 'vitest';
import { buildControlsConfig } from '../../../src/core/controls/config.ts';
import { controlsFacts } from '../../../src/core/controls/facts.ts';
import { keyHash, KeyIndex } from '../../../src/core/controls/key-index.ts';
import { ControlsState, DEDUPE_SWEEP_PER_CALL } from '../../../src/core/controls/state.ts';
import { SYM_ALLOWED, SYM_BLOCKED, SYM_QTY } from '../../../src/core/controls/symbol-rules.ts';
import { symbolKey } from '../../../src/shm/state/symbol-table.ts';
import { Desk, SMALL, T0 } from './helpers.ts';

/** records of stride 2 holding their keys [k1, k2] */
function table(records: number, slots: number, ways: 1 | 2 = 1, way = 0, shared?: Int32Array) {
  const recs = new Float64Array(records * 2);
  const idx = new KeyIndex(shared ?? new Int32Array(slots * ways), recs, 2, 0, 1, ways, way);
  const put = (r: number, k1: number, k2: number) => {
    recs[r * 2] = k1;
    recs[r * 2 + 1] = k2;
    idx.insert(k1, k2, r);
  };
  return { recs, idx, put };
}

/** keys whose hashes share a home slot in an index of `slots` slots (and so collide on the tag's home bits) */
function sameHome(slots: number, n: number): number[] {
  const bits = 31 - Math.clz32(slots);
  const want = (keyHash(1, 0) << 2) >>> (32 - bits);
  const out = [1];
  for (let k = 2; out.length < n; k++) if ((keyHash(k, 0) << 2) >>> (32 - bits) === want) out.push(k);
  return out;
}

describe('KeyIndex: tagged entries', () => {
  it('keys with the same home slot: each found, absent ones not, deletion in the middle of the cluster keeps the rest reachable', () => {
    const keys = sameHome(64, 6);
    const { idx, put, recs } = table(32, 64);
    keys.forEach((k, r) => put(r, k, 0));
    keys.forEach((k, r) => expect(idx.find(k, 0)).toBe(r));
    expect(idx.find(keys[5] + 1_000_003, 0)).toBe(-1);
    expect(idx.remove(keys[2], 0)).toBe(true);
    recs[2 * 2] = 0;
    expect(idx.find(keys[2], 0)).toBe(-1);
    for (const r of [0, 1, 3, 4, 5]) expect(idx.find(keys[r], 0)).toBe(r);
    expect(idx.removeRecord(keyHash(keys[4], 0), 4)).toBe(true);
    expect(idx.removeRecord(keyHash(keys[4], 0), 4)).toBe(false);
    for (const r of [0, 1, 3, 5]) expect(idx.find(keys[r], 0)).toBe(r);
  });

  it('a tag match with other keys in the record is not a hit (the record is compared)', () => {
    const { idx, put, recs } = table(4, 8);
    put(0, 7, 1);
    recs[0 * 2 + 1] = 2; // the record now holds (7, 2): same hash entry, different keys
    expect(idx.find(7, 1)).toBe(-1);
    expect(idx.findH(7, 2, keyHash(7, 1))).toBe(0); // found through the entry of (7, 1)'s hash
  });

  it('two interleaved indexes over one array are independent', () => {
    const shared = new Int32Array(2 * 64);
    const a = table(32, 64, 2, 0, shared);
    const b = table(32, 64, 2, 1, shared);
    for (let r = 0; r < 20; r++) {
      a.put(r, 100 + r, 5);
      b.put(r, 100 + r, 5); // the same keys in both: the same homes
    }
    for (let r = 0; r < 20; r += 2) {
      expect(a.idx.remove(100 + r, 5)).toBe(true);
      a.recs[r * 2] = 0;
    }
    for (let r = 0; r < 20; r++) {
      expect(a.idx.find(100 + r, 5)).toBe(r % 2 === 0 ? -1 : r);
      expect(b.idx.find(100 + r, 5)).toBe(r);
    }
    b.idx.clear();
    expect(b.idx.find(101, 5)).toBe(-1);
    expect(a.idx.find(101, 5)).toBe(1);
    expect(() => new KeyIndex(shared, a.recs, 2, 0, 1, 2, 2)).toThrow(/way/);
  });

  it('tables of more than 32 768 records (the home no longer fits in the tag) still delete correctly', () => {
    const n = 40_000;
    const { idx, put, recs } = table(n, KeyIndex.slotsFor(n));
    const ref = new Map<number, number>();
    let seed = 11;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let r = 0; r < n; r++) {
      const k = (rnd() % 1_000_000_000) + 1;
      if (ref.has(k)) continue;
      put(r, k, 3);
      ref.set(k, r);
    }
    let i = 0;
    for (const [k, r] of ref) {
      if (i++ % 3 !== 0) continue;
      expect(idx.remove(k, 3)).toBe(true);
      recs[r * 2] = 0;
      ref.delete(k);
    }
    for (const [k, r] of ref) expect(idx.find(k, 3)).toBe(r);
  });
});

describe('KeyIndex: ring records (lazy deletion)', () => {
  it('entries of records outside the live range are skipped and removed by probes, by cleanLine and cleanAll', () => {
    const keys = sameHome(64, 5);
    const { idx, put } = table(8, 64);
    keys.forEach((k, r) => put(r, k, 0));
    const removed = new Int32Array(1);
    // ring of 8: live range [3, 3 + 2) = records 3 and 4
    idx.key[0] = keys[4];
    idx.key[1] = 0;
    expect(idx.findLive(keyHash(keys[4], 0), 3, 2, 8, removed)).toBe(4);
    expect(removed[0]).toBe(3); // 0, 1, 2 met on the way
    idx.key[0] = keys[0];
    expect(idx.findLive(keyHash(keys[0], 0), 3, 2, 8, removed)).toBe(-1); // its record left the ring
    expect(idx.cleanLine(keyHash(keys[0], 0), 4, 1, 8)).toBe(1); // record 3 is dead now
    expect(idx.find(keys[4], 0)).toBe(4);
    put(5, 999, 0);
    expect(idx.cleanAll(0, 0, 8)).toBe(2);
    expect(idx.find(keys[4], 0)).toBe(-1);
    expect(idx.find(999, 0)).toBe(-1);
  });
});

describe('dedupe memory: amortised expiry, lazy index deletion', () => {
  const cfg = { dedupe_window_s: 1 };
  const id = (n: number) => ({ order: { client_order_id: `d${n}` } });

  it('an id past the window is a new decision whether or not the sweep reached it; at most DEDUPE_SWEEP_PER_CALL are swept a decision', () => {
    const d = new Desk(cfg, { ...SMALL, dedupeIds: 64 });
    for (let i = 0; i < 20; i++) expect(d.reason(id(i))).toBe('ok');
    expect(d.st.dedupe.count).toBe(20);
    d.now += 1000; // all 20 expired
    expect(d.reason(id(100))).toBe('ok');
    expect(d.st.dedupe.count).toBe(20 - DEDUPE_SWEEP_PER_CALL + 1);
    expect(d.reason(id(19))).toBe('ok'); // expired, not swept yet: a new decision, remembered again
    expect(d.reason(id(19))).toBe('replay');
    for (let i = 0; i < 10; i++) d.reason(id(200 + i));
    expect(d.st.dedupe.count).toBe(12); // 100, 19 and the 10 new ones
    expect(d.reason(id(0))).toBe('ok');
  });

  it('a full memory sweeps every expired id before refusing', () => {
    const d = new Desk(cfg, { ...SMALL, dedupeIds: 8 });
    for (let i = 0; i < 8; i++) d.reason(id(i));
    expect(d.check(id(8)).denial).toMatchObject({ reason: 'controls_capacity_exhausted', value: 'dedupe', cooldownMs: 1000 });
    d.now += 1000;
    expect(d.reason(id(8))).toBe('ok'); // the decision's own sweep made room (DEDUPE_SWEEP_PER_CALL)
    expect(d.st.dedupe.count).toBe(8 - DEDUPE_SWEEP_PER_CALL + 1);
    const m = ControlsState.create({ ...SMALL, dedupeIds: 8 }, 0, false).dedupe;
    for (let i = 0; i < 8; i++) m.remember(1, i + 1, 9, T0 + i);
    expect(m.hasRoom(T0 + 1003, 1000)).toBe(true); // ids 1..4 expired: all swept at once
    expect(m.count).toBe(4);
    expect(m.hasRoom(T0 + 1003, 1000)).toBe(true);
    for (let i = 0; i < 4; i++) m.remember(2, i + 1, 9, T0 + 1003);
    expect(m.hasRoom(T0 + 1003, 1000)).toBe(false);
  });

  it('dead index entries stay bounded over many windows (cleaned by insertions, all of them before the index is 3/4 full)', () => {
    const d = new Desk({ dedupe_window_s: 0.05 }, { ...SMALL, dedupeIds: 64 });
    const slots = KeyIndex.slotsFor(64);
    for (let i = 0; i < 5000; i++) {
      expect(d.reason(id(i), 1)).toBe('ok');
      expect(d.st.dedupe.entries).toBeLessThanOrEqual((slots * 3) / 4);
    }
    expect(d.st.dedupe.count).toBeLessThanOrEqual(51);
    expect(d.reason(id(4999))).toBe('replay');
  });

  it('an answer for an id that left the memory meanwhile is not stored', () => {
    const st = ControlsState.create({ ...SMALL, dedupeIds: 4 }, 0, false);
    const m = st.dedupe;
    const r = m.remember(1, 1, 9, T0);
    m.sweep(T0 + 1000, 1000);
    expect(m.count).toBe(0);
    expect(m.storeAnswer(r, 1, 1, 'late')).toBe(false);
    expect(m.find(1, 1, T0 + 1000, 1000)).toBe(-1);
  });
});

describe('reservations: free stack and the expiry word', () => {
  const cfg = { max_gross_notional_usdt: 1e9, reservation_ttl_ms: 1000 };
  const o = (cid: string) => ({ order: { client_order_id: cid } });

  it('a freed record is the next one used (LIFO); every record can be used', () => {
    const d = new Desk(cfg, { ...SMALL, reservations: 4 });
    for (const c of ['a', 'b', 'c', 'd']) d.check(o(c));
    expect(d.reason(o('e'))).toBe('controls_capacity_exhausted');
    const rb = d.st.reservations.find(symbolKey('acc1'), symbolKey('b'));
    d.posttrade({ account_id: 'acc1', client_order_id: 'b', status: 'canceled' });
    expect(d.reason(o('e'))).toBe('ok');
    expect(d.st.reservations.find(symbolKey('acc1'), symbolKey('e'))).toBe(rb);
    expect(d.st.reservations.clientOrderId(rb)).toBe('e');
  });

  it('ending the oldest live reservation moves the expiry to the next one', () => {
    const d = new Desk(cfg);
    d.check(o('a'));
    d.check(o('b'), 500);
    d.posttrade({ account_id: 'acc1', client_order_id: 'a', status: 'canceled' });
    expect(d.posttrade({}, 999).events).toEqual([]); // a's TTL passed, but a is gone; b's is at T0 + 1500
    expect(d.posttrade({}, 1).events.map((e) => e.details?.client_order_id)).toEqual(['b']);
    expect(d.st.reservations.live).toBe(0);
    d.check(o('c'));
    expect(d.posttrade({}, 1000).events.map((e) => e.details?.client_order_id)).toEqual(['c']);
  });

  it('a client_order_id longer than the record keeps is reported truncated; shorter ones whole (UTF-16)', () => {
    const d = new Desk(cfg);
    const long = 'x'.repeat(63) + 'yz';
    d.check(o('ordre-é-😀'));
    d.check(o(long));
    const ids = d.posttrade({}, 1000).events.map((e) => e.details?.client_order_id);
    expect(ids).toEqual(['ordre-é-😀', long.slice(0, 64)]);
  });
});

describe('the per-symbol table (lists and qty limits in one probe)', () => {
  it('flags and limits by symbol; unknown symbols, no symbol, and a key with another text are not found', () => {
    const cfg = buildControlsConfig({ symbols_allowed: ['BTC/USDT', 'ETH/USDT'], symbols_blocked: ['ETH/USDT', 'LUNA/USDT'], max_order_qty: { 'BTC/USDT': 2, 'SOL/USDT': 7, '*': 1 } });
    const sr = cfg.symbolRules;
    expect(sr).not.toBeNull();
    if (sr === null) return;
    const slot = (s: string | null) => sr.slotOf(controlsFacts({ order: { symbol: s } }));
    expect(sr.flags[slot('BTC/USDT')]).toBe(SYM_ALLOWED | SYM_QTY);
    expect(sr.qty[slot('BTC/USDT')]).toBe(2);
    expect(sr.flags[slot('ETH/USDT')]).toBe(SYM_ALLOWED | SYM_BLOCKED);
    expect(sr.flags[slot('LUNA/USDT')]).toBe(SYM_BLOCKED);
    expect(sr.flags[slot('SOL/USDT')]).toBe(SYM_QTY);
    expect(slot('XRP/USDT')).toBe(-1);
    expect(slot(null)).toBe(-1);
    expect(sr.slotOf({ symKey: symbolKey('BTC/USDT'), symbol: 'BTC/USDC' })).toBe(-1);
    expect(buildControlsConfig({ max_order_notional_usdt: 5 }).symbolRules).toBeNull();
  });
});

describe('layout', () => {
  it('every section starts on a 64-byte line of the region', () => {
    const st = ControlsState.create(SMALL, 0, false);
    for (const view of [st.ctl, st.accounts.d, st.pairs.d, st.reservations.d]) expect(view.byteOffset % 64).toBe(0);
  });
});
