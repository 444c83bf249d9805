/**
 * Cost of the desk controls per decision (issue 13: "the controls add ≤ 0.3 µs median to the core
 * decision when on, and nothing measurable when off"), tinybench 6, measured like bench/core.bench.ts:
 * hrtime timestamps with the calibrated timer overhead subtracted; rows cheaper than a timer read are
 * timed in batches (tinybench `overriddenDuration` = batch time / batch) and their median is over batch
 * means.
 *
 *   npx tsx bench/controls.bench.ts [--quick]
 *
 * Rows (same workload for each configuration):
 * - `controls: <cfg>` (batched): what the controls add to one decision — checkControls +
 *   commitControls under the decision's lock, plus storeAnswer (the second short critical section that
 *   keeps the answer for idempotent replay). This is the criterion's number.
 * - `decide (no controls)` / `decide + controls (<cfg>)` (every call timed, as core.bench's decide rows):
 *   the core decision with and without the controls around it; their difference is the same cost seen
 *   through the per-call timer's noise.
 * - `controlsFacts (request → facts)` (batched): the per-request conversion done *outside* the lock
 *   (string hashes), the controls' analogue of core.bench's toDecisionInput row; not part of the criterion.
 *
 * Workload (simulated clock, deterministic): 4 accounts, 20 symbols (BTC 20 %, ETH 15 %, the rest even),
 * 100 orders/s (a decision every 10 ms), every order with a fresh client_order_id, limit prices within
 * the collar, fresh market data; ~10 % of orders are reduce-only exits of an open position. Post-trade
 * records arrive as a runner sends them, 50 ms–5 s after an allowed order (exponential, mean 1.5 s):
 * 65 % filled, 10 % partially filled then cancelled, 23 % cancelled, 2 % never reported (they expire at
 * the TTL, inside a later decision). Post-trade handling is its own request and is not timed; it runs
 * between batches / calls at its simulated time. The tables are primed for 120 simulated seconds first,
 * so every measured decision sees the steady state (≈ 6 000 remembered ids, ≈ 200 live reservations,
 * 80 pairs with positions).
 */
import os from 'node:os';
import { Bench, type Fn, type FnReturnedObject, type Task } from 'tinybench';
import { loadConfig, PACKAGE_ROOT } from '../../../src/config/load.ts';
import { buildControlsConfig, NO_CONTROLS, type ControlsConfig } from '../../../src/core/controls/config.ts';
import { applyPosttradeToControls, checkControls, commitControls, ControlsVerdict, storeAnswer, V_DENY, V_PASS, V_REPLAY } from '../../../src/core/controls/evaluate.ts';
import { controlsFacts, type ControlsFacts } from '../../../src/core/controls/facts.ts';
import { ControlsState, DEFAULT_CONTROLS_SIZES } from '../../../src/core/controls/state.ts';
import { toDecisionInput } from '../../../src/core/inputs.ts';
import { decide, type Decision } from '../../../src/core/pipeline.ts';
import { GateState } from '../../../src/shm/state/gate-state.ts';
import { encodeResponse, SYSTEM_CLOCK } from '../../../src/gate/pretrade.ts';
import type { ControlsSection } from '../../../src/schema/controls.ts';
import { PretradeCheckRequest } from '../../../src/schema/pretrade.ts';
import { compileValidator } from '../../../src/schema/validate.ts';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
/** `--only TEXT`: run only the tasks whose name contains TEXT (profiling) */
const ONLY = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : null;
const BUDGET = QUICK ? { time: 400, warmupTime: 100 } : { time: 1500, warmupTime: 300 };
const BATCH = 100;
const LIMIT_NS = 300;
const progress = (line: string) => process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------------
// configurations

