import { describe, expect, it } from 'vitest';
import { gateEnv, meanCpu, measuredPools, projectedRatio } from '../../bench/figures.ts';

/** The pure decisions of `npm run bench` (bench/run.ts). */

const cpu = (mainUs: number, busiestOtherUs: number, totalUs: number, runqueueWaitUs: number) => ({ mainUs, busiestOtherUs, totalUs, runqueueWaitUs });

describe('bench figures', () => {
  it('measures the default pool (one per core) on any machine, so the SLOs and WS rows have a gate to read', () => {
    expect(measuredPools(false, 2)).toEqual(['0', '1', '2', '4']);
    expect(measuredPools(false, 4)).toEqual(['0', '1', '2', '4']);
    expect(measuredPools(false, 8)).toEqual(['0', '1', '2', '4', '8']); // was ['0','1','2','4']: gateHttp['8'] undefined
    expect(measuredPools(false, 1)).toEqual(['0', '1', '2', '4']);
    expect(measuredPools(true, 2)).toEqual(['0', '2']);
    expect(measuredPools(true, 16)).toEqual(['0', '16']);
    for (const cores of [1, 2, 3, 6, 12, 64]) for (const quick of [true, false]) expect(measuredPools(quick, cores)).toContain(String(cores));
  });

  it('journal on and journal off gates run at the same log level', () => {
    const on = gateEnv('2');
    const off = gateEnv('2', false);
    expect(off.AURORA_LOG_LEVEL).toBe(on.AURORA_LOG_LEVEL);
    expect(on).toEqual({ AURORA_POOL_THREADS: '2', AURORA_LOG_LEVEL: 'warn' });
    expect(off).toEqual({ AURORA_POOL_THREADS: '2', AURORA_LOG_LEVEL: 'warn', AURORA_JOURNAL_ENABLED: '0' });
  });

  it('the projection uses the mean of the floor start and end runs, as the ratios do', () => {
    const floor = meanCpu([cpu(16, 0.1, 16.2, 1.1), cpu(18, 0.3, 18.2, 0.3)]);
    for (const [k, v] of Object.entries({ mainUs: 17, busiestOtherUs: 0.2, totalUs: 17.2, runqueueWaitUs: 0.7 })) expect(floor![k as keyof typeof floor]).toBeCloseTo(v, 12);
    // gate: busiest thread is a worker at 25.5 us/req
    expect(projectedRatio(floor, cpu(20, 25.5, 50, 10))).toBeCloseTo(17 / 25.5, 12);
    expect(projectedRatio(floor, cpu(34, 25.5, 50, 10))).toBeCloseTo(0.5, 12);
    expect(meanCpu([cpu(1, 1, 1, 1), null])).toBeNull();
    expect(meanCpu([])).toBeNull();
    expect(projectedRatio(null, cpu(1, 1, 1, 1))).toBeNull();
  });
});
