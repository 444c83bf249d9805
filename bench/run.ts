/**
 * `npm run bench [-- --quick]`: the gate against a bare uWebSockets.js floor measured in the same run.
 * Scenarios: HTTP at 32 connections for pool sizes 0 (inline), 1, 2, 4 and the default (one per core; --quick:
 * 0 and the default) and with the journal off;
 * WebSocket with 64 in flight, strictly sequential, and 4 connections. Prints a markdown table and
 * SLO lines, writes JSON to bench/results/. Load: wrk for HTTP when installed (apt package `wrk`),
 * else a Node generator; a Node client for WebSocket.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { parseFlagsOrExit } from '../src/util/flags.ts';
import { ALLOWED_JSON } from './bodies.ts';
import { gateEnv, meanCpu, measuredPools, projectedRatio } from './figures.ts';
import { writePlots } from './plot.ts';
import { runHttpNode } from './http-load.ts';
import { ROOT, startFloor, startGateProcess, type Server } from './processes.ts';
import { perRequest, snapshot, type CpuPerRequest } from './thread-cpu.ts';
import { hasWrk, runWrk, type LoadResult } from './wrk.ts';
import { runWs } from './ws-load.ts';

const USAGE = `usage: npm run bench [-- --quick] [--keep]
  --quick   3 s per measurement (6 s otherwise), HTTP pool sizes 0 and the default only
  --keep    keep the gates' session directories (their journals: ~100 MB per gate run)`;
const { values: flags } = parseFlagsOrExit(process.argv.slice(2), { quick: { type: 'boolean' }, keep: { type: 'boolean' } }, USAGE);
const quick = flags.quick === true;
/** keep the gates' session directories (their journals: ~100 MB per gate run) instead of deleting them */
const keep = flags.keep === true;
const SECONDS = quick ? 3 : 6;
const WARMUP = 2; // the JIT needs ~2 s of load: 1 s left quick runs ~30 % slower on the gate
const wrk = hasWrk();

type Measured = LoadResult & { cpu: CpuPerRequest | null };

interface Row extends Measured {
  scenario: string;
  target: string;
  ratio: number | null;
  rssMb: number;
}

const rows: Row[] = [];
const progress = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** One measured run with the server's per-thread CPU accounted around it. */
async function measured(server: Server, run: () => Promise<LoadResult> | LoadResult): Promise<Measured> {
  const pid = server.proc.pid ?? 0;
  const before = snapshot(pid);
  const r = await run();
  return { ...r, cpu: perRequest(pid, before, snapshot(pid), r.requests) };
}

async function http(server: Server, conns: number): Promise<Measured> {
  const url = `http://127.0.0.1:${server.port}/pretrade/check`;
  const run = (secs: number) => (wrk ? runWrk(url, ALLOWED_JSON, conns, secs) : runHttpNode(url, ALLOWED_JSON, conns, secs));
  await run(WARMUP);
  return measured(server, () => run(SECONDS));
}

async function ws(server: Server, conns: number, inFlight: number): Promise<Measured> {
  const url = `ws://127.0.0.1:${server.port}/ws`;
  await runWs(url, ALLOWED_JSON, conns, inFlight, WARMUP);
  return measured(server, () => runWs(url, ALLOWED_JSON, conns, inFlight, SECONDS));
}

function record(scenario: string, target: string, r: Measured, server: Server, floor: LoadResult | null): Row {
  const row: Row = { scenario, target, ...r, ratio: floor ? r.rps / floor.rps : null, rssMb: server.rss() / 2 ** 20 };
  rows.push(row);
  progress(`${scenario} ${target}: ${Math.round(r.rps)} req/s, p50 ${Math.round(r.p50)} us, p99 ${Math.round(r.p99)} us${row.ratio ? `, ${row.ratio.toFixed(2)}x floor` : ''}`);
  return row;
}

