/**
 * A single-producer / single-consumer byte ring in a SharedArrayBuffer: variable-length records
 * `[u32 length][u32 id][u32 meta][payload...]`, 4-byte aligned, with a wrap marker when a record does not
 * fit before the end. One ring carries requests main -> worker, another responses worker -> main
 * (docs/architecture.md: measured at 0.72-0.96x the bare uWS floor, against 0.2-0.37x for a
 * task-per-request pool).
 *
 * Publication order: the producer writes the bytes, then stores `head` (seq-cst), so a consumer that
 * loads `head` sees the bytes. The doorbell is bumped once per batch; a waiting consumer sleeps on it
 * (Atomics.wait in workers, Atomics.waitAsync on the main thread).
 */
const HEAD = 0;
const TAIL = 1;
const DOORBELL = 2;
/** 1 while the consumer is (about to be) asleep on the doorbell: producers notify only then */
const SLEEPING = 3;
const CTL_WORDS = 16; // a cache line of control words; the rest unused

const HEADER = 12;
const WRAP = 0xffffffff;

export interface RingBuffers {
  ctl: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

export interface RecordView {
  id: number;
  meta: number;
  /** payload bytes; valid until `release` */
  bytes: Uint8Array;
}

export class Ring {
  readonly capacity: number;
  readonly ctl: Int32Array;
  private readonly data: Uint8Array;
  private readonly words: DataView;
  /** consumer: records read but not yet released */
  private pendingTail = -1;

  constructor(buffers: RingBuffers) {
    this.ctl = new Int32Array(buffers.ctl);
    this.data = new Uint8Array(buffers.data);
    this.words = new DataView(buffers.data);
    this.capacity = this.data.length;
  }

  static allocate(capacityBytes: number): RingBuffers {
    const cap = Math.max(4096, capacityBytes - (capacityBytes % 4));
    return { ctl: new SharedArrayBuffer(CTL_WORDS * 4), data: new SharedArrayBuffer(cap) };
  }

  /** Largest payload that can ever fit. */
  get maxPayload(): number {
    return (this.capacity >> 1) - HEADER;
  }

  /**
   * Producer: reserves room for a payload and returns its offset in `bytes()`, or -1 when the ring is
   * full. Fill the payload, then `commit`.
   */
  reserve(length: number): number {
    const need = HEADER + ((length + 3) & ~3);
    const cap = this.capacity;
    let head = this.ctl[HEAD];
    const tail = Atomics.load(this.ctl, TAIL);
    if (head >= tail) {
      const roomToEnd = cap - head - (tail === 0 ? 4 : 0);
      if (need > roomToEnd) {
        if (need > tail - 4) return -1;
        this.words.setUint32(head, WRAP, true);
        head = 0;
      }
    } else if (need > tail - head - 4) {
      return -1;
    }
    this.reservedAt = head;
    return head + HEADER;
  }

  private reservedAt = 0;

  /** Producer: whether `reserve(length)` would succeed now (nothing is written). */
  canReserve(length: number): boolean {
    const need = HEADER + ((length + 3) & ~3);
    const head = this.ctl[HEAD];
    const tail = Atomics.load(this.ctl, TAIL);
    if (head >= tail) return need <= this.capacity - head - (tail === 0 ? 4 : 0) || need <= tail - 4;
    return need <= tail - head - 4;
  }

  /** The whole data area (payload is written at the offset `reserve` returned). */
  bytes(): Uint8Array {
    return this.data;
  }

  /** The data area as a Buffer (for utf8 writes and reads without copies). */
  buffer(): Buffer {
    return Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
  }

  /** Producer: publishes the reserved record; `length` may be less than what was reserved. */
  commit(id: number, meta: number, length: number): void {
    const at = this.reservedAt;
    this.words.setUint32(at, length, true);
    this.words.setUint32(at + 4, id >>> 0, true);
    this.words.setUint32(at + 8, meta >>> 0, true);
    let head = at + HEADER + ((length + 3) & ~3);
    if (head >= this.capacity) head = 0;
    Atomics.store(this.ctl, HEAD, head);
  }

