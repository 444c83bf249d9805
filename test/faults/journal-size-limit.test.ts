import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { http } from '../helpers/gate.ts';
import { allowBody, posttradeBody } from '../helpers/load.ts';
import { decisionsById, inspectJournal, startGateProcess, type GateProcess } from '../helpers/process.ts';
import { eventually, health, metricsText, metricValue } from './helpers.ts';

/**
 * A size limit on the journal (issue "Hardening": "journal write failure ... or a size limit"): the gate
 * runs as a child process (`node dist/main.mjs`), and `prlimit` lowers its RLIMIT_FSIZE while it serves,
 * a few KiB above the current size of aurora_events.jsonl. From then on write(2) to that file first
 * writes short (up to the limit) and then fails with EFBIG — the same shape as a full disk (ENOSPC),
 * reproducible as any user, no special filesystem needed. Node ignores SIGXFSZ, so the process lives on.
 * Raising the limit again is the operator freeing space: the next write succeeds.
 *
 * What must hold: the error is counted and shown (/metrics, /health); the short write is cut back so no
 * torn line stays in the file; `fail_closed` refuses checks soon after the first failure and decides again
 * after recovery; `continue` keeps deciding (and loses those decisions' journal lines, counted). Either
 * way, after a clean stop every line parses and no decision is journaled twice.
 */

const running: GateProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const g of running.splice(0)) {
    await g.kill();
    rmSync(g.dir, { recursive: true, force: true });
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setFsizeLimit(pid: number, bytes: number | 'unlimited'): void {
  // soft limit only ("N:"): the hard limit stays, so raising it back works for any user
  execFileSync('prlimit', ['--pid', String(pid), `--fsize=${bytes}:`]);
}

interface Answer {
  reqId: string;
  status: number;
  code?: string;
}

async function check(url: string, reqId: string): Promise<Answer> {
  const r = await http(`${url}/pretrade/check`, 'POST', { body: allowBody(reqId) });
  return { reqId, status: r.status, code: (r.json as { error?: { code?: string } } | undefined)?.error?.code };
}

for (const mode of ['fail_closed', 'continue'] as const) {
  describe(`RLIMIT_FSIZE reached by aurora_events.jsonl (journal.on_write_error: ${mode})`, () => {
    it('counted and shown, no torn line, nothing doubled; decisions resume after the limit is lifted', async () => {
      const cfgDir = mkdtempSync(join(tmpdir(), 'aurora-fsize-'));
      dirs.push(cfgDir);
      const yaml = join(cfgDir, 'gate.yaml');
      writeFileSync(yaml, `journal:\n  on_write_error: ${mode}\n`);
      const g = await startGateProcess({ env: { AURORA_POOL_THREADS: '2', AURORA_CONFIG: yaml, AURORA_LOG_LEVEL: 'warn' } });
      running.push(g);
      const P = `FS-${mode}`;
      const answers: Answer[] = [];
      for (let i = 0; i < 20; i++) answers.push(await check(g.url, `${P}-pre-${i}`));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      await eventually(async () => metricValue(await metricsText(g.url), 'aurora_journal_lag_lines') === 0, 2000);

      // ~8 KiB of room: a few dozen POLICY.DECISION lines, then EFBIG
      const limit = statSync(join(g.sessionDir, 'aurora_events.jsonl')).size + 8192;
      setFsizeLimit(g.pid, limit);
      const tLimit = answers.length;
      let i = 0;
      let refusedAt = -1;
      // fail_closed: until checks are refused; continue: well past the limit
      while (i < 400) {
        const a = await check(g.url, `${P}-mid-${i++}`);
        answers.push(a);
        if (a.status !== 200) {
          expect(a, 'the only refusal is journal_unavailable').toMatchObject({ status: 503, code: 'journal_unavailable' });
          if (refusedAt < 0) refusedAt = i;
          if (answers.filter((x) => x.status === 503).length >= 10) break;
        }
      }
      const h = await health(g.url);
      expect(h.journal_failing, '/health').toBe(true);
      const m = await metricsText(g.url);
      const eventErrors = metricValue(m, 'aurora_journal_write_errors_total', { file: 'events' });
      expect(eventErrors, 'aurora_journal_write_errors_total{file="events"}').toBeGreaterThan(0);
      expect(statSync(join(g.sessionDir, 'aurora_events.jsonl')).size, 'the file stayed under the limit').toBeLessThanOrEqual(limit);
      if (mode === 'fail_closed') {
        expect(refusedAt, 'checks were refused once the journal failed').toBeGreaterThan(0);
      } else {
        expect(refusedAt, 'continue: no check refused').toBe(-1);
      }

      // the operator frees space: the next events write succeeds (a post-trade record writes POSTTRADE.LOG)
      setFsizeLimit(g.pid, 'unlimited');
      let k = 0;
      const healed = await eventually(async () => {
        expect((await http(`${g.url}/posttrade/log`, 'POST', { body: posttradeBody(`${P}-heal-${k++}`) })).status).toBe(200);
        return (await health(g.url)).journal_failing === false;
      }, 3000, 50);
      expect(healed, '/health journal_failing false after the limit was lifted').toBe(true);
      const resumed = await eventually(async () => {
        const a = await check(g.url, `${P}-post-${k++}`);
        answers.push(a);
        return a.status === 200;
      }, 1000, 10);
      expect(resumed, 'checks decided again').toBe(true);
      for (let j = 0; j < 20; j++) answers.push(await check(g.url, `${P}-post-${k++}`));
      expect(answers.slice(-20).every((a) => a.status === 200)).toBe(true);

      g.signal('SIGTERM');
      const exit = await g.waitExit(8000);
      expect(exit?.code, g.stderr().slice(-2000)).toBe(0);
      expect(g.stderr()).toMatch(/EFBIG/);

      const j = inspectJournal(g.sessionDir);
      expect(j.torn, 'no torn line (a short write is cut back)').toEqual([]);
      expect(j.unterminated).toEqual([]);
      const byId = decisionsById(j.events);
      expect([...byId.values()].filter((v) => v.length > 1).length, 'doubled POLICY.DECISION').toBe(0);
      const ok = answers.filter((a) => a.status === 200);
      const lost = ok.filter((a) => !byId.has(a.reqId));
      const refusedButJournaled = answers.filter((a) => a.status !== 200 && byId.has(a.reqId));
      expect(refusedButJournaled, 'a refused check has no POLICY.DECISION').toEqual([]);
      // before the limit and after recovery nothing is lost
      expect(lost.filter((a) => a.reqId.includes('-pre-') || answers.indexOf(a) >= answers.length - 20)).toEqual([]);
      const midOk = answers.slice(tLimit).filter((a) => a.reqId.includes('-mid-') && a.status === 200).length;
      console.log(
        `[fsize ${mode}] limit=${limit} B: checks answered 200 after the limit=${midOk}, refused 503=${answers.filter((a) => a.status === 503).length} ` +
          `(first refusal at check #${refusedAt} after the limit), write errors(events)=${eventErrors}, ` +
          `answered-but-not-journaled=${lost.length}, torn=${j.torn.length}, doubled=0, journal lines=${j.totalLines}, exit=${exit?.code}`,
      );
      if (mode === 'continue') expect(lost.length, 'continue: decisions made while the file failed have no journal line').toBeGreaterThan(0);
    });
  });
}
