import { Buffer } from 'node:buffer';
import { symbolKey } from '../../shm/state/symbol-table.ts';
import { keyHash, KeyIndex } from './key-index.ts';
import { bucketUsed, SIDE_BUY, SIDE_SELL } from './rules.ts';

/**
 * Desk-control state (controls.md §0: "all control state lives in the shared decision state"): one
 * region of a (Shared)ArrayBuffer, typed-array views at fixed offsets computed from `ControlsSizes`,
 * fixed at start-up. Like GateState, nothing here locks: every call runs under the gate's lock (D23).
 *
 * Region layout (byte offsets from the region start, in this order, each section starting at a multiple
 * of 64 bytes — a cache line; `bytesNeeded(sizes)` is the total):
 *
 * | section          | type    | size                                   | content                                  |
 * | ---------------- | ------- | -------------------------------------- | ---------------------------------------- |
 * | ctl              | Float64 | 32 words                               | trading state, config generation, list heads, counters |
 * | accounts         | Float64 | accounts × 16                          | per account: key, buckets, open orders, reserved, Σ\|positions\| |
 * | pairs            | Float64 | pairs × 16                             | per (account, symbol): keys, buckets, position, reserved per side |
 * | reservations     | Float64 | reservations × 32 (256 bytes)          | keys, state, side, qty, price, notional (first line), filled, created, list links (second), the client_order_id's UTF-16 text (last two) |
 * | dedupe           | Float64 | dedupeIds × 8 (one line)               | ring of remembered ids: keys, order hash, created, answer position |
 * | dedupe created   | Float64 | dedupeIds                              | the same ring's created times, compact (what expiry reads) |
 * | account index    | Int32   | slotsFor(accounts) (power of 2 ≥ 2n)   | tagged entries: key hash bits + record + 1 (key-index.ts) |
 * | pair index       | Int32   | slotsFor(pairs)                        | the same                                 |
 * | id index         | Int32   | 2 × slotsFor(max(reservations, dedupeIds)) | the dedupe and reservation indexes interleaved (both keyed (account, client_order_id)) |
 * | free reservations| Int32   | reservations                           | stack of free reservation records        |
 * | account text     | Uint16  | accounts × 64                          | account ids (for GET /ops/limits, events) |
 * | pair text        | Uint16  | pairs × 32                             | symbols (longer ones shown truncated)     |
 * | answers          | Uint8   | answerBytes                            | ring arena of original answers (UTF-8)   |
 * | config           | Uint8   | configBytes                            | the live controls section (JSON, UTF-8)  |
 *
 * What a decision touches, with every control on: one index probe per table it looks up (the key's
 * 30-bit hash was computed outside the lock, in ControlsFacts; a miss reads no record), the account and
 * pair records, one reservation record (LIFO reuse: the one a post-trade outcome freed last, still in
 * cache), the next dedupe record in the ring, and the answer arena's write position. No string is
 * decoded on that path; the client_order_id is copied into its reservation record.
 *
 * Strings are interned as 53-bit hashes (symbolKey of src/shm/state/symbol-table.ts): a collision
 * (≈1e-8 at these sizes) can only merge two ids' state. Capacity is fixed; when a table is full:
 * - accounts / pairs: the least recently touched *idle* entry is evicted (flat, no live reservation, not
 *   touched for 60 s so its buckets are full again: nothing is lost; an account goes with its pairs,
 *   which are then idle too); none idle → the new order is
 *   refused `controls_capacity_exhausted` (fail closed); a post-trade fill that cannot be recorded bumps
 *   `lostFills`, and while it is non-zero new exposure is refused (`controls_capacity_exhausted`) until
 *   ops clear it: positions would otherwise be understated.
 * - reservations: records are freed on a final outcome (LIFO reuse); one that expired after partial
 *   fills is kept (for late fill records) and recycled oldest first; when every record is live, an order
 *   that must reserve is refused `controls_capacity_exhausted`.
 * - dedupe ids: expired ones are dropped in creation order, at most DEDUPE_SWEEP_PER_CALL per decision
 *   (amortised: a burst of expiries after a quiet spell is spread over the next decisions; a lookup that
 *   finds an expired id drops it at once, so it is never answered from); when every remembered id is
 *   still within the window, an order with a new client_order_id is refused
 *   `controls_capacity_exhausted`, with cooldown_ms = when the oldest expires.
 * - answers: a byte ring; an answer overwritten before its id expired (arena too small for the window's
 *   traffic) cannot be replayed: the retry is refused `duplicate_client_order_id` (never decided twice).
 */

export interface ControlsSizes {
  /** accounts with state at once */
  accounts: number;
  /** (account, symbol) pairs with state at once */
  pairs: number;
  /** reservation records: live + ended ones kept for late post-trade records */
  reservations: number;
  /** client_order_ids remembered within dedupe_window_s */
  dedupeIds: number;
  /** byte arena for the original answers replayed by the idempotency rule */
  answerBytes: number;
  /** byte arena for the live controls section (JSON) */
  configBytes: number;
}

export const DEFAULT_CONTROLS_SIZES: Readonly<ControlsSizes> = Object.freeze({
  accounts: 1024,
  pairs: 8192,
  reservations: 8192,
  dedupeIds: 8192,
  answerBytes: 8 * 1024 * 1024,
  configBytes: 512 * 1024,
});

export const ACCOUNT_ID_CHARS = 64;
export const PAIR_SYMBOL_CHARS = 32;
export const CLIENT_ORDER_ID_CHARS = 64;
/** an account/pair untouched this long has full buckets again and may be evicted when flat */
export const IDLE_MS = 60_000;
/** expired dedupe ids dropped per decision at most (the rest on later decisions, or at once when the memory is full) */
export const DEDUPE_SWEEP_PER_CALL = 4;

// ctl words
const C_INIT = 0;
const C_TRADING_STATE = 1;
const C_CONFIG_GEN = 2;
const C_CONFIG_LEN = 3;
const C_ANSWER_POS = 4;
const C_LOST_FILLS = 5;
const C_ACC_FREE = 6;
const C_ACC_COUNT = 7;
const C_PAIR_FREE = 8;
const C_PAIR_COUNT = 9;
/** free reservation records on the stack `resFree` (LIFO: the record a post-trade outcome freed last, still in cache, is reused first) */
const C_RES_FREE = 10;
const C_RES_LIVE_HEAD = 11;
const C_RES_LIVE_TAIL = 12;
const C_RES_END_HEAD = 13;
const C_RES_END_TAIL = 14;
const C_RES_LIVE = 15;
const C_RES_ENDED = 16;
const C_DD_HEAD = 17;
const C_DD_COUNT = 18;
/** C_ANSWER_POS modulo the arena size: where the next answer is written */
const C_ANSWER_OFF = 19;
/** created time of the oldest live reservation (Infinity: none): the per-decision expiry test reads only this word */
const C_RES_HEAD_CREATED = 20;
/** dedupe entries in the id index, dead ones not removed yet included */
const C_DD_ENTRIES = 21;
const C_SIZE = 32;

// fields shared by accounts and pairs (16 words = two cache lines a record: what a decision reads is in both)
const T_K1 = 0;
const T_K2 = 1;
const T_TOUCH = 2;
/** free-list link: the next free record (-1: none) while free, T_IN_USE while in use */
const T_LINK = 3;
const T_IN_USE = -2;
/** word 4: table-specific (P_ACC) */
const T_TEXT_LEN = 5;
/** bucket fields: [used, at] pairs */
export const B_SEC = 6;
export const B_MIN = 8;

