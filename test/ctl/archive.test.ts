import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync as mkdtempRaw, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureIo, type CtlIo } from '../../src/ctl/io.ts';
import { main } from '../../src/ctl/main.ts';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';

/**
 * `archive` and `verify-archive` on a real session directory: the journal a real gate wrote for a known
 * number of checks (with a tiny events size limit, so it also holds rotated .jsonl.gz parts). The
 * manifest is checked against what this test counts itself and against the system tools (tar,
 * sha256sum); tampering with the archive or either copy of the manifest must fail verification.
 */

const hasTar = spawnSync('tar', ['--version']).status === 0;
const hasSha256sum = spawnSync('sha256sum', ['--version']).status === 0;

const ALLOWED = 6;
const DENIED = 2;
const CLEAN = {
  account: { mode: 'testnet' },
  order: { symbol: 'BTCUSDT', side: 'buy', qty: 0.5, price: 50000, base_notional: 100 },
  market: { latency_ms: 5, score: 0.5, a_bps: 5, b_bps: 10, slip_bps_est: 1, spread_bps: 3 },
};

let gate: TestGate;
let session: string;
let work: string;
/** archive made once (with the clock moved past the idle window) and shared by the checks below */
let archivePath: string;
let manifest: { root: string; files: Array<{ path: string; size: number; sha256: string; kind: string; lines: number | null }>; totals: { files: number; bytes: number; lines: number } };

interface Run {
  code: number;
  out: string;
  err: string;
}
async function ctl(args: string[], io: Partial<CtlIo> = {}): Promise<Run> {
  const c = captureIo({ cwd: work, ...io });
  const code = await main(args, {}, c);
  return { code, out: c.stdout(), err: c.stderr() };
}
/** the real clock moved past the default 60 s idle window */
const later = { nowMs: () => Date.now() + 120_000 };

const filesUnder = (dir: string, rel = ''): string[] =>
  readdirSync(join(dir, rel)).flatMap((n) => {
    const r = rel === '' ? n : `${rel}/${n}`;
    return statSync(join(dir, r)).isDirectory() ? filesUnder(dir, r) : [r];
  });
const countLines = (b: Buffer) => {
  const s = b.toString('utf8');
  return s === '' ? 0 : s.split('\n').length - (s.endsWith('\n') ? 1 : 0);
};
const tar = (...args: string[]) => spawnSync('tar', args, { encoding: 'utf8' });

/** temp dirs made here, removed at the end */
const temps: string[] = [];
const mkdtempSync = (prefix: string) => {
  const d = mkdtempRaw(prefix);
  temps.push(d);
  return d;
};

beforeAll(async () => {
  gate = await startTestGate({ AURORA_POOL_THREADS: '0' }, 'journal:\n  events_max_bytes: 4096\n');
  for (let i = 0; i < ALLOWED + DENIED; i++) {
    const spread = i < DENIED ? 500 : 3;
    const r = await http(gate.url + '/pretrade/check', 'POST', { body: { ...CLEAN, market: { ...CLEAN.market, spread_bps: spread } } });
    expect(r.status, r.text).toBe(200);
  }
  const fill = await http(gate.url + '/posttrade/log', 'POST', { body: { symbol: 'BTCUSDT', side: 'buy', qty: 0.5, status: 'filled', filled: 0.5, order_id: 'o-1' } });
  expect(fill.status).toBe(200);
  expect(await gate.stop()).toBe(true);
  session = gate.sessionDir;
  work = mkdtempSync(join(tmpdir(), 'ctl-archive-'));
  archivePath = join(work, 'session.tar.gz');
});
afterAll(async () => {
  await gate?.stop();
  for (const d of [...temps, gate?.dir]) if (d !== undefined) rmSync(d, { recursive: true, force: true });
});

