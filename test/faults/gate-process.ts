import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/process.ts';

/**
 * The gate as a child process on a session directory the caller chooses (test/helpers/process.ts always
 * makes a fresh one; restarting on the same journal needs this). `node dist/main.mjs`, cwd = the
 * repository root, PATH/HOME plus `env`, port 0.
 */
export interface ChildGate {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  stderr(): string;
  stdout(): string;
  signal(sig: NodeJS.Signals): void;
  /** exit code / signal, or null if still running after timeoutMs */
  waitExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null>;
}

export async function startChildGate(sessionDir: string, env: Record<string, string> = {}, readyTimeoutMs = 15_000): Promise<ChildGate> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'main.mjs')], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? sessionDir, AURORA_LOG_LEVEL: 'warn', ...env, AURORA_PORT: '0', AURORA_SESSION_DIR: sessionDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r((exit = { code, signal }))));
  const end = performance.now() + readyTimeoutMs;
  for (;;) {
    const line = out.split('\n').find((l) => l.includes('"msg":"listening"'));
    if (line !== undefined) {
      const port = (JSON.parse(line) as { port: number }).port;
      return {
        child,
        pid: child.pid!,
        port,
        url: `http://127.0.0.1:${port}`,
        stderr: () => err,
        stdout: () => out,
        signal: (sig) => void child.kill(sig),
        async waitExit(timeoutMs) {
          if (exit !== null) return exit;
          let t: NodeJS.Timeout | undefined;
          const r = await Promise.race([exited, new Promise<null>((res) => (t = setTimeout(() => res(null), timeoutMs)))]);
          clearTimeout(t);
          return r;
        },
      };
    }
    if (exit !== null || performance.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`gate did not start (exit ${JSON.stringify(exit)})\nstdout:\n${out}\nstderr:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