// accounts
const A_OPEN = 10;
const A_RESERVED = 11;
const A_GROSS = 12;
const A_PAIRS = 13;
const A_NEAR = 14;
/** pairs of the account with a non-zero position */
const A_POS_PAIRS = 15;
const AS = 16;

// pairs
const P_ACC = 4;
const P_QTY = 10;
const P_COST = 11;
const P_RES_BUY = 12;
const P_RES_SELL = 13;
const P_RES_LIVE = 14;
const P_NEAR = 15;
const PS = 16;

// reservations: what a lookup reads in the first cache line, what the lists and expiry read in the
// second, the client_order_id's UTF-16 text (CLIENT_ORDER_ID_CHARS) in the last two
const R_ACC_KEY = 0;
const R_ID_KEY = 1;
const R_STATE = 2;
const R_ACC = 3;
const R_PAIR = 4;
const R_SIDE = 5;
const R_QTY = 6;
const R_PRICE = 7;
const R_NOTIONAL = 8;
const R_FILLED = 9;
const R_CREATED = 10;
const R_PREV = 11;
const R_NEXT = 12;
const R_ENDED_AT = 13;
const R_TEXT_LEN = 14;
const R_INDEXED = 15;
/** first word of the text (16 words = 64 UTF-16 code units) */
const R_TEXT = 16;
const RS = 32;

export const RES_FREE = 0;
export const RES_LIVE = 1;
export const RES_ENDED = 2;

// dedupe ring
const D_ACC_KEY = 0;
const D_ID_KEY = 1;
const D_ORDER_HASH = 2;
const D_CREATED = 3;
const D_ANSWER_POS = 4;
const D_ANSWER_LEN = 5;
const DS = 8;
// the dedupe sweep's own compact ring: the created times (8 ids a cache line, read in order)
const WS = 1;
/** answer position markers */
const ANSWER_PENDING = -1;
const ANSWER_TOO_LONG = -2;

interface Layout {
  bytes: number;
  f64: Record<string, [number, number]>;
  i32: Record<string, [number, number]>;
  u16: Record<string, [number, number]>;
  u8: Record<string, [number, number]>;
}

function checkSizes(s: ControlsSizes): void {
  for (const [k, v] of Object.entries(s)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`controls state size ${k} must be a positive integer (got ${v})`);
  }
}

function layout(s: ControlsSizes): Layout {
  checkSizes(s);
  const f64: Layout['f64'] = {};
  const i32: Layout['i32'] = {};
  const u16: Layout['u16'] = {};
  const u8: Layout['u8'] = {};
  let off = 0;
  const line = () => {
    off = Math.ceil(off / 64) * 64;
  };
  const F = (name: string, words: number) => {
    line();
    f64[name] = [off, words];
    off += words * 8;
  };
  F('ctl', C_SIZE);
  F('acc', s.accounts * AS);
  F('pair', s.pairs * PS);
  F('res', s.reservations * RS);
  F('dd', s.dedupeIds * DS);
  F('ddCreated', s.dedupeIds * WS);
  const I = (name: string, n: number) => {
    line();
    i32[name] = [off, n];
    off += n * 4;
  };
  I('accIdx', KeyIndex.slotsFor(s.accounts));
  I('pairIdx', KeyIndex.slotsFor(s.pairs));
  // reservations (way 1) and dedupe ids (way 0) interleaved: same key, same home, one cache line
  I('idIdx', 2 * KeyIndex.slotsFor(Math.max(s.reservations, s.dedupeIds)));
  I('resFree', s.reservations);
  const H = (name: string, n: number) => {
    line();
    u16[name] = [off, n];
    off += n * 2;
  };
  H('accText', s.accounts * ACCOUNT_ID_CHARS);
  H('pairText', s.pairs * PAIR_SYMBOL_CHARS);
  line();
  u8.answers = [off, s.answerBytes];
  off += s.answerBytes;
  line();
  u8.config = [off, s.configBytes];
  off += s.configBytes;
  return { bytes: Math.ceil(off / 8) * 8, f64, i32, u16, u8 };
}

function writeText(t: Uint16Array, base: number, width: number, s: string): number {
  const n = s.length < width ? s.length : width;
  for (let i = 0; i < n; i++) t[base + i] = s.charCodeAt(i);
  return n;
}

function readText(t: Uint16Array, base: number, len: number): string {
  return len === 0 ? '' : String.fromCharCode.apply(null, t.subarray(base, base + len) as unknown as number[]);
}

/**
 * A fixed table of records keyed by (k1, k2), with a free list, a text field per record, token buckets
 * at B_SEC / B_MIN, and eviction of the least recently touched idle record when full.
 */
abstract class RecordTable {
  readonly capacity: number;
  /** raw record words: exposed for the evaluator's reads (record r starts at r × stride) */
  readonly d: Float64Array;
  protected readonly stride: number;
  protected readonly idx: KeyIndex;
  protected readonly text: Uint16Array;
  protected readonly width: number;
  protected readonly ctl: Float64Array;
  private readonly cFree: number;
  private readonly cCount: number;

  constructor(d: Float64Array, stride: number, idx: KeyIndex, text: Uint16Array, width: number, ctl: Float64Array, cFree: number, cCount: number) {
    this.d = d;
    this.stride = stride;
    this.capacity = d.length / stride;
    this.idx = idx;
    this.text = text;
    this.width = width;
    this.ctl = ctl;
    this.cFree = cFree;
    this.cCount = cCount;
  }

  init(): void {
    this.d.fill(0);
    this.idx.clear();
    this.text.fill(0);
    for (let r = 0; r < this.capacity; r++) this.d[r * this.stride + T_LINK] = r + 1 < this.capacity ? r + 1 : -1;
    this.ctl[this.cFree] = 0;
    this.ctl[this.cCount] = 0;
  }

  get count(): number {
    return this.ctl[this.cCount];
  }

  find(k1: number, k2: number): number {
    return this.idx.find(k1, k2);
  }

  /** `find` with the key's keyHash (computed outside the lock: ControlsFacts). */
  findH(k1: number, k2: number, h: number): number {
    return this.idx.findH(k1, k2, h);
  }

  /** A record can be had for a new key (free, or an idle one to evict). */
  canAllocate(nowMs: number): boolean {
    return this.ctl[this.cFree] >= 0 || this.idleVictim(nowMs) >= 0;
  }

  /** A new zeroed record for an absent key (buckets full as of `nowMs`), or -1 when full and nothing is idle. */
  protected allocate(k1: number, k2: number, label: string, nowMs: number): number {
    let r = this.ctl[this.cFree] | 0;
    if (r < 0) {
      const victim = this.idleVictim(nowMs);
      if (victim < 0) return -1;
      this.evict(victim);
      r = this.ctl[this.cFree] | 0;
    }
    const o = r * this.stride;
    this.ctl[this.cFree] = this.d[o + T_LINK];
    this.d.fill(0, o, o + this.stride);
    this.d[o + T_K1] = k1;
    this.d[o + T_K2] = k2;
    this.d[o + T_TOUCH] = nowMs;
    this.d[o + T_LINK] = T_IN_USE;
    this.d[o + B_SEC + 1] = nowMs;
    this.d[o + B_MIN + 1] = nowMs;
    this.d[o + T_TEXT_LEN] = writeText(this.text, r * this.width, this.width, label);
    this.idx.insert(k1, k2, r);
    this.ctl[this.cCount]++;
    return r;
  }