describe('archive', () => {
  it('the session holds what the gate was asked to do (rotated parts included)', () => {
    const files = filesUnder(session);
    expect(files.some((f) => f.endsWith('.jsonl.gz')), files.join(', ')).toBe(true);
    expect(countLines(readFileSync(join(session, 'orders_denied.jsonl')))).toBe(DENIED);
    expect(countLines(readFileSync(join(session, 'orders_success.jsonl')))).toBe(1);
  });

  it('refuses a session written to moments ago (dry run says so too) unless the clock moved or --force', async () => {
    const live = await ctl(['archive', session, '--out', archivePath]);
    expect(live.code).toBe(1);
    expect(live.err).toMatch(/refusing: it looks like a live session: .* was modified \d+ s ago \(less than 60 s\).*--force/);
    expect(existsSync(archivePath)).toBe(false);
    const dry = await ctl(['archive', session, '--dry-run']);
    expect(dry.code).toBe(1);
    expect(dry.out).toMatch(/warning: it looks like a live session/);
    for (const f of filesUnder(session)) expect(dry.out).toContain(`session/${f}`);
    expect(readdirSync(work)).toEqual([]); // a dry run writes nothing
    const idle = await ctl(['archive', session, '--dry-run', '--json'], later);
    expect(idle.code).toBe(0);
    expect(JSON.parse(idle.out).files.map((f: { path: string }) => f.path).sort()).toEqual(filesUnder(session).sort());
  });

  it('writes the archive and the manifest next to it; the manifest agrees with independent counts', async () => {
    const r = await ctl(['archive', session, '--out', archivePath], later);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/archived \d+ files/);
    const sidecar = readFileSync(`${archivePath}.manifest.json`, 'utf8');
    manifest = JSON.parse(sidecar);
    expect(manifest.root).toBe('session');
    const files = filesUnder(session).sort();
    expect(manifest.files.map((f) => f.path)).toEqual(files);
    let lines = 0;
    let bytes = 0;
    for (const f of manifest.files) {
      const data = readFileSync(join(session, f.path));
      expect(f.size, f.path).toBe(data.length);
      expect(f.sha256, f.path).toBe(createHash('sha256').update(data).digest('hex'));
      const want = f.path.endsWith('.gz') ? countLines(gunzipSync(data)) : countLines(data);
      expect(f.kind, f.path).toBe(f.path.endsWith('.gz') ? 'gzip' : 'text');
      expect(f.lines, f.path).toBe(want);
      lines += want;
      bytes += data.length;
    }
    expect(manifest.totals).toEqual({ files: files.length, bytes, lines });
    expect(manifest.files.find((f) => f.path === 'orders_denied.jsonl')?.lines).toBe(DENIED);
    // every check made one POLICY.DECISION, spread over the live file and its rotated parts
    const events = manifest.files
      .filter((f) => f.path.startsWith('aurora_events.'))
      .map((f) => {
        const d = readFileSync(join(session, f.path));
        return (f.path.endsWith('.gz') ? gunzipSync(d) : d).toString('utf8');
      })
      .join('');
    expect(events.split('\n').filter((l) => l.includes('"POLICY.DECISION"')).length).toBe(ALLOWED + DENIED);
    // an existing archive is not overwritten without --force
    const again = await ctl(['archive', session, '--out', archivePath], later);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already exists; pass --force/);
  });

  it.runIf(hasTar)('the system tar lists and extracts it; the extracted files match the originals', () => {
    const list = tar('-tzf', archivePath);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout.trim().split('\n')).toEqual(['session/MANIFEST.json', ...manifest.files.map((f) => `session/${f.path}`)]);
    const out = mkdtempSync(join(tmpdir(), 'ctl-x-'));
    const x = tar('-xzf', archivePath, '-C', out);
    expect(x.status, x.stderr).toBe(0);
    expect(readFileSync(join(out, 'session', 'MANIFEST.json'), 'utf8')).toBe(readFileSync(`${archivePath}.manifest.json`, 'utf8'));
    for (const f of manifest.files) expect(readFileSync(join(out, 'session', f.path)).equals(readFileSync(join(session, f.path))), f.path).toBe(true);
    if (hasSha256sum) {
      const sums = spawnSync('sha256sum', manifest.files.map((f) => f.path), { cwd: join(out, 'session'), encoding: 'utf8' });
      const bySum = new Map(sums.stdout.trim().split('\n').map((l) => [l.slice(66), l.slice(0, 64)]));
      for (const f of manifest.files) expect(bySum.get(f.path), f.path).toBe(f.sha256);
    }
  });

  it('refuses bad inputs: missing dir (2), --out inside the session (2), a top-level MANIFEST.json (1)', async () => {
    expect((await ctl(['archive', join(work, 'nope')])).code).toBe(2);
    expect((await ctl(['archive', session, '--out', join(session, 'x.tar.gz')], later)).code).toBe(2);
    const d = mkdtempSync(join(tmpdir(), 'ctl-m-'));
    writeFileSync(join(d, 'MANIFEST.json'), '{}');
    const r = await ctl(['archive', d, '--force', '--out', join(work, 'm.tar.gz')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/already contains MANIFEST.json/);
  });

  it('nested directories go in; symbolic links are skipped and listed in the manifest', async () => {
    const d = join(mkdtempSync(join(tmpdir(), 'ctl-n-')), 'sess');
    mkdirSync(join(d, 'sub'), { recursive: true });
    writeFileSync(join(d, 'sub', 'x.log'), 'one\ntwo\nthree');
    writeFileSync(join(d, 'data.bin'), Buffer.from([0, 10, 10, 1]));
    symlinkSync('/etc/hostname', join(d, 'link.log'));
    const out = join(work, 'nested.tar.gz');
    const r = await ctl(['archive', d, '--out', out, '--min-idle-sec', '0', '--json']);
    expect(r.code, r.err).toBe(0);
    const m = JSON.parse(r.out).manifest;
    expect(m.files.map((f: { path: string; lines: number | null; kind: string }) => [f.path, f.kind, f.lines])).toEqual([
      ['data.bin', 'other', null],
      ['sub/x.log', 'text', 3],
    ]);
    expect(m.skipped).toEqual([{ path: 'link.log', reason: 'symbolic link (not followed)' }]);
    expect((await ctl(['verify-archive', out])).code).toBe(0);
  });
});

