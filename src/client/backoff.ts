/**
 * Reconnect delays: exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff
 * and Jitter"): `delay = random() * min(maxMs, baseMs * 2^attempt)`. Pure: the random source is passed in.
 */
export interface BackoffParams {
  baseMs: number;
  maxMs: number;
}

/** The delay before reconnect attempt `attempt` (0 = the first retry after a loss). */
export function backoffDelay(attempt: number, p: BackoffParams, random: () => number = Math.random): number {
  const a = Math.max(0, Math.floor(attempt));
  // 2^a overflows to Infinity for large a, and min() then caps it: no special case needed.
  const ceiling = Math.min(p.maxMs, p.baseMs * 2 ** a);
  const r = random();
  const u = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  return Math.floor(u * Math.max(0, ceiling));
}

/** The ceiling (no jitter) for attempt `attempt`: the largest delay `backoffDelay` can return. */
export function backoffCeiling(attempt: number, p: BackoffParams): number {
  return Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, Math.floor(attempt)));
}

/** A seeded random source in [0, 1) for reproducible jitter in runs and tests: the project's PRNG (src/util/rng.ts). */
export { seededRandom } from '../util/rng.ts';