  protected evict(r: number): void {
    const o = r * this.stride;
    this.onEvict(r);
    this.idx.removeRecord(keyHash(this.d[o + T_K1], this.d[o + T_K2]), r);
    this.d[o + T_LINK] = this.ctl[this.cFree];
    this.ctl[this.cFree] = r;
    this.ctl[this.cCount]--;
  }

  private idleVictim(nowMs: number): number {
    let victim = -1;
    let oldest = Infinity;
    for (let r = 0; r < this.capacity; r++) {
      const o = r * this.stride;
      if (this.d[o + T_LINK] === T_IN_USE && this.d[o + T_TOUCH] < oldest && nowMs - this.d[o + T_TOUCH] >= IDLE_MS && this.idle(r)) {
        oldest = this.d[o + T_TOUCH];
        victim = r;
      }
    }
    return victim;
  }

  protected abstract idle(r: number): boolean;
  protected onEvict(_r: number): void {}

  label(r: number): string {
    return readText(this.text, r * this.width, this.d[r * this.stride + T_TEXT_LEN]);
  }

  touch(r: number, nowMs: number): void {
    this.d[r * this.stride + T_TOUCH] = nowMs;
  }

  /** Tokens in use in bucket `field` (B_SEC / B_MIN) of record `r` (-1: a record not created yet = 0). */
  bucketUsed(r: number, field: number, cap: number, windowMs: number, nowMs: number): number {
    if (r < 0) return 0;
    const o = r * this.stride + field;
    return bucketUsed(this.d[o], this.d[o + 1], cap, windowMs, nowMs);
  }

  /** Stores a bucket's use as of `nowMs` (the evaluator refilled it and added the token taken). */
  setBucket(r: number, field: number, used: number, nowMs: number): void {
    const o = r * this.stride + field;
    this.d[o] = used;
    this.d[o + 1] = nowMs;
  }

  /** Takes one token of an enabled bucket (refilled first: `cap` finite). */
  consume(r: number, field: number, cap: number, windowMs: number, nowMs: number): void {
    const o = r * this.stride + field;
    const used = bucketUsed(this.d[o], this.d[o + 1], cap, windowMs, nowMs);
    this.d[o] = used + 1;
    this.d[o + 1] = nowMs;
  }

  *records(): Generator<number> {
    for (let r = 0; r < this.capacity; r++) if (this.d[r * this.stride + T_LINK] === T_IN_USE) yield r;
  }
}

export class AccountTable extends RecordTable {
  constructor(d: Float64Array, idx: KeyIndex, text: Uint16Array, ctl: Float64Array) {
    super(d, AS, idx, text, ACCOUNT_ID_CHARS, ctl, C_ACC_FREE, C_ACC_COUNT);
  }

  static words(n: number): number {
    return n * AS;
  }

  /** The record of an account (by symbolKey(account_id)), or -1. */
  findAccount(key: number): number {
    return this.idx.find(key, 0);
  }

  /** `findAccount` with keyHash(key, 0) computed already (ControlsFacts.accountHash). */
  findAccountH(key: number, h: number): number {
    return this.idx.findH(key, 0, h);
  }

  /** `findAccount` of a request's facts (accountKey, accountHash). */
  findAccountF(f: { readonly accountKey: number; readonly accountHash: number }): number {
    const idx = this.idx;
    idx.key[0] = f.accountKey;
    idx.key[1] = 0;
    return idx.findK(f.accountHash);
  }

  /** The account's record, created when absent; -1 when the table is full of non-idle accounts. */
  ensure(key: number, accountId: string, nowMs: number): number {
    const r = this.idx.find(key, 0);
    if (r >= 0) return r;
    return this.allocate(key, 0, accountId, nowMs);
  }

  /** flat everywhere and nothing open (touch ≥ every pair's touch, so its pairs' buckets are full too) */
  protected idle(r: number): boolean {
    const o = r * AS;
    return this.d[o + A_POS_PAIRS] === 0 && this.d[o + A_OPEN] === 0;
  }

  /** set by ControlsState: evicting an account evicts its (idle) pairs first */
  onEvictAccount: ((r: number) => void) | null = null;

  protected override onEvict(r: number): void {
    if (this.onEvictAccount !== null) this.onEvictAccount(r);
  }

  key(r: number): number {
    return this.d[r * AS + T_K1];
  }
  /** reservations not settled (live, keyed or anonymous) */
  openOrders(r: number): number {
    return r < 0 ? 0 : this.d[r * AS + A_OPEN];
  }
  /** Σ remaining notional of the live reservations, USDT */
  reserved(r: number): number {
    return r < 0 ? 0 : this.d[r * AS + A_RESERVED];
  }
  /** Σ over symbols of |position notional at entry prices|, USDT */
  grossPositions(r: number): number {
    return r < 0 ? 0 : this.d[r * AS + A_GROSS];
  }
  pairCount(r: number): number {
    return this.d[r * AS + A_PAIRS];
  }
  near(r: number): number {
    return this.d[r * AS + A_NEAR];
  }
  setNear(r: number, flags: number): void {
    this.d[r * AS + A_NEAR] = flags;
  }

  /** @internal bookkeeping for PairTable / ReservationBook */
  addOpen(r: number, count: number, notional: number): void {
    const o = r * AS;
    const open = this.d[o + A_OPEN] + count;
    this.d[o + A_OPEN] = open;
    // no reservation left: snap the sum to 0 (float add/sub drift)
    this.d[o + A_RESERVED] = open === 0 ? 0 : Math.max(0, this.d[o + A_RESERVED] + notional);
  }
  addReserved(r: number, notional: number): void {
    const o = r * AS;
    this.d[o + A_RESERVED] = this.d[o + A_OPEN] === 0 ? 0 : Math.max(0, this.d[o + A_RESERVED] + notional);
  }
  addGross(r: number, delta: number): void {
    const o = r * AS;
    const g = this.d[o + A_GROSS] + delta;
    this.d[o + A_GROSS] = g < 1e-9 ? 0 : g;
  }
  addPair(r: number, delta: number): void {
    this.d[r * AS + A_PAIRS] += delta;
  }
  addPositionPair(r: number, delta: number): void {
    this.d[r * AS + A_POS_PAIRS] += delta;
  }
}

export class PairTable extends RecordTable {
  private readonly accounts: AccountTable;

  constructor(d: Float64Array, idx: KeyIndex, text: Uint16Array, ctl: Float64Array, accounts: AccountTable) {
    super(d, PS, idx, text, PAIR_SYMBOL_CHARS, ctl, C_PAIR_FREE, C_PAIR_COUNT);
    this.accounts = accounts;
  }

  /** The record of (account key, symbol key), or -1. */
  findPair(accountKey: number, symKey: number): number {
    return this.idx.find(accountKey, symKey);
  }

  /** `findPair` with keyHash(account key, symbol key) computed already (ControlsFacts.pairHash). */
  findPairH(accountKey: number, symKey: number, h: number): number {
    return this.idx.findH(accountKey, symKey, h);
  }

  /** `findPair` of a request's facts (accountKey, symKey, pairHash). */
  findPairF(f: { readonly accountKey: number; readonly symKey: number; readonly pairHash: number }): number {
    const idx = this.idx;
    idx.key[0] = f.accountKey;
    idx.key[1] = f.symKey;
    return idx.findK(f.pairHash);
  }

