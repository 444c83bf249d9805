import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReplayFeed } from '../../../src/runner/feed/replay.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const SCRIPT = join(ROOT, 'scripts', 'gen-sample.ts');
const SAMPLE = join(ROOT, 'samples', 'replay-sample.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'sample-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The arguments after `npm run sample --` in the command documented in samples/README.md. */
function documentedArgs(): string[] {
  const readme = readFileSync(join(ROOT, 'samples', 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith('npm run sample -- '));
  if (!line) throw new Error('samples/README.md has no "npm run sample -- ..." line');
  return line.slice('npm run sample -- '.length).trim().split(/\s+/);
}

describe('committed sample', () => {
  it('is exactly what the documented command produces (regenerated through the CLI)', () => {
    const args = documentedArgs();
    const outAt = args.indexOf('--out');
    expect(args[outAt + 1]).toBe('samples/replay-sample.jsonl');
    const out = join(dir, 'again.jsonl');
    args[outAt + 1] = out;
    const stdout = execFileSync(TSX, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8' });
    const schedule = JSON.parse(stdout) as { name: string; start_s: number; end_s: number }[];
    expect(schedule.map((s) => `${s.name}@${s.start_s}-${s.end_s}`)).toEqual([
      'spoof_wall@80-89',
      'spread_blowout@160-170',
      'stale_feed@240-243',
      'latency_spike@320-340',
      'crash@400-408',
    ]);
    const committed = readFileSync(SAMPLE);
    expect(committed.length).toBeLessThan(4_000_000);
    expect(readFileSync(out).equals(committed)).toBe(true);
  });

  it('passes the replay validator', async () => {
    const feed = new ReplayFeed(SAMPLE);
    for await (const _ of feed) {
      // a bad line would throw
    }
    expect(feed.stats.skipped).toBe(0);
    expect(feed.stats.byType.market_info).toBe(1);
    expect(feed.stats.byType.book_snapshot).toBe(2); // the start and after the stale gap
  });

  it('the CLI refuses an unknown option with a usage message (exit 2)', () => {
    const bad = spawnSync(TSX, [SCRIPT, '--out', join(dir, 'x.jsonl'), '--colour', 'blue'], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown option --colour');
    expect(bad.stderr).toContain('usage: npm run sample');
  });

  it('a missing value names the flag and points at --help (exit 2)', () => {
    const bad = spawnSync(TSX, [SCRIPT, '--seed', '1', '--out'], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^--out needs a value; see --help\nusage: npm run sample/);
  });
});
