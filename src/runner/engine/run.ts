import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { VirtualClock } from '../clock.ts';
import { checkMode } from '../config/mode.ts';
import { maskSecrets } from '../config/mask.ts';
import { paperParams } from '../config/params.ts';
import type { RunnerConfig } from '../config/schema.ts';
import { ConfigError } from '../config/tree.ts';
import { PaperExchange } from '../exchange/paper.ts';
import type { Exchange, VenueMarketInfo } from '../exchange/types.ts';
import { readMarketInfo, ReplayFeed } from '../feed/replay.ts';
import { createGatePort } from '../gate/index.ts';
import type { GatePort } from '../gate/port.ts';
import { RunnerJournal } from '../journal/runner-journal.ts';
import { CalibrationError, loadCalibrator, PlattCalibrator, type Calibrator } from '../logic/calibration.ts';
import type { ProgressState } from '../report/progress.ts';
import { SummaryCollector, type RunSummary } from '../report/summary.ts';
import { logError, logEvent, pnlNow } from './context.ts';
import { Engine } from './engine.ts';
import { countLines, ReplayDriver, type ReplayHooks } from './replay.ts';

export interface RunOptions {
  /** environment for defaults (`AURORA_SESSION_DIR`) and mode checks (`RUNNER_CONFIRM_LIVE`) */
  env?: Readonly<Record<string, string | undefined>>;
  /** progress lines and notices (stderr in the CLI) */
  log?: (line: string) => void;
  /** progress snapshots, about every `report.progress_ms` of real time */
  onProgress?: (p: ProgressState) => void;
  /** an outside stop request (SIGINT/SIGTERM): a non-null reason ends the replay at the next event */
  stop?: { reason: string | null };
  /** a gate to use instead of the one `gate.url` names (tests) */
  gate?: GatePort;
  /** wraps the paper exchange the engine talks to (tests: a venue that loses acks, throws, …) */
  venue?: (paper: PaperExchange) => Exchange;
  /** wall clock for run ids and timestamps in the summary */
  now?: () => Date;
}

export interface RunResult {
  summary: RunSummary;
  exitCode: number;
  sessionDir: string;
  runnerDir: string;
  summaryPath: string;
}

/** `YYYYMMDD-hhmmss` (UTC). */
export function utcStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

function loadCalibration(cfg: RunnerConfig): Calibrator {
  const c = cfg.calibration;
  if (c.file === null) {
    if (c.kind === 'isotonic') throw new ConfigError('calibration.kind isotonic needs calibration.file (a JSON file with xs/ys knots)');
    return new PlattCalibrator(c.A, c.B);
  }
  try {
    return loadCalibrator(JSON.parse(readFileSync(c.file, 'utf8')));
  } catch (e) {
    if (e instanceof CalibrationError || e instanceof SyntaxError) throw new ConfigError(`calibration.file ${c.file}: ${e.message}`);
    throw new ConfigError(`calibration.file ${c.file}: ${(e as Error).message}`);
  }
}

function venueMarkets(infos: Map<string, { symbol: string; lot_step: number; min_qty: number; min_notional: number; tick: number; maker_bps: number; taker_bps: number }>): VenueMarketInfo[] {
  return [...infos.values()].map((m) => ({
    symbol: m.symbol,
    lotStep: m.lot_step,
    minQty: m.min_qty,
    minNotional: m.min_notional,
    tick: m.tick,
    makerBps: m.maker_bps,
    takerBps: m.taker_bps,
  }));
}

/**
 * One replay run end to end (runner.md §4): config checks, session files, gate, paper exchange, the
 * replay, then the shutdown sequence of §2.6 — stop entries, cancel working orders, flatten (with
 * `shutdown.flatten`), wait up to `shutdown.grace_ms` for the posttrade queue, write `summary.json`,
 * flush and close the files, close the gate socket. Exit code 0, or 2 when a position stayed open.
 */
