import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../bench/soak/args.ts';

/** The bench and script command lines (node:util parseArgs through src/util/flags.ts). */

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const message = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('soak options', () => {
  it('missing values and stray arguments name the flag and point at --help, with the usage', () => {
    expect(message(() => parseArgs(['--minutes']))).toMatch(/^--minutes needs a value; see --help\nusage: npm run soak/);
    expect(message(() => parseArgs(['--env']))).toMatch(/^--env needs a value; see --help\n/);
    expect(message(() => parseArgs(['--keep=1']))).toMatch(/^--keep takes no value; see --help\n/);
    expect(message(() => parseArgs(['10']))).toMatch(/^unexpected argument "10"; see --help\n/);
    expect(message(() => parseArgs(['--minuts=1']))).toMatch(/^unknown option "--minuts"; see --help\n/);
  });

  it('--help and -h: the usage alone, every flag listed', () => {
    const usage = message(() => parseArgs(['-h']));
    expect(message(() => parseArgs(['--help']))).toBe(usage);
    for (const f of ['--minutes', '--rate', '--fraction', '--transport', '--connections', '--sample-s', '--warmup-s', '--calibrate-s', '--pool', '--env', '--max-rss-growth-pct', '--keep']) {
      expect(usage).toContain(`\n  ${f} `);
    }
  });

  it('every flag, both spellings; the last occurrence wins, --env collects', () => {
    const o = parseArgs([
      '--minutes=2', '--minutes', '3', '--rate', '500', '--transport', 'ws', '--connections', '8.4', '--sample-s', '1',
      '--warmup-s', '0', '--calibrate-s', '2', '--pool', '0', '--max-rss-growth-pct', '5', '--env', 'A=1', '--env', 'A=2',
    ]);
    expect(o).toEqual({
      minutes: 3, rate: 500, fraction: 0.5, transport: 'ws', connections: 8, sampleS: 1, warmupS: 0, calibrateS: 2, pool: 0,
      env: { A: '2' }, maxRssGrowthPct: 5, keep: false,
    });
  });
});

describe('script command lines (exit 2 with the flag named and the usage; --help exits 0)', () => {
  const run = (script: string, ...args: string[]) => spawnSync(TSX, [join(ROOT, script), ...args], { cwd: ROOT, encoding: 'utf8' });

  it('bench/floor.ts and scripts/openapi.ts', () => {
    const bad = run('bench/floor.ts', '--port', '1');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('unknown option --port; see --help\nusage: tsx bench/floor.ts [port]   (default 0: any free port; prints `listening <port>`)\n');
    const help = run('scripts/openapi.ts', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run openapi \[-- --check\]\n  --check /);
    const typo = run('scripts/openapi.ts', '--chek');
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/^unknown option --chek; see --help\nusage: npm run openapi/);
  });
});
