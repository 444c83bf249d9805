/**
 * TEST ONLY. The one entry through which tests reach inside a running gate (a thread to kill, a restart to
 * hold); nothing in production calls these hooks, and nothing is reachable over the network. A production
 * module registers its hooks here under its own handle; tests look them up with `testHooks(handle)`.
 *
 * The registry is a WeakMap, so a handle and its hooks go away together. A gate handle (server.ts
 * RunningGate) is registered under its `stop` function, which copies of the handle share (test helpers
 * return `{ ...gate, url }`).
 */

export interface TestHooks {
  /**
   * Ends the current journal writer thread: `terminate` = a real Worker.terminate(); `throw` = an uncaught
   * error thrown from a timer inside the thread; `throw-before-write` / `throw-after-write` = an uncaught
   * error around the thread's next record write (before its write(2), or after it and before the ring space
   * is released: the record is "in doubt"). Resolves once the gate handled the death (journal failing).
   */
  killJournalWriter(how: 'terminate' | 'throw' | 'throw-before-write' | 'throw-after-write'): Promise<void>;
  /** While held, a dead journal writer thread is not replaced (its backoff ends, then it waits); close() ignores the hold. */
  holdWriterRestart(hold: boolean): void;
}

const registry = new WeakMap<object, TestHooks>();

/** The object the hooks of `handle` are kept under: a gate handle's stop function, else the handle. */
function keyOf(handle: object): object {
  const stop = (handle as { stop?: unknown }).stop;
  return typeof stop === 'function' ? stop : handle;
}

export function registerTestHooks(handle: object, hooks: TestHooks): void {
  registry.set(keyOf(handle), hooks);
}

/** The hooks registered for `handle` (throws when there are none). */
export function testHooks(handle: object): TestHooks {
  const h = registry.get(keyOf(handle));
  if (h === undefined) throw new Error('no test hooks registered for this handle');
  return h;
}
