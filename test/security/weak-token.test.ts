import { afterAll, describe, expect, it } from 'vitest';
import { call } from '../fuzz/harness.ts';
import { startGateProcess, type GateProcess } from '../helpers/process.ts';

/**
 * An unusable OPS_TOKEN — the reference's placeholder `change-me` (D-2), one shorter than 24
 * characters, one with whitespace inside — disables ops (service.md 1.1 "Ours"): the real process logs
 * a start-up warning that says so (and names the source, never the value), and every ops call
 * answers 401 ops_token_not_configured, with that very token too.
 */

const CASES: Array<{ name: string; token: string; why: RegExp }> = [
  { name: 'change-me', token: 'change-me', why: /is a known placeholder/ },
  { name: 'a 19-character token', token: 'short-Tk7-0123456xy', why: /is shorter than 24 characters/ },
  { name: 'a token with a space inside', token: 'spaced-Tk8 0123456789abcdefgh', why: /whitespace/ },
];

describe.concurrent('weak ops tokens disable ops with a clear start-up warning', () => {
  const started: GateProcess[] = [];
  afterAll(async () => {
    for (const g of started) await g.kill();
  });

  for (const c of CASES) {
    it(`OPS_TOKEN = ${c.name}`, async () => {
      const g = await startGateProcess({ env: { OPS_TOKEN: c.token } });
      started.push(g);
      const warnings = g.logs().filter((l) => l.level === 40);
      const w = warnings.find((l) => /ops token from OPS_TOKEN/.test(String(l.msg)));
      expect(w, JSON.stringify(warnings)).toBeDefined();
      expect(String(w!.msg)).toMatch(c.why);
      expect(String(w!.msg)).toMatch(/ops endpoints stay disabled \(401\)/);
      for (const [method, path] of [
        ['GET', '/liveness'],
        ['POST', '/ops/reset'],
        ['POST', '/aurora/disarm'],
        ['POST', '/ops/cooloff/60'],
      ]) {
        const r = await call(g.port, method, path, { token: c.token });
        expect(r.status, `${method} ${path}: ${r.text}`).toBe(401);
        expect(r.json.error.code).toBe('ops_token_not_configured');
      }
      // the rest of the gate serves, and the weak value itself is printed nowhere
      expect((await call(g.port, 'GET', '/health')).status).toBe(200);
      g.signal('SIGTERM');
      expect((await g.waitExit(8000))?.code).toBe(0);
      for (const [name, text] of [
        ['stdout', g.stdout()],
        ['stderr', g.stderr()],
      ]) {
        if (c.token !== 'change-me') expect(text.includes(c.token), `${name} has the token`).toBe(false);
      }
    });
  }
});