  /** The pair's record, created when absent (under account record `acc`); -1 when full of non-idle pairs. */
  ensure(accountKey: number, symKey: number, symbol: string, acc: number, nowMs: number): number {
    const r = this.idx.find(accountKey, symKey);
    if (r >= 0) return r;
    const n = this.allocate(accountKey, symKey, symbol, nowMs);
    if (n >= 0) {
      this.d[n * PS + P_ACC] = acc;
      this.accounts.addPair(acc, 1);
    }
    return n;
  }

  protected idle(r: number): boolean {
    const o = r * PS;
    return this.d[o + P_QTY] === 0 && this.d[o + P_RES_LIVE] === 0;
  }

  protected override onEvict(r: number): void {
    this.accounts.addPair(this.d[r * PS + P_ACC] | 0, -1);
  }

  /** Evicts every pair of account record `acc` (all idle: the account is). */
  evictAccountPairs(acc: number): void {
    for (let r = 0; r < this.capacity; r++) {
      const o = r * PS;
      if (this.d[o + T_LINK] === T_IN_USE && this.d[o + P_ACC] === acc) this.evict(r);
    }
  }

  account(r: number): number {
    return this.d[r * PS + P_ACC] | 0;
  }
  symbolKey(r: number): number {
    return this.d[r * PS + T_K2];
  }
  /** signed open quantity (buy fills +, sell fills −) */
  positionQty(r: number): number {
    return r < 0 ? 0 : this.d[r * PS + P_QTY];
  }
  /** signed entry notional (qty × average entry price) */
  positionCost(r: number): number {
    return r < 0 ? 0 : this.d[r * PS + P_COST];
  }
  /** reserved notional on a side (SIDE_BUY / SIDE_SELL; SIDE_NONE = the larger) */
  reservedSide(r: number, side: number): number {
    if (r < 0) return 0;
    const o = r * PS;
    if (side === SIDE_BUY) return this.d[o + P_RES_BUY];
    if (side === SIDE_SELL) return this.d[o + P_RES_SELL];
    return Math.max(this.d[o + P_RES_BUY], this.d[o + P_RES_SELL]);
  }
  liveReservations(r: number): number {
    return r < 0 ? 0 : this.d[r * PS + P_RES_LIVE];
  }
  near(r: number): number {
    return this.d[r * PS + P_NEAR];
  }
  setNear(r: number, flags: number): void {
    this.d[r * PS + P_NEAR] = flags;
  }

  /** @internal ReservationBook bookkeeping; an unknown side (0) counts on both sides */
  addReserved(r: number, side: number, notional: number, count: number): void {
    const o = r * PS;
    const live = this.d[o + P_RES_LIVE] + count;
    this.d[o + P_RES_LIVE] = live;
    if (live === 0) {
      this.d[o + P_RES_BUY] = 0;
      this.d[o + P_RES_SELL] = 0;
      return;
    }
    if (side !== SIDE_SELL) this.d[o + P_RES_BUY] = Math.max(0, this.d[o + P_RES_BUY] + notional);
    if (side !== SIDE_BUY) this.d[o + P_RES_SELL] = Math.max(0, this.d[o + P_RES_SELL] + notional);
  }

  /**
   * A fill of `qty` (> 0) on `side` at `price` (> 0, or 0 when unknown: the quantity still moves, the
   * notional only by what is known). Same direction: quantity and cost add. Against the position: the
   * average entry price stays; a fill beyond the position flips it at the fill price. The account's
   * Σ|positions| follows.
   */
  applyFill(r: number, side: number, qty: number, price: number, nowMs: number): void {
    const o = r * PS;
    const q = this.d[o + P_QTY];
    const c = this.d[o + P_COST];
    const dq = side === SIDE_BUY ? qty : -qty;
    let nq = q + dq;
    let nc: number;
    if (q === 0 || q > 0 === dq > 0) nc = c + dq * price;
    else if (Math.abs(dq) <= Math.abs(q) * (1 + 1e-12)) {
      if (Math.abs(nq) <= Math.abs(q) * 1e-12) nq = 0;
      nc = nq === 0 ? 0 : c * (nq / q);
    } else nc = nq * price;
    this.d[o + P_QTY] = nq;
    this.d[o + P_COST] = nc;
    this.d[o + T_TOUCH] = nowMs;
    const acc = this.d[o + P_ACC] | 0;
    this.accounts.touch(acc, nowMs);
    this.accounts.addGross(acc, Math.abs(nc) - Math.abs(c));
    if ((q === 0) !== (nq === 0)) this.accounts.addPositionPair(acc, nq === 0 ? -1 : 1);
  }
}

/** The order a reservation is made for (ControlsFacts has these fields). */
export interface ReservationOrder {
  readonly accountKey: number;
  readonly idKey: number;
  readonly idHash: number;
  readonly clientOrderId: string | null;
  readonly side: number;
  readonly qty: number;
}

/** The reservation's price and notional (the controls' verdict has these fields). */
export interface ReservationAmounts {
  readonly reservePrice: number;
  readonly reserveNotional: number;
}

/** What an expired reservation was (for RESERVATION.EXPIRED). */
export interface ExpiredReservation {
  account: string;
  symbol: string;
  clientOrderId: string | null;
  side: number;
  qty: number;
  notional: number;
  createdMs: number;
}

/**
 * Reservations: an allowed order's notional held until a post-trade outcome ends it or
 * `reservation_ttl_ms` passes. Live ones form a list in creation order (their expiry order, whatever
 * the TTL: expiry = created + the current TTL). A keyed one that expired after partial fills stays
 * findable ("ended": a late record applies only its new fills) until recycled, oldest first; one ended
 * by a final outcome is freed at once (a repeated final record is the service's duplicate to drop: its
 * (order_id, status, filled) key is already in the recent success keys).
 */
export class ReservationBook {
  readonly capacity: number;
  readonly d: Float64Array;
  private readonly idx: KeyIndex;
  private readonly text: Uint16Array;
  private readonly ctl: Float64Array;
  private readonly accounts: AccountTable;
  private readonly pairs: PairTable;

  /** `d` and `text` view the same bytes: a record's text lives in its last words (R_TEXT). */
  /** stack of free records (C_RES_FREE of them): taking one reads this hot word, not the record */
  private readonly freeStack: Int32Array;

  constructor(d: Float64Array, freeStack: Int32Array, idx: KeyIndex, ctl: Float64Array, accounts: AccountTable, pairs: PairTable) {
    this.d = d;
    this.freeStack = freeStack;
    this.capacity = d.length / RS;
    this.idx = idx;
    this.text = new Uint16Array(d.buffer, d.byteOffset, d.length * 4);
    this.ctl = ctl;
    this.accounts = accounts;
    this.pairs = pairs;
  }

  init(): void {
    this.d.fill(0);
    this.idx.clear();
    // records 0, 1, 2, … are taken first
    for (let i = 0; i < this.capacity; i++) this.freeStack[i] = this.capacity - 1 - i;
    this.ctl[C_RES_FREE] = this.capacity;
    this.ctl[C_RES_LIVE_HEAD] = -1;
    this.ctl[C_RES_LIVE_TAIL] = -1;
    this.ctl[C_RES_HEAD_CREATED] = Infinity;
    this.ctl[C_RES_END_HEAD] = -1;
    this.ctl[C_RES_END_TAIL] = -1;
    this.ctl[C_RES_LIVE] = 0;
    this.ctl[C_RES_ENDED] = 0;
  }

  /** live reservations (`aurora_reservations_open`) */
  get live(): number {
    return this.ctl[C_RES_LIVE];
  }
  get ended(): number {
    return this.ctl[C_RES_ENDED];
  }

