/**
 * `npm run soak -- --minutes N`: the gate under a constant load for N minutes, watched for leaks and drift.
 *
 * 1. Starts the gate as `npm start` does (`node dist/main.mjs`, bench/processes.ts): port 0, a temp
 *    session directory, the default pool size unless --pool.
 * 2. Measures the maximum rate briefly (closed loop, the same client) unless --rate is given, then drives
 *    --fraction of it (default 0.5) at a constant rate (open loop: latency counts from the moment a request
 *    was due) over keep-alive HTTP connections (or one WebSocket, --transport ws).
 * 3. Every --sample-s seconds (5): the gate's RSS (/proc/<pid>/status VmRSS), its main-thread heap in use
 *    (/metrics nodejs_heap_size_used_bytes), the achieved rate, p50/p99 of the window, errors, client
 *    backlog, journal lag; one progress line per sample.
 * 4. Stops the gate with SIGTERM (exit 0 expected) and checks its journal: every line parses, one
 *    POLICY.DECISION per 200 answer, one orders_denied line per denied answer.
 * 5. Prints the summary (RSS after warm-up vs end, growth %, heap growth, p99 first vs last window) with
 *    PASS/FAIL lines; writes bench/results/soak-<stamp>.json and soak-<stamp>.svg. Exit code 0 = all PASS.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { parsePrometheus, sumOf } from '../src/ctl/prom.ts';
import { parseArgs, warmupSeconds, type SoakOptions } from './soak/args.ts';
import { soakChartSvg } from './soak/chart.ts';
import { startHttpDriver, startWsDriver, type Driver, type DriverOptions } from './soak/client.ts';
import { checkJournal, type JournalCheck } from './soak/journal-check.ts';
import { mib, summarize, type Sample, type Summary } from './soak/summary.ts';
import { ROOT, startGateProcess } from './processes.ts';
import { summarise } from './ws-load.ts';

const log = (msg: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startDriver(o: SoakOptions, d: DriverOptions): Promise<Driver> {
  return o.transport === 'ws' ? startWsDriver(d) : Promise.resolve(startHttpDriver(d));
}

/** Sum of the samples of `name` on the gate's /metrics (the parser `aurora-ctl status` uses); NaN if absent or unreachable. */
async function metric(port: number, name: string): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return sumOf(parsePrometheus(text), name) ?? NaN;
  } catch {
    return NaN;
  }
}

/** Closed loop for `seconds` (after 2 s of warm-up): the most this gate and this client reach together. */
async function measureMaxRate(o: SoakOptions, port: number): Promise<number> {
  const d = await startDriver(o, { port, prefix: 'cal', rate: null, maxRequests: 5_000_000, connections: o.transport === 'ws' ? 256 : o.connections });
  await sleep(2000);
  d.take();
  const t0 = performance.now();
  await sleep(o.calibrateS * 1000);
  const w = d.take();
  const secs = (performance.now() - t0) / 1000;
  await d.stop(3000);
  const s = summarise(w.lat, secs, w.netErrors);
  log(`max rate (closed loop, ${o.transport}): ${Math.round(w.ok / secs)} req/s, p50 ${Math.round(s.p50)} us, p99 ${Math.round(s.p99)} us, non-200 ${w.non200}`);
  return w.ok / secs;
}

