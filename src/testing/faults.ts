import { SLICE_WORDS } from '../gate/counters.ts';
import { C_TEST_FAULT } from '../shm/counters.ts';

/**
 * TEST-ONLY fault injection (issue 12): makes GateService throw at a chosen point of a request, so the
 * tests can check how a request whose handling throws is answered (500 `internal_error`), journaled
 * (`GATE.INTERNAL_ERROR`, its partial lines rolled back) and counted, on the main thread and in a
 * worker alike.
 *
 * The switch is one word per thread in the shared counters buffer (`C_TEST_FAULT`, src/shm/counters.ts),
 * so a test flips it for every thread at once. Nothing in the gate sets it — no route, config key or
 * environment variable leads here: only `setInjectedFault`, called by src/testing/index.ts
 * (`testHooks(gate).setFault(site)`, on the counters buffer the gate registered). The gate only reads
 * it, through `throwIfInjected` (the one production import of this file): one typed-array load and
 * compare per site, nothing measurable.
 */
export const FaultSite = {
  Off: 0,
  /** inside the critical section (state lock held): a check's decision, a post-trade record's update */
  Decide: 1,
  /** after the request's first journal lines were added to the batch, before its last one */
  AfterJournalLines: 2,
} as const;
export type FaultSite = (typeof FaultSite)[keyof typeof FaultSite];

export class InjectedFault extends Error {
  constructor(site: number) {
    super(`injected test fault at site ${site === FaultSite.Decide ? 'decide' : site === FaultSite.AfterJournalLines ? 'after_journal_lines' : String(site)}`);
    this.name = 'InjectedFault';
  }
}

/** Throws InjectedFault when a test armed `site` for this thread (`slice`: the thread's counters). */
export function throwIfInjected(slice: Float64Array, site: FaultSite): void {
  if (slice[C_TEST_FAULT] === site) throw new InjectedFault(site);
}

/** For src/testing/index.ts only: arms `site` (or turns the switch off with FaultSite.Off) for every thread of a gate. */
export function setInjectedFault(counters: SharedArrayBuffer | ArrayBuffer, site: FaultSite): void {
  const all = new Float64Array(counters);
  for (let o = C_TEST_FAULT; o < all.length; o += SLICE_WORDS) all[o] = site;
}
