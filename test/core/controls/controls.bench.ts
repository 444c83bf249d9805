/**
 * Cost of the desk controls per decision (controls.md; budget: ≤ 0.3 µs median with controls on,
 * nothing when off). Not a vitest file (vitest runs *.test.ts only):
 *
 *   npx tsx test/core/controls/controls.bench.ts [--quick]
 *
 * What is timed is what the service adds inside the lock for an allowed order: checkControls +
 * commitControls. Each tinybench sample runs a batch of BATCH decisions at a simulated clock advancing
 * 1 ms per decision (1000 orders/s), and its median is divided by BATCH (a per-call hrtime costs
 * ~30–50 ns, the size of what is measured). Request facts (hashes of account, symbol, client_order_id)
 * are built before, as the service builds them outside the lock. Reservations end as post-trade
 * outcomes would, in an untimed `beforeEach` (a post-trade record is its own request); the last case
 * instead lets every reservation expire inside a decision (anonymous orders: one RESERVATION.EXPIRED
 * event built per decision).
 */
import { Bench } from 'tinybench';
import { buildControlsConfig, NO_CONTROLS, type ControlsConfig } from '../../../src/core/controls/config.ts';
import { checkControls, commitControls, ControlsVerdict, V_PASS } from '../../../src/core/controls/evaluate.ts';
import { controlsFacts, type ControlsFacts } from '../../../src/core/controls/facts.ts';
import type { ControlsSection } from '../../../src/schema/controls.ts';
import { ControlsState, DEFAULT_CONTROLS_SIZES } from '../../../src/core/controls/state.ts';

const quick = process.argv.includes('--quick');
const BATCH = 1000;
const T0 = Date.UTC(2025, 0, 6, 12, 0, 0);
const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'XRP/USDT'];

const STATELESS: ControlsSection = {
  symbols_allowed: SYMBOLS,
  symbols_blocked: ['DOGE/USDT'],
  trading_windows_utc: [['00:00', '24:00']],
  max_order_qty: { 'BTC/USDT': 5, '*': 100 },
  max_order_notional_usdt: 1e6,
  price_collar_bps: 100,
  max_market_age_ms: 5000,
};
const RATES: ControlsSection = { ...STATELESS, rate: { account_per_s: 1_000_000, account_per_min: 1_000_000, symbol_per_s: 1_000_000, symbol_per_min: 1_000_000 } };
const EXPOSURE: ControlsSection = { ...RATES, max_position_notional_usdt: 1e12, max_gross_notional_usdt: 1e12, max_open_orders: 100_000 };
const ALL: ControlsSection = { ...EXPOSURE, dedupe_window_s: 1 };

function factsSet(n: number, withId: boolean): ControlsFacts[] {
  return Array.from({ length: n }, (_, i) =>
    controlsFacts({
      account: { account_id: `acct-${i % 4}`, mode: 'paper' },
      order: { symbol: SYMBOLS[i % 4], side: i % 2 ? 'buy' : 'sell', qty: 0.01, price: 100, type: 'limit', ...(withId ? { client_order_id: `cid-${i}` } : {}) },
      market: { mid: 100, ts_ms: T0 },
    }),
  );
}

const N = 4096;
const cases: Array<{ name: string; cfg: ControlsConfig; facts: ControlsFacts[]; endReservations: boolean }> = [
  { name: 'off (no controls section)', cfg: NO_CONTROLS, facts: factsSet(N, false), endReservations: true },
  { name: 'on: lists, window, qty, notional, collar, age', cfg: buildControlsConfig(STATELESS), facts: factsSet(N, false), endReservations: true },
  { name: 'on: + 4 rate buckets', cfg: buildControlsConfig(RATES), facts: factsSet(N, false), endReservations: true },
  { name: 'on: + exposure (reserve per allow)', cfg: buildControlsConfig(EXPOSURE), facts: factsSet(N, true), endReservations: true },
  { name: 'on: + dedupe (remember id per decision)', cfg: buildControlsConfig(ALL), facts: factsSet(N, true), endReservations: true },
  { name: 'on: all, every decision expires one (TTL 1 s)', cfg: buildControlsConfig({ ...ALL, reservation_ttl_ms: 1000 }), facts: factsSet(N, false), endReservations: false },
];

const v = new ControlsVerdict();
const bench = new Bench({ time: quick ? 400 : 2000, warmupTime: quick ? 100 : 500 });
for (const c of cases) {
  const st = ControlsState.create(DEFAULT_CONTROLS_SIZES, 0, false);
  let now = T0;
  let i = 0;
  const endAll = () => {
    if (!c.endReservations) return;
    for (const r of [...st.reservations.liveRecords()]) st.reservations.end(r, now);
  };
  bench.add(
    c.name,
    () => {
      for (let k = 0; k < BATCH; k++) {
        const f = c.facts[i++ & (N - 1)];
        now += 1;
        f.tsMs = now; // fresh market data; an id comes back only after N ms > the dedupe window
        checkControls(c.cfg, st, f, now, v);
        if (v.kind !== V_PASS) throw new Error(`${c.name}: unexpected ${v.denial?.reason}`);
        commitControls(c.cfg, st, f, now, v, true);
      }
    },
    { beforeEach: endAll },
  );
}
await bench.run();
console.log(`controls cost per decision (median of ${BATCH}-decision batches, node ${process.version}):`);
for (const t of bench.tasks) {
  const r = t.result as { latency?: { p50: number } } | undefined;
  if (!r?.latency) throw new Error(`${t.name}: no result`);
  console.log(`  ${t.name.padEnd(50)} ${((r.latency.p50 * 1e6) / BATCH).toFixed(1)} ns`);
}