const SYMBOLS = [
  'BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'XRP/USDT', 'BNB/USDT', 'ADA/USDT', 'AVAX/USDT', 'LINK/USDT', 'DOT/USDT', 'MATIC/USDT',
  'LTC/USDT', 'TRX/USDT', 'ATOM/USDT', 'NEAR/USDT', 'APT/USDT', 'ARB/USDT', 'OP/USDT', 'FIL/USDT', 'INJ/USDT', 'SUI/USDT',
];
const MIDS = [60_000, 3_000, 150, 0.6, 550, 0.45, 35, 15, 7, 0.7, 80, 0.12, 9, 5, 9, 1.1, 2.2, 5.5, 25, 1.2];
const ACCOUNTS = ['desk-a', 'desk-b', 'desk-c', 'desk-d'];

/** stateless controls only: lists, window, qty, notional, collar, market age */
const STATELESS: ControlsSection = {
  symbols_allowed: SYMBOLS,
  symbols_blocked: ['LUNA/USDT', 'FTT/USDT'],
  trading_windows_utc: [['00:00', '24:00']],
  max_order_qty: { 'BTC/USDT': 5, 'ETH/USDT': 100, '*': 1_000_000 },
  max_order_notional_usdt: 250_000,
  price_collar_bps: 150,
  max_market_age_ms: 2_000,
};
/** the configs/desk.yaml shape: every control on at a desk's values */
const DESK: ControlsSection = {
  ...STATELESS,
  rate: { account_per_s: 50, account_per_min: 2_000, symbol_per_s: 20, symbol_per_min: 600 },
  dedupe_window_s: 60,
  reservation_ttl_ms: 30_000,
  max_position_notional_usdt: 500_000,
  max_gross_notional_usdt: 2_000_000,
  max_open_orders: 200,
  alert_utilization: 0.8,
};

// ---------------------------------------------------------------------------------------------------
// workload

const T0 = Date.UTC(2025, 0, 6, 12, 0, 0);
const STEP_MS = 10;

/** xorshift32: the same order stream for every configuration and every run */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

interface Due {
  t: number;
  payload: Record<string, unknown>;
  /** position slot and the signed quantity the gate adds to it on this record (the runner's own book) */
  slot: number;
  delta: number;
}

/** min-heap of post-trade records by time */
class DueHeap {
  private a: Due[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): Due | undefined {
    return this.a[0];
  }
  push(x: Due): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].t <= a[i].t) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): Due {
    const a = this.a;
    const top = a[0];
    const last = a.pop() as Due;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l].t < a[m].t) m = l;
        if (r < a.length && a[r].t < a[m].t) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

interface Order {
  account: string;
  symbol: string;
  side: 'buy' | 'sell';
  qty: number;
  price: number;
  cid: string;
  reduceOnly: boolean;
  slot: number;
}

/**
 * One desk: its controls state, simulated clock, order stream and post-trade feedback. `prepare(n)`
 * builds the next n requests' facts (outside the timed region) and delivers the post-trade records due
 * by then; `feedback` schedules the post-trade records of the decisions just made.
 */
