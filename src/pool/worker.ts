import type { CoreConfig } from '../core/config.ts';
import { GateState, type StateSizes } from '../shm/state/gate-state.ts';
import { GateCounters } from '../gate/counters.ts';
import { JournalBatch } from '../journal/line-batch.ts';
import { SYSTEM_CLOCK } from '../gate/pretrade.ts';
import { GateService, type Reply } from '../gate/service.ts';
import { SharedLock } from '../shm/lock.ts';
import { CTL_FAIL_CLOSED, CTL_JOURNAL_FAILING, CTL_MAIN_BELL, CTL_MAIN_WAITING, CTL_READY, CTL_STOP } from '../shm/control.ts';
import { pauseMs, Ring, type RecordView, type RingBuffers } from '../shm/ring.ts';
import { JournalRingProducer } from '../journal/ring-producer.ts';
import { handOverJournal } from './decide.ts';

export interface ServeArgs {
  /** 1-based worker slot; also the lock owner id */
  slot: number;
  req: RingBuffers;
  resp: RingBuffers;
  state: SharedArrayBuffer;
  stateSizes: StateSizes;
  lock: SharedArrayBuffer;
  counters: SharedArrayBuffer;
  control: SharedArrayBuffer;
  core: CoreConfig;
  runId: string;
  /** false only in benchmark mode (journal.enabled: false): lines are produced and dropped */
  journalEnabled: boolean;
  /** shared-memory ring to the journal writer thread, and its doorbell */
  journalRing: RingBuffers;
  journalBell: SharedArrayBuffer;
  /** the most text one request's lines can take (JournalRingProducer reserveChars) */
  journalReserveChars: number;
}

/** Requests decided before their journal lines are posted and their replies published. */
const MAX_BATCH = 64;

/**
 * A worker's one long-lived piscina task: serve the request ring until told to stop. Sleeps in
 * Atomics.wait when idle; per drained batch it copies the batch's journal lines into its ring to the
 * writer thread, then publishes the replies and rings the response doorbell once. The main thread
 * detaches the journal ring once this task has ended (or the thread died).
 */
export default function serve(args: ServeArgs): number {
  const req = new Ring(args.req);
  const resp = new Ring(args.resp);
  const respBuf = resp.buffer();
  const control = new Int32Array(args.control);
  const journal = new JournalBatch();
  const counters = new GateCounters(args.counters, args.slot);
  const journalOut = new JournalRingProducer(
    args.journalRing,
    args.journalBell,
    {
      dropped: (lines) => counters.journalDropped(lines),
      log: (message) => process.stderr.write(`[journal] worker ${args.slot}: ${message}\n`),
    },
    args.journalReserveChars,
  );
  const failClosed = control[CTL_FAIL_CLOSED] !== 0;
  const service = new GateService(
    args.core,
    new GateState(args.state, args.stateSizes),
    new SharedLock(args.lock, args.slot, true),
    SYSTEM_CLOCK,
    args.runId,
    journal,
    counters,
    // fail_closed: refuse a check before deciding it when the journal fails or its lines might not fit
    () => failClosed && (Atomics.load(control, CTL_JOURNAL_FAILING) !== 0 || !journalOut.hasRoom(journal)),
  );
  const view: RecordView = { id: 0, meta: 0, bytes: new Uint8Array(0) };
  let served = 0;
  Atomics.add(control, CTL_READY, 1);
  Atomics.notify(control, CTL_READY);

  const ids = new Array<number>(MAX_BATCH);
  const replies = new Array<Reply>(MAX_BATCH);
  for (;;) {
    const bell = req.doorbell();
    let n = 0;
    while (n < MAX_BATCH && req.next(view)) {
      // fail_closed: a batch with a decided check must always fit into the ring, so lines are handed over
      // early when the next request's might not (journal-before-reply still holds: no reply is out yet)
      if (failClosed && journal.lines > 0 && args.journalEnabled && !journalOut.hasRoom(journal)) journalOut.write(journal);
      ids[n] = view.id;
      replies[n] = service.handleBytes(view.meta & 0xff, view.bytes);
      n++;
    }
    if (n > 0) {
      // journal before reply (the rule: pool/decide.ts): the batch's lines first, then its replies
      handOverJournal(journal, args.journalEnabled ? journalOut : null);
      for (let i = 0; i < n; i++) writeReply(resp, respBuf, control, ids[i], replies[i]);
      req.release();
      // one doorbell for the main thread; a wake-up only if it is waiting (a busy main thread finds
      // the replies on its next pass)
      Atomics.add(control, CTL_MAIN_BELL, 1);
      // the flag is taken with the wake, so other batches (this worker's or another's) skip the futex
      // call while the main thread is already waking
      if (Atomics.compareExchange(control, CTL_MAIN_WAITING, 1, 0) === 1) Atomics.notify(control, CTL_MAIN_BELL);
      served += n;
      continue;
    }
    if (Atomics.load(control, CTL_STOP) !== 0) break;
    req.sleep(bell, 200);
  }
  return served;
}

/** Writes a reply record; waits (briefly, repeatedly) while the main thread drains a full ring. */
function writeReply(resp: Ring, buf: Buffer, control: Int32Array, id: number, reply: Reply): void {
  const max = reply.body.length * 3;
  let at = resp.reserve(max);
  while (at < 0) {
    Atomics.add(control, CTL_MAIN_BELL, 1);
    Atomics.notify(control, CTL_MAIN_BELL);
    pauseMs(1);
    at = resp.reserve(max);
  }
  const len = buf.write(reply.body, at, 'utf8');
  resp.commit(id, reply.status, len);
}
