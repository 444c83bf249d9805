import type { JournalFileKey } from '../journal/files.ts';
import type { ControlsState } from '../core/controls/state.ts';

/**
 * TEST ONLY: the registry behind src/testing/index.ts (the one entry tests import). A production module
 * that must expose something for tests registers it here under its own handle with `registerTestHooks`
 * — that is the only function production code imports from this file, and no production code looks
 * anything up. Nothing here is reachable from the network, the configuration or the environment.
 *
 * The registry is a WeakMap, so a handle and what it registered go away together. A gate handle (server.ts
 * RunningGate) is registered under its `stop` function, which copies of the handle share (test helpers
 * return `{ ...gate, url }`).
 */

export type WriterKill = 'terminate' | 'throw' | 'throw-before-write' | 'throw-after-write';

/** Registered by a JournalWriter (src/journal/writer.ts) under itself. */
export interface WriterInternals {
  kind: 'writer';
  kill(how: WriterKill): Promise<void>;
  holdRestart(hold: boolean): void;
}

/** Registered by Ops (src/gate/ops.ts) under itself: forgets rotations and auth failures, restores the configured token. */
export interface OpsInternals {
  kind: 'ops';
  reset(): void;
}

/** Registered by startGate (src/server.ts) under the gate handle. */
export interface GateInternals {
  kind: 'gate';
  /** the gate's JournalWriter and Ops (their own internals are registered under them) */
  writer: object;
  ops: object;
  /** the shared per-thread counters buffer (src/gate/counters.ts), holding each thread's fault word */
  counters: SharedArrayBuffer;
  /** the desk-controls region of the shared decision state (read it only while the gate is quiet) */
  controls: ControlsState;
  /** re-initialises the whole shared decision state under the state lock */
  resetSharedState(): void;
}

export type Internals = WriterInternals | OpsInternals | GateInternals;

/**
 * The journal writer thread's test-only start data: `JournalWriter.start`'s second argument, passed by
 * src/testing/index.ts only. `failWritesFor`: that file is opened read-only, so every write(2) to it fails
 * for real (EBADF); `failCount`: failing writes before it is reopened normally (default: fail forever).
 */
export interface WriterTestOptions {
  failWritesFor?: JournalFileKey;
  failCount?: number;
}

const registry = new WeakMap<object, Internals>();

/** The object a handle's internals are kept under: a gate handle's stop function, else the handle. */
function keyOf(handle: object): object {
  const stop = (handle as { stop?: unknown }).stop;
  return typeof stop === 'function' ? stop : handle;
}

export function registerTestHooks(handle: object, internals: Internals): void {
  registry.set(keyOf(handle), internals);
}

/** For src/testing/index.ts only: what `handle` registered (throws when it registered nothing). */
export function registeredInternals(handle: object): Internals {
  const h = registry.get(keyOf(handle));
  if (h === undefined) throw new Error('no test hooks registered for this handle');
  return h;
}
