import { GateCounters } from '../gate/counters.ts';

/**
 * TEST-ONLY access to the shared counters buffer of a gate started in the test's own process
 * (test/helpers/gate.ts), which RunningGate does not expose: while capturing, every buffer that
 * `GateCounters.allocate` hands out (one per gate start, shared with that gate's worker threads) is
 * remembered. Tests use it to arm the fault switch of src/testing/faults.ts and to read one thread's
 * counters. Call `stop()` when done (the allocator is restored).
 */
export interface CountersCapture {
  /** the buffer of the most recently started gate (throws if none started while capturing) */
  latest(): SharedArrayBuffer;
  stop(): void;
}

export function captureCounters(counters: typeof GateCounters = GateCounters): CountersCapture {
  const original = counters.allocate;
  let last: SharedArrayBuffer | null = null;
  counters.allocate = (slices: number): SharedArrayBuffer => (last = original.call(counters, slices));
  return {
    latest(): SharedArrayBuffer {
      if (last === null) throw new Error('no gate was started while capturing its counters');
      return last;
    },
    stop(): void {
      counters.allocate = original;
    },
  };
}
