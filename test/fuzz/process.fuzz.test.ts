import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectJournal, startGateProcess, type GateProcess } from '../helpers/process.ts';
import { invalidHttp, invalidWs, mixedHttp, mixedWs } from './generators.ts';
import { call, fuzzBudget, runHttp, runWs, SEED } from './harness.ts';

/**
 * The same generators against the real process (`node dist/main.mjs`, default pool size), so "the
 * gate never crashes" is observed from outside: after the fuzz the child has not exited, its pid is
 * alive, it printed `listening` once (no restart), its stderr has no uncaught error, /health answers,
 * and SIGTERM stops it with exit code 0 and a journal with one POLICY.DECISION per decision given.
 */

const RUNS = fuzzBudget(0.07);
const LIMIT = 65_536;
const TOKEN = 'fuzz-process-ops-token-Wq19-0123456789';

describe('fuzz against a child-process gate', () => {
  let gate: GateProcess;
  let decided = 0;
  const summaries: string[] = [];

  beforeAll(async () => {
    gate = await startGateProcess({ env: { OPS_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await gate?.kill();
    console.log(summaries.join('\n'));
  });

  it(`${RUNS} HTTP and WebSocket inputs: no 5xx, every answer documented, the process never exits`, async () => {
    const nHttp = Math.round(RUNS * 0.6);
    const nWs = RUNS - nHttp;
    const http = [...fc.sample(invalidHttp(LIMIT), { seed: SEED + 40, numRuns: Math.round(nHttp / 2) }), ...fc.sample(mixedHttp(LIMIT), { seed: SEED + 41, numRuns: nHttp - Math.round(nHttp / 2) })];
    const ws = [...fc.sample(invalidWs(LIMIT), { seed: SEED + 42, numRuns: Math.round(nWs / 2) }), ...fc.sample(mixedWs(LIMIT), { seed: SEED + 43, numRuns: nWs - Math.round(nWs / 2) })];
    const [h, w] = await Promise.all([
      runHttp(gate.port, http, { connections: 6, localAddress: '127.0.0.2' }),
      runWs(`ws://127.0.0.1:${gate.port}/ws`, ws, { connections: 4, localAddress: '127.0.0.3' }),
    ]);
    summaries.push(h.tally.format('child process, HTTP'), w.tally.format('child process, WebSocket'));
    decided += (h.ok['/pretrade/check'] ?? 0) + w.decisions;
    expect({ count: h.failures.length, first: h.failures.slice(0, 6) }).toEqual({ count: 0, first: [] });
    expect({ count: w.failures.length, first: w.failures.slice(0, 6) }).toEqual({ count: 0, first: [] });

    // observed from outside: the same process, still serving
    expect(gate.child.exitCode).toBeNull();
    expect(gate.child.signalCode).toBeNull();
    expect(() => process.kill(gate.pid, 0)).not.toThrow();
    expect(gate.logs().filter((l) => l.msg === 'listening').length).toBe(1);
    const health = await call(gate.port, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json.status).toBe('healthy');
    expect(health.json.workers).toBeGreaterThan(0);
    expect(gate.stderr()).not.toMatch(/uncaught|unhandled|RangeError|TypeError|SyntaxError|FATAL|Maximum call stack/i);
    expect(gate.logs().filter((l) => typeof l.level === 'number' && (l.level as number) >= 50)).toEqual([]);
  });

  it('SIGTERM: exit 0, one POLICY.DECISION per decision, no torn journal line', async () => {
    gate.signal('SIGTERM');
    const exit = await gate.waitExit(8000);
    expect(exit).not.toBeNull();
    expect(exit!.code).toBe(0);
    const j = inspectJournal(gate.sessionDir);
    expect(j.torn).toEqual([]);
    expect(j.unterminated).toEqual([]);
    expect(j.events.filter((e) => e.event_code === 'POLICY.DECISION').length).toBe(decided);
  });
});