async function main(): Promise<number> {
  let o: SoakOptions;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  // the gate's worker threads load dist/ bundles: build them (idempotent; `npm run soak` did already)
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--quiet'], { stdio: 'inherit' });
  const env: Record<string, string> = { AURORA_LOG_LEVEL: 'warn', ...o.env };
  if (o.pool !== null) env.AURORA_POOL_THREADS = String(o.pool);
  const gate = await startGateProcess(env);
  log(`gate pid ${gate.proc.pid} port ${gate.port}, session ${gate.sessionDir}${o.pool !== null ? `, pool ${o.pool}` : ''}`);
  let exitCode: number | null;
  try {
    const maxRate = o.rate === null ? await measureMaxRate(o, gate.port) : null;
    const rate = o.rate ?? Math.max(1, Math.round(maxRate! * o.fraction));
    const seconds = o.minutes * 60;
    const warmupS = warmupSeconds(o);
    log(`constant rate ${rate} req/s for ${o.minutes} min over ${o.transport === 'ws' ? 'one WebSocket' : `${o.connections} HTTP connections`}; warm-up ${+warmupS.toFixed(1)} s; sample every ${o.sampleS} s`);

    const prefix = 'soak';
    const maxRequests = Math.ceil(rate * (seconds + 30)) + 1000;
    const d = await startDriver(o, { port: gate.port, prefix, rate, maxRequests, connections: o.connections });
    const t0 = performance.now();
    const samples: Sample[] = [];
    let last = t0;
    while (performance.now() - t0 < seconds * 1000) {
      await sleep(Math.max(0, Math.min(o.sampleS * 1000, t0 + seconds * 1000 - performance.now(), last + o.sampleS * 1000 - performance.now())));
      const now = performance.now();
      const w = d.take();
      const lat = summarise(w.lat, (now - last) / 1000, w.netErrors);
      const [heapUsed, journalLag] = await Promise.all([metric(gate.port, 'nodejs_heap_size_used_bytes'), metric(gate.port, 'aurora_journal_lag_lines')]);
      const s: Sample = {
        t: (now - t0) / 1000,
        rss: gate.rss(),
        heapUsed,
        rate: (w.ok + w.non200) / ((now - last) / 1000),
        sent: w.sent,
        ok: w.ok,
        non200: w.non200,
        netErrors: w.netErrors,
        p50: lat.p50,
        p99: lat.p99,
        backlog: w.backlog,
        journalLag,
      };
      last = now;
      samples.push(s);
      const codes = Object.keys(w.codes).length ? ` ${JSON.stringify(w.codes)}` : '';
      log(
        `t=${s.t.toFixed(0).padStart(4)}s rss ${mib(s.rss).padStart(6)} MiB heap ${mib(s.heapUsed).padStart(5)} MiB ` +
          `${Math.round(s.rate).toString().padStart(6)} req/s p50 ${Math.round(s.p50).toString().padStart(6)} us p99 ${Math.round(s.p99).toString().padStart(7)} us ` +
          `err ${s.non200 + s.netErrors}${codes} backlog ${s.backlog} journal lag ${s.journalLag}${s.t < warmupS ? ' (warm-up)' : ''}`,
      );
    }
    await d.stop(5000);

    log('stopping the gate (SIGTERM) and checking its journal ...');
    exitCode = await Promise.race([gate.stop(), sleep(15_000).then(() => null)]);
    if (exitCode === null) log('the gate did not exit within 15 s of SIGTERM');
    const journal = await checkJournal(gate.sessionDir, prefix, d.answers, d.issued());
    const summary = summarize(samples, warmupS, o.maxRssGrowthPct);
    summary.verdicts.push(
      { name: 'gate stopped cleanly (exit 0)', pass: exitCode === 0, shown: `exit ${exitCode}` },
      {
        name: 'journal: every line parses, one POLICY.DECISION per 200 answer, none doubled',
        pass: journal.ok,
        shown: `${journal.lines} lines in ${journal.files} files, torn ${journal.torn}, answered ${journal.answered200}, lost ${journal.lost}, doubled ${journal.doubled}, denied ${journal.deniedJournaled}/${journal.deniedExpected}${journal.deniedUnexpected > 0 ? `, denied lines of allowed requests ${journal.deniedUnexpected}` : ''}`,
      },
    );
    report(o, { rate, maxRate, warmupS, samples, summary, journal, sessionDir: gate.sessionDir });
    const pass = summary.verdicts.every((v) => v.pass !== false);
    if (pass && !o.keep) rmSync(gate.sessionDir, { recursive: true, force: true });
    else log(`journal kept in ${gate.sessionDir}`);
    return pass ? 0 : 1;
  } finally {
    if (gate.proc.exitCode === null && gate.proc.signalCode === null) gate.proc.kill('SIGKILL');
  }
}

