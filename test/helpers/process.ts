import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (test/helpers/ -> ../..): the gate is started from here, as `npm start` does. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when the child exited */
  at: number;
}

export interface GateProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  /** the temp dir made for this start (the session dir is inside it) */
  dir: string;
  sessionDir: string;
  /** stdout / stderr collected so far */
  stdout(): string;
  stderr(): string;
  /** stdout parsed as pino JSON lines (non-JSON lines skipped) */
  logs(): Array<Record<string, unknown>>;
  /** sends a signal; returns performance.now() at the moment it was sent */
  signal(sig: NodeJS.Signals): number;
  /** resolves when the process exited (never rejects) */
  readonly exited: Promise<ExitInfo>;
  /** the exit, or null if the process is still running after `timeoutMs` */
  waitExit(timeoutMs: number): Promise<ExitInfo | null>;
  /** SIGKILL if still running (cleanup; only this child, by its pid) */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** extra environment on top of the minimal base (PATH, HOME) and AURORA_PORT=0 / AURORA_SESSION_DIR */
  env?: Record<string, string>;
  /** how long to wait for the `listening` log line (default 15 s) */
  readyTimeoutMs?: number;
}

/**
 * Starts the real gate as a user would: `node dist/main.mjs` (what `npm start` runs after its build),
 * cwd = the repository root, a minimal environment (PATH, HOME) plus `env`, `AURORA_PORT=0` and a fresh
 * temp `AURORA_SESSION_DIR`. Resolves once the single `listening` JSON log line has been printed.
 */