export async function runReplay(cfg: RunnerConfig, opts: RunOptions = {}): Promise<RunResult> {
  const env = opts.env ?? {};
  const wall = opts.now ?? (() => new Date());
  checkMode(cfg, env);
  const feedPath = resolve(cfg.feed.path!);
  const startedAt = wall();
  const runId = cfg.run_id ?? `r${utcStamp(startedAt)}-${randomBytes(2).toString('hex')}`;
  const sessionDir = resolve(cfg.session_dir ?? env.AURORA_SESSION_DIR ?? join('logs', utcStamp(startedAt)));
  const calibrator = loadCalibration(cfg);
  const markets = await readMarketInfo(feedPath, { onInvalid: cfg.feed.on_invalid }).catch((e: unknown) => {
    throw new ConfigError(`feed ${feedPath}: ${(e as Error).message}`);
  });
  const totalLines = await countLines(feedPath);

  const journal = new RunnerJournal(sessionDir, { maxBytes: cfg.logging.max_mb * 1024 * 1024, flushMs: cfg.logging.flush_ms });
  const effective = { ...cfg, run_id: runId, session_dir: sessionDir, feed: { ...cfg.feed, path: feedPath } };
  journal.writeJson('config', maskSecrets(effective));

  const clock = new VirtualClock(await firstEventMs(feedPath, cfg));
  const exchange = new PaperExchange(clock, paperParams(cfg), venueMarkets(markets));
  const gate = opts.gate ?? createGatePort(cfg);
  const summary = new SummaryCollector();
  const engine = new Engine({ cfg, runId, clock, exchange: opts.venue?.(exchange) ?? exchange, gate, journal, summary, calibrator });
  const log = opts.log ?? (() => {});

  const gateUp = await gate.start();
  logEvent(engine.ctx, 'gate_start', 'runner', { gate: gate.name, up: gateUp });
  if (!gateUp) log(`[runner] gate ${gate.name} is not answering GET /health after ${cfg.gate.startup_wait_ms} ms: checks fail closed until it does`);

  const feed = new ReplayFeed(feedPath, { onInvalid: cfg.feed.on_invalid });
  const driver = new ReplayDriver(feed, clock, exchange, engine, totalLines);
  const t0 = performance.now();
  const hooks: ReplayHooks = {
    maxEvents: cfg.feed.max_events,
    progressMs: cfg.report.progress_ms,
    onProgress: (p) => opts.onProgress?.(p),
    shouldStop: () => {
      if (opts.stop?.reason) return opts.stop.reason;
      if (cfg.shutdown.max_runtime_s > 0 && performance.now() - t0 >= cfg.shutdown.max_runtime_s * 1000) return 'max_runtime';
      return null;
    },
  };
  let feedError: string | null = null;
  let endReason: string;
  try {
    endReason = await driver.run(hooks);
  } catch (e) {
    // a bad line (feed.on_invalid: fail) ends the replay, but the shutdown below still runs
    feedError = e instanceof Error ? e.message : String(e);
    logError(engine.ctx, 'feed', e);
    log(`[runner] feed error: ${feedError}`);
    endReason = 'feed_error';
  }
  if (cfg.report.progress_ms > 0) opts.onProgress?.(driver.progress());
  logEvent(engine.ctx, 'shutdown', 'runner', { reason: endReason });

  // §2.6: stop entries → cancel working → flatten → wait for posttrade → summary → files → socket
  engine.stopEntries();
  await engine.cancelWorking();
  await driver.settle(cfg.execution.ack_timeout_ms);
  if (cfg.shutdown.flatten) await flatten(engine, driver, cfg);
  await driver.settle(cfg.execution.ack_timeout_ms);
  const flattenOk = !cfg.shutdown.flatten || engine.allFlat();
  if (!flattenOk) logEvent(engine.ctx, 'alert', 'runner', { code: 'SHUTDOWN.FLATTEN_FAILED', open_positions: engine.openPositions() });
  const drained = await engine.ctx.posttrade.drain(cfg.shutdown.grace_ms);
  if (!drained) logEvent(engine.ctx, 'posttrade_not_drained', 'runner', { pending: engine.ctx.posttrade.pending });
  // bodies still being sent are settled (sent, or to the unsent file) before the counters are read
  // and the journal is closed; a gate call is bounded by its own deadline, this wait too
  await engine.ctx.posttrade.close(posttradeSettleMs(cfg));
  engine.detach();

  // 2 wins: an open position matters more than a bad input line (3)
  const exitCode = !flattenOk ? 2 : feedError !== null ? 3 : 0;
  const pnl = pnlNow(engine.ctx);
  const gs = gate.stats();
  summary.posttrade.sent = engine.ctx.posttrade.counters.sent;
  summary.posttrade.failed = engine.ctx.posttrade.counters.failed;
  summary.posttrade.dropped = engine.ctx.posttrade.counters.dropped;
  summary.orders.late = engine.ctx.orders.late;
  if (feed.stats.skipped > 0) summary.error('feed_lines_skipped', feed.stats.skipped);
  // lines written so far reach the disk now, so a failing write shows in the summary (close() flushes little after this)
  journal.flush();
  if (journal.writeErrors > 0) summary.error('journal_write', journal.writeErrors);
  const s = summary.build({
    runId,
    mode: cfg.mode,
    seed: cfg.seed,
    feed: feedPath,
    gateUrl: gate.name,
    startedAt,
    endedAt: wall(),
    feedStartMs: engine.feedStartMs,
    feedEndMs: engine.feedEndMs,
    realized: pnl.realized,
    unrealized: pnl.unrealized,
    positionsOpen: engine.openPositions(),
    reconnects: gs.reconnects,
    late: gs.late,
    quotaPauses: engine.ctx.quotas.pauses,
    shutdown: { reason: endReason, flatten_ok: flattenOk, exit_code: exitCode },
  });
  const summaryPath = journal.writeJson('summary', s);
  if (cfg.report.path !== null) {
    mkdirSync(dirname(resolve(cfg.report.path)), { recursive: true });
    writeFileSync(cfg.report.path, JSON.stringify(s, null, 2) + '\n');
  }
  journal.close();
  await gate.close();
  return { summary: s, exitCode, sessionDir, runnerDir: journal.dir, summaryPath };
}

