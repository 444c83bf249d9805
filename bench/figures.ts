import type { CpuPerRequest } from './thread-cpu.ts';

/**
 * The pure decisions of `npm run bench` (bench/run.ts), kept apart so that they can be unit-tested
 * (test/bench/figures.test.ts) without starting a gate.
 */

/**
 * Pool sizes (AURORA_POOL_THREADS) measured over HTTP, ascending and without repeats: 0 (inline) and the
 * gate's default (one per core, `cores`) always, the full run also 1, 2 and 4. The default must be in the
 * list: the SLOs and the WebSocket scenarios are measured on it.
 */
export function measuredPools(quick: boolean, cores: number): string[] {
  const sizes = quick ? [0, cores] : [0, 1, 2, 4, cores];
  return [...new Set(sizes)].sort((a, b) => a - b).map(String);
}

/**
 * Environment of a measured gate. Every gate runs at the same log level, so that "journal on vs off"
 * measures the journal and nothing else.
 */
export function gateEnv(pool: string, journal = true): Record<string, string> {
  return { AURORA_POOL_THREADS: pool, AURORA_LOG_LEVEL: 'warn', ...(journal ? {} : { AURORA_JOURNAL_ENABLED: '0' }) };
}

/** Field-wise mean of CPU accountings (e.g. the floor's start and end runs); null if any is missing. */
export function meanCpu(runs: readonly (CpuPerRequest | null)[]): CpuPerRequest | null {
  if (runs.length === 0 || runs.some((r) => r === null)) return null;
  const all = runs as readonly CpuPerRequest[];
  const mean = (k: keyof CpuPerRequest) => all.reduce((s, r) => s + r[k], 0) / all.length;
  return { mainUs: mean('mainUs'), busiestOtherUs: mean('busiestOtherUs'), totalUs: mean('totalUs'), runqueueWaitUs: mean('runqueueWaitUs') };
}

/**
 * The HTTP ratio if no thread waited for a core (one core per busy thread): the floor's main-thread
 * CPU per request over the gate's busiest thread. Null without both accountings.
 */
export function projectedRatio(floor: CpuPerRequest | null, gate: CpuPerRequest | null): number | null {
  if (floor === null || gate === null) return null;
  return floor.mainUs / Math.max(gate.mainUs, gate.busiestOtherUs);
}