  /** A reservation (live or ended) by (account key, client_order_id key), or -1. */
  find(accountKey: number, idKey: number): number {
    return this.idx.find(accountKey, idKey);
  }

  /** A new reservation can be stored (a free record, or an ended one to recycle). */
  canCreate(): boolean {
    return this.ctl[C_RES_FREE] > 0 || this.ctl[C_RES_END_HEAD] >= 0;
  }

  state(r: number): number {
    return this.d[r * RS + R_STATE];
  }
  side(r: number): number {
    return this.d[r * RS + R_SIDE];
  }
  qty(r: number): number {
    return this.d[r * RS + R_QTY];
  }
  price(r: number): number {
    return this.d[r * RS + R_PRICE];
  }
  notional(r: number): number {
    return this.d[r * RS + R_NOTIONAL];
  }
  filled(r: number): number {
    return this.d[r * RS + R_FILLED];
  }
  createdMs(r: number): number {
    return this.d[r * RS + R_CREATED];
  }
  endedMs(r: number): number {
    return this.d[r * RS + R_ENDED_AT];
  }
  clientOrderId(r: number): string | null {
    const len = this.d[r * RS + R_TEXT_LEN];
    return this.d[r * RS + R_ID_KEY] === 0 ? null : readText(this.text, (r * RS + R_TEXT) * 4, len);
  }

  /**
   * Stores a live reservation of `a.reserveNotional` (remaining qty × `a.reservePrice`) of order `f` for
   * account record `acc` and pair record `pair`. `f.idKey` 0 = anonymous (TTL only); `f.idHash` =
   * keyHash(accountKey, idKey) (ControlsFacts). A keyed one replaces an ended record of the same key; if a
   * *live* one holds the key (dedupe off and an id reused), the new one is stored unkeyed. Returns the
   * record, or -1 when every record is live (the caller checked `canCreate`). (The numbers come in
   * objects: passed as arguments to a call that is not inlined, each would be allocated.)
   */
  create(f: ReservationOrder, a: ReservationAmounts, acc: number, pair: number, nowMs: number): number {
    const accountKey = f.accountKey;
    const idKey = f.idKey;
    const idHash = f.idHash;
    const clientOrderId = f.clientOrderId;
    const side = f.side;
    const notional = a.reserveNotional;
    let indexed = idKey !== 0;
    if (indexed) {
      this.idx.key[0] = accountKey;
      this.idx.key[1] = idKey;
      const old = this.idx.findK(idHash);
      if (old >= 0) {
        if (this.d[old * RS + R_STATE] === RES_ENDED) this.recycleEnded(old);
        else indexed = false;
      }
    }
    if (this.ctl[C_RES_FREE] === 0) {
      const oldest = this.ctl[C_RES_END_HEAD] | 0;
      if (oldest < 0) return -1;
      this.recycleEnded(oldest);
    }
    const top = (this.ctl[C_RES_FREE] | 0) - 1;
    const r = this.freeStack[top];
    this.ctl[C_RES_FREE] = top;
    const o = r * RS;
    const d = this.d;
    d[o + R_ACC_KEY] = accountKey;
    d[o + R_ID_KEY] = idKey;
    d[o + R_STATE] = RES_LIVE;
    d[o + R_ACC] = acc;
    d[o + R_PAIR] = pair;
    d[o + R_SIDE] = side;
    d[o + R_QTY] = f.qty;
    d[o + R_PRICE] = a.reservePrice;
    d[o + R_NOTIONAL] = notional;
    d[o + R_FILLED] = 0;
    d[o + R_CREATED] = nowMs;
    d[o + R_ENDED_AT] = 0;
    d[o + R_INDEXED] = indexed ? 1 : 0;
    d[o + R_TEXT_LEN] = clientOrderId === null ? 0 : writeText(this.text, o * 4 + R_TEXT * 4, CLIENT_ORDER_ID_CHARS, clientOrderId);
    if (indexed) this.idx.insertH(idHash, r);
    this.link(r, C_RES_LIVE_HEAD, C_RES_LIVE_TAIL);
    this.ctl[C_RES_LIVE]++;
    this.accounts.addOpen(acc, 1, notional);
    this.pairs.addReserved(pair, side, notional, 1);
    return r;
  }

  /**
   * A post-trade record's cumulative `filled` for reservation `r`: returns the new fill (filled minus what
   * was already applied, ≥ 0) and, for a live one, shrinks the reserved notional to the unfilled rest.
   */
  applyFilled(r: number, filledCum: number): number {
    const o = r * RS;
    const before = this.d[o + R_FILLED];
    if (!(filledCum > before)) return 0;
    this.d[o + R_FILLED] = filledCum;
    if (this.d[o + R_STATE] === RES_LIVE) {
      const rest = Math.max(0, this.d[o + R_QTY] - filledCum);
      const notional = rest * this.d[o + R_PRICE];
      const delta = (notional === notional ? notional : 0) - this.d[o + R_NOTIONAL];
      this.d[o + R_NOTIONAL] += delta;
      this.accounts.addReserved(this.d[o + R_ACC] | 0, delta);
      this.pairs.addReserved(this.d[o + R_PAIR] | 0, this.d[o + R_SIDE], delta, 0);
    }
    return filledCum - before;
  }

  /**
   * Ends a live reservation: its remaining notional is released. `remember` keeps it findable (ended) so a
   * late record applies only new fills — used for an expiry after partial fills; a final outcome frees
   * the record at once (LIFO: the next reservation reuses a record still in cache).
   */
  end(r: number, nowMs: number, remember = false): void {
    const o = r * RS;
    if (this.d[o + R_STATE] !== RES_LIVE) return;
    const notional = this.d[o + R_NOTIONAL];
    this.accounts.addOpen(this.d[o + R_ACC] | 0, -1, -notional);
    this.pairs.addReserved(this.d[o + R_PAIR] | 0, this.d[o + R_SIDE], -notional, -1);
    // no touch: an expiry is not activity (buckets are consumed only by decisions, which touch)
    this.unlink(r, C_RES_LIVE_HEAD, C_RES_LIVE_TAIL);
    this.ctl[C_RES_LIVE]--;
    this.d[o + R_NOTIONAL] = 0;
    this.d[o + R_ENDED_AT] = nowMs;
    if (this.d[o + R_INDEXED] === 1 && remember) {
      this.d[o + R_STATE] = RES_ENDED;
      this.link(r, C_RES_END_HEAD, C_RES_END_TAIL);
      this.ctl[C_RES_ENDED]++;
    } else {
      if (this.d[o + R_INDEXED] === 1) this.unindex(r);
      this.free(r);
    }
  }

  /** Some live reservation was created at or before `nowMs − ttlMs` (one word read). */
  expiryDue(nowMs: number, ttlMs: number): boolean {
    return this.ctl[C_RES_HEAD_CREATED] + ttlMs <= nowMs;
  }

  /**
   * Ends every live reservation created at or before `nowMs − ttlMs` and returns them (oldest first) for
   * RESERVATION.EXPIRED; `null` (no allocation) when none is due — the common case costs one comparison.
   */
  expireDue(nowMs: number, ttlMs: number): ExpiredReservation[] | null {
    if (!this.expiryDue(nowMs, ttlMs)) return null;
    let out: ExpiredReservation[] | null = null;
    for (;;) {
      const r = this.ctl[C_RES_LIVE_HEAD] | 0;
      if (r < 0 || this.d[r * RS + R_CREATED] + ttlMs > nowMs) return out;
      (out ??= []).push(this.describe(r));
      this.end(r, nowMs, this.d[r * RS + R_FILLED] > 0);
    }
  }