export async function startGateProcess(opts: StartOptions = {}): Promise<GateProcess> {
  const main = join(REPO_ROOT, 'dist', 'main.mjs');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`node scripts/build.mjs --quiet\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'aurora-proc-'));
  const sessionDir = join(dir, 'session');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dir,
    ...(opts.env ?? {}),
    AURORA_PORT: '0',
    AURORA_SESSION_DIR: sessionDir,
  };
  const child = spawn(process.execPath, [main], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => (out += d));
  child.stderr!.on('data', (d: string) => (err += d));

  let exitInfo: ExitInfo | null = null;
  const exited = new Promise<ExitInfo>((res) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal, at: performance.now() };
      res(exitInfo);
    });
  });

  const parseLogs = (): Array<Record<string, unknown>> => {
    const rows: Array<Record<string, unknown>> = [];
    for (const line of out.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        rows.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* a partial last line, or not JSON */
      }
    }
    return rows;
  };

  const handle: Omit<GateProcess, 'port' | 'url'> = {
    child,
    pid: child.pid ?? -1,
    dir,
    sessionDir,
    stdout: () => out,
    stderr: () => err,
    logs: parseLogs,
    signal(sig) {
      const t = performance.now();
      child.kill(sig);
      return t;
    },
    exited,
    async waitExit(timeoutMs) {
      if (exitInfo !== null) return exitInfo;
      let timer: NodeJS.Timeout | undefined;
      const r = await Promise.race([exited, new Promise<null>((res) => (timer = setTimeout(() => res(null), timeoutMs)))]);
      clearTimeout(timer);
      return r;
    },
    async kill() {
      if (exitInfo !== null) return;
      child.kill('SIGKILL');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    },
  };

  // wait for the single `listening` line (bounded in time; fails fast if the process exits)
  const deadline = performance.now() + (opts.readyTimeoutMs ?? 15_000);
  for (;;) {
    const listening = parseLogs().filter((l) => l.msg === 'listening');
    if (listening.length > 0) {
      const port = listening[0].port;
      if (typeof port !== 'number' || port <= 0) throw new Error(`listening line without a port: ${JSON.stringify(listening[0])}`);
      return { ...handle, port, url: `http://127.0.0.1:${port}` };
    }
    if (exitInfo !== null) {
      throw new Error(`gate exited before listening (code ${String((exitInfo as ExitInfo).code)}, signal ${String((exitInfo as ExitInfo).signal)})\nstdout:\n${out}\nstderr:\n${err}`);
    }
    if (performance.now() > deadline) {
      await handle.kill();
      throw new Error(`gate did not print 'listening' within ${opts.readyTimeoutMs ?? 15_000} ms\nstdout:\n${out}\nstderr:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Journal inspection
// ---------------------------------------------------------------------------------------------------------

export interface JournalFileReport {
  name: string;
  bytes: number;
  lines: number;
  /** lines that do not parse as one JSON object (1-based line numbers, first 200 chars) */
  torn: Array<{ line: number; text: string }>;
  /** non-empty and the last byte is not "\n" */
  missingFinalNewline: boolean;
  records: Array<Record<string, unknown>>;
}

export interface JournalReport {
  files: Record<string, JournalFileReport>;
  /** every torn line of every .jsonl file (empty = good) */
  torn: Array<{ file: string; line: number; text: string }>;
  /** files whose content does not end with "\n" */
  unterminated: string[];
  totalLines: number;
  /** records of aurora_events.jsonl (or an empty array) */
  events: Array<Record<string, unknown>>;
  /** records of orders_denied.jsonl */
  denied: Array<Record<string, unknown>>;
}

/** Reads and checks every `.jsonl` file of a session directory (no restart of the gate needed). */
export function inspectJournal(sessionDir: string): JournalReport {
  const files: Record<string, JournalFileReport> = {};
  const torn: JournalReport['torn'] = [];
  const unterminated: string[] = [];
  let totalLines = 0;
  for (const name of readdirSync(sessionDir).sort()) {
    if (!name.endsWith('.jsonl')) continue;
    const text = readFileSync(join(sessionDir, name), 'utf8');
    const rep: JournalFileReport = { name, bytes: Buffer.byteLength(text), lines: 0, torn: [], missingFinalNewline: false, records: [] };
    if (text.length > 0 && !text.endsWith('\n')) {
      rep.missingFinalNewline = true;
      unterminated.push(name);
    }
    const parts = text.split('\n');
    if (parts[parts.length - 1] === '') parts.pop();
    parts.forEach((line, i) => {
      rep.lines++;
      let ok = false;
      try {
        const v: unknown = JSON.parse(line);
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
          rep.records.push(v as Record<string, unknown>);
          ok = true;
        }
      } catch {
        /* torn */
      }
      if (!ok) {
        rep.torn.push({ line: i + 1, text: line.slice(0, 200) });
        torn.push({ file: name, line: i + 1, text: line.slice(0, 200) });
      }
    });
    totalLines += rep.lines;
    files[name] = rep;
  }
  return {
    files,
    torn,
    unterminated,
    totalLines,
    events: files['aurora_events.jsonl']?.records ?? [],
    denied: files['orders_denied.jsonl']?.records ?? [],
  };
}

/** `details.req_id` of every POLICY.DECISION record (null req_ids kept as null). */
export function decisionReqIds(events: Array<Record<string, unknown>>): Array<string | null> {
  const ids: Array<string | null> = [];
  for (const e of events) {
    if (e.event_code !== 'POLICY.DECISION') continue;
    const d = e.details as Record<string, unknown> | null;
    ids.push(typeof d?.req_id === 'string' ? d.req_id : null);
  }
  return ids;
}

/** POLICY.DECISION records keyed by req_id (a list per id, so duplicates show). */
export function decisionsById(events: Array<Record<string, unknown>>): Map<string, Array<Record<string, unknown>>> {
  const m = new Map<string, Array<Record<string, unknown>>>();
  for (const e of events) {
    if (e.event_code !== 'POLICY.DECISION') continue;
    const id = (e.details as Record<string, unknown> | null)?.req_id;
    if (typeof id !== 'string') continue;
    const list = m.get(id) ?? [];
    list.push(e);
    m.set(id, list);
  }
  return m;
}

/** Values that occur more than once. */
export function duplicates<T>(xs: readonly T[]): T[] {
  const seen = new Set<T>();
  const dup = new Set<T>();
  for (const x of xs) (seen.has(x) ? dup : seen).add(x);
  return [...dup];
}