async function stopGate(g: Server & { sessionDir: string }): Promise<void> {
  await g.stop();
  if (keep) progress(`kept ${g.sessionDir}`);
  else rmSync(g.sessionDir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--quiet'], { stdio: 'inherit' });
  progress(`load generator: ${wrk ? 'wrk' : 'node (install wrk for a stronger HTTP generator)'}; ${SECONDS}s per measurement`);
  const cores = cpus().length;
  const defaultPool = String(cores);

  // floor, measured first; its HTTP figure is re-measured at the end and the two are averaged
  const floor = await startFloor();
  const floorHttp1 = await http(floor, 32);
  const floorWs64 = await ws(floor, 1, 64);
  const floorWsSeq = await ws(floor, 1, 1);
  const floorWs4 = await ws(floor, 4, 16);
  record('ws 1 conn, 64 in flight', 'floor', floorWs64, floor, null);
  record('ws sequential', 'floor', floorWsSeq, floor, null);
  record('ws 4 conns x16', 'floor', floorWs4, floor, null);

  const pools = measuredPools(quick, cores); // always includes defaultPool
  const gateHttp: Record<string, Measured> = {};
  for (const pool of pools) {
    const g = await startGateProcess(gateEnv(pool));
    gateHttp[pool] = await http(g, 32);
    if (pool === defaultPool) {
      record('ws 1 conn, 64 in flight', `gate pool ${pool}`, await ws(g, 1, 64), g, floorWs64);
      record('ws sequential', `gate pool ${pool}`, await ws(g, 1, 1), g, floorWsSeq);
      record('ws 4 conns x16', `gate pool ${pool}`, await ws(g, 4, 16), g, floorWs4);
    }
    (gateHttp as Record<string, Measured & { rssMb?: number }>)[pool].rssMb = g.rss() / 2 ** 20;
    await stopGate(g);
  }
  // same log level as the journal-on gates (gateEnv): the comparison measures the journal only
  const gOff = await startGateProcess(gateEnv(defaultPool, false));
  const journalOff = await http(gOff, 32);
  const offRss = gOff.rss();
  await stopGate(gOff);

  const floorHttp2 = await http(floor, 32);
  // HTTP ratios and the projection use the mean of both floor runs (rate and CPU accounting); the WS
  // floor is measured once, at the start, and WS ratios use that run
  const floorHttp: Measured = { ...floorHttp1, rps: (floorHttp1.rps + floorHttp2.rps) / 2, cpu: meanCpu([floorHttp1.cpu, floorHttp2.cpu]) };
  record('http 32 conns', 'floor (start)', floorHttp1, floor, null);
  record('http 32 conns', 'floor (end)', floorHttp2, floor, null);
  await floor.stop();
  for (const pool of pools) {
    const r = gateHttp[pool] as Measured & { rssMb?: number };
    rows.push({ scenario: 'http 32 conns', target: `gate pool ${pool}${pool === '0' ? ' (inline)' : ''}`, ...r, ratio: r.rps / floorHttp.rps, rssMb: r.rssMb ?? NaN });
  }
  rows.push({ scenario: 'http 32 conns', target: `gate pool ${defaultPool}, journal off`, ...journalOff, ratio: journalOff.rps / floorHttp.rps, rssMb: offRss / 2 ** 20 });

  const find = (scenario: string, target: string) => rows.find((r) => r.scenario === scenario && r.target.startsWith(target))!;
  const gHttp = gateHttp[defaultPool];
  const seqGate = find('ws sequential', `gate pool ${defaultPool}`);
  const slos = [
    { name: `HTTP >= 0.6x floor (pool ${defaultPool})`, value: gHttp.rps / floorHttp.rps, pass: gHttp.rps / floorHttp.rps >= 0.6, shown: `${(gHttp.rps / floorHttp.rps).toFixed(2)}x` },
    { name: 'WS >= 0.6x floor at 64 in flight', value: find('ws 1 conn, 64 in flight', 'gate').ratio!, pass: find('ws 1 conn, 64 in flight', 'gate').ratio! >= 0.6, shown: `${find('ws 1 conn, 64 in flight', 'gate').ratio!.toFixed(2)}x` },
    { name: 'sequential WS p50 <= floor p50 + 50 us', value: seqGate.p50 - floorWsSeq.p50, pass: seqGate.p50 <= floorWsSeq.p50 + 50, shown: `+${Math.round(seqGate.p50 - floorWsSeq.p50)} us` },
    { name: 'sequential WS p99 <= floor p99 + 250 us', value: seqGate.p99 - floorWsSeq.p99, pass: seqGate.p99 <= floorWsSeq.p99 + 250, shown: `+${Math.round(seqGate.p99 - floorWsSeq.p99)} us` },
    { name: 'journal on costs <= 10 %', value: 1 - gHttp.rps / journalOff.rps, pass: gHttp.rps >= 0.9 * journalOff.rps, shown: `${((1 - gHttp.rps / journalOff.rps) * 100).toFixed(1)} %` },
  ];

  // what the HTTP ratio would be if no thread waited for a core (one core per busy thread, as on a
  // machine with more cores than this one): floor main-thread cost (mean of its start and end runs, like
  // the ratios) over the gate's busiest thread
  const fc = floorHttp.cpu;
  const gc = gHttp.cpu;
  const projected = projectedRatio(fc, gc);
  const projection =
    projected === null || fc === null || gc === null
      ? null
      : `HTTP ratio if each busy thread had its own core (floor main ${fc.mainUs.toFixed(1)} us/req over the gate's busiest thread ` +
        `${Math.max(gc.mainUs, gc.busiestOtherUs).toFixed(1)} us/req): ${projected.toFixed(2)}x; all gate threads use ${gc.totalUs.toFixed(1)} us/req ` +
        `against the floor's ${fc.totalUs.toFixed(1)}, and waited ${gc.runqueueWaitUs.toFixed(1)} us/req for a core (floor figures: mean of its start and end runs)`;
  const cpuCell = (n: number | undefined) => (n === undefined ? '' : n.toFixed(1));
  const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
  const lines = [
    `| scenario | target | req/s | p50 us | p90 us | p99 us | p99.9 us | x floor | RSS MB | CPU us/req main | busiest other | all threads | runq wait |`,
    `| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.target} | ${fmt(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p90)} | ${fmt(r.p99)} | ${fmt(r.p999)} | ${r.ratio === null ? '' : r.ratio.toFixed(2)} | ${Number.isFinite(r.rssMb) ? r.rssMb.toFixed(0) : ''} | ` +
        `${cpuCell(r.cpu?.mainUs)} | ${cpuCell(r.cpu?.busiestOtherUs)} | ${cpuCell(r.cpu?.totalUs)} | ${cpuCell(r.cpu?.runqueueWaitUs)} |`,
    ),
    '',
    "- x floor: HTTP rows divide by the mean of the floor's start and end runs; WS rows by the floor's one WS run, at the start",
    ...slos.map((s) => `- ${s.pass ? 'PASS' : 'FAIL'} ${s.name}: ${s.shown}`),
    ...(projection === null ? [] : [`- info: ${projection}`]),
  ];
  console.log(lines.join('\n'));
  const when = new Date().toISOString();
  const stamp = when.replace(/:/g, '-');
  const out = {
    when,
    quick,
    seconds: SECONDS,
    loadGenerator: wrk ? 'wrk' : 'node',
    machine: { node: process.version, cpu: cpus()[0]?.model, cores },
    rows,
    slos,
    projectedHttpRatio: projected,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, `bench/results/bench-${stamp}.json`), JSON.stringify(out, null, 2));
  writeFileSync(join(ROOT, 'bench/results/bench-latest.json'), JSON.stringify(out, null, 2));
  const plots = writePlots(out, join(ROOT, 'bench/results'), stamp).map((p) => relative(ROOT, p));
  progress(`wrote bench/results/bench-${stamp}.json, ${plots.join(', ')} (docs/img/: npx tsx bench/plot.ts)`);
}

await main();