interface Run {
  rate: number;
  maxRate: number | null;
  warmupS: number;
  samples: Sample[];
  summary: Summary;
  journal: JournalCheck;
  sessionDir: string;
}

function report(o: SoakOptions, r: Run): void {
  const { summary: s, journal: j } = r;
  const pct = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(1)} %` : 'n/a');
  const lines = [
    '',
    `soak: ${o.minutes} min at ${r.rate} req/s (${r.maxRate === null ? '--rate' : `${o.fraction} x measured max ${Math.round(r.maxRate)}`}), ${o.transport}, warm-up ${+r.warmupS.toFixed(1)} s, ${s.samplesAfterWarm} samples after it`,
    `  answered ${s.totals.ok + s.totals.non200} (${Math.round(s.totals.rate)} req/s), 200: ${s.totals.ok}, non-200: ${s.totals.non200}, no answer: ${s.totals.netErrors}`,
    `  RSS   after warm-up ${mib(s.rss.atWarm)} MiB, end ${mib(s.rss.atEnd)} MiB, max ${mib(s.rss.maxAfterWarm)} MiB: ${pct(s.rss.pct)}, slope ${(s.rss.slopePerMin / 2 ** 20).toFixed(2)} MiB/min`,
    `  heap  after warm-up ${mib(s.heap.atWarm)} MiB, end ${mib(s.heap.atEnd)} MiB, max ${mib(s.heap.maxAfterWarm)} MiB: ${pct(s.heap.pct)} (main thread; sawtooth from GC)`,
    `  p99   first window ${Math.round(s.p99.first)} us, last ${Math.round(s.p99.last)} us: drift ${pct(s.p99.driftPct)} (median of first/last 3 windows ${Math.round(s.p99.medianFirst3)} / ${Math.round(s.p99.medianLast3)} us)`,
    `  journal ${j.files} files, ${j.lines} lines: torn ${j.torn}, answered 200 ${j.answered200}, lost ${j.lost}, doubled ${j.doubled}, journaled without a 200 ${j.unanswered}, denied lines ${j.deniedJournaled}/${j.deniedExpected} (denied lines without a 200 ${j.deniedUnanswered}, of allowed requests ${j.deniedUnexpected})`,
    ...j.tornExamples.map((t) => `    torn: ${t}`),
    ...s.verdicts.map((v) => `- ${v.pass === null ? 'N/A ' : v.pass ? 'PASS' : 'FAIL'} ${v.name}: ${v.shown}`),
  ];
  console.log(lines.join('\n'));
  const stamp = new Date().toISOString().replace(/:/g, '-');
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const machine = { node: process.version, cpu: cpus()[0]?.model, cores: cpus().length };
  const out = { when: new Date().toISOString(), options: o, rate: r.rate, maxRate: r.maxRate, machine, summary: s, journal: j, samples: r.samples };
  const json = join(dir, `soak-${stamp}.json`);
  const svg = join(dir, `soak-${stamp}.svg`);
  writeFileSync(json, JSON.stringify(out, null, 2));
  const verdict = s.verdicts[0];
  const sub = `${o.minutes} min at ${r.rate} req/s (${o.transport}) · node ${machine.node}, ${machine.cores} cores · RSS ${verdict.pass === null ? 'n/a' : verdict.pass ? 'PASS' : 'FAIL'} ${pct(s.rss.pct)} after warm-up · p99 drift ${pct(s.p99.driftPct)}`;
  writeFileSync(svg, soakChartSvg(r.samples, r.warmupS, sub));
  log(`wrote ${relative(ROOT, json)} and ${relative(ROOT, svg)}`);
}

process.exitCode = await main();
