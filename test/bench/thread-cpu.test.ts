import { describe, expect, it } from 'vitest';
import { perRequest, snapshot } from '../../bench/thread-cpu.ts';

const snap = (entries: [tid: number, cpuNs: number, waitNs: number][]) => new Map(entries.map(([tid, cpuNs, waitNs]) => [tid, { cpuNs, waitNs }]));

describe('per-thread CPU accounting', () => {
  it('splits main thread, busiest other thread, all threads and run-queue wait per request', () => {
    const before = snap([
      [100, 1_000_000, 10_000],
      [101, 500_000, 0],
      [102, 0, 0],
    ]);
    const after = snap([
      [100, 3_000_000, 30_000], // main: 2 ms
      [101, 1_500_000, 10_000], // 1 ms
      [102, 400_000, 0], // 0.4 ms
    ]);
    expect(perRequest(100, before, after, 100)).toEqual({ mainUs: 20, busiestOtherUs: 10, totalUs: 34, runqueueWaitUs: 0.3 });
  });

  it('a thread started between the snapshots counts from 0 instead of being dropped', () => {
    const before = snap([[100, 1_000_000, 0]]);
    const after = snap([
      [100, 2_000_000, 0],
      [105, 3_000_000, 40_000], // a worker (re)started during the run: 3 ms of CPU, 40 us waiting
    ]);
    expect(perRequest(100, before, after, 1000)).toEqual({ mainUs: 1, busiestOtherUs: 3, totalUs: 4, runqueueWaitUs: 0.04 });
  });

  it('no figures without requests or without a process to read', () => {
    expect(perRequest(1, snap([]), snap([[1, 5, 0]]), 0)).toBeNull();
    expect(perRequest(1, snap([]), snap([]), 10)).toBeNull();
    expect(snapshot(-1).size).toBe(0);
  });

  it('reads this process on Linux: the main thread is present and its CPU only grows', () => {
    if (process.platform !== 'linux') return;
    const a = snapshot(process.pid);
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += i % 7;
    const b = snapshot(process.pid);
    expect(x).toBeGreaterThan(0);
    expect(a.has(process.pid)).toBe(true);
    expect(b.get(process.pid)!.cpuNs).toBeGreaterThanOrEqual(a.get(process.pid)!.cpuNs);
  });
});
