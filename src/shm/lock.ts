/**
 * A futex-style mutex over one Int32 in a SharedArrayBuffer (Drepper's three-state lock: 0 free,
 * 1 held, 2 held with waiters) guarding the shared decision state (gate.md D23). Critical sections are
 * a few microseconds, so a short spin precedes sleeping. Threads that may not block (the main thread)
 * only spin. Slot 1 records the holder, so a lock held by a worker that died can be broken.
 * It satisfies `StateLock` (src/gate/pretrade.ts) structurally: src/shm imports nothing outside itself.
 */
const STATE = 0;
const OWNER = 1;
const SPINS = 200;

export class SharedLock {
  readonly words: Int32Array;
  private readonly owner: number;
  private readonly canBlock: boolean;

  /** `owner` identifies this thread (> 0); `canBlock` false on the main thread. */
  constructor(buffer: SharedArrayBuffer, owner: number, canBlock: boolean) {
    this.words = new Int32Array(buffer, 0, 2);
    this.owner = owner;
    this.canBlock = canBlock;
  }

  static allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(8);
  }

  acquire(): void {
    const w = this.words;
    let c = Atomics.compareExchange(w, STATE, 0, 1);
    if (c !== 0) {
      for (let i = 0; i < SPINS && c !== 0; i++) c = Atomics.compareExchange(w, STATE, 0, 1);
      if (c !== 0) {
        if (!this.canBlock) {
          while (Atomics.compareExchange(w, STATE, 0, 1) !== 0) {
            /* spin: the holder is inside a short critical section */
          }
        } else {
          if (c !== 2) c = Atomics.exchange(w, STATE, 2);
          while (c !== 0) {
            Atomics.wait(w, STATE, 2);
            c = Atomics.exchange(w, STATE, 2);
          }
        }
      }
    }
    Atomics.store(w, OWNER, this.owner);
  }

  release(): void {
    const w = this.words;
    Atomics.store(w, OWNER, 0);
    if (Atomics.sub(w, STATE, 1) !== 1) {
      Atomics.store(w, STATE, 0);
      Atomics.notify(w, STATE, 1);
    }
  }

  /** Breaks the lock if `deadOwner` still holds it (its thread is gone). Returns whether it did. */
  breakIfHeldBy(deadOwner: number): boolean {
    const w = this.words;
    if (Atomics.load(w, OWNER) !== deadOwner) return false;
    Atomics.store(w, OWNER, 0);
    Atomics.store(w, STATE, 0);
    Atomics.notify(w, STATE);
    return true;
  }
}
