/** Shutdown bookkeeping (runner.md §2.6): posttrade bodies in flight at the deadline, error counts in the summary. */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runReplay } from '../../../src/runner/engine/run.ts';
import { StubGate } from '../../../src/runner/gate/stub-gate.ts';
import type { GatePort } from '../../../src/runner/gate/port.ts';
import { readJsonl, syntheticFeed, testConfig } from './harness.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('posttrade at shutdown', () => {
  test('bodies in flight when drain() times out are settled before the summary and the journal close', async () => {
    const stub = new StubGate();
    let calls = 0;
    let answered = 0;
    // the stub's decisions, but a slow posttrade endpoint: every body takes 1.5 s to be taken, one at a
    // time, so bodies are still queued and one is in flight when the 10 ms grace time runs out (the
    // shutdown waits up to 2·gate.timeout_ms + 100 ms for bodies in flight)
    const gate: GatePort = {
      name: stub.name,
      start: () => stub.start(),
      check: (req) => stub.check(req),
      stats: () => stub.stats(),
      close: () => stub.close(),
      log: async () => {
        calls++;
        await sleep(1500);
        answered++;
        return { ok: true };
      },
    };
    const cfg = testConfig(await syntheticFeed(), 'stub', { gate: { timeout_ms: 1000 }, shutdown: { grace_ms: 10 }, posttrade: { concurrency: 1 } });
    const r = await runReplay(cfg, { env: {}, gate });
    const atReturn = { calls, answered };
    await sleep(1600); // anything the run left behind would answer now
    expect(answered).toBe(atReturn.answered); // nothing was still in flight when the run returned
    expect(calls).toBeGreaterThan(0);
    const pt = r.summary.posttrade;
    expect(pt.sent).toBe(calls); // every body handed to the gate (all answered ok) is counted as sent
    const unsent = readJsonl(r, 'posttrade_unsent');
    expect(unsent.length).toBe(pt.failed + pt.dropped);
    expect(pt.failed).toBeGreaterThan(0); // the queue was not empty at the deadline: the test exercises the timeout
  });
});

describe('summary error counts', () => {
  test('journal write errors reach the summary (journal_write)', async () => {
    const cfg = testConfig(await syntheticFeed(), 'stub');
    const runnerDir = join(cfg.session_dir!, 'runner');
    mkdirSync(runnerDir, { recursive: true });
    symlinkSync('/dev/full', join(runnerDir, 'events.jsonl')); // every write to events.jsonl fails (ENOSPC)
    const r = await runReplay(cfg, { env: {} });
    expect(r.summary.errors.journal_write).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(r.summaryPath, 'utf8')).errors.journal_write).toBe(r.summary.errors.journal_write);
  });

  test('feed_lines_skipped is the number of lines skipped', async () => {
    const lines = readFileSync(await syntheticFeed(), 'utf8').trimEnd().split('\n');
    for (const at of [0.3, 0.6, 0.9]) {
      const i = Math.floor(lines.length * at);
      lines[i] = lines[i].replace('"recv_ts":', '"recv_ts":"soon","was":');
    }
    const feed = join(mkdtempSync(join(tmpdir(), 'runner-badfeed-')), 'feed.jsonl');
    writeFileSync(feed, lines.join('\n') + '\n');
    const r = await runReplay(testConfig(feed, 'stub', { feed: { on_invalid: 'skip' } }), { env: {} });
    expect(r.summary.feed_events).toBe(lines.length - 3);
    expect(r.summary.errors.feed_lines_skipped).toBe(3);
  });

  test('feed.on_invalid skip also covers the market_info head of the feed', async () => {
    const lines = readFileSync(await syntheticFeed(), 'utf8').trimEnd().split('\n');
    lines.splice(1, 0, '{"type":"market_info",'); // a torn line among the leading market_info lines
    const feed = join(mkdtempSync(join(tmpdir(), 'runner-badhead-')), 'feed.jsonl');
    writeFileSync(feed, lines.join('\n') + '\n');
    const r = await runReplay(testConfig(feed, 'stub', { feed: { on_invalid: 'skip' } }), { env: {} });
    expect(r.exitCode).toBe(0);
    expect(r.summary.errors.feed_lines_skipped).toBe(1);
    await expect(runReplay(testConfig(feed, 'stub'), { env: {} })).rejects.toThrow(/feed .*:2: /);
  });
});
