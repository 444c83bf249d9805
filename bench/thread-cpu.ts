import { readdirSync, readFileSync } from 'node:fs';

/**
 * Per-thread CPU accounting of a server process from /proc/<pid>/task/<tid>/schedstat (nanoseconds of
 * CPU, and of time spent runnable but waiting for a core). It answers "which thread pays for a request"
 * and "how much did threads queue for the two cores", which req/s alone cannot on a shared 2-core box.
 */
interface ThreadSample {
  cpuNs: number;
  waitNs: number;
}

/** per thread id: cumulative CPU and run-queue wait (ns) */
type Snapshot = Map<number, ThreadSample>;

export function snapshot(pid: number): Snapshot {
  const out: Snapshot = new Map();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // not Linux, or the process is gone: the bench just has no CPU columns
  }
  for (const tid of tids) {
    try {
      const [cpu, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      out.set(Number(tid), { cpuNs: cpu, waitNs: wait });
    } catch {
      /* thread ended between readdir and read */
    }
  }
  return out;
}

export interface CpuPerRequest {
  /** the process's main (event-loop) thread, µs of CPU per request */
  mainUs: number;
  /** the busiest other thread (a decision worker or the journal writer), µs per request */
  busiestOtherUs: number;
  /** every thread together, µs per request */
  totalUs: number;
  /** time threads were runnable but had no core, µs per request (CPU contention) */
  runqueueWaitUs: number;
}

/**
 * CPU per request between two snapshots of `pid`. A thread absent from `before` started in between and
 * counts from 0; a thread absent from `after` ended in between and its last interval is lost (unavoidable).
 */
export function perRequest(pid: number, before: Snapshot, after: Snapshot, requests: number): CpuPerRequest | null {
  if (requests <= 0 || after.size === 0) return null;
  let main = 0;
  let busiest = 0;
  let total = 0;
  let wait = 0;
  for (const [tid, a] of after) {
    const b = before.get(tid) ?? { cpuNs: 0, waitNs: 0 };
    const cpu = a.cpuNs - b.cpuNs;
    total += cpu;
    wait += a.waitNs - b.waitNs;
    if (tid === pid) main = cpu;
    else busiest = Math.max(busiest, cpu);
  }
  const us = (ns: number) => ns / 1000 / requests;
  return { mainUs: us(main), busiestOtherUs: us(busiest), totalUs: us(total), runqueueWaitUs: us(wait) };
}
