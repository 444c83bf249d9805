/**
 * `node dist/runner.mjs` (built by `npm test`'s pretest) as a child process, as `npm run runner` runs it: exit codes, the report
 * file, progress lines on stderr, the summary table on stdout and the session files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { writeSynthetic } from '../../../src/runner/feed/synthetic.ts';
import { REPO_ROOT } from '../../helpers/process.ts';
import { startFakeGate } from '../engine/fake-gate.ts';

const dir = mkdtempSync(join(tmpdir(), 'runner-cli-'));
const feed = join(dir, 'feed.jsonl');

beforeAll(async () => {
  await writeSynthetic(feed, { seed: 5, minutes: 2 });
});

function cli(
  args: string[],
  env: Record<string, string> = {},
  onStderr?: (text: string, child: ChildProcess) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/runner.mjs'), ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, child);
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('--replay … --gate stub --report …: exit 0, report written, progress on stderr, table on stdout', async () => {
  const report = join(dir, 'out', 'report.json');
  const session = join(dir, 'session');
  const r = await cli(['--replay', feed, '--gate', 'stub', '--report', report, '--session-dir', session, '--set', 'report.progress_ms=1']);
  expect(r.code, r.stderr).toBe(0);
  const summary = JSON.parse(readFileSync(report, 'utf8'));
  expect(summary.gate_url).toBe('stub');
  expect(summary.feed_events).toBeGreaterThan(1000);
  expect(JSON.parse(readFileSync(join(session, 'runner', 'summary.json'), 'utf8'))).toEqual(summary);
  const progress = r.stderr.split('\n').filter((l) => /^\[runner\] 2026-01-01T\S+\s+[\d.]+% events \d+ ticks \d+/.test(l));
  expect(progress.length).toBeGreaterThan(0);
  expect(progress.at(-1)).toContain('100.0%');
  expect(r.stderr).toContain('[runner] config:');
  expect(r.stdout).toContain('orders tried (gate checks)');
  expect(r.stdout).toContain('gate round trip ms');
  expect(r.stdout).toContain(`summary JSON: ${join(session, 'runner', 'summary.json')}`);
  const cfg = JSON.parse(readFileSync(join(session, 'runner', 'config.json'), 'utf8'));
  expect(cfg.gate.url).toBe('stub');
  for (const f of ['events.jsonl', 'gate_calls.jsonl', 'orders.jsonl', 'fills.jsonl']) expect(existsSync(join(session, 'runner', f)), f).toBe(true);
});

test('--json prints the summary JSON; a config error exits 3 naming the key', async () => {
  const [ok, bad, env, mode] = await Promise.all([
    cli(['--replay', feed, '--gate', 'stub', '--json', '--no-progress', '--session-dir', join(dir, 's2'), '--max-events', '500']),
    cli(['--replay', feed, '--set', 'gate.timeout=5']),
    cli(['--replay', feed], { RUNNER__gate__nope: '1' }),
    cli(['--replay', feed, '--mode', 'testnet']),
  ]);
  expect(ok.code, ok.stderr).toBe(0);
  const s = JSON.parse(ok.stdout);
  expect(s.feed_events).toBe(500);
  expect(s.shutdown.reason).toBe('max_events');
  expect(bad.code).toBe(3);
  expect(bad.stderr).toContain('"gate.timeout"');
  expect(env.code).toBe(3);
  expect(env.stderr).toContain('"gate.nope"');
  expect(mode.code).toBe(3);
  expect(mode.stderr).toContain('ccxt');
});

test('SIGINT: stop entries, flatten, write the summary, exit 0', async () => {
  // a gate that answers after 100 ms keeps the replay busy for seconds
  const gate = await startFakeGate(() => ({ kind: 'answer', delayMs: 100 }));
  try {
    const session = join(dir, 's-int');
    let sent = false;
    const r = await cli(
      ['--replay', feed, '--gate', gate.wsUrl, '--session-dir', session, '--set', 'report.progress_ms=1', '--set', 'gate.timeout_ms=2000'],
      {},
      (text, child) => {
        if (!sent && gate.checks.length >= 2 && /% events/.test(text)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    );
    expect(sent).toBe(true);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('SIGINT: stopping entries');
    const s = JSON.parse(readFileSync(join(session, 'runner', 'summary.json'), 'utf8'));
    expect(s.shutdown).toEqual({ reason: 'SIGINT', flatten_ok: true, exit_code: 0 });
    expect(s.positions_open_at_end).toBe(0);
    expect(s.feed_events).toBeLessThan(readFileSync(feed, 'utf8').trimEnd().split('\n').length);
    expect(s.posttrade.sent).toBe(s.fills);
  } finally {
    await gate.close();
  }
});
