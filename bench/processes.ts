import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface Server {
  name: string;
  port: number;
  proc: ChildProcess;
  /** resident set size of the server process, bytes */
  rss(): number;
  stop(): Promise<number | null>;
}

function waitForLine(proc: ChildProcess, match: (line: string) => number | null, timeoutMs: number, what: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    let buf = '';
    let errBuf = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start in ${timeoutMs} ms: ${errBuf.slice(-500)}`)), timeoutMs);
    proc.stderr?.on('data', (d: Buffer) => (errBuf += d.toString()));
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        const port = match(line);
        if (port !== null) {
          clearTimeout(timer);
          resolvePort(port);
          return;
        }
      }
    });
    proc.on('exit', (code) => reject(new Error(`${what} exited with ${code}: ${errBuf.slice(-500)}`)));
  });
}

function handle(name: string, proc: ChildProcess, port: number): Server {
  return {
    name,
    port,
    proc,
    rss() {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
        return m ? Number(m[1]) * 1024 : NaN;
      } catch {
        return NaN;
      }
    },
    stop() {
      return new Promise((r) => {
        if (proc.exitCode !== null) return r(proc.exitCode);
        proc.once('exit', (code) => r(code));
        proc.kill('SIGTERM');
      });
    },
  };
}

/** The bare uWS floor (bench/floor.ts) in its own process. */
export async function startFloor(): Promise<Server> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/floor.ts'), '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await waitForLine(proc, (l) => (l.startsWith('listening ') ? Number(l.slice(10)) : null), 15_000, 'floor');
  return handle('floor', proc, port);
}

/** The real gate, started as `npm start` does (`node dist/main.mjs`, dist/ already built). */
export async function startGateProcess(env: Record<string, string>): Promise<Server & { sessionDir: string }> {
  const sessionDir = mkdtempSync(join(tmpdir(), 'aurora-bench-'));
  const proc = spawn(process.execPath, [join(ROOT, 'dist/main.mjs')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', AURORA_PORT: '0', AURORA_SESSION_DIR: sessionDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await waitForLine(
    proc,
    (l) => {
      if (!l.includes('"listening"')) return null;
      try {
        return (JSON.parse(l) as { port: number }).port;
      } catch {
        return null;
      }
    },
    30_000,
    'gate',
  );
  return { ...handle(`gate`, proc, port), sessionDir };
}
