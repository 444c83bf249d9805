/**
 * The writer thread's side of the producers' shared-memory rings: records `[file index | lines << 8]` +
 * UTF-8 lines, written straight from shared memory, each record's ring space released right after its
 * write. So when a writer thread dies, at most the one record being written is "in doubt"; its slot in
 * the stats buffer (stats.ts) says which record, file and offset, and the replacement thread settles it
 * before anything else: written completely → released without writing; not (or partly) → written whole.
 * (A comparison of the file's last bytes with the record alone would drop a record identical to the
 * previous one — two equal post-trade records in orders.jsonl — so the slot, not the bytes, decides.)
 */
import { Ring, type RecordView } from '../shm/ring.ts';
import type { FileSink } from './file-sink.ts';
import type { CrashPoint, ProducerSpec } from './protocol.ts';
import { SLOT_COUNTED } from '../shm/journal-stats-layout.ts';
import type { StatsPublisher } from './stats.ts';

interface Producer {
  spec: ProducerSpec;
  ring: Ring;
}

export interface IntakeDeps {
  sinks: readonly FileSink[];
  stats: StatsPublisher;
  /** publish the stats (the entry knows what `failing` is) */
  publish(): void;
  /** lines written (the fsync line threshold) */
  written(lines: number): void;
  /** after the records of one ring were written (the fsync policy) */
  drained(): void;
}

/** TEST ONLY: the error a `testCrash` control message makes the thread throw (never caught). */
export class TestCrash extends Error {}

export class RingIntake {
  private readonly producers = new Map<number, Producer>();
  private readonly view: RecordView = { id: 0, meta: 0, bytes: new Uint8Array(0) };
  private readonly deps: IntakeDeps;
  /** TEST ONLY: throw around the next record's write */
  crashAt: CrashPoint | null = null;

  constructor(deps: IntakeDeps) {
    this.deps = deps;
  }

  get size(): number {
    return this.producers.size;
  }

  has(id: number): boolean {
    return this.producers.has(id);
  }

  /** `inherited`: the ring was served by a thread that died; settle its in-doubt record first. */
  attach(spec: ProducerSpec, inherited: boolean): void {
    const p: Producer = { spec, ring: new Ring(spec.ring) };
    this.producers.set(spec.id, p);
    if (inherited) this.settleInDoubt(p);
  }

  /** Writes everything left in the ring, then forgets it. False if unknown. */
  detach(id: number): boolean {
    const p = this.producers.get(id);
    if (p === undefined) return false;
    this.drain(p);
    this.producers.delete(id);
    return true;
  }

  /** Ids of producers that were detached before this thread started (drain, then forget them). */
  detaching(): number[] {
    return [...this.producers.values()].filter((p) => p.spec.detaching).map((p) => p.spec.id);
  }

  /** One pass over every ring; returns the lines taken. */
  drainAll(): number {
    let n = 0;
    for (const p of this.producers.values()) n += this.drain(p);
    return n;
  }

  empty(): boolean {
    for (const p of this.producers.values()) if (!p.ring.isEmpty()) return false;
    return true;
  }

  private drain(p: Producer): number {
    const { ring } = p;
    const view = this.view;
    let lines = 0;
    let any = false;
    while (ring.next(view)) {
      any = true;
      lines += this.writeRecord(p, view);
      ring.release();
      this.deps.stats.slotClear();
    }
    if (any) this.deps.drained();
    return lines;
  }

  /** Writes one record and publishes its outcome; returns the lines written. */
  private writeRecord(p: Producer, view: RecordView): number {
    const { stats, sinks } = this.deps;
    const file = view.meta & 0xff;
    const n = view.meta >>> 8;
    const sink = sinks[file];
    const bytes = view.bytes;
    stats.linesReceived += n;
    this.maybeCrash('beforeWrite');
    const ok = sink !== undefined && sink.write(bytes, (offset) => stats.slotBegin(p.spec.id, file, offset, bytes.length, bytes.byteOffset));
    if (ok) this.maybeCrash('afterWrite');
    if (ok) {
      stats.linesWritten += n;
      this.deps.written(n);
    }
    this.deps.publish();
    stats.slotCounted();
    return ok ? n : 0;
  }

  /** The record a dead predecessor was writing, if it is this ring's first pending one. */
  private settleInDoubt(p: Producer): void {
    const { stats, sinks } = this.deps;
    const slot = stats.slotRead();
    if (slot.state === 0 || slot.producer !== p.spec.id) return;
    const view = this.view;
    if (!p.ring.next(view)) {
      stats.slotClear(); // released before the death
      return;
    }
    const same = view.bytes.byteOffset === slot.ringOffset && view.bytes.length === slot.length && (view.meta & 0xff) === slot.file;
    if (!same) {
      // the slot's record was released; this one was never touched
      this.writeRecord(p, view);
    } else if (slot.state !== SLOT_COUNTED) {
      const n = view.meta >>> 8;
      if (sinks[slot.file]?.settleInDoubt(slot.offset, view.bytes)) {
        // written before the death, not yet counted
        stats.linesReceived += n;
        stats.linesWritten += n;
        stats.bytesWritten += view.bytes.length;
        this.deps.publish();
      } else {
        this.writeRecord(p, view);
      }
    }
    p.ring.release();
    stats.slotClear();
    this.deps.drained();
  }

  private maybeCrash(at: CrashPoint): void {
    if (this.crashAt !== at) return;
    this.crashAt = null;
    throw new TestCrash(`TEST ONLY: uncaught error in the journal writer thread (${at})`);
  }
}