/** How long shutdown waits for posttrade bodies already in flight: a WebSocket try and an HTTP fallback, each within `gate.timeout_ms`. */
function posttradeSettleMs(cfg: RunnerConfig): number {
  return 2 * cfg.gate.timeout_ms + 100;
}

/** recv_ts of the feed's first timed event (the virtual clock starts there), 0 for a feed without one. */
async function firstEventMs(path: string, cfg: RunnerConfig): Promise<number> {
  for await (const ev of new ReplayFeed(path, { onInvalid: cfg.feed.on_invalid })) {
    if (ev.type !== 'market_info') return ev.recv_ts;
  }
  return 0;
}

/** Flattening rounds: a full exit per open position, let the venue answer, back off (virtual and, bounded, wall time), repeat. */
async function flatten(engine: Engine, driver: ReplayDriver, cfg: RunnerConfig): Promise<void> {
  const rounds = Math.max(1, cfg.execution.exit_alert_after) + 1;
  for (let round = 0; round < rounds && !engine.allFlat(); round++) {
    await engine.flattenStep();
    await driver.settle(cfg.execution.ack_timeout_ms);
    if (engine.allFlat()) break;
    const backoffMs = Math.min(cfg.execution.exit_retry_max_ms, cfg.execution.exit_retry_base_ms * 2 ** round);
    await driver.advance(backoffMs);
    // the gate's limits run on the wall clock (a throttle refills per real second) while a replay's
    // clock runs ahead of it: wait for real too, bounded, before the next round
    await new Promise((r) => setTimeout(r, Math.min(1000, backoffMs)));
  }
}
