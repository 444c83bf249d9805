import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  /** latency percentiles in microseconds */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  errors: number;
  non2xx: number;
}

export function hasWrk(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}

/**
 * Drives HTTP load with wrk (a C load generator, so the client is never the bottleneck) and reads its
 * latency percentiles through a Lua `done` hook.
 */
export function runWrk(url: string, body: string, connections: number, seconds: number): LoadResult {
  const dir = mkdtempSync(join(tmpdir(), 'aurora-wrk-'));
  const script = join(dir, 'post.lua');
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.body = [[${body}]]\nwrk.headers["Content-Type"] = "application/json"\n` +
      `done = function(summary, latency, requests)\n` +
      `  io.write(string.format("AURORA %d %d %d %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,\n` +
      `    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency:percentile(99.99),\n` +
      `    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status, 0))\n` +
      `end\n`,
  );
  const r = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', script, url], { encoding: 'utf8' });
  const line = r.stdout.split('\n').find((l) => l.startsWith('AURORA '));
  if (line === undefined) throw new Error(`wrk failed: ${r.stderr || r.stdout}`);
  const [requests, durationUs, p50, p90, p99, p999, p9999, errors, non2xx] = line.split(' ').slice(1).map(Number);
  const secs = durationUs / 1e6;
  return { requests, seconds: secs, rps: requests / secs, p50, p90, p99, p999, p9999, errors, non2xx };
}
