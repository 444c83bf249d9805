import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from './config/load.ts';
import { ConfigError } from './config/env.ts';
import { startGate } from './server.ts';
import { createLogger } from './log.ts';

/**
 * `npm start`: load the configuration (ENV > YAML > embedded defaults), open the session directory,
 * start the journal writer, the worker pool and the uWebSockets.js front end, and stop cleanly on
 * SIGTERM/SIGINT (protocol.md "Process").
 */
async function main(): Promise<void> {
  let cfg;
  try {
    cfg = loadConfig(process.env, process.cwd());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`aurora: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(cfg.service.logLevel);
  for (const w of cfg.warnings) log.warn({ warning: w }, w);

  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const sessionDir = resolve(cfg.service.sessionDir ?? `logs/${stamp}`);
  mkdirSync(sessionDir, { recursive: true });
  process.env.AURORA_SESSION_DIR = sessionDir;
  const runId = `${stamp}-${randomBytes(3).toString('hex')}`;

  // signal handlers first: a SIGTERM during start-up stops the gate as soon as it is up
  let gate: Awaited<ReturnType<typeof startGate>> | null = null;
  let stopRequested: string | null = null;
  let stopping = false;
  const stop = (signal: string) => {
    if (gate === null) {
      stopRequested = signal;
      return;
    }
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    gate.stop().then(
      (clean) => process.exit(clean ? 0 : 1),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A request cannot throw out of the decision path (GateService.handleBytes answers 500), but code
  // outside it (an ops handler, a timer, a library) still can. Node's default would exit at once and lose
  // the journal lines still in the rings; instead log it, stop as on SIGTERM (answer what is in flight,
  // flush the journal) and exit 1 — state after an unknown error is not trusted, so the gate does not
  // keep deciding (a supervisor restarts it; the runner's client fails closed meanwhile).
  let fatalSeen = false;
  const fatal = (kind: 'uncaughtException' | 'unhandledRejection') => (err: unknown) => {
    log.fatal({ err, kind }, 'uncaught error: stopping the gate and exiting 1');
    if (fatalSeen) return;
    fatalSeen = true;
    const exit = () => process.exit(1);
    setTimeout(exit, 5000).unref();
    if (gate === null) return exit();
    if (stopping) return; // a stop is already under way; the timer bounds it
    stopping = true;
    gate.stop().then(exit, exit);
  };
  process.on('uncaughtException', fatal('uncaughtException'));
  process.on('unhandledRejection', fatal('unhandledRejection'));
  gate = await startGate(cfg, { sessionDir, runId, log });
  if (stopRequested !== null) stop(stopRequested);
}

main().catch((err: unknown) => {
  process.stderr.write(`aurora: failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(3);
});