class DeskSim {
  readonly st = ControlsState.create(DEFAULT_CONTROLS_SIZES, 0, false);
  readonly v = new ControlsVerdict();
  now = T0;
  private seq = 0;
  private readonly rnd = rng(0x5eed);
  private readonly due = new DueHeap();
  readonly facts: ControlsFacts[] = [];
  readonly times: number[] = [];
  readonly orders: Order[] = [];
  readonly kinds = new Int8Array(BATCH);
  readonly counts = { decisions: 0, allowed: 0, denied: 0, replayed: 0, posttrade: 0 };
  readonly reasons = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly cfg: ControlsConfig,
  ) {}

  private pick(): number {
    const x = this.rnd();
    if (x < 0.2) return 0;
    if (x < 0.35) return 1;
    return 2 + Math.floor(((x - 0.35) / 0.65) * 18);
  }


  private nextOrder(): Order {
    const r = this.rnd;
    const account = ACCOUNTS[Math.floor(r() * ACCOUNTS.length)];
    const s = this.pick();
    const symbol = SYMBOLS[s];
    const mid = MIDS[s];
    const pos = this.positions[ACCOUNTS.indexOf(account) * SYMBOLS.length + s];
    let side: 'buy' | 'sell';
    let qty: number;
    let reduceOnly = false;
    if (pos !== 0 && r() < 0.1) {
      // an exit: reduce-only, opposite side, at most the open quantity
      reduceOnly = true;
      side = pos > 0 ? 'sell' : 'buy';
      qty = Math.abs(pos) * (0.25 + 0.75 * r());
    } else {
      // lean against the position so exposure stays bounded (a desk's inventory control)
      const lean = Math.max(-0.8, Math.min(0.8, (pos * mid) / 100_000));
      side = r() < 0.5 + lean / 2 ? 'sell' : 'buy';
      qty = (1_000 + r() * 19_000) / mid;
    }
    qty = Math.round(qty * 1e6) / 1e6 || 1e-6;
    const off = (r() - 0.5) * 0.004; // ±20 bps around mid
    const price = Math.round(mid * (1 + off) * 1e4) / 1e4;
    const slot = ACCOUNTS.indexOf(account) * SYMBOLS.length + s;
    return { account, symbol, side, qty, price, cid: `${account}-${(++this.seq).toString(36).padStart(8, '0')}`, reduceOnly, slot };
  }

  /** open positions as the runner knows them (from the fills it reports) */
  private readonly positions = new Float64Array(ACCOUNTS.length * SYMBOLS.length);

  /** post-trade records due at or before `t` */
  private deliver(t: number): void {
    for (let d = this.due.peek(); d !== undefined && d.t <= t; d = this.due.peek()) {
      this.due.pop();
      applyPosttradeToControls(this.st, this.cfg, d.payload, d.t);
      this.positions[d.slot] += d.delta;
      this.counts.posttrade++;
    }
  }

  /** the next n requests (facts built as the service builds them, outside the lock) */
  prepare(n: number): void {
    this.deliver(this.now + STEP_MS);
    this.facts.length = 0;
    this.times.length = 0;
    this.orders.length = 0;
    for (let k = 0; k < n; k++) {
      this.now += STEP_MS;
      const o = this.nextOrder();
      const order: Record<string, unknown> = { symbol: o.symbol, side: o.side, qty: o.qty, price: o.price, type: 'limit', client_order_id: o.cid };
      if (o.reduceOnly) order.reduce_only = true;
      const jitter = Math.floor(this.rnd() * 200);
      this.facts.push(controlsFacts({ account: { account_id: o.account, mode: 'paper' }, order, market: { mid: MIDS[SYMBOLS.indexOf(o.symbol)], ts_ms: this.now - jitter } }));
      this.times.push(this.now);
      this.orders.push(o);
    }
  }

  /** schedules the post-trade records of the decisions just made (`kinds[k]`: V_PASS / V_DENY / V_REPLAY, or 3 = denied by the pipeline) */
  feedback(n: number): void {
    const r = this.rnd;
    for (let k = 0; k < n; k++) {
      const kind = this.kinds[k];
      this.counts.decisions++;
      if (kind === V_PASS) this.counts.allowed++;
      else if (kind === V_REPLAY) this.counts.replayed++;
      else this.counts.denied++;
      if (kind !== V_PASS) continue;
      const o = this.orders[k];
      const t = this.times[k] + 50 + Math.min(4_950, -Math.log(1 - r()) * 1_500);
      const x = r();
      const base = { account_id: o.account, client_order_id: o.cid, symbol: o.symbol, side: o.side };
      const sign = o.side === 'buy' ? 1 : -1;
      const slot = o.slot;
      // the gate applies a partial record only to an order that holds a reservation (not a verified reduce-only one)
      const reserved = !o.reduceOnly && this.cfg.exposureOn;
      if (x < 0.65) this.due.push({ t, slot, delta: sign * o.qty, payload: { ...base, status: 'closed', filled: o.qty, average: o.price } });
      else if (x < 0.75) {
        const part = Math.round(o.qty * 0.4 * 1e6) / 1e6;
        this.due.push({ t, slot, delta: reserved ? sign * part : 0, payload: { ...base, status: 'open', filled: part, average: o.price } });
        this.due.push({ t: t + 200, slot, delta: reserved ? 0 : sign * part, payload: { ...base, status: 'canceled', filled: part, average: o.price } });
      } else if (x < 0.98) this.due.push({ t, slot, delta: 0, payload: { ...base, status: 'canceled', filled: 0 } });
      // else: never reported, expires at the TTL
    }
  }

  noteDenial(): void {
    const reason = this.v.denial?.reason ?? '?';
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
  }

  stateLine(): string {
    const st = this.st;
    let pos = 0;
    for (const p of st.pairs.records()) if (st.pairs.positionQty(p) !== 0) pos++;
    return `ids ${st.dedupe.count}, live reservations ${st.reservations.live}, ended ${st.reservations.ended}, accounts ${st.accounts.count}, pairs ${st.pairs.count} (${pos} with a position)`;
  }
}

