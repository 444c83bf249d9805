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
 * - `controls: <cfg>` (batched): what the controls add to the core decision — checkControls +
 *   commitControls, the part that runs under the decision's lock. This is the criterion's number.
 * - `controls: desk: storeAnswer (2nd section)` (batched): keeping each remembered id's encoded answer
 *   (~780 bytes) for idempotent replay, done after the answer is encoded, in a second short critical
 *   section; `controls: desk: decision + storeAnswer` is both, timed together.
 * - `decide (no controls)` / `decide + controls (<cfg>)` (every call timed, as core.bench's decide rows):
 *   the core decision with and without the controls around it (check, decide, commit); their
 *   difference is the same cost seen through the per-call timer's noise.
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
import type { Task } from 'tinybench';
import { newBench, perItem } from './tinybench-setup.ts';
import { loadConfig, PACKAGE_ROOT } from '../src/config/load.ts';
import { buildControlsConfig, NO_CONTROLS, type ControlsConfig } from '../src/core/controls/config.ts';
import { applyPosttradeToControls, checkControls, commitControls, ControlsVerdict, storeAnswer, V_DENY, V_PASS, V_REPLAY } from '../src/core/controls/evaluate.ts';
import { controlsFacts, type ControlsFacts } from '../src/core/controls/facts.ts';
import { ControlsState, DEFAULT_CONTROLS_SIZES } from '../src/core/controls/state.ts';
import { toDecisionInput } from '../src/core/inputs.ts';
import { decide, type Decision } from '../src/core/pipeline.ts';
import { GateState } from '../src/shm/state/gate-state.ts';
import { encodeResponse, SYSTEM_CLOCK } from '../src/gate/pretrade.ts';
import type { ControlsSection } from '../src/schema/controls.ts';
import { PretradeCheckRequest } from '../src/schema/pretrade.ts';
import { compileValidator } from '../src/schema/validate.ts';

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
    return `ids ${st.dedupe.count} (index entries ${st.dedupe.entries}), live reservations ${st.reservations.live}, ended ${st.reservations.ended}, accounts ${st.accounts.count}, pairs ${st.pairs.count} (${pos} with a position)`;
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

/** dedupe records whose answer is still to be stored, per batch position (-1: none) */
const pendingAnswer = new Int32Array(BATCH);

/** The decision's part: check + commit under the lock, one per request of the batch. */
function decisionBatch(sim: DeskSim, n: number): void {
  const { cfg, st, v, facts, times, kinds } = sim;
  for (let k = 0; k < n; k++) {
    const f = facts[k];
    const now = times[k];
    checkControls(cfg, st, f, now, v);
    const kind = v.kind;
    pendingAnswer[k] = -1;
    if (kind !== V_REPLAY) {
      commitControls(cfg, st, f, now, v, kind === V_PASS);
      pendingAnswer[k] = v.dedupeRecord;
    }
    kinds[k] = kind;
    if (kind === V_DENY) sim.noteDenial();
  }
}

/** The second short critical section: the encoded answer of each remembered id kept for replay. */
function answerBatch(sim: DeskSim, n: number): void {
  const { st, v, facts } = sim;
  for (let k = 0; k < n; k++) {
    const r = pendingAnswer[k];
    if (r < 0) continue;
    v.dedupeRecord = r;
    storeAnswer(st, facts[k], v, ANSWER);
  }
}

function controlsBatch(sim: DeskSim, n: number): void {
  decisionBatch(sim, n);
  answerBatch(sim, n);
}

let specs: Spec[] = [];
for (const [label, cfg] of [...CONFIGS, ...ABLATIONS]) {
  const sim = new DeskSim(label, cfg);
  specs.push({
    name: `controls: ${label}`,
    batch: BATCH,
    sim,
    prime: () => primeSim(sim, controlsBatch),
    beforeEach: () => sim.prepare(BATCH),
    fn: () => decisionBatch(sim, BATCH),
    afterEach: () => {
      answerBatch(sim, BATCH);
      sim.feedback(BATCH);
    },
  });
}
{
  // the desk's answers kept for replay (storeAnswer, after encoding), and the two together
  const answers = new DeskSim('desk answers', CONFIGS[2][1]);
  specs.push({
    name: 'controls: desk: storeAnswer (2nd section)',
    batch: BATCH,
    sim: answers,
    prime: () => primeSim(answers, controlsBatch),
    beforeEach: () => {
      answers.prepare(BATCH);
      decisionBatch(answers, BATCH);
    },
    fn: () => answerBatch(answers, BATCH),
    afterEach: () => answers.feedback(BATCH),
  });
  const total = new DeskSim('desk total', CONFIGS[2][1]);
  specs.push({
    name: 'controls: desk: decision + storeAnswer',
    batch: BATCH,
    sim: total,
    prime: () => primeSim(total, controlsBatch),
    beforeEach: () => total.prepare(BATCH),
    fn: () => controlsBatch(total, BATCH),
    afterEach: () => total.feedback(BATCH),
  });
}

for (const [label, cfg] of [['no controls', null], ['stateless', CONFIGS[1][1]], ['desk: everything on', CONFIGS[2][1]]] as Array<[string, ControlsConfig | null]>) {
  const gate = newGate();
  const sim = new DeskSim(label, cfg ?? NO_CONTROLS);
  let last: Decision | undefined;
  const one = (s: DeskSim, k: number) => {
    pendingAnswer[k] = -1;
    if (cfg === null) {
      last = decide(gate, coreCfg, inAllowed, SYSTEM_CLOCK.wallSec(), SYSTEM_CLOCK.monoMs);
      s.kinds[k] = last.allow ? V_PASS : 3;
      return;
    }
    const { st, v } = s;
    const f = s.facts[k];
    const now = s.times[k];
    checkControls(cfg, st, f, now, v);
    const kind = v.kind;
    if (kind === V_REPLAY) {
      s.kinds[k] = kind;
      return;
    }
    let allowed = false;
    if (kind === V_PASS) {
      last = decide(gate, coreCfg, inAllowed, SYSTEM_CLOCK.wallSec(), SYSTEM_CLOCK.monoMs);
      allowed = last.allow;
    }
    commitControls(cfg, st, f, now, v, allowed);
    pendingAnswer[k] = v.dedupeRecord;
    s.kinds[k] = kind === V_PASS && !allowed ? 3 : kind;
    if (kind === V_DENY) s.noteDenial();
  };
  specs.push({
    name: cfg === null ? 'decide (no controls)' : `decide + controls (${label})`,
    batch: 1,
    sim,
    prime: () =>
      primeSim(sim, (s, n) => {
        for (let k = 0; k < n; k++) one(s, k);
        answerBatch(s, n);
      }),
    beforeEach: () => sim.prepare(1),
    fn: () => one(sim, 0),
    afterEach: () => {
      answerBatch(sim, 1);
      sim.feedback(1);
    },
  });
}

{
  // request → facts: the hashing done outside the lock (not part of the criterion)
  const rnd = rng(7);
  const reqs = Array.from({ length: BATCH }, (_, i) => ({
    account: { account_id: ACCOUNTS[i % 4], mode: 'paper' },
    order: { symbol: SYMBOLS[i % 20], side: i % 2 ? 'buy' : 'sell', qty: 0.123456, price: MIDS[i % 20], type: 'limit', client_order_id: `desk-a-${(1e7 + i).toString(36)}` },
    market: { mid: MIDS[i % 20], ts_ms: T0 + Math.floor(rnd() * 100) },
  }));
  let sink = 0;
  specs.push({
    name: 'controlsFacts (request → facts)',
    batch: BATCH,
    beforeEach: () => {},
    fn: () => {
      for (let k = 0; k < BATCH; k++) sink += controlsFacts(reqs[k]).orderHash;
    },
  });
  if (sink < 0) progress('');
}

if (ONLY !== null) specs = specs.filter((s) => s.name.includes(ONLY));

// ---------------------------------------------------------------------------------------------------
// running

const bench = newBench('aurora-controls', BUDGET.time, BUDGET.warmupTime, 64, 16);
for (const s of specs) bench.add(s.name, perItem(bench.now, s.fn, s.batch), { beforeAll: s.prime, beforeEach: s.beforeEach, afterEach: s.afterEach });

progress(`controls.bench: ${QUICK ? 'quick' : 'full'} run, ${BUDGET.time} ms per task (+${BUDGET.warmupTime} ms warm-up), node ${process.version}, ${os.cpus()[0]?.model ?? '?'} × ${os.availableParallelism()}`);
const medians = new Map<string, number>();
for (const s of specs) {
  const task = bench.getTask(s.name) as Task;
  task.warmupSync();
  task.runSync();
  const r = task.result;
  if (r.state !== 'completed') throw new Error(`task "${s.name}" ended ${r.state}`);
  const median = r.latency.p50 * 1e6;
  medians.set(s.name, median);
  const c = s.sim?.counts;
  const mix = c && c.decisions > 0 ? `  [${c.decisions} decisions: ${((100 * c.allowed) / c.decisions).toFixed(1)} % allowed, ${c.denied} denied${s.sim!.reasons.size ? ` ${JSON.stringify(Object.fromEntries(s.sim!.reasons))}` : ''}, ${c.replayed} replayed, ${c.posttrade} post-trade records]` : '';
  progress(`  ${s.name}: median ${median.toFixed(1)} ns, p99 ${(r.latency.p99 * 1e6).toFixed(1)} ns, ${r.latency.samplesCount} samples${mix}`);
  if (s.sim && s.sim.cfg.anyOn) progress(`    state: ${s.sim.stateLine()}`);
}

const out: string[] = [];
out.push(`| task | median ns per decision |`);
out.push('|---|---:|');
for (const s of specs) out.push(`| ${s.name}${s.batch > 1 ? ' †' : ''} | ${medians.get(s.name)!.toFixed(1)} |`);
const base = medians.get('decide (no controls)');
const desk = medians.get('controls: desk: everything on');
const deskDecide = medians.get('decide + controls (desk: everything on)');
const off = medians.get('controls: off');
const store = medians.get('controls: desk: storeAnswer (2nd section)');
out.push('');
if (desk !== undefined) out.push(`controls added to the decision (desk, everything on): ${desk.toFixed(1)} ns median (batched) -> ${desk <= LIMIT_NS ? 'PASS' : 'FAIL'} (≤ ${LIMIT_NS} ns)`);
if (store !== undefined) out.push(`  + the answer kept for replay (storeAnswer, after encoding): ${store.toFixed(1)} ns`);
if (base !== undefined && deskDecide !== undefined) out.push(`controls added (desk), per-call rows: ${(deskDecide - base).toFixed(1)} ns = decide + controls − decide`);
if (off !== undefined) out.push(`controls off: ${off.toFixed(1)} ns per decision (batched; the loop and the verdict reset included)`);
out.push(`† timed in batches of ${BATCH} decisions (median over batch means)`);
process.stdout.write(`${out.join('\n')}\n`);
