import type { GateService, Reply } from '../gate/service.ts';
import type { JournalBatch } from '../journal/line-batch.ts';

/*
 * JOURNAL BEFORE REPLY — the one statement of the rule (protocol.md "Journal": one POLICY.DECISION per
 * answered check, none lost). Whichever thread decides a request hands that request's journal lines to
 * the writer thread (copies them into its own journal ring, `handOverJournal`) BEFORE the reply leaves
 * the thread:
 * - the main thread: `Decider.decide` below flushes an inline decision's lines before it returns the
 *   reply to the transport; ops (gate/ops.ts `Ops.event`) flush each event before the ops reply exists;
 * - a worker: per drained batch, `handOverJournal` for the whole batch, then the batch's replies are
 *   published to the response ring (pool/worker.ts).
 * So every reply a client sees has its lines in shared memory, even if the deciding thread dies right
 * after; a request decided just before a worker's death is journaled although its client got 503.
 */

/** Where a thread's journal lines go: its ring to the writer thread (JournalRingProducer). */
export interface JournalOut {
  write(batch: JournalBatch): void;
}

/**
 * Hands every line gathered in `batch` to the writer (`out`), or drops them when the journal is off
 * (`out` null: benchmark mode, journal.enabled false). Call before any reply to those lines' requests
 * leaves the thread (the rule above).
 */
export function handOverJournal(batch: JournalBatch, out: JournalOut | null): void {
  if (batch.lines === 0) return;
  if (out !== null) out.write(batch);
  else batch.clear();
}

/** How requests can be decided: by worker threads, on the main thread, or both. */
export interface Backend<T> {
  /** queues a request for a worker (false: every worker full or down); null at pool size 0 */
  submit: ((kind: number, body: Uint8Array, target: T) => boolean) | null;
  /** requests handed to workers and not yet answered */
  inflight(): number;
  /** the main thread's own pipeline, or null when every request goes to a worker */
  inline: GateService | null;
  /** minimum time since the previous request's arrival for an inline decision, ms (pool.inline_idle_gap_us) */
  idleGapMs: number;
  /** hands the main thread's gathered journal lines to the writer (`handOverJournal` of its batch) */
  flush(): void;
}

const refusal = (code: string, message: string): Reply => ({ status: 503, body: JSON.stringify({ error: { code, message } }) });
/** every worker queue is full (or every worker down): nothing was decided */
export const OVERLOADED: Reply = refusal('overloaded', 'every worker queue is full; retry shortly');
/** the gate is stopping: nothing is decided once stop() began (the journal is about to close) */
export const SHUTTING_DOWN: Reply = refusal('shutting_down', 'the gate is stopping; nothing was decided');

/** Is this reply one of the Decider's refusals (nothing decided; a WebSocket envelope still needs the frame's id)? */
export const isRefusal = (r: Reply): boolean => r === OVERLOADED || r === SHUTTING_DOWN;

/**
 * The main thread's dispatch policy: where a request is decided, and the journal-before-reply rule for
 * the decisions made here. The transport reads bytes, calls `decide`, and writes what it returns.
 *
 * Inline or worker: inline always at pool size 0, and (pool.inline_when_idle) when the gate is quiet —
 * nothing in flight on any worker and the previous request arrived at least `idleGapMs` earlier. That
 * saves two thread hand-offs per request at low rates; the gap rule keeps a burst (many requests read
 * in one event-loop pass, each finding nothing in flight because the previous one was decided inline)
 * from piling onto the main thread instead of the workers. An inline decision takes the same lock over
 * the same shared state, and no worker holds an undecided request then: linearizability is unchanged.
 */
export class Decider<T> {
  /** set when the process stops: every later request is refused SHUTTING_DOWN, never half-journaled */
  stopping = false;
  private readonly b: Backend<T>;
  /** arrival time of the previous request that reached the choice (performance.now ms) */
  private lastArrival = -Infinity;

  constructor(backend: Backend<T>) {
    this.b = backend;
  }

  /**
   * Decides one request that arrived at `now` (performance.now ms). Returns the reply to write now —
   * an inline decision, its journal lines already handed to the writer, or a refusal (`isRefusal`:
   * OVERLOADED, SHUTTING_DOWN) — or null when a worker has the request: its reply comes through the
   * dispatcher's ReplySink, addressed to `target`.
   */
  decide(kind: number, bytes: Uint8Array, target: T, now: number): Reply | null {
    if (this.stopping) return SHUTTING_DOWN;
    const b = this.b;
    const gap = now - this.lastArrival;
    this.lastArrival = now;
    if (b.submit !== null && (b.inline === null || gap < b.idleGapMs || b.inflight() !== 0)) {
      return b.submit(kind, bytes, target) ? null : OVERLOADED;
    }
    const r = b.inline!.handleBytes(kind, bytes);
    b.flush(); // journal before reply
    return r;
  }
}
