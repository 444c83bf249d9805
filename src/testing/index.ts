/**
 * TEST ONLY — the one entry through which tests reach inside a gate or a journal writer they started in
 * their own process. No production module imports this file; production modules only register what
 * these hooks need (src/testing/hooks.ts `registerTestHooks`, each registration marked "used by
 * src/testing only"), and nothing here is reachable from the network, the configuration or the
 * environment.
 *
 * - `testHooks(gate)`: reset the whole decision and ops state, arm/clear the fault switch of every thread
 *   (src/testing/faults.ts), read the shared counters and the desk-controls region, kill the journal
 *   writer thread, hold its restart;
 * - `testHooks(writer)`: the journal writer's hooks alone;
 * - `startJournalWriter(opts, { failWritesFor, failCount })`: a writer whose file really fails to write;
 * - `setCountersFault(buffer, site)`: the fault switch of a GateService a test built itself.
 */
import { JournalWriter } from '../journal/writer.ts';
import type { ControlsState } from '../core/controls/state.ts';
import type { RunningGate } from '../server.ts';
import { FaultSite, setInjectedFault } from './faults.ts';
import { registeredInternals, type Internals, type WriterInternals, type WriterKill, type WriterTestOptions } from './hooks.ts';

export { FaultSite, type WriterKill, type WriterTestOptions };

export interface WriterTestHooks {
  /**
   * Ends the current journal writer thread: `terminate` = a real Worker.terminate(); `throw` = an uncaught
   * error thrown from a timer inside the thread; `throw-before-write` / `throw-after-write` = an uncaught
   * error around the thread's next record write (before its write(2), or after it and before the ring space
   * is released: the record is "in doubt"). Resolves once the death was handled (journal failing).
   */
  killJournalWriter(how: WriterKill): Promise<void>;
  /** While held, a dead journal writer thread is not replaced (its backoff ends, then it waits); close() ignores the hold. */
  holdWriterRestart(hold: boolean): void;
}

export interface GateTestHooks extends WriterTestHooks {
  /**
   * Returns every piece of decision and ops state to its start-up value, as a fresh process would have it
   * (tests replay many conformance scenarios on one gate): the shared state re-initialised under the state
   * lock, then the ops token back to the configured one, rotation cooldown and auth-failure history gone.
   */
  resetState(): void;
  /** Makes every thread of the gate throw at `site` while handling a request (until clearFault). */
  setFault(site: FaultSite): void;
  clearFault(): void;
  /** The gate's shared per-thread counters (src/gate/counters.ts: sliceCounter, sumCounter). */
  counters(): SharedArrayBuffer;
  /**
   * The desk-controls region of the gate's shared decision state (reservations, positions, remembered
   * ids, trading state). Read without the state lock: only while no request is in flight.
   */
  controls(): ControlsState;
}

function internalsOf<K extends Internals['kind']>(handle: object, kind: K): Extract<Internals, { kind: K }> {
  const i = registeredInternals(handle);
  if (i.kind !== kind) throw new Error(`expected the test hooks of a ${kind}, found those of a ${i.kind}`);
  return i as Extract<Internals, { kind: K }>;
}

function writerHooks(w: WriterInternals): WriterTestHooks {
  return {
    killJournalWriter: (how) => w.kill(how),
    holdWriterRestart: (hold) => w.holdRestart(hold),
  };
}

/** The test hooks of a gate started in this process (startGate; a copy `{ ...gate }` works too). */
export function testHooks(gate: RunningGate): GateTestHooks;
/** The test hooks of a journal writer started in this process. */
export function testHooks(writer: JournalWriter): WriterTestHooks;
export function testHooks(handle: RunningGate | JournalWriter): GateTestHooks | WriterTestHooks {
  const i = registeredInternals(handle);
  if (i.kind === 'writer') return writerHooks(i);
  if (i.kind !== 'gate') throw new Error(`no test hooks for a ${i.kind} handle`);
  const ops = internalsOf(i.ops, 'ops');
  return {
    ...writerHooks(internalsOf(i.writer, 'writer')),
    resetState: () => {
      i.resetSharedState();
      ops.reset();
    },
    setFault: (site) => setInjectedFault(i.counters, site),
    clearFault: () => setInjectedFault(i.counters, FaultSite.Off),
    counters: () => i.counters,
    controls: () => i.controls,
  };
}

/** Starts a journal writer whose thread opens `test.failWritesFor` read-only: its writes fail for real (EBADF). */
export function startJournalWriter(opts: Parameters<typeof JournalWriter.start>[0], test: WriterTestOptions): Promise<JournalWriter> {
  return JournalWriter.start(opts, test);
}

/** The fault switch in a counters buffer a test allocated itself (GateCounters.allocate), for a GateService it built. */
export function setCountersFault(counters: SharedArrayBuffer | ArrayBuffer, site: FaultSite): void {
  setInjectedFault(counters, site);
}
