/**
 * npm run demo: starts the gate (`node dist/main.mjs`, built by the npm script) on a free port with a
 * temp session directory, runs the runner over samples/replay-sample.jsonl against it, stops both,
 * and prints the summary and where the files are.
 *
 * `npm run demo -- --config configs/desk.yaml` starts the gate with that YAML (AURORA_CONFIG, with
 * AURORA_CONFIG_STRICT=1 so a missing file stops it instead of falling back to the defaults): with the
 * desk controls on, the summary's "denied by rule: controls" rows show them working.
 *
 * The gate gets AURORA_LATENCY_MS_LIMIT=30: the reference latency limit the sample's latency_spike
 * scenario is written for (the embedded default is base.yaml's 300 ms). Anything else comes from the
 * environment as usual (AURORA_* for the gate, RUNNER_* for the runner).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadRunnerConfig, maskSecrets } from '../src/runner/config/index.ts';
import { runReplay } from '../src/runner/engine/run.ts';
import { formatProgress } from '../src/runner/report/progress.ts';
import { formatSummaryTable } from '../src/runner/report/table.ts';
import { parseFlagsOrExit } from '../src/util/flags.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLE = join(ROOT, 'samples', 'replay-sample.jsonl');
const err = (line: string) => process.stderr.write(line + '\n');

const USAGE = `usage: npm run demo [-- --config <gate yaml>]

  --config FILE   the gate's configuration (AURORA_CONFIG), e.g. configs/desk.yaml (desk controls on);
                  default: the gate's embedded defaults (no desk controls)
  -h, --help      this text`;

/** Resolves with the port of the gate's `listening` log line (JSON on stdout). */
function waitListening(gate: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    let buf = '';
    let errBuf = '';
    const timer = setTimeout(() => reject(new Error(`the gate did not print "listening" within ${timeoutMs} ms\n${errBuf}`)), timeoutMs);
    gate.stderr!.on('data', (d: Buffer) => (errBuf += d.toString()));
    gate.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.includes('"listening"')) continue;
        try {
          const port = (JSON.parse(line) as { port?: unknown }).port;
          if (typeof port === 'number') {
            clearTimeout(timer);
            resolvePort(port);
          }
        } catch {
          /* not JSON */
        }
      }
    });
    gate.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gate exited with code ${code} before listening\n${errBuf}`));
    });
  });
}

function stopGate(gate: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    if (gate.exitCode !== null) return r(gate.exitCode);
    const kill = setTimeout(() => gate.kill('SIGKILL'), 10_000);
    gate.once('exit', (code) => {
      clearTimeout(kill);
      r(code);
    });
    gate.kill('SIGTERM');
  });
}

function countDecisions(sessionDir: string): number {
  const path = join(sessionDir, 'aurora_events.jsonl');
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"event_code":"POLICY.DECISION"')).length;
}

async function main(): Promise<number> {
  const flags = parseFlagsOrExit(process.argv.slice(2), { config: { type: 'string' } }, USAGE).values;
  const gateConfig = flags.config !== undefined ? resolve(flags.config) : null;
  if (gateConfig !== null && !existsSync(gateConfig)) {
    err(`[demo] --config ${flags.config}: no such file (${gateConfig})`);
    return 2;
  }
  if (!existsSync(SAMPLE)) {
    err(`missing ${SAMPLE}: generate it with the command in samples/README.md (npm run sample -- ...)`);
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), 'aurora-demo-'));
  const session = join(dir, 'session');
  err(`[demo] starting the gate: node dist/main.mjs (session ${session}; config ${gateConfig ?? 'embedded defaults'})`);
  const configEnv = gateConfig !== null ? { AURORA_CONFIG: gateConfig, AURORA_CONFIG_STRICT: '1' } : {};
  const gate = spawn(process.execPath, [join(ROOT, 'dist', 'main.mjs')], {
    cwd: ROOT,
    env: { ...process.env, ...configEnv, AURORA_HOST: '127.0.0.1', AURORA_PORT: '0', AURORA_SESSION_DIR: session, AURORA_LATENCY_MS_LIMIT: '30' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop: { reason: string | null } = { reason: null };
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.reason !== null) process.exit(130);
    stop.reason = sig;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const port = await waitListening(gate, 20_000);
    const url = `ws://127.0.0.1:${port}/ws`;
    err(`[demo] gate listening on 127.0.0.1:${port}; running the runner over ${SAMPLE}`);
    const { config } = loadRunnerConfig({ env: process.env, cli: { mode: 'replay', feed: { path: SAMPLE }, gate: { url }, session_dir: session } });
    err(`[runner] config: ${JSON.stringify(maskSecrets(config))}`);
    const r = await runReplay(config, { env: process.env, stop, log: err, onProgress: (p) => err(formatProgress(p)) });
    const gateExit = await stopGate(gate);
    const decisions = countDecisions(session);
    process.stdout.write(`\n${formatSummaryTable(r.summary)}\n\n`);
    process.stdout.write(
      [
        `gate                 stopped (exit ${gateExit}); ${decisions} POLICY.DECISION records for ${r.summary.gate.tried} checks; config ${gateConfig ?? 'embedded defaults'}`,
        `summary JSON         ${r.summaryPath}`,
        `runner files         ${r.runnerDir}  (events, orders, fills, gate_calls .jsonl, config.json)`,
        `gate journal         ${session}  (aurora_events.jsonl, orders_*.jsonl)`,
      ].join('\n') + '\n',
    );
    return r.exitCode !== 0 ? r.exitCode : gateExit === 0 ? 0 : 1;
  } catch (e) {
    await stopGate(gate);
    if (e instanceof ConfigError) {
      err(`[demo] configuration error: ${e.message}`);
      return e.exitCode;
    }
    err(`[demo] ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  }
}

void main().then((code) => {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2000).unref();
});
