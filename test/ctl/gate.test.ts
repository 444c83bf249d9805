import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captureIo, type CtlIo } from '../../src/ctl/io.ts';
import { main } from '../../src/ctl/main.ts';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';
import { testHooks } from '../../src/testing/index.ts';
import { REPO_ROOT } from '../helpers/process.ts';

/**
 * The operator CLI against a real gate (worker pool of 1, real journal): each command's effect is read
 * back from the gate directly (/readiness, /risk/snapshot, a pre-trade check), errors map to the
 * documented exit codes, and the ops token is never printed.
 */

const TOKEN = 'ctl-test-ops-token-0123456789abcdef';
const WRONG = 'ctl-test-wrong-token-0123456789abcdef';
const OPS = { 'X-OPS-TOKEN': TOKEN };

let gate: TestGate;

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process against the test gate; `env` replaces the environment entirely. */
async function ctl(args: string[], env: Record<string, string> = { OPS_TOKEN: TOKEN }, io: Partial<CtlIo> = {}): Promise<Run> {
  const c = captureIo(io);
  const code = await main([...args, '--url', gate.url], env, c);
  return { code, out: c.stdout(), err: c.stderr() };
}

const CLEAN = {
  account: { mode: 'testnet' },
  order: { symbol: 'BTCUSDT', side: 'buy', qty: 0.5, price: 50000, base_notional: 100 },
  market: { latency_ms: 5, score: 0.5, a_bps: 5, b_bps: 10, slip_bps_est: 1, spread_bps: 3 },
};
async function check(spreadBps = 3): Promise<{ allow: boolean; reason: string }> {
  const r = await http(gate.url + '/pretrade/check', 'POST', { body: { ...CLEAN, market: { ...CLEAN.market, spread_bps: spreadBps } } });
  expect(r.status, r.text).toBe(200);
  return r.json as { allow: boolean; reason: string };
}
const readiness = async () => (await http(gate.url + '/readiness', 'GET', { headers: OPS })).json as { armed: boolean; cooloff_until: number; halt: boolean };
const riskNow = async () => (await http(gate.url + '/risk/snapshot', 'GET', { headers: OPS })).json as { risk: Record<string, number> };
async function authFailures(): Promise<number> {
  const text = (await http(gate.url + '/metrics', 'GET')).text;
  return Number(text.split('\n').find((l) => l.startsWith('aurora_ops_auth_fail_total '))!.split(' ')[1]);
}