// ---------------------------------------------------------------------------------------------------
// the answer a remembered id keeps (a realistic encoded allow), and the core decision

const app = loadConfig({}, PACKAGE_ROOT);
const coreCfg = app.core;
const validator = compileValidator<PretradeCheckRequest>(PretradeCheckRequest);
const BODY_ALLOWED =
  '{"ts":1700000000000,"req_id":"bench-1","account":{"mode":"paper","account_id":"acc-1"},' +
  '"order":{"symbol":"BTCUSDT","side":"buy","qty":0.01,"price":50000.0,"base_notional":500.0},' +
  '"market":{"latency_ms":5.0,"slip_bps_est":1.0,"a_bps":10.0,"b_bps":20.0,"spread_bps":2.0,"score":1.0,' +
  '"mode_regime":"normal","trap_cancel_deltas":[1,1,1,1,1],"trap_add_deltas":[1,1,1,1,1],"trap_trades_cnt":3,' +
  '"obi_sign":1,"tfi_sign":1,"pnl_today_pct":-1.0,"open_positions":1},"fees_bps":1.0}';
const parsed: unknown = JSON.parse(BODY_ALLOWED);
if (!validator.check(parsed)) throw new Error('benchmark body does not validate');
const inAllowed = toDecisionInput(parsed, coreCfg.defaultMode);
const newGate = () => GateState.create(app.service.stateSizes, coreCfg.risk, false);
const sample = decide(newGate(), coreCfg, inAllowed, SYSTEM_CLOCK.wallSec(), SYSTEM_CLOCK.monoMs);
const ANSWER = encodeResponse(sample, JSON.stringify({ ...sample.observability, controls: { reserved_usdt: 1234.5, quotas: { trades_pm_left: 1999, symbol_exposure_left_usdt: 498765.4, account_exposure_left_usdt: 1987654.3, orders_ps_left: 49, open_orders_left: 150 } } }));

// ---------------------------------------------------------------------------------------------------
// tasks

interface Spec {
  name: string;
  batch: number;
  fn: () => void;
  beforeEach: () => void;
  afterEach?: () => void;
  sim?: DeskSim;
  prime?: () => void;
}

const CONFIGS: Array<[string, ControlsConfig]> = [
  ['off', NO_CONTROLS],
  ['stateless', buildControlsConfig(STATELESS)],
  ['desk: everything on', buildControlsConfig(DESK)],
];
/** `--ablate`: the desk with one group of controls off, to see where its cost is */
const ABLATE = argv.includes('--ablate');
const without = (...keys: Array<keyof ControlsSection>): ControlsSection => {
  const s: Record<string, unknown> = { ...DESK };
  for (const k of keys) delete s[k];
  return s as ControlsSection;
};
const ABLATIONS: Array<[string, ControlsConfig]> = ABLATE
  ? [
      ['desk − dedupe', buildControlsConfig(without('dedupe_window_s'))],
      ['desk − exposure', buildControlsConfig(without('max_position_notional_usdt', 'max_gross_notional_usdt', 'max_open_orders'))],
      ['desk − rates', buildControlsConfig(without('rate'))],
      ['desk − rates − exposure', buildControlsConfig(without('rate', 'max_position_notional_usdt', 'max_gross_notional_usdt', 'max_open_orders'))],
    ]
  : [];