describe('verify-archive', () => {
  /** extracts the archive made above into a fresh dir; returns the dir holding `session/` */
  const extract = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-t-'));
    expect(tar('-xzf', archivePath, '-C', dir).status).toBe(0);
    return dir;
  };
  /** packs `session/` of `dir` with the system tar (GNU format) into a new file with no manifest copy next to it */
  const repack = (dir: string) => {
    const out = join(mkdtempSync(join(tmpdir(), 'ctl-r-')), 'repacked.tar.gz');
    const r = tar('-czf', out, '-C', dir, 'session');
    expect(r.status, r.stderr).toBe(0);
    return out;
  };

  it('passes on the archive as written, and reports the manifest copy as identical', async () => {
    const r = await ctl(['verify-archive', archivePath]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(new RegExp(`^OK .*: ${manifest.totals.files} files, ${manifest.totals.bytes} bytes, ${manifest.totals.lines} lines match MANIFEST.json`));
    expect(r.out).toMatch(/is identical to the manifest inside/);
    const j = await ctl(['verify-archive', archivePath, '--json']);
    expect(JSON.parse(j.out)).toMatchObject({ ok: true, problems: [], totals: manifest.totals });
  });

  it.runIf(hasTar)('passes on an untouched archive repacked by the system tar (its own headers and directory entries)', async () => {
    const r = await ctl(['verify-archive', repack(extract())]);
    expect(r.code, r.out).toBe(0);
  });

  it.runIf(hasTar)('a changed file fails: sha256, size and line count named for that file only', async () => {
    const dir = extract();
    writeFileSync(join(dir, 'session', 'orders_denied.jsonl'), readFileSync(join(dir, 'session', 'orders_denied.jsonl'), 'utf8') + '{"forged":true}\n');
    const r = await ctl(['verify-archive', repack(dir), '--json']);
    expect(r.code).toBe(1);
    const problems: string[] = JSON.parse(r.out).problems;
    expect(problems.length).toBe(3);
    expect(problems.every((p) => p.startsWith('orders_denied.jsonl: '))).toBe(true);
    expect(problems.join('\n')).toMatch(/sha256/);
    expect(problems.join('\n')).toMatch(new RegExp(`${DENIED + 1} lines \\(text\\), manifest says ${DENIED}`));
  });

  it.runIf(hasTar)('a same-size change fails on sha256 alone', async () => {
    const dir = extract();
    const p = join(dir, 'session', 'orders_denied.jsonl');
    const text = readFileSync(p, 'utf8');
    writeFileSync(p, text.replace('spread_bps_too_wide', 'spread_bps_too_WIDE'));
    const r = await ctl(['verify-archive', repack(dir)]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/orders_denied.jsonl: sha256 [0-9a-f]{64}, manifest says/);
    expect(r.out).not.toMatch(/orders_denied.jsonl: size/);
  });

  it.runIf(hasTar)('a line count edited in the inner manifest fails; so do an added and a removed file', async () => {
    const dir = extract();
    const mp = join(dir, 'session', 'MANIFEST.json');
    const m = JSON.parse(readFileSync(mp, 'utf8'));
    const denied = m.files.find((f: { path: string }) => f.path === 'orders_denied.jsonl');
    denied.lines += 1;
    m.totals.lines += 1; // a careful forger keeps the totals consistent: the content check still fails
    writeFileSync(mp, JSON.stringify(m, null, 2));
    writeFileSync(join(dir, 'session', 'smuggled.jsonl'), '{}\n');
    const removed = m.files.find((f: { path: string }) => f.path === 'orders_success.jsonl').path;
    unlinkSync(join(dir, 'session', removed));
    const r = await ctl(['verify-archive', repack(dir)]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`orders_denied.jsonl: ${DENIED} lines \\(text\\), manifest says ${DENIED + 1}`));
    expect(r.out).toMatch(/smuggled.jsonl: in the archive but not in the manifest/);
    expect(r.out).toMatch(/orders_success.jsonl: in the manifest but not in the archive/);
  });

  it('a manifest copy next to the archive that differs from the inner one fails', async () => {
    const copy = join(mkdtempSync(join(tmpdir(), 'ctl-s-')), 'a.tar.gz');
    copyFileSync(archivePath, copy);
    const m = JSON.parse(readFileSync(`${archivePath}.manifest.json`, 'utf8'));
    m.files[0].sha256 = '0'.repeat(64);
    writeFileSync(`${copy}.manifest.json`, JSON.stringify(m, null, 2) + '\n');
    const r = await ctl(['verify-archive', copy]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/a.tar.gz.manifest.json differs from the MANIFEST.json inside the archive/);
    // named explicitly with --manifest, the good copy passes
    expect((await ctl(['verify-archive', copy, '--manifest', `${archivePath}.manifest.json`])).code).toBe(0);
  });

  it('corrupt or truncated bytes fail with a readable reason; a missing file is a usage error', async () => {
    const bytes = readFileSync(archivePath);
    const dir = mkdtempSync(join(tmpdir(), 'ctl-c-'));
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(join(dir, 'flipped.tar.gz'), flipped);
    writeFileSync(join(dir, 'cut.tar.gz'), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    for (const f of ['flipped.tar.gz', 'cut.tar.gz']) {
      const r = await ctl(['verify-archive', join(dir, f)]);
      expect(r.code, `${f}: ${r.out}`).toBe(1);
      expect(r.out).toMatch(/FAILED/);
    }
    expect((await ctl(['verify-archive', join(dir, 'absent.tar.gz')])).code).toBe(2);
  });
});
