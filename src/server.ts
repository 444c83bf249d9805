import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AppConfig } from './config/resolve.ts';
import { PACKAGE_ROOT } from './config/load.ts';
import { governanceHalted } from './core/governance.ts';
import { initControls, publishControls } from './core/controls/evaluate.ts';
import { GateState } from './shm/state/gate-state.ts';
import { GateCounters } from './gate/counters.ts';
import { JournalBatch } from './journal/line-batch.ts';
import { Ops } from './gate/ops.ts';
import { SYSTEM_CLOCK } from './gate/pretrade.ts';
import { GateService } from './gate/service.ts';
import { JournalRingProducer } from './journal/ring-producer.ts';
import { DEFAULT_FILES, JournalWriter, WRITER_THREAD, type JournalStats } from './journal/writer.ts';
import type { Logger } from './log.ts';
import { Metrics } from './metrics/metrics.ts';
import { openApiText } from './schema/openapi.ts';
import { allocateControl, CTL_FAIL_CLOSED, CTL_JOURNAL_FAILING } from './shm/control.ts';
import { Dispatcher } from './pool/dispatcher.ts';
import { Ring } from './shm/ring.ts';
import { SharedLock } from './shm/lock.ts';
import { GateApp, type Target } from './transport/app.ts';
import { Decider, handOverJournal } from './pool/decide.ts';
import { loadUws } from './transport/uws.ts';
import { registerTestHooks } from './testing/hooks.ts';

export interface RunningGate {
  port: number;
  host: string;
  sessionDir: string;
  runId: string;
  /** stop accepting, answer what is in flight, flush and fsync the journal; resolves true when clean */
  stop(): Promise<boolean>;
}

const MAIN_LOCK_OWNER = 1_000_000;
const RING_BYTES = 1 << 20;
const MAIN_JOURNAL_RING_BYTES = 4 << 20;
/**
 * Room kept free in a journal ring for one more request's lines before a check is decided under
 * fail_closed (JournalRingProducer.hasRoom): a request's lines carry at most about twice its body (the
 * post-trade record twice over, a check's strings in two lines), plus the fixed fields. Capped so a huge
 * body limit cannot make every check look unjournalable (a 4 MiB ring reserves 3 bytes per code unit).
 */
