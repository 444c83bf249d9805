/**
 * Time sources for the runner. Everything that needs "now" takes a `Clock`, so a replay can run on
 * virtual time (deterministic, as fast as the CPU allows) and a live run on the wall clock.
 */
export interface Clock {
  /** Epoch milliseconds: wall time for a live run, the replayed event time for a replay. */
  nowMs(): number;
  /** Monotonic milliseconds from an arbitrary origin, for measuring durations (never jumps back). */
  monoMs(): number;
}

export class RealClock implements Clock {
  nowMs(): number {
    return Date.now();
  }
  monoMs(): number {
    return performance.now();
  }
}

/**
 * A clock that only moves when the replay driver moves it (to each event's `recv_ts`, or to the
 * paper exchange's next due time). It never advances on its own and never goes backwards, so a
 * bug that feeds it out-of-order times fails loudly instead of silently reordering a run.
 */
export class VirtualClock implements Clock {
  private now: number;
  private readonly origin: number;

  constructor(startMs: number) {
    if (!Number.isFinite(startMs)) throw new RangeError(`VirtualClock start must be finite, got ${startMs}`);
    this.now = startMs;
    this.origin = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  /** Virtual milliseconds elapsed since the clock was created. */
  monoMs(): number {
    return this.now - this.origin;
  }

  /** Moves to `ms`; moving to the current time is a no-op, moving backwards throws. */
  advanceTo(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError(`VirtualClock.advanceTo: time must be finite, got ${ms}`);
    if (ms < this.now) throw new RangeError(`VirtualClock cannot go backwards: ${ms} < ${this.now}`);
    this.now = ms;
  }

  advanceBy(deltaMs: number): void {
    if (!(deltaMs >= 0)) throw new RangeError(`VirtualClock.advanceBy: delta must be >= 0, got ${deltaMs}`);
    this.now += deltaMs;
  }
}
