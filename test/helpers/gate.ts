import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import { startGate, type RunningGate } from '../../src/server.ts';

export interface TestGate extends RunningGate {
  url: string;
  dir: string;
}

/**
 * Starts a real gate in this process: uWebSockets.js on 127.0.0.1 port 0, real worker threads (unless
 * AURORA_POOL_THREADS=0), the journal writer thread and real files in a fresh temp session dir.
 * `env` is the whole environment the gate sees (nothing leaks in from the test process).
 */
export async function startTestGate(env: Record<string, string> = {}, yaml?: string): Promise<TestGate> {
  const dir = mkdtempSync(join(tmpdir(), 'aurora-gate-'));
  const full: Record<string, string> = { AURORA_HOST: '127.0.0.1', AURORA_PORT: '0', AURORA_POOL_THREADS: '1', ...env, AURORA_SESSION_DIR: join(dir, 'session') };
  if (yaml !== undefined) {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, yaml);
    full.AURORA_CONFIG = file;
  }
  const cfg = loadConfig(full, dir);
  const gate = await startGate(cfg, { sessionDir: full.AURORA_SESSION_DIR, runId: `test-${Date.now()}`, log: createLogger('silent') });
  return { ...gate, url: `http://127.0.0.1:${gate.port}`, dir };
}

export interface HttpResult {
  status: number;
  text: string;
  json: unknown;
}

/** One HTTP request with exact control of headers (a Uint8Array body gets no default Content-Type). */
export async function http(url: string, method: string, opts: { headers?: Record<string, string>; body?: unknown; raw?: string } = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: Uint8Array | undefined;
  if (opts.raw !== undefined) body = Buffer.from(opts.raw, 'utf8');
  else if (opts.body !== undefined) {
    body = Buffer.from(JSON.stringify(opts.body), 'utf8');
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  }
  const r = await fetch(url, { method, headers, body, redirect: 'manual' });
  const text = await r.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, text, json };
}