function primeSim(sim: DeskSim, run: (sim: DeskSim, n: number) => void): void {
  const until = sim.now + 120_000;
  while (sim.now < until) {
    sim.prepare(BATCH);
    run(sim, BATCH);
    sim.feedback(BATCH);
  }
  for (const k of Object.keys(sim.counts) as Array<keyof typeof sim.counts>) sim.counts[k] = 0;
  sim.reasons.clear();
}

/** the controls' part of one decision: check + commit under the lock, the answer kept in a second one */
function controlsBatch(sim: DeskSim, n: number): void {
  const { cfg, st, v, facts, times, kinds } = sim;
  for (let k = 0; k < n; k++) {
    const f = facts[k];
    const now = times[k];
    checkControls(cfg, st, f, now, v);
    const kind = v.kind;
    if (kind !== V_REPLAY) {
      commitControls(cfg, st, f, now, v, kind === V_PASS);
      if (v.dedupeRecord >= 0) storeAnswer(st, f, v, ANSWER);
    }
    kinds[k] = kind;
    if (kind === V_DENY) sim.noteDenial();
  }
}


const pn = () => performance.now();
let cal = 0;
{ let t = pn(); for (let i = 0; i < 1e6; i++) { const a = pn(); cal += pn() - a; } cal /= 1e6; }
const acc = new Float64Array(8);
const SAMP = new Float64Array(200000); let ns = 0;
let nDec = 0;
function diagBatch(sim: DeskSim, n: number): void {
  const { cfg, st, v, facts, times, kinds } = sim;
  for (let k = 0; k < n; k++) {
    const f = facts[k];
    const now = times[k];
    let t0 = pn();
    checkControls(cfg, st, f, now, v);
    let t1 = pn(); acc[0] += t1 - t0 - cal; if (ns < SAMP.length) SAMP[ns++] = (t1 - t0 - cal) * 1e6;
    const kind = v.kind;
    if (kind !== V_REPLAY) {
      t0 = pn();
      commitControls(cfg, st, f, now, v, kind === V_PASS);
      t1 = pn(); acc[1] += t1 - t0 - cal;
      t0 = pn();
      if (v.dedupeRecord >= 0) storeAnswer(st, f, v, ANSWER);
      t1 = pn(); acc[2] += t1 - t0 - cal;
    }
    kinds[k] = kind;
    if (v.events.length) acc[3]++;
  }
  nDec += n;
}
const which = (process.env.CFG ?? 'desk');
const sim = new DeskSim('d', which === 'desk' ? buildControlsConfig(DESK) : buildControlsConfig(STATELESS));
primeSim(sim, controlsBatch);
for (let rep = 0; rep < 3; rep++) {
  acc.fill(0); nDec = 0; ns = 0;
  const tEnd = pn() + 2000;
  let timed = 0;
  while (pn() < tEnd) { sim.prepare(BATCH); const a = pn(); diagBatch(sim, BATCH); timed += pn() - a; sim.feedback(BATCH); }
  console.log(`cal ${(cal*1e6).toFixed(0)} ns; per decision: check ${(acc[0]*1e6/nDec).toFixed(0)}, commit ${(acc[1]*1e6/nDec).toFixed(0)}, store ${(acc[2]*1e6/nDec).toFixed(0)}, events ${(acc[3]/nDec).toFixed(3)}, batch total ${(timed*1e6/nDec).toFixed(0)} ns`);
  const a = Array.from(SAMP.subarray(0, ns)).sort((x, y) => x - y);
  console.log('check percentiles', [0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999].map((q) => `${q}:${a[Math.floor(q * a.length)].toFixed(0)}`).join(' '), 'n', ns);
}