  /** Producer: copies a payload in and publishes it; false when full. */
  push(id: number, meta: number, payload: Uint8Array): boolean {
    const at = this.reserve(payload.length);
    if (at < 0) return false;
    this.data.set(payload, at);
    this.commit(id, meta, payload.length);
    return true;
  }

  /** Producer: wakes a sleeping consumer (once per batch). */
  ring(): void {
    Atomics.add(this.ctl, DOORBELL, 1);
    Atomics.notify(this.ctl, DOORBELL);
  }

  /** Whether the consumer announced it is (about to be) asleep. */
  sleeping(): boolean {
    return Atomics.load(this.ctl, SLEEPING) !== 0;
  }

  /**
   * Producer: wakes the consumer only if it announced it is going to sleep. A futex wake is the
   * costliest step of a hand-off (an inter-processor interrupt on a VM); a busy consumer finds the
   * record on its next look anyway. Safe by seq-cst ordering: either the consumer's emptiness re-check
   * sees our `head`, or we see its flag. The flag is taken (1 -> 0) with the wake, so the requests that
   * follow in the same event-loop pass do not wake a consumer that is already waking (each paid a futex
   * call while the woken thread had not yet run to clear the flag itself).
   */
  ringIfSleeping(): void {
    if (Atomics.compareExchange(this.ctl, SLEEPING, 1, 0) === 1) this.ring();
  }

  /**
   * Consumer: sleep until a producer rings or `timeoutMs` passes, unless records arrived meanwhile.
   * `seen` is the doorbell value read before the consumer last found the ring empty.
   */
  sleep(seen: number, timeoutMs: number): void {
    Atomics.store(this.ctl, SLEEPING, 1);
    if (this.isEmpty()) Atomics.wait(this.ctl, DOORBELL, seen, timeoutMs);
    Atomics.store(this.ctl, SLEEPING, 0);
  }

  /** Consumer: the doorbell value to wait on. */
  doorbell(): number {
    return Atomics.load(this.ctl, DOORBELL);
  }

  isEmpty(): boolean {
    return Atomics.load(this.ctl, HEAD) === this.ctl[TAIL];
  }

  /**
   * Consumer: fills `out` with the next record; false when empty. The view stays valid until `release()`, which frees
   * every record read so far.
   */
  next(out: RecordView): boolean {
    let tail = this.pendingTail >= 0 ? this.pendingTail : this.ctl[TAIL];
    const head = Atomics.load(this.ctl, HEAD);
    if (tail === head) return false;
    let len = this.words.getUint32(tail, true);
    if (len === WRAP) {
      tail = 0;
      if (tail === head) {
        this.pendingTail = 0;
        return false;
      }
      len = this.words.getUint32(0, true);
    }
    out.id = this.words.getUint32(tail + 4, true);
    out.meta = this.words.getUint32(tail + 8, true);
    out.bytes = this.data.subarray(tail + HEADER, tail + HEADER + len);
    let next = tail + HEADER + ((len + 3) & ~3);
    if (next >= this.capacity) next = 0;
    this.pendingTail = next;
    return true;
  }

  /** Consumer: frees the records returned by `next` so far. */
  release(): void {
    if (this.pendingTail < 0) return;
    Atomics.store(this.ctl, TAIL, this.pendingTail);
    this.pendingTail = -1;
  }

  /** Drops everything (after the peer died). Only safe when neither side is running. */
  reset(): void {
    Atomics.store(this.ctl, HEAD, 0);
    Atomics.store(this.ctl, TAIL, 0);
    this.pendingTail = -1;
  }
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread for `ms` (a producer waiting for room in a full ring); nothing ever wakes it early. */
export function pauseMs(ms: number): void {
  Atomics.wait(PAUSE, 0, 0, ms);
}