/** A TCP port with nothing listening (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  gate = await startTestGate({ OPS_TOKEN: TOKEN, AURORA_POOL_THREADS: '1' });
});
afterAll(async () => {
  await gate?.stop();
  if (gate !== undefined) rmSync(gate.dir, { recursive: true, force: true });
});
// guard state, risk limits, token, rotation clock and auth-failure counts back to start-up values
beforeEach(() => testHooks(gate).resetState());

describe('status', () => {
  it('summarises a healthy gate; decision counts move by exactly the checks made', async () => {
    const before = await ctl(['status', '--json']);
    expect(before.code, before.err).toBe(0);
    const b = JSON.parse(before.out);
    for (let i = 0; i < 3; i++) expect((await check()).allow).toBe(true);
    expect((await check(500)).allow).toBe(false); // spread far above the limit
    const after = await ctl(['status', '--json']);
    expect(after.code, after.err).toBe(0);
    const a = JSON.parse(after.out);
    expect(a.healthy).toBe(true);
    expect(a.problems).toEqual([]);
    expect(a.metrics.decisions.allow - b.metrics.decisions.allow).toBe(3);
    expect(a.metrics.decisions.deny - b.metrics.decisions.deny).toBe(1);
    expect(a.metrics.pretrade_count - b.metrics.pretrade_count).toBe(4);
    expect(a.metrics.pretrade_p95_ms).toBeGreaterThan(0);
    expect(a.metrics.pool_workers_alive).toBe(1);
    expect(a.metrics.journal_dropped_total).toBe(0);
    expect(a.readiness.http_status).toBe(200);
    expect(a.readiness.body).toMatchObject({ armed: true, cooloff_until: 0, halt: false });
    expect(a.health.status).toBe('healthy');

    const human = await ctl(['status']);
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/HEALTHY, ready/);
    expect(human.out).toMatch(/state +armed, no cool-off, not halted/);
    expect(human.out).toMatch(/pool +1 worker thread alive, queue 0/);
    expect(human.out).toMatch(/p95 \d+\.\d{3} ms over \d+ checks/);
    expect(human.out).toMatch(new RegExp(`decisions +${a.metrics.decisions.allow} allow, ${a.metrics.decisions.deny} deny`));
  });

  it('shows the guard state as the ops commands left it', async () => {
    expect((await ctl(['disarm'])).code).toBe(0);
    expect((await ctl(['cooloff', '600'])).code).toBe(0);
    const r = await ctl(['status']);
    expect(r.code).toBe(0); // disarmed and cooling off is a state, not ill health
    expect(r.out).toMatch(/state +DISARMED, COOL-OFF (10m 0s|9m 59s) left \(until .*Z\), not halted/);
  });

  it('without a token: public endpoints only, still healthy; with a wrong token: exit 1', async () => {
    const f0 = await authFailures();
    const none = await ctl(['status'], {});
    expect(none.code, none.err).toBe(0);
    expect(none.out).toMatch(/no ops token: \/readiness not read/);
    expect(await authFailures()).toBe(f0); // /readiness was not even tried
    const wrong = await ctl(['status', '--json'], { OPS_TOKEN: WRONG });
    expect(wrong.code).toBe(1);
    const j = JSON.parse(wrong.out);
    expect(j.healthy).toBe(false);
    expect(j.problems.join('\n')).toMatch(/\/readiness answered HTTP 403 forbidden/);
    expect(wrong.out + wrong.err).not.toContain(WRONG);
  });
});

describe('guard commands: the effect is visible in /readiness and in decisions', () => {
  it('disarm, then arm', async () => {
    const d = await ctl(['disarm']);
    expect(d.code, d.err).toBe(0);
    expect(d.out).toMatch(/^disarmed: DISARMED/);
    expect((await readiness()).armed).toBe(false);
    expect(await check()).toMatchObject({ allow: false, reason: 'latency_disarmed' });
    const a = await ctl(['arm', '--json']);
    expect(a.code, a.err).toBe(0);
    expect(JSON.parse(a.out)).toMatchObject({ status: 'ok', state: { armed: true } });
    expect((await readiness()).armed).toBe(true);
    expect((await check()).allow).toBe(true);
  });

  it('cooloff <sec>, then reset', async () => {
    const t0 = Date.now();
    const c = await ctl(['cooloff', '120', '--json']);
    expect(c.code, c.err).toBe(0);
    const body = JSON.parse(c.out);
    expect(body.until_ms).toBeGreaterThanOrEqual(t0 + 119_000);
    expect(body.until_ms).toBeLessThanOrEqual(Date.now() + 121_000);
    expect((await readiness()).cooloff_until * 1000).toBeCloseTo(body.until_ms, -1);
    expect(await check()).toMatchObject({ allow: false, reason: 'latency_cooloff' });
    const human = await ctl(['cooloff', '60']); // shorter: the gate keeps the longer one
    expect(human.out).toMatch(/COOL-OFF (2m 0s|1m 59s|1m 58s) left/);
    const r = await ctl(['reset']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^reset: armed, no cool-off, not halted/);
    expect((await readiness()).cooloff_until).toBe(0);
    expect((await check()).allow).toBe(true);
  });

  it('bad <sec>: usage error before any request; out of range: the gate refuses (exit 1)', async () => {
    for (const bad of ['abc', '-5', '1.5', '']) {
      const r = await ctl(['cooloff', bad]);
      expect(r.code, `${bad}: ${r.err}`).toBe(2);
      expect(r.err).toMatch(/usage: npm run ctl -- cooloff <sec>/);
    }
    const big = await ctl(['cooloff', '86401']);
    expect(big.code).toBe(1);
    expect(big.err).toMatch(/HTTP 400 cooloff_too_long: sec must be at most 86400/);
    expect((await readiness()).cooloff_until).toBe(0);
  });
});

describe('risk', () => {
  it('risk-snapshot prints what /risk/snapshot holds', async () => {
    const want = (await riskNow()).risk;
    const r = await ctl(['risk-snapshot']);
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toBe(`risk: dd_day_pct=${want.dd_day_pct}  max_concurrent=${want.max_concurrent}  size_scale=${want.size_scale}`);
    const j = await ctl(['risk-snapshot', '--json']);
    expect(JSON.parse(j.out).risk).toEqual(want);
  });

  it('risk-set changes the live limits; refused values change nothing', async () => {
    const before = (await riskNow()).risk;
    const r = await ctl(['risk-set', 'size_scale=0.25', 'max_concurrent=4']);
    expect(r.code, r.err).toBe(0);
    expect((await riskNow()).risk).toEqual({ ...before, size_scale: 0.25, max_concurrent: 4 });
    const clamp = await ctl(['risk-set', 'size_scale=7', '--json']);
    expect(JSON.parse(clamp.out).risk.size_scale).toBe(1); // the gate clamps to [0, 1]
    const refused = await ctl(['risk-set', 'dd_day_pct=0', 'max_concurrent=9']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/HTTP 422 invalid_request/);
    expect(refused.err).toMatch(/dd_day_pct: must be a number in \(0, 100\]/);
    expect((await riskNow()).risk).toEqual({ ...before, size_scale: 1, max_concurrent: 4 });
    const typo = await ctl(['risk-set', 'size_scal=0.5']);
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/unknown key "size_scal"/);
    expect((await ctl(['risk-set'])).code).toBe(2);
  });
});

describe('auth and reachability', () => {
  it('a missing token is a usage error before any request (nothing reaches the gate)', async () => {
    const f0 = await authFailures();
    for (const cmd of [['arm'], ['disarm'], ['cooloff', '5'], ['reset'], ['risk-snapshot'], ['risk-set', 'size_scale=0'], ['rotate-token']]) {
      const r = await ctl(cmd, {});
      expect(r.code, `${cmd[0]}: ${r.err}`).toBe(2);
      expect(r.err).toMatch(new RegExp(`${cmd[0]} needs the ops token`));
    }
    expect(await authFailures()).toBe(f0);
    expect((await readiness()).armed).toBe(true);
  });

  it('a wrong token: the gate error is printed (code and message), exit 1, the token never shown', async () => {
    const r = await ctl(['disarm', '--verbose'], { OPS_TOKEN: WRONG });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/disarm: the gate answered HTTP 403 forbidden: Forbidden/);
    expect(r.err).toContain(`X-OPS-TOKEN: ****${WRONG.slice(-4)}`); // --verbose masks it
    expect(r.out + r.err).not.toContain(WRONG);
    expect((await readiness()).armed).toBe(true);
  });

  it('--token overrides $OPS_TOKEN, which overrides $AURORA_OPS_TOKEN', async () => {
    expect((await ctl(['risk-snapshot', '--token', TOKEN], { OPS_TOKEN: WRONG })).code).toBe(0);
    expect((await ctl(['risk-snapshot'], { OPS_TOKEN: TOKEN, AURORA_OPS_TOKEN: WRONG })).code).toBe(0);
    expect((await ctl(['risk-snapshot'], { AURORA_OPS_TOKEN: TOKEN })).code).toBe(0);
    expect((await ctl(['risk-snapshot'], { OPS_TOKEN: '', AURORA_OPS_TOKEN: TOKEN })).code).toBe(0);
    // blank after trimming counts as unset, as in the gate (envString): the alias is used, not ""
    expect((await ctl(['risk-snapshot'], { OPS_TOKEN: '   ', AURORA_OPS_TOKEN: TOKEN })).code).toBe(0);
    expect((await ctl(['risk-snapshot'], { OPS_TOKEN: ` ${TOKEN}\t` })).code).toBe(0);
  });

  it('unreachable (connection refused): exit 3 with the reason', async () => {
    const port = await closedPort();
    for (const cmd of [['status'], ['arm'], ['risk-snapshot']]) {
      const c = captureIo();
      const code = await main([...cmd, '--url', `http://127.0.0.1:${port}`], { OPS_TOKEN: TOKEN }, c);
      expect(code, cmd[0]).toBe(3);
      expect(c.stderr()).toMatch(new RegExp(`cannot reach the gate at http://127.0.0.1:${port}: .*ECONNREFUSED`));
    }
  });

  it('a gate that accepts but never answers: --timeout-ms bounds the wait, exit 3', async () => {
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const c = captureIo();
      const t0 = performance.now();
      const code = await main(['status', '--timeout-ms', '300', '--url', `http://127.0.0.1:${port}`], {}, c);
      expect(code).toBe(3);
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(c.stderr()).toMatch(/no reply within 300 ms/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('usage errors: unknown command or option, bad --url, bad --timeout-ms (exit 2); --help (exit 0)', async () => {
    expect((await ctl(['frobnicate'])).code).toBe(2);
    expect((await ctl(['arm', '--bogus'])).code).toBe(2);
    expect((await ctl(['arm', 'extra'])).code).toBe(2);
    expect((await ctl(['arm', '--timeout-ms', 'soon'])).code).toBe(2);
    const url = captureIo();
    expect(await main(['arm', '--url', 'ftp://x'], { OPS_TOKEN: TOKEN }, url)).toBe(2);
    expect((await ctl(['archive', 'x', '--token', TOKEN])).code).toBe(2); // archive is local: no --token
    const none = captureIo();
    expect(await main([], {}, none)).toBe(2);
    const help = captureIo();
    expect(await main(['--help'], {}, help)).toBe(0);
    for (const c of ['status', 'arm', 'disarm', 'cooloff', 'reset', 'risk-snapshot', 'risk-set', 'rotate-token', 'archive', 'verify-archive']) expect(help.stdout()).toContain(`  ${c} `);
    expect(help.stdout()).toMatch(/exit codes: 0 .* 1 .* 2 usage error; 3 gate unreachable/);
    const one = captureIo();
    expect(await main(['rotate-token', '--help'], {}, one)).toBe(0);
    expect(one.stdout()).toMatch(/--new-token TOKEN/);
  });
});

describe('rotate-token', () => {
  // 32 bytes of 0x07, base64url by hand: each 07 07 07 triple is "BwcH", the last 07 07 is "Bwc"
  const SEVENS = `${'BwcH'.repeat(10)}Bwc`;

  it('generated: printed once on stdout; the old token is refused and the new one works', async () => {
    const r = await ctl(['rotate-token'], { OPS_TOKEN: TOKEN }, { randomBytes: (n) => new Uint8Array(n).fill(7) });
    expect(r.code, r.err).toBe(0);
    expect(r.out.split(SEVENS).length - 1).toBe(1);
    expect(r.out).toMatch(/shown only this once/);
    expect(r.err).not.toContain(SEVENS);
    expect(r.out + r.err).not.toContain(TOKEN);
    expect((await http(gate.url + '/liveness', 'GET', { headers: OPS })).status).toBe(403);
    expect((await http(gate.url + '/liveness', 'GET', { headers: { 'X-OPS-TOKEN': SEVENS } })).status).toBe(200);
    // the CLI with the old token is refused; with the new one it works
    expect((await ctl(['risk-snapshot'])).code).toBe(1);
    expect((await ctl(['risk-snapshot'], { OPS_TOKEN: SEVENS })).code).toBe(0);
    // a second rotation within 30 s: refused (429), and the token that was not installed is not shown
    const again = await ctl(['rotate-token'], { OPS_TOKEN: SEVENS }, { randomBytes: (n) => new Uint8Array(n).fill(9) });
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/HTTP 429 rotation_cooldown/);
    expect(again.out + again.err).not.toContain(`${'CQkJ'.repeat(10)}CQk`);
    expect(again.out + again.err).not.toContain(SEVENS);
  });

  it('given via $NEW_OPS_TOKEN or --new-token: installed, not echoed; a bad one is a usage error', async () => {
    const next = 'ctl-test-next-token-0123456789abcdef';
    const r = await ctl(['rotate-token', '--json'], { OPS_TOKEN: TOKEN, NEW_OPS_TOKEN: next });
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ status: 'ok' });
    expect(r.out + r.err).not.toContain(next);
    expect((await http(gate.url + '/liveness', 'GET', { headers: { 'X-OPS-TOKEN': next } })).status).toBe(200);
    testHooks(gate).resetState();
    for (const bad of ['too-short', 'has whitespace inside 0123456789', 'change-me']) {
      const b = await ctl(['rotate-token', '--new-token', bad]);
      expect(b.code, bad).toBe(2);
      expect(b.err).not.toContain(bad);
    }
    expect((await http(gate.url + '/liveness', 'GET', { headers: OPS })).status).toBe(200);
  });

  it('--verbose never prints the new token (the request body is not traced)', async () => {
    const next = 'ctl-test-verbose-token-0123456789abcdef';
    const r = await ctl(['rotate-token', '--verbose'], { OPS_TOKEN: TOKEN, NEW_OPS_TOKEN: next });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/> POST \S+\/ops\/rotate_token X-OPS-TOKEN: \*\*\*\*\w{4} \(\d+ bytes\)/);
    expect(r.out + r.err).not.toContain(next);
    expect(r.out + r.err).not.toContain(next.slice(0, 20));
    expect((await http(gate.url + '/liveness', 'GET', { headers: { 'X-OPS-TOKEN': next } })).status).toBe(200);
  });
});

describe('as a child process (node dist/ctl.mjs, as npm run ctl runs it)', () => {
  const run = (args: string[], env: Record<string, string>) =>
    new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'ctl.mjs'), ...args], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (err += d));
      child.on('exit', (code) => resolve({ code: code ?? -1, out, err }));
    });

  // one process (start-up is the slow part): argv, env, stdout and a non-zero exit code all cross
  it('status --json with a refused token: the JSON on stdout, exit code 1, the token not printed', async () => {
    const r = await run(['status', '--json'], { AURORA_URL: gate.url, OPS_TOKEN: WRONG });
    expect(r.code, r.err).toBe(1);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ url: gate.url, healthy: false, health: { status: 'healthy' }, readiness: { http_status: 403 } });
    expect(j.problems).toEqual(['/readiness answered HTTP 403 forbidden: Forbidden']);
    expect(r.out + r.err).not.toContain(WRONG);
  });
});
