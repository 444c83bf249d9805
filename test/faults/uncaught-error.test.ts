import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { http } from '../helpers/gate.ts';
import { allowBody } from '../helpers/load.ts';
import { decisionsById, inspectJournal } from '../helpers/process.ts';
import { startChildGate } from './gate-process.ts';

/**
 * An error thrown outside the decision path (an ops handler, a timer, a library callback) reaches the
 * process's `uncaughtException`. src/main.ts logs it at fatal level, stops the gate as on SIGTERM (every
 * answered decision flushed to the journal) and exits 1. The error is injected for real: a preload module
 * (NODE_OPTIONS --import) makes SIGUSR2 throw in the gate's main thread.
 */
const dir = mkdtempSync(join(tmpdir(), 'aurora-uncaught-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('uncaught error in the gate process', () => {
  it('logs it at fatal level, flushes the journal and exits 1', async () => {
    const preload = join(dir, 'throw-on-usr2.mjs');
    writeFileSync(
      preload,
      "import { isMainThread } from 'node:worker_threads';\n" +
        "if (isMainThread) process.on('SIGUSR2', () => { throw new Error('injected uncaught error'); });\n",
    );
    const session = join(dir, 'session');
    const g = await startChildGate(session, { NODE_OPTIONS: `--import=${preload}`, AURORA_POOL_THREADS: '2', AURORA_LOG_LEVEL: 'info' });
    const answered: string[] = [];
    for (let i = 0; i < 40; i++) {
      const id = `u-${i}`;
      const r = await http(`${g.url}/pretrade/check`, 'POST', { body: allowBody(id) });
      expect(r.status).toBe(200);
      answered.push(id);
    }
    g.signal('SIGUSR2');
    const exit = await g.waitExit(8000);
    expect(exit).toEqual({ code: 1, signal: null });

    const lines = g.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const fatal = lines.find((l) => l.level === 60);
    expect(fatal?.msg).toBe('uncaught error: stopping the gate and exiting 1');
    expect(JSON.stringify(fatal?.err)).toContain('injected uncaught error');
    // the stop ran: its summary line comes after the fatal one
    expect(lines.some((l) => l.msg === 'stopped')).toBe(true);

    const j = inspectJournal(session);
    expect(j.torn).toEqual([]);
    const byId = decisionsById(j.events);
    for (const id of answered) expect(byId.get(id)?.length, id).toBe(1);
  }, 30_000);
});
