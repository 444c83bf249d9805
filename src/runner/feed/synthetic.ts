import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Rng } from '../rng.ts';
import { formatEvent } from './format.ts';
import type { Bar1m, FeedEvent, TimedEvent } from './schema.ts';
import { effectsAt, scheduleScenarios, SCENARIO_PARAMS, type ScheduledScenario, type StepEffects } from './scenarios.ts';
import { GridBook, type BookSide, type Print } from './synthetic-book.ts';
import { resolveSyntheticOptions, type SyntheticOptions } from './synthetic-options.ts';

/** Simulation step. Events inside a step get integer-ms offsets, so timestamps stay exact integers. */
const STEP_MS = 10;
/** Levels a single aggressive print may walk, and levels a price move may sweep by trades. */
const MAX_PRINT_LEVELS = 3;
/** Steered levels: the top ranks whose sizes lean with the latent drift (what OBI reads). */
const STEERED_RANKS = 5;
const IMBALANCE_GAIN = 0.5;
const NORMAL_LATENCY_CAP_MS = 25;
/** Share of a level that trades when the price moves through it (the rest is cancelled). */
const SWEEP_FILL_MIN = 0.15;
const SWEEP_FILL_MAX = 0.5;

export interface SyntheticRun {
  options: SyntheticOptions;
  schedule: ScheduledScenario[];
  events: Generator<FeedEvent>;
}

/**
 * A seeded synthetic market for one symbol, in the replay format (runner.md §4.2):
 * - fair price: a mean-reverting (log) random walk in bps with drift, jumps, and a latent drift α
 *   (an OU process, half-life ~20 s) that moves the price *later*;
 * - order flow leans with α now: trade aggressors (P(buy) = ½ + 0.4·tanh(α/sd)) and the sizes of
 *   the top 5 levels (× e^{±0.5·α/sd}), so OBI and TFI predict short-term returns;
 * - book: `levels` contiguous levels a side on a grid of `level_spacing_ticks`, gamma sizes growing
 *   with depth; when the price moves, the crossed levels partly trade (one print per level, at most
 *   3) before the rest is pulled, or are all cancelled; random re-sizing of levels;
 * - trades: Poisson arrivals at the touch, consuming displayed size (the next delta shows it);
 * - recv_ts = exch_ts + latency (FIFO: never earlier than the previous line's recv_ts);
 * - scripted scenarios (scenarios.ts) at known times.
 * Same options ⇒ same events ⇒ byte-identical file.
 */
export function synthesize(input: Partial<SyntheticOptions> = {}): SyntheticRun {
  const options = resolveSyntheticOptions(input);
  const durationMs = Math.round(options.minutes * 60_000);
  const schedule = scheduleScenarios(options.scenarios, options.start_ms, durationMs);
  return { options, schedule, events: run(options, schedule, durationMs) };
}

