/**
 * Golden run: a fixed seed and `--gate stub` (in-process, fixed thresholds) make a whole replay
 * bit-for-bit reproducible (runner.md §4.5). Two runs must agree byte for byte on orders.jsonl and
 * fills.jsonl and on the summary, and the summary must equal the committed golden-summary.json.
 *
 * Volatile fields are left out of the comparison: run_id is fixed by the test; started_at, ended_at,
 * the feed's temp path and the round-trip times (real clock) are dropped.
 *
 * Updating: when a change to the trading logic, the paper exchange or the synthetic generator changes
 * the outcome on purpose, regenerate with
 *   UPDATE_GOLDEN=1 npx vitest run test/runner/e2e/golden.test.ts
 * and review the diff of golden-summary.json (counts, reasons, PnL) before committing it.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { loadRunnerConfig } from '../../../src/runner/config/load.ts';
import { runReplay, type RunResult } from '../../../src/runner/engine/run.ts';
import { writeSynthetic } from '../../../src/runner/feed/synthetic.ts';
import type { RunSummary } from '../../../src/runner/report/summary.ts';

const GOLDEN = join(import.meta.dirname, 'golden-summary.json');

/** The summary without the fields that change from run to run. */
function stable(s: RunSummary): Record<string, unknown> {
  const { started_at: _a, ended_at: _b, feed: _c, gate, ...rest } = s;
  const { rtt_ms, ...g } = gate;
  return { ...rest, gate: { ...g, rtt_ms: { count: rtt_ms.count } } };
}

async function goldenRun(feed: string): Promise<RunResult> {
  const cfg = loadRunnerConfig({
    cli: {
      run_id: 'golden',
      seed: 7,
      feed: { path: feed },
      gate: { url: 'stub' },
      session_dir: mkdtempSync(join(tmpdir(), 'runner-golden-')),
      report: { progress_ms: 0 },
    },
  }).config;
  return runReplay(cfg, { env: {} });
}

test('fixed seed + stub gate: reproducible run equal to the committed golden summary', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'runner-golden-feed-'));
  const feed = join(dir, 'feed.jsonl');
  await writeSynthetic(feed, { seed: 2024, minutes: 4, scenarios: [{ name: 'spread_blowout', at_s: 100 }, { name: 'latency_spike', at_s: 170 }] });

  const a = await goldenRun(feed);
  const b = await goldenRun(feed);
  for (const name of ['orders.jsonl', 'fills.jsonl']) {
    expect(readFileSync(join(b.runnerDir, name), 'utf8'), name).toBe(readFileSync(join(a.runnerDir, name), 'utf8'));
  }
  expect(stable(b.summary)).toEqual(stable(a.summary));

  // a meaningful golden: the run traded and the stub denied for more than one reason
  expect(a.summary.gate.allowed).toBeGreaterThan(0);
  expect(a.summary.fills).toBeGreaterThan(0);
  expect(Object.keys(a.summary.gate.denied_by_reason).length).toBeGreaterThanOrEqual(2);

  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(GOLDEN)) {
    writeFileSync(GOLDEN, JSON.stringify(stable(a.summary), null, 2) + '\n');
    if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`${GOLDEN} was missing and has been written: review and commit it`);
  }
  expect(stable(a.summary)).toEqual(JSON.parse(readFileSync(GOLDEN, 'utf8')));
});