  describe(r: number): ExpiredReservation {
    const o = r * RS;
    const pair = this.d[o + R_PAIR];
    return {
      account: this.accounts.label(this.d[o + R_ACC]),
      symbol: this.pairs.label(pair),
      clientOrderId: this.clientOrderId(r),
      side: this.d[o + R_SIDE],
      qty: this.d[o + R_QTY],
      notional: this.d[o + R_NOTIONAL],
      createdMs: this.d[o + R_CREATED],
    };
  }

  /** live reservation records, oldest first */
  *liveRecords(): Generator<number> {
    for (let r = this.ctl[C_RES_LIVE_HEAD] | 0; r >= 0; r = this.d[r * RS + R_NEXT] | 0) yield r;
  }

  pairOf(r: number): number {
    return this.d[r * RS + R_PAIR] | 0;
  }
  accountOf(r: number): number {
    return this.d[r * RS + R_ACC] | 0;
  }

  private recycleEnded(r: number): void {
    this.unlink(r, C_RES_END_HEAD, C_RES_END_TAIL);
    this.ctl[C_RES_ENDED]--;
    this.unindex(r);
    this.free(r);
  }

  private unindex(r: number): void {
    const o = r * RS;
    this.idx.removeRecord(keyHash(this.d[o + R_ACC_KEY], this.d[o + R_ID_KEY]), r);
  }

  private free(r: number): void {
    const o = r * RS;
    this.d[o + R_STATE] = RES_FREE;
    this.d[o + R_PREV] = -1;
    this.d[o + R_NEXT] = -1;
    const top = this.ctl[C_RES_FREE] | 0;
    this.freeStack[top] = r;
    this.ctl[C_RES_FREE] = top + 1;
  }

  /** Appends `r` to a list (live: C_RES_LIVE_HEAD/TAIL, ended: C_RES_END_HEAD/TAIL); the live head's created time is kept in ctl. */
  private link(r: number, cHead: number, cTail: number): void {
    const o = r * RS;
    const tail = this.ctl[cTail] | 0;
    this.d[o + R_PREV] = tail;
    this.d[o + R_NEXT] = -1;
    if (tail >= 0) this.d[tail * RS + R_NEXT] = r;
    else {
      this.ctl[cHead] = r;
      if (cHead === C_RES_LIVE_HEAD) this.ctl[C_RES_HEAD_CREATED] = this.d[o + R_CREATED];
    }
    this.ctl[cTail] = r;
  }