function journalReserveChars(maxRequestBytes: number): number {
  return Math.min(2 * maxRequestBytes + 16 * 1024, 384 * 1024);
}
const MAX_INFLIGHT = 4096;

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(resolve(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Starts every part of the gate in dependency order and returns a handle to stop it. */
export async function startGate(cfg: AppConfig, ctx: { sessionDir: string; runId: string; log: Logger }): Promise<RunningGate> {
  const { core, service: svc } = cfg;
  const { log, sessionDir, runId } = ctx;
  const uws = loadUws();
  const startedAt = new Date();
  const version = svc.version !== 'unknown' ? svc.version : packageVersion();

  const state = GateState.create(svc.stateSizes, core.risk, true);
  // desk controls (controls.md): start-up trading state and the live configuration every thread reads
  initControls(state.controls, core.controls);
  const lockBuffer = SharedLock.allocate();
  const threads = svc.poolThreads;
  const countersBuffer = GateCounters.allocate(threads + 1);
  const control = allocateControl();
  const controlWords = new Int32Array(control);
  if (svc.journal.onWriteError === 'fail_closed') controlWords[CTL_FAIL_CLOSED] = 1;

  const writer = await JournalWriter.start({
    sessionDir,
    files: { ...DEFAULT_FILES, events: svc.journal.eventsFile, raw: svc.journal.ordersRawFile },
    fsyncIntervalMs: svc.journal.fsyncIntervalMs,
    fsyncLines: svc.journal.fsyncLines,
    eventsMaxBytes: svc.journal.eventsMaxBytes,
    ordersMaxBytes: svc.journal.ordersMaxBytes,
    retentionDays: svc.journal.retentionDays,
    gzipLevel: svc.journal.gzipLevel,
  });
  // the flag workers read; cleared again once the writer reports a successful write of the failed
  // file (its `failing` stat), so fail_closed lasts only while the journal really cannot be written.
  // A dead writer thread sets it too (until its replacement has caught up), as do dropped lines.
  let healWatch: NodeJS.Timeout | null = null;
  writer.onError((file, message) => {
    Atomics.store(controlWords, CTL_JOURNAL_FAILING, 1);
    if (file === WRITER_THREAD) log.error({ error: message }, 'journal writer thread died; restarting it');
    else log.error({ file, error: message }, 'journal write failed');
    healWatch ??= setInterval(() => {
      if (writer.stats().failing) return;
      Atomics.store(controlWords, CTL_JOURNAL_FAILING, 0);
      clearInterval(healWatch!);
      healWatch = null;
      log.warn('journal writes succeed again');
    }, 50).unref();
  });
  writer.onRestart((info) => log.warn({ restarts: info.restarts, down_ms: info.downMs, reason: info.reason }, 'journal writer thread restarted'));
  // the main thread's journal lines (ops, and every decision at pool size 0) go through a shared ring
  // like a worker's: a MessagePort message per flush cost ~10 us on this thread
  const mainRing = Ring.allocate(MAIN_JOURNAL_RING_BYTES);
  writer.attach('main', mainRing);
  const mainBatch = new JournalBatch();
  const mainCounters = new GateCounters(countersBuffer, 0);
  const reserveChars = journalReserveChars(Math.max(svc.maxBodyBytes, svc.wsMaxPayloadBytes));
  const mainJournal = new JournalRingProducer(
    mainRing,
    writer.bell,
    { dropped: (lines) => mainCounters.journalDropped(lines), log: (message) => log.error(message) },
    reserveChars,
  );
  const failClosed = controlWords[CTL_FAIL_CLOSED] !== 0;
  // fail_closed: a check is refused before it is decided when the journal fails or its lines might not
  // fit into the main ring (the producer never waits for room), so nothing decided is ever dropped
  const refuseChecks = () => failClosed && (Atomics.load(controlWords, CTL_JOURNAL_FAILING) !== 0 || !mainJournal.hasRoom(mainBatch));
  // journal before reply (the rule: pool/decide.ts): inline decisions and ops flush before replying
  const flushMain = () => handOverJournal(mainBatch, svc.journal.enabled ? mainJournal : null);
  const mainLock = new SharedLock(lockBuffer, MAIN_LOCK_OWNER, false);
  const ops = new Ops(core, state, mainLock, SYSTEM_CLOCK, mainBatch, mainCounters, runId, svc.ops.token, svc.ops.allowlist, version, flushMain);

  let app: GateApp | null = null;
  let dispatcher: Dispatcher<Target> | null = null;
  if (threads > 0) {
    dispatcher = new Dispatcher<Target>({
      threads,
      ringBytes: RING_BYTES,
      maxInflight: MAX_INFLIGHT,
      awakeShare: svc.poolAwakeShare,
      control,
      sink: { deliver: (t, s, b, n) => app!.sink.deliver(t, s, b, n), fail: (t, s, b, r) => app!.sink.fail(t, s, b, r) },
      args: (slot, req, resp, journalRing) => ({
        slot,
        req,
        resp,
        state: state.buffer as SharedArrayBuffer,
        stateSizes: svc.stateSizes,
        lock: lockBuffer,
        counters: countersBuffer,
        control,
        core,
        runId,
        journalEnabled: svc.journal.enabled,
        journalRing,
        journalBell: writer.bell,
        journalReserveChars: reserveChars,
      }),
      attachJournal: (name, ring) => writer.attach(name, ring),
      detachJournal: (name) => writer.detach(name),
      onWorkerDeath: (slot, err, failed) => {
        const broke = mainLock.breakIfHeldBy(slot);
        log.error({ slot, err: String(err), failed_requests: failed, lock_broken: broke }, 'worker stopped; its in-flight requests were answered 503 and it is being replaced');
      },
    });
  }
  // the main thread's pipeline: every decision at pool size 0; with workers, only on a quiet gate
  // (pool.inline_when_idle, pool/decide.ts Decider), which then answers without two thread hand-offs.
  // Its lines go to the main journal ring before the reply is written (journal-before-reply).
  const inline = threads === 0 || svc.poolInlineWhenIdle ? new GateService(core, state, mainLock, SYSTEM_CLOCK, runId, mainBatch, mainCounters, refuseChecks) : null;
  const d = dispatcher;
  const decider = new Decider<Target>({
    submit: d === null ? null : (k, b, t) => d.submit(k, b, t),
    inflight: d === null ? () => 0 : () => d.inflight(),
    inline,
    idleGapMs: svc.poolInlineIdleGapUs / 1000,
    flush: flushMain,
  });

  const journalStats = (): JournalStats => writer.stats();
  const openapiDoc = openApiText(version);
  const metrics = new Metrics({
    counters: countersBuffer,
    opsAuthFailures: () => ops.authFailures,
    rotations: () => ops.rotations,
    queueDepth: () => dispatcher?.inflight() ?? 0,
    workersAlive: () => dispatcher?.aliveWorkers() ?? 0,
    journal: journalStats,
    wsConnections: () => app?.wsConnections ?? 0,
    wsBackpressureClosed: () => app?.wsBackpressureClosed ?? 0,
    controls: () => ops.controlsGauges(),
  });

  const health = () => {
    const j = journalStats();
    return {
      status: 'healthy',
      models_loaded: false,
      version: { sha: svc.gitSha, branch: svc.gitBranch, build_ts: startedAt.toISOString(), order_profile: svc.orderProfileLabel },
      uptime_s: Math.round((Date.now() - startedAt.getTime()) / 1000),
      workers: threads === 0 ? 'inline' : (dispatcher?.aliveWorkers() ?? 0),
      journal_failing: j.failing,
    };
  };
  const readiness = () => {
    const j = journalStats();
    const g = ops.guardState();
    const workersOk = threads === 0 || (dispatcher?.aliveWorkers() ?? 0) > 0;
    const journalOk = !(j.failing && svc.journal.onWriteError === 'fail_closed');
    return {
      ready: workersOk && journalOk,
      body: {
        config_loaded: true,
        last_event_ts: j.lastWriteMs,
        halt: g.halted || governanceHalted(state, SYSTEM_CLOCK.wallSec()),
        models_loaded: false,
        armed: g.armed,
        cooloff_until: g.cooloff_until,
        journal_failing: j.failing,
        workers_alive: threads === 0 ? 'inline' : (dispatcher?.aliveWorkers() ?? 0),
      },
    };
  };

  app = new GateApp({
    uws,
    decider,
    ops,
    metrics,
    maxBodyBytes: svc.maxBodyBytes,
    wsMaxPayloadBytes: svc.wsMaxPayloadBytes,
    wsMaxBackpressureBytes: svc.wsMaxBackpressureBytes,
    wsIdleTimeoutS: svc.wsIdleTimeoutS,
    runnerToken: svc.ops.runnerToken,
    countInvalid: () => mainCounters.invalid(),
    health,
    readiness,
    version: () => version,
    openapi: () => openapiDoc,
  });
  await dispatcher?.start();

  ops.event({ code: 'CONFIG.SWITCHED', details: { name: cfg.source } });
  if (svc.ops.aliasUsed) ops.event({ code: 'OPS.TOKEN.ALIAS_USED', details: { alias: 'AURORA_OPS_TOKEN' } });

  const port = await app.listen(svc.host, svc.port);
  ops.event({ code: 'AURORA.STARTUP.OK', details: { host: svc.host, port, pool_threads: threads, version } });
  // the one `listening` line is the ready signal (protocol.md): printed whatever the log level
  const listening = { host: svc.host, port, url: `http://${svc.host}:${port}`, session_dir: sessionDir, run_id: runId, pool_threads: threads, config: cfg.source };
  if (log.isLevelEnabled('info')) log.info(listening, 'listening');
  else log.child({}, { level: 'info' }).info(listening, 'listening');

  const gateApp = app;
  const handle: RunningGate = {
    port,
    host: svc.host,
    sessionDir,
    runId,
    async stop(): Promise<boolean> {
      gateApp.stopListening();
      // from here on, requests on still-open connections are refused (503 shutting_down): a request
      // is either decided and journaled before the writer closes, or not decided at all
      decider.stopping = true;
      // one budget for the whole stop (protocol.md: exit within 5 s), spent in order
      const end = Date.now() + 4500;
      const left = (reserve: number) => Math.max(100, end - Date.now() - reserve);
      const inflightDeadline = Date.now() + 2000;
      while ((dispatcher?.inflight() ?? 0) > 0 && Date.now() < inflightDeadline) await new Promise((r) => setTimeout(r, 5));
      const unanswered = dispatcher?.inflight() ?? 0;
      if (dispatcher !== null) await dispatcher.stop(left(1000));
      gateApp.closeWebSockets();
      flushMain();
      // the main thread's last lines are in its ring: the writer drains it, then closes (also after
      // waiting for a replacement thread, if the writer thread just died)
      writer.detach('main');
      const stats = await writer.close(left(300));
      if (healWatch !== null) clearInterval(healWatch);
      log.info({ lines_written: stats.linesWritten, unanswered, journal_failing: stats.failing, journal_writer_restarts: stats.writerRestarts }, 'stopped');
      return unanswered === 0 && !stats.failing;
    },
  };
  // used by src/testing only (testHooks(gate)): state reset, counters (fault switch), writer and ops hooks
  registerTestHooks(handle, {
    kind: 'gate',
    writer,
    ops,
    counters: countersBuffer,
    controls: state.controls,
    resetSharedState: () => {
      mainLock.acquire();
      try {
        const generation = state.controls.configGeneration;
        new Uint8Array(state.buffer).fill(0);
        state.init(core.risk);
        initControls(state.controls, core.controls);
        // past every generation a thread has seen, so each one re-reads the start-up configuration
        while (state.controls.configGeneration <= generation) publishControls(state.controls, core.controls);
      } finally {
        mainLock.release();
      }
    },
  });
  return handle;
}