/** Writes the synthetic feed to `path` (one line per event) and returns the scenario schedule and line count. */
export async function writeSynthetic(
  path: string,
  input: Partial<SyntheticOptions> = {},
): Promise<{ schedule: ScheduledScenario[]; lines: number; options: SyntheticOptions }> {
  const { options, schedule, events } = synthesize(input);
  const out = createWriteStream(path, { encoding: 'utf8' });
  let lines = 0;
  let chunk = '';
  for (const ev of events) {
    chunk += formatEvent(ev) + '\n';
    lines++;
    if (chunk.length >= 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return { schedule, lines, options };
}

function* run(o: SyntheticOptions, schedule: ScheduledScenario[], durationMs: number): Generator<FeedEvent> {
  const root = new Rng(o.seed);
  const rPrice = root.fork('price');
  const rFlow = root.fork('flow');
  const rBook = root.fork('book');
  const rLat = root.fork('latency');
  const rScen = root.fork('scenario');

  const ticksPerUnit = Math.round(1 / o.tick);
  const lotsPerUnit = Math.round(1 / o.lot_step);
  const gridUnit = o.tick * o.level_spacing_ticks; // price distance between displayed levels
  const book = new GridBook(o.level_spacing_ticks, ticksPerUnit, lotsPerUnit);

  const volMult = o.regime === 'volatile' ? 2 : 1;
  const jumpsPerHour = o.regime === 'volatile' && o.jumps_per_hour === 0 ? 6 : o.jumps_per_hour;
  const driftPerMin = o.drift_bps_per_min + (o.regime === 'trend_up' ? 3 : o.regime === 'trend_down' ? -3 : 0);
  const dt = STEP_MS / 1000;
  const kappa = Math.LN2 / o.mean_reversion_half_life_s;
  const theta = Math.LN2 / o.alpha_half_life_s;
  const alphaNoise = o.alpha_sd_bps_per_s * Math.sqrt(2 * theta * dt);

  // One wall side/size per spoof scenario, drawn up front so scenario effects stay pure.
  const walls = new Map<number, { side: BookSide; size: number }>();
  for (const s of schedule) {
    if (s.name !== 'spoof_wall') continue;
    const p = SCENARIO_PARAMS.spoof_wall;
    const lots = Math.round(rScen.uniform(p.wallSizeMin, p.wallSizeMax) * lotsPerUnit);
    walls.set(s.startMs, { side: rScen.bernoulli(0.5) ? 'bid' : 'ask', size: lots / lotsPerUnit });
  }
  const wallFor = (t: number) => {
    const active = schedule.find((s) => s.name === 'spoof_wall' && t >= s.startMs && t < s.endMs);
    return active ? walls.get(active.startMs)! : { side: 'bid' as const, size: 0 };
  };

  // Fair price state: y = log-distance from mid0 in bps; alpha = latent drift in bps/s.
  let y = 0;
  let alpha = 0;
  const fair = () => o.mid0 * Math.exp(y * 1e-4);
  const z = () => (o.alpha_sd_bps_per_s > 0 ? Math.max(-3, Math.min(3, alpha / o.alpha_sd_bps_per_s)) : 0);

  // Output with FIFO receive times.
  let lastRecv = -Infinity;
  const stamp = (exch: number, fx: StepEffects): number => {
    const lat = fx.latencyRange
      ? rLat.uniform(fx.latencyRange[0], fx.latencyRange[1])
      : Math.min(NORMAL_LATENCY_CAP_MS, o.latency_base_ms + (o.latency_jitter_ms > 0 ? rLat.gamma(2, o.latency_jitter_ms / 2) : 0));
    lastRecv = Math.max(lastRecv, exch + Math.round(lat));
    return lastRecv;
  };

  yield {
    type: 'market_info',
    symbol: o.symbol,
    lot_step: o.lot_step,
    min_qty: o.min_qty,
    min_notional: o.min_notional,
    tick: o.tick,
    maker_bps: o.maker_bps,
    taker_bps: o.taker_bps,
  };

  // History bars, all received at the start (as a start-up OHLCV fetch), ending at mid0.
  const lastHistoryClose = yield* historyBars(o, root.fork('history'), volMult, ticksPerUnit, lotsPerUnit);
  lastRecv = o.history_bars > 0 ? o.start_ms : lastRecv;

  const meanLots = (rank: number, s: BookSide, fx: StepEffects): number => {
    const lean = rank < STEERED_RANKS ? Math.exp((s === 'bid' ? 1 : -1) * IMBALANCE_GAIN * z()) : 1;
    return o.level_size_base * (0.4 + 0.3 * rank) * lean * fx.sizeMult * lotsPerUnit;
  };
  const drawLots = (rank: number, s: BookSide, fx: StepEffects): number => Math.max(1, Math.round(rBook.gamma(2, meanLots(rank, s, fx) / 2)));

  const targets = (fx: StepEffects): { bid: number; ask: number } => {
    const f = fair();
    const u = f / gridUnit;
    let spread = fx.spreadLevels;
    if (fx.spreadBps !== null) spread = Math.max(spread, Math.ceil((fx.spreadBps * 1e-4 * f) / gridUnit));
    const bid = Math.floor(u - spread / 2 + 0.5);
    return { bid, ask: bid + spread };
  };

  let tradeSeq = 0;
  const bars = new BarBuilder(o.symbol, lotsPerUnit, o.start_ms, lastHistoryClose);
  const pendingBars: Bar1m[] = [];

  // Initial book and snapshot.
  const fx0 = effectsAt(o.start_ms, schedule, wallFor(o.start_ms));
  const t0 = targets(fx0);
  book.fillWindow('bid', t0.bid, o.levels, (r) => drawLots(r, 'bid', fx0));
  book.fillWindow('ask', t0.ask, o.levels, (r) => drawLots(r, 'ask', fx0));
  const snap0 = book.snapshot();
  yield { type: 'book_snapshot', symbol: o.symbol, exch_ts: o.start_ms, recv_ts: stamp(o.start_ms, fx0), ...snap0 };

  let needSnapshot = false;
  let wallCycle = -1;
  let wallIndex = 0;
  let wallPulledCycle = -1;
  const steps = Math.floor(durationMs / STEP_MS);
  for (let k = 1; k < steps; k++) {
    const t = o.start_ms + k * STEP_MS;
    const fx = effectsAt(t, schedule, wallFor(t));
    const out: TimedEvent[] = [];

    if (t >= bars.endMs) pendingBars.push(bars.roll());
    if (fx.emit) {
      for (const bar of pendingBars) out.push({ ...bar, recv_ts: 0 });
      pendingBars.length = 0;
    }

    // Latent drift and fair price.
    if (fx.alphaOverride !== null) alpha = fx.alphaOverride;
    else alpha += -theta * alpha * dt + alphaNoise * rPrice.normal();
    const anchor = (driftPerMin * (t - o.start_ms)) / 60_000 + fx.anchorShiftBps;
    y += (alpha + fx.forcedDriftBpsPerS - kappa * (y - anchor)) * dt;
    y += o.vol_bps_per_sqrt_s * volMult * fx.volMult * Math.sqrt(dt) * rPrice.normal();
    if (jumpsPerHour > 0 && rPrice.bernoulli((jumpsPerHour / 3600) * dt)) y += rPrice.normal(0, o.jump_bps);

    // Poisson trades at the touch, inside the step.
    const rate = o.trade_rate_hz * (1 + 0.5 * Math.abs(z())) * fx.tradeRateMult;
    const n = rate > 0 ? rFlow.poisson(rate * dt) : 0;
    const offsets = Array.from({ length: n }, () => rFlow.int(0, STEP_MS - 2)).sort((a, b) => a - b);
    for (const off of offsets) {
      const sellProb = fx.sellProb ?? 0.5 - 0.4 * Math.tanh(z());
      const aggressor = rFlow.bernoulli(sellProb) ? 'sell' : 'buy';
      const lots = Math.max(1, Math.round(rFlow.gamma(0.7, (o.trade_size_mean * lotsPerUnit) / 0.7)));
      const prints = book.consume(aggressor === 'buy' ? 'ask' : 'bid', lots, MAX_PRINT_LEVELS);
      for (const p of prints) out.push(tradeEvent(p, aggressor, t + off));
    }

    // Book update: move to the fair price (sweeping or cancelling crossed levels), refill, re-size.
    const bookTs = t + STEP_MS - 1;
    if (rBook.bernoulli(o.book_rate_hz * dt) || (needSnapshot && fx.emit)) {
      const tg = targets(fx);
      const bestBid = book.bestBid();
      const bestAsk = book.bestAsk();
      if (bestBid !== undefined && tg.bid < bestBid) sweep(book.takeBeyond('bid', tg.bid), 'sell', bookTs, fx, out);
      if (bestAsk !== undefined && tg.ask > bestAsk) sweep(book.takeBeyond('ask', tg.ask), 'buy', bookTs, fx, out);
      book.fillWindow('bid', tg.bid, o.levels, (r) => drawLots(r, 'bid', fx));
      book.fillWindow('ask', tg.ask, o.levels, (r) => drawLots(r, 'ask', fx));
      for (const s of ['bid', 'ask'] as const) {
        book.ranked(s).forEach((index, rank) => {
          if (rBook.bernoulli(rank < STEERED_RANKS ? 0.25 : 0.1)) book.side(s).set(index, drawLots(rank, s, fx));
        });
      }
      updateWall(fx);
      if (fx.emit) {
        if (needSnapshot) {
          out.push({ type: 'book_snapshot', symbol: o.symbol, exch_ts: bookTs, recv_ts: 0, ...book.snapshot() });
          needSnapshot = false;
        } else {
          const d = book.delta();
          if (d) out.push({ type: 'book_delta', symbol: o.symbol, exch_ts: bookTs, recv_ts: 0, ...d });
        }
      }
    }
    if (!fx.emit) needSnapshot = true;
    else for (const ev of out) yield { ...ev, recv_ts: stamp(ev.exch_ts, fx) };
  }

  function tradeEvent(p: Print, aggressor: 'buy' | 'sell', ts: number): TimedEvent {
    const price = book.price(p.index);
    const qty = book.qty(p.lots);
    bars.add(price, p.lots);
    tradeSeq++;
    return { type: 'trade', symbol: o.symbol, exch_ts: ts, recv_ts: 0, id: `t${tradeSeq}`, price, qty, aggressor };
  }

  /** Levels the price moved through: partly traded (best first, at most 3 prints) or, otherwise, all cancelled. */
  function sweep(crossed: Print[], aggressor: 'buy' | 'sell', ts: number, fx: StepEffects, out: TimedEvent[]): void {
    if (crossed.length === 0 || !rBook.bernoulli(fx.sweepProb)) return;
    // Makers fade quotes ahead of a move: only part of each crossed level trades, the rest is pulled.
    for (const p of crossed.slice(0, MAX_PRINT_LEVELS)) {
      const lots = Math.max(1, Math.round(p.lots * rBook.uniform(SWEEP_FILL_MIN, SWEEP_FILL_MAX)));
      out.push(tradeEvent({ index: p.index, lots: Math.min(lots, p.lots) }, aggressor, ts));
    }
  }

  /**
   * The spoof wall sits at rank 1 of its side from the first step of each cycle until the cancel;
   * like a real spoofer it is pulled early if the other side reaches its price (it must never trade).
   */
  function updateWall(fx: StepEffects): void {
    book.overlay.bid.clear();
    book.overlay.ask.clear();
    if (!fx.wall || fx.wall.cycle === wallPulledCycle) return;
    if (fx.wall.cycle !== wallCycle) {
      wallCycle = fx.wall.cycle;
      const ranked = book.ranked(fx.wall.side);
      wallIndex = ranked[1] ?? ranked[0];
    }
    const opposite = fx.wall.side === 'bid' ? book.bestAsk() : book.bestBid();
    if (opposite !== undefined && (fx.wall.side === 'bid' ? wallIndex >= opposite : wallIndex <= opposite)) {
      wallPulledCycle = wallCycle;
      return;
    }
    book.overlay[fx.wall.side].set(wallIndex, Math.round(fx.wall.size * lotsPerUnit));
  }
}

/** 1-minute bars from the trades printed (by the exchange, seen or not), rolled at each minute boundary. */
class BarBuilder {
  endMs: number;
  private open: number | null = null;
  private high = 0;
  private low = 0;
  private close: number;
  private lots = 0;

  constructor(
    private readonly symbol: string,
    private readonly lotsPerUnit: number,
    startMs: number,
    lastClose: number,
  ) {
    this.endMs = Math.floor(startMs / 60_000) * 60_000 + 60_000;
    this.close = lastClose;
  }

  add(price: number, lots: number): void {
    if (this.open === null) {
      this.open = this.high = this.low = price;
    }
    this.high = Math.max(this.high, price);
    this.low = Math.min(this.low, price);
    this.close = price;
    this.lots += lots;
  }

  /** The bar ending at `endMs` (recv_ts to be stamped by the caller), and starts the next one. */
  roll(): Bar1m {
    const open = this.open ?? this.close;
    const bar: Bar1m = {
      type: 'bar_1m',
      symbol: this.symbol,
      exch_ts: this.endMs,
      recv_ts: 0,
      open_ts: this.endMs - 60_000,
      open,
      high: this.open === null ? open : this.high,
      low: this.open === null ? open : this.low,
      close: this.close,
      volume: this.lots / this.lotsPerUnit,
    };
    this.open = null;
    this.lots = 0;
    this.endMs += 60_000;
    return bar;
  }
}

/**
 * `history_bars` bars before the start from a 1-second random walk ending at mid0, all received at
 * start_ms (like a start-up OHLCV fetch), so a runner has ATR from its first decision.
 */
function* historyBars(
  o: SyntheticOptions,
  rng: Rng,
  volMult: number,
  ticksPerUnit: number,
  lotsPerUnit: number,
): Generator<FeedEvent, number> {
  const roundTick = (p: number) => Math.round(p * ticksPerUnit) / ticksPerUnit;
  const seconds = o.history_bars * 60;
  const path = new Array<number>(seconds + 1);
  path[0] = 0;
  for (let i = 1; i <= seconds; i++) path[i] = path[i - 1] + o.vol_bps_per_sqrt_s * volMult * rng.normal();
  const shift = path[seconds];
  const priceAt = (i: number) => roundTick(o.mid0 * Math.exp((path[i] - shift) * 1e-4));
  const firstOpen = Math.floor(o.start_ms / 60_000) * 60_000 - o.history_bars * 60_000;
  for (let b = 0; b < o.history_bars; b++) {
    let high = -Infinity;
    let low = Infinity;
    for (let i = b * 60; i <= b * 60 + 60; i++) {
      high = Math.max(high, priceAt(i));
      low = Math.min(low, priceAt(i));
    }
    const openTs = firstOpen + b * 60_000;
    yield {
      type: 'bar_1m',
      symbol: o.symbol,
      exch_ts: Math.min(openTs + 60_000, o.start_ms),
      recv_ts: o.start_ms,
      open_ts: openTs,
      open: priceAt(b * 60),
      high,
      low,
      close: priceAt(b * 60 + 60),
      volume: Math.max(1, Math.round(rng.gamma(2, (10 * lotsPerUnit) / 2))) / lotsPerUnit,
    };
  }
  return roundTick(o.mid0);
}