  private unlink(r: number, cHead: number, cTail: number): void {
    const o = r * RS;
    const prev = this.d[o + R_PREV] | 0;
    const next = this.d[o + R_NEXT] | 0;
    if (prev >= 0) this.d[prev * RS + R_NEXT] = next;
    else {
      this.ctl[cHead] = next;
      if (cHead === C_RES_LIVE_HEAD) this.ctl[C_RES_HEAD_CREATED] = next >= 0 ? this.d[next * RS + R_CREATED] : Infinity;
    }
    if (next >= 0) this.d[next * RS + R_PREV] = prev;
    else this.ctl[cTail] = prev;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The idempotency memory (§3 rule 1): (account, client_order_id) → hash of the `order` object and the
 * original answer text, for `dedupe_window_s`. Records form a ring in creation order (= expiry order);
 * answers live in a byte ring arena (UTF-8) addressed by absolute positions, so an answer overwritten by
 * later ones is detected (position older than one arena length) instead of being read corrupted.
 * The answer is stored after the decision is encoded (outside the decision's critical section, in a
 * second short one): between the two the record is "pending".
 *
 * Expiry is amortised: `sweep` drops at most DEDUPE_SWEEP_PER_CALL expired ids from the head of the
 * ring, reading only the compact created times and leaving the index alone: an entry whose record left
 * the ring is dead, skipped and removed by the probes that meet it and by each insertion's cleaning of
 * the cache line it touches (KeyIndex.cleanLine), with a full cleaning when live and dead entries
 * together would fill more than 3/4 of the index (`C_DD_ENTRIES`). `find` treats an expired id it meets as absent
 * (and drops its entry), so what a decision sees is exactly "remembered within the window".
 */
export class DedupeMemory {
  readonly capacity: number;
  private readonly d: Float64Array;
  /** created time per record: the sweep reads these, not the records */
  private readonly w: Float64Array;
  /** dead entries a probe removed (KeyIndex.findLive) */
  private readonly removed = new Int32Array(1);
  private readonly idx: KeyIndex;
  private readonly ctl: Float64Array;
  private readonly arena: Uint8Array;
  /** the arena as a Buffer: `write` encodes UTF-8 in place, without a subarray or a result object */
  private readonly arenaBuf: Buffer;

  constructor(d: Float64Array, w: Float64Array, idx: KeyIndex, ctl: Float64Array, arena: Uint8Array) {
    this.d = d;
    this.w = w;
    this.capacity = d.length / DS;
    this.idx = idx;
    this.ctl = ctl;
    this.arena = arena;
    this.arenaBuf = Buffer.from(arena.buffer, arena.byteOffset, arena.length);
  }

  init(): void {
    this.d.fill(0);
    this.w.fill(0);
    this.idx.clear();
    this.ctl[C_DD_HEAD] = 0;
    this.ctl[C_DD_COUNT] = 0;
    this.ctl[C_DD_ENTRIES] = 0;
    this.ctl[C_ANSWER_POS] = 0;
    this.ctl[C_ANSWER_OFF] = 0;
  }

  /** ids in the ring (expired ones not swept yet included) */
  get count(): number {
    return this.ctl[C_DD_COUNT];
  }

  /**
   * Forgets ids created at or before `nowMs − windowMs` (age ≥ window: a new decision), oldest first, at
   * most `limit` of them (DEDUPE_SWEEP_PER_CALL by default; Infinity = all).
   */
  sweep(nowMs: number, windowMs: number, limit = DEDUPE_SWEEP_PER_CALL): void {
    const w = this.w;
    const ctl = this.ctl;
    for (let n = 0; n < limit && ctl[C_DD_COUNT] > 0; n++) {
      const r = ctl[C_DD_HEAD] | 0;
      if (w[r * WS] + windowMs > nowMs) return;
      // its index entry is dead from now on (the record is outside the live range)
      ctl[C_DD_HEAD] = r + 1 === this.capacity ? 0 : r + 1;
      ctl[C_DD_COUNT]--;
    }
  }

  /** Record `r` is in the ring (remembered, possibly expired and not swept yet). */
  private live(r: number): boolean {
    let i = r - this.ctl[C_DD_HEAD];
    if (i < 0) i += this.capacity;
    return i < this.ctl[C_DD_COUNT];
  }

  /** index entries (dead ones not removed yet included) */
  get entries(): number {
    return this.ctl[C_DD_ENTRIES];
  }

  /** The record of (account key, id key) remembered within the window, or -1. */
  find(accountKey: number, idKey: number, nowMs: number, windowMs: number): number {
    return this.findH(accountKey, idKey, keyHash(accountKey, idKey), nowMs, windowMs);
  }

  /** `find` with keyHash(account key, id key) computed already (ControlsFacts.idHash). */
  findH(accountKey: number, idKey: number, h: number, nowMs: number, windowMs: number): number {
    this.idx.key[0] = accountKey;
    this.idx.key[1] = idKey;
    return this.findK(h, nowMs, windowMs);
  }

  /** `find` of a request's facts (accountKey, idKey, idHash). */
  findF(f: { readonly accountKey: number; readonly idKey: number; readonly idHash: number }, nowMs: number, windowMs: number): number {
    this.idx.key[0] = f.accountKey;
    this.idx.key[1] = f.idKey;
    return this.findK(f.idHash, nowMs, windowMs);
  }

  private findK(h: number, nowMs: number, windowMs: number): number {
    const ctl = this.ctl;
    const removed = this.removed;
    removed[0] = 0;
    const r = this.idx.findLive(h, ctl[C_DD_HEAD] | 0, ctl[C_DD_COUNT] | 0, this.capacity, removed);
    ctl[C_DD_ENTRIES] -= removed[0];
    if (r < 0) return -1;
    if (this.d[r * DS + D_CREATED] + windowMs > nowMs) return r;
    // expired, not swept yet: its entry goes now (its ring slot when the sweep reaches it)
    this.idx.removeRecord(h, r);
    ctl[C_DD_ENTRIES]--;
    return -1;
  }

  get full(): boolean {
    return this.ctl[C_DD_COUNT] >= this.capacity;
  }

  /** Room for one more id: when the ring is full, every expired id is swept first. */
  hasRoom(nowMs: number, windowMs: number): boolean {
    if (this.ctl[C_DD_COUNT] < this.capacity) return true;
    this.sweep(nowMs, windowMs, Infinity);
    return this.ctl[C_DD_COUNT] < this.capacity;
  }

  /** creation time of the oldest remembered id (NaN when empty) */
  oldestCreatedMs(): number {
    return this.ctl[C_DD_COUNT] > 0 ? this.d[(this.ctl[C_DD_HEAD] | 0) * DS + D_CREATED] : NaN;
  }

  orderHash(r: number): number {
    return this.d[r * DS + D_ORDER_HASH];
  }
  createdMs(r: number): number {
    return this.d[r * DS + D_CREATED];
  }

  /** Remembers a new id (absent, memory not full: the caller checked) with its answer pending. */
  remember(accountKey: number, idKey: number, orderHash: number, nowMs: number): number {
    return this.rememberH(accountKey, idKey, keyHash(accountKey, idKey), orderHash, nowMs);
  }

  /** `remember` with keyHash(account key, id key) computed already (ControlsFacts.idHash). */
  rememberH(accountKey: number, idKey: number, h: number, orderHash: number, nowMs: number): number {
    return this.rememberF({ accountKey, idKey, idHash: h, orderHash }, nowMs);
  }

  /** `remember` of a request's facts (accountKey, idKey, idHash, orderHash). */
  rememberF(f: { readonly accountKey: number; readonly idKey: number; readonly idHash: number; readonly orderHash: number }, nowMs: number): number {
    const accountKey = f.accountKey;
    const idKey = f.idKey;
    const h = f.idHash;
    const orderHash = f.orderHash;
    const ctl = this.ctl;
    const head = ctl[C_DD_HEAD] | 0;
    const count = ctl[C_DD_COUNT] | 0;
    // dead entries: those of the line this insertion touches anyway (that keeps them at ~60 % of the live
    // ones in steady state); all of them when the index would be more than 3/4 full
    ctl[C_DD_ENTRIES] -= this.idx.cleanLine(h, head, count, this.capacity);
    if (ctl[C_DD_ENTRIES] >= (this.idx.slots * 3) >> 2) ctl[C_DD_ENTRIES] -= this.idx.cleanAll(head, count, this.capacity);
    let r = (head + count) | 0;
    if (r >= this.capacity) r -= this.capacity;
    const o = r * DS;
    const d = this.d;
    d[o + D_ACC_KEY] = accountKey;
    d[o + D_ID_KEY] = idKey;
    d[o + D_ORDER_HASH] = orderHash;
    d[o + D_CREATED] = nowMs;
    d[o + D_ANSWER_POS] = ANSWER_PENDING;
    d[o + D_ANSWER_LEN] = 0;
    this.w[r * WS] = nowMs;
    this.idx.insertH(h, r);
    ctl[C_DD_ENTRIES]++;
    ctl[C_DD_COUNT]++;
    return r;
  }

  /**
   * Stores the original answer of record `r`, if it still belongs to (account key, id key) — it may have
   * expired between the two critical sections. An answer longer than a quarter of the arena is not
   * stored (a retry is then refused rather than decided twice). Returns whether it was stored.
   */
  storeAnswer(r: number, accountKey: number, idKey: number, text: string): boolean {
    if (r < 0) return false;
    const o = r * DS;
    const d = this.d;
    if (d[o + D_ACC_KEY] !== accountKey || d[o + D_ID_KEY] !== idKey || d[o + D_ANSWER_POS] !== ANSWER_PENDING || !this.live(r)) return false;
    const size = this.arena.length;
    const max = text.length * 3;
    if (max > size / 4) {
      d[o + D_ANSWER_POS] = ANSWER_TOO_LONG;
      return false;
    }
    const ctl = this.ctl;
    let pos = ctl[C_ANSWER_POS];
    let off = ctl[C_ANSWER_OFF];
    if (off + max > size) {
      pos += size - off;
      off = 0;
    }
    const written = this.arenaBuf.write(text, off, max, 'utf8');
    d[o + D_ANSWER_POS] = pos;
    d[o + D_ANSWER_LEN] = written;
    ctl[C_ANSWER_POS] = pos + written;
    ctl[C_ANSWER_OFF] = off + written;
    return true;
  }

  /** The original answer of record `r`: its text, 'pending' (not stored yet) or null (not stored / overwritten). */
  answer(r: number): string | 'pending' | null {
    const o = r * DS;
    const pos = this.d[o + D_ANSWER_POS];
    if (pos === ANSWER_PENDING) return 'pending';
    if (pos < 0) return null;
    const size = this.arena.length;
    if (this.ctl[C_ANSWER_POS] > pos + size) return null;
    const off = pos % size;
    return decoder.decode(this.arena.slice(off, off + this.d[o + D_ANSWER_LEN]));
  }
}

/**
 * What a decision reads from its account and pair records, gathered by one call (`ControlsState.gather`)
 * into number fields: the rules then compare plain numbers. (Reading them through one small method each
 * cost more than the reads: every call that returns a double not inlined by the compiler allocates it.)
 * A record that does not exist yet reads as zeros (buckets full).
 */
export class RecordReads {
  /** pair: signed position qty and entry notional, reserved notional per side, LIMIT.NEAR flags */
  posQty = 0;
  posCost = 0;
  resBuy = 0;
  resSell = 0;
  pairNear = 0;
  /** account: open orders, reserved notional, Σ|positions|, LIMIT.NEAR flags */
  open = 0;
  reserved = 0;
  gross = 0;
  accNear = 0;
  /** buckets as stored: tokens used and when (refill to now with rules.ts bucketUsed) */
  accSecUsed = 0;
  accSecAt = 0;
  accMinUsed = 0;
  accMinAt = 0;
  symSecUsed = 0;
  symSecAt = 0;
  symMinUsed = 0;
  symMinAt = 0;
}

/** The desk-control region: sub-tables plus the trading-state word, the live config and `lostFills`. */
export class ControlsState {
  readonly sizes: ControlsSizes;
  readonly ctl: Float64Array;
  readonly accounts: AccountTable;
  readonly pairs: PairTable;
  readonly reservations: ReservationBook;
  readonly dedupe: DedupeMemory;
  private readonly configBytes: Uint8Array;

  /** Views over `bytesNeeded(sizes)` bytes of `buffer` from `byteOffset` (a multiple of 8). */
  constructor(buffer: ArrayBuffer | SharedArrayBuffer, byteOffset: number, sizes: ControlsSizes) {
    const l = layout(sizes);
    if (byteOffset % 8 !== 0) throw new Error('controls state offset must be a multiple of 8');
    if (buffer.byteLength < byteOffset + l.bytes) throw new Error(`controls state buffer too small: ${buffer.byteLength} < ${byteOffset + l.bytes}`);
    this.sizes = { ...sizes };
    const F = (n: string) => new Float64Array(buffer, byteOffset + l.f64[n][0], l.f64[n][1]);
    const I = (n: string) => new Int32Array(buffer, byteOffset + l.i32[n][0], l.i32[n][1]);
    const H = (n: string) => new Uint16Array(buffer, byteOffset + l.u16[n][0], l.u16[n][1]);
    const B = (n: string) => new Uint8Array(buffer, byteOffset + l.u8[n][0], l.u8[n][1]);
    this.ctl = F('ctl');
    const acc = F('acc');
    const pair = F('pair');
    const res = F('res');
    const dd = F('dd');
    this.accounts = new AccountTable(acc, new KeyIndex(I('accIdx'), acc, AS, T_K1, T_K2), H('accText'), this.ctl);
    this.pairs = new PairTable(pair, new KeyIndex(I('pairIdx'), pair, PS, T_K1, T_K2), H('pairText'), this.ctl, this.accounts);
    const ids = I('idIdx');
    this.reservations = new ReservationBook(res, I('resFree'), new KeyIndex(ids, res, RS, R_ACC_KEY, R_ID_KEY, 2, 1), this.ctl, this.accounts, this.pairs);
    this.dedupe = new DedupeMemory(dd, F('ddCreated'), new KeyIndex(ids, dd, DS, D_ACC_KEY, D_ID_KEY, 2, 0), this.ctl, B('answers'));
    const pairs = this.pairs;
    this.accounts.onEvictAccount = (r) => pairs.evictAccountPairs(r);
    this.configBytes = B('config');
  }

  static bytesNeeded(sizes: ControlsSizes): number {
    return layout(sizes).bytes;
  }

  /** Reads account record `acc` and pair record `pair` (-1: not created yet: zeros) into `out`. */
  gather(acc: number, pair: number, out: RecordReads): void {
    if (acc >= 0) {
      const a = this.accounts.d;
      const o = acc * AS;
      out.open = a[o + A_OPEN];
      out.reserved = a[o + A_RESERVED];
      out.gross = a[o + A_GROSS];
      out.accNear = a[o + A_NEAR];
      out.accSecUsed = a[o + B_SEC];
      out.accSecAt = a[o + B_SEC + 1];
      out.accMinUsed = a[o + B_MIN];
      out.accMinAt = a[o + B_MIN + 1];
    } else {
      out.open = 0;
      out.reserved = 0;
      out.gross = 0;
      out.accNear = 0;
      out.accSecUsed = 0;
      out.accSecAt = 0;
      out.accMinUsed = 0;
      out.accMinAt = 0;
    }
    if (pair >= 0) {
      const p = this.pairs.d;
      const o = pair * PS;
      out.posQty = p[o + P_QTY];
      out.posCost = p[o + P_COST];
      out.resBuy = p[o + P_RES_BUY];
      out.resSell = p[o + P_RES_SELL];
      out.pairNear = p[o + P_NEAR];
      out.symSecUsed = p[o + B_SEC];
      out.symSecAt = p[o + B_SEC + 1];
      out.symMinUsed = p[o + B_MIN];
      out.symMinAt = p[o + B_MIN + 1];
    } else {
      out.posQty = 0;
      out.posCost = 0;
      out.resBuy = 0;
      out.resSell = 0;
      out.pairNear = 0;
      out.symSecUsed = 0;
      out.symSecAt = 0;
      out.symMinUsed = 0;
      out.symMinAt = 0;
    }
  }

  /**
   * An allowed decision's bookkeeping on its account and pair records: both touched at `nowMs`, and each
   * enabled bucket (`on` bits: 1 account/s, 2 account/min, 4 symbol/s, 8 symbol/min) set to its use in
   * `b` (refilled to `nowMs`, the token taken included).
   */
  takeTokens(acc: number, pair: number, nowMs: number, on: number, b: { accSec: number; accMin: number; symSec: number; symMin: number }): void {
    const a = this.accounts.d;
    const p = this.pairs.d;
    const oa = acc * AS;
    const op = pair * PS;
    a[oa + T_TOUCH] = nowMs;
    p[op + T_TOUCH] = nowMs;
    if ((on & 1) !== 0) {
      a[oa + B_SEC] = b.accSec;
      a[oa + B_SEC + 1] = nowMs;
    }
    if ((on & 2) !== 0) {
      a[oa + B_MIN] = b.accMin;
      a[oa + B_MIN + 1] = nowMs;
    }
    if ((on & 4) !== 0) {
      p[op + B_SEC] = b.symSec;
      p[op + B_SEC + 1] = nowMs;
    }
    if ((on & 8) !== 0) {
      p[op + B_MIN] = b.symMin;
      p[op + B_MIN + 1] = nowMs;
    }
  }

  /** A fresh region in its own buffer (shared when `shared`), initialised. */
  static create(sizes: ControlsSizes, tradingState: number, shared: boolean): ControlsState {
    const bytes = ControlsState.bytesNeeded(sizes);
    const st = new ControlsState(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes), 0, sizes);
    st.init(tradingState);
    return st;
  }

  /** Empties every table and sets the start-up trading state (0 ACTIVE, 1 REDUCING, 2 HALTED). */
  init(tradingState: number): void {
    this.ctl.fill(0);
    this.accounts.init();
    this.pairs.init();
    this.reservations.init();
    this.dedupe.init();
    this.ctl[C_TRADING_STATE] = tradingState;
    this.ctl[C_INIT] = 1;
  }

  get initialised(): boolean {
    return this.ctl[C_INIT] === 1;
  }

  get tradingState(): number {
    return this.ctl[C_TRADING_STATE];
  }
  set tradingState(code: number) {
    this.ctl[C_TRADING_STATE] = code;
  }

  /** post-trade fills that could not be recorded (pair table full): new exposure is refused while > 0 */
  get lostFills(): number {
    return this.ctl[C_LOST_FILLS];
  }
  noteLostFill(): void {
    this.ctl[C_LOST_FILLS]++;
  }
  clearLostFills(): void {
    this.ctl[C_LOST_FILLS] = 0;
  }

  /** Generation of the live controls section: a worker rebuilds its ControlsConfig when it changes. */
  get configGeneration(): number {
    return this.ctl[C_CONFIG_GEN];
  }

  /** Publishes the live controls section (JSON text); throws when it does not fit the arena. */
  publishConfig(json: string): void {
    const bytes = encoder.encode(json);
    if (bytes.length > this.configBytes.length) throw new Error(`controls configuration too large for shared state (${bytes.length} > ${this.configBytes.length} bytes)`);
    this.configBytes.set(bytes);
    this.ctl[C_CONFIG_LEN] = bytes.length;
    this.ctl[C_CONFIG_GEN]++;
  }

  /** The last published section text (null before any publish). */
  configText(): string | null {
    if (this.ctl[C_CONFIG_GEN] === 0) return null;
    return decoder.decode(this.configBytes.slice(0, this.ctl[C_CONFIG_LEN]));
  }
}

export { symbolKey };
