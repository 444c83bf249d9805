import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRunnerConfig } from '../../../src/runner/config/load.ts';
import type { RunnerConfig } from '../../../src/runner/config/schema.ts';
import { runReplay, type RunResult } from '../../../src/runner/engine/run.ts';
import { writeSynthetic } from '../../../src/runner/feed/synthetic.ts';
import type { SyntheticOptions } from '../../../src/runner/feed/synthetic-options.ts';

const ROOT = mkdtempSync(join(tmpdir(), 'runner-engine-'));
const feeds = new Map<string, string>();

/** A seeded synthetic feed (generated once per option set per test file). */
export async function syntheticFeed(opts: Partial<SyntheticOptions> = {}): Promise<string> {
  const key = JSON.stringify(opts);
  const known = feeds.get(key);
  if (known !== undefined && existsSync(known)) return known;
  const path = join(ROOT, `feed-${feeds.size + 1}.jsonl`);
  await writeSynthetic(path, { seed: 11, minutes: 3, ...opts });
  feeds.set(key, path);
  return path;
}

/** A fresh session directory. */
export function sessionDir(): string {
  const d = mkdtempSync(join(ROOT, 'session-'));
  mkdirSync(d, { recursive: true });
  return d;
}

/** The test config: defaults + the given overrides (as if from flags), quiet, short gate start-up wait. */
export function testConfig(feed: string, gateUrl: string, overrides: Record<string, unknown> = {}): RunnerConfig {
  const base: Record<string, any> = {
    feed: { path: feed },
    gate: { url: gateUrl, startup_wait_ms: 2000 },
    session_dir: sessionDir(),
    report: { progress_ms: 0 },
  };
  return loadRunnerConfig({ cli: deepMerge(base, overrides) }).config;
}

export async function run(cfg: RunnerConfig): Promise<RunResult> {
  return runReplay(cfg, { env: {} });
}

/** Every record of a runner JSONL file (empty when the file was never created). */
export function readJsonl(r: RunResult, name: string): Array<Record<string, any>> {
  const path = join(r.runnerDir, `${name}.jsonl`);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);
}

function deepMerge(a: Record<string, any>, b: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object' && out[k] !== null ? deepMerge(out[k], v) : v;
  }
  return out;
}
