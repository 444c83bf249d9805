import { Bench, type Fn, type FnReturnedObject } from 'tinybench';

/** The project's tinybench settings (hrtime clock, timer overhead subtracted, task errors thrown). */
export function newBench(name: string, time: number, warmupTime: number, iterations: number, warmupIterations: number): Bench {
  return new Bench({ name, timestampProvider: 'hrtimeNow', subtractTimerOverhead: true, throws: true, time, warmupTime, iterations, warmupIterations });
}

/**
 * A task function whose one call `run` performs `items` operations: tinybench then reports the time per
 * operation (the call is timed as a whole, so the timer's own cost is spread over the batch).
 */
export function perItem(now: () => number, run: () => void, items: number): Fn {
  if (items === 1) return run;
  return () => {
    const t0 = now();
    run();
    const elapsed = now() - t0;
    return { overriddenDuration: elapsed / items, overriddenIterationCost: elapsed } satisfies FnReturnedObject;
  };
}
