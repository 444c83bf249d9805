import { afterEach, describe, expect, test } from 'vitest';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Worker, type MessagePort } from 'node:worker_threads';
import { DEFAULT_FILES, JournalWriter, type JournalFiles, type JournalStats } from '../../src/journal/writer.ts';

type Key = keyof JournalFiles;
const KEYS: Key[] = ['events', 'denied', 'success', 'failed', 'raw'];

const dirs: string[] = [];
const writers: JournalWriter[] = [];
const workers: Worker[] = [];

function tmp(): string {
  const d = fs.mkdtempSync(join(tmpdir(), 'aurora-journal-'));
  dirs.push(d);
  return d;
}

async function start(opts: Parameters<typeof JournalWriter.start>[0]): Promise<JournalWriter> {
  const w = await JournalWriter.start(opts);
  writers.push(w);
  return w;
}

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
  await Promise.all(writers.splice(0).map((w) => w.close(200)));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * Batch builder shared (as source text) by the main-thread producer and the Worker producers: batch b of producer
 * `id` puts 1..3 lines into 2-3 of the five files; every line carries the producer id, the file and a
 * per-producer sequence number.
 */
const BUILD_SRC = `
  const files = ['events', 'denied', 'success', 'failed', 'raw'];
  const msg = { type: 'batch', events: '', denied: '', success: '', failed: '', raw: '', lines: 0 };
  const n = 1 + (b % 3);
  for (let fi = 0; fi < 5; fi++) {
    if ((b + fi) % 2 !== 0) continue;
    for (let k = 0; k < n; k++) {
      msg[files[fi]] += JSON.stringify({ p: id, f: files[fi], s: state.seq++, pad: 'x'.repeat(20 + (k % 7)) }) + '\\n';
      msg.lines++;
    }
  }
  return msg;
`;
type BatchMsg = Record<Key, string> & { type: 'batch'; lines: number };
const buildBatch = new Function('id', 'b', 'state', BUILD_SRC) as (id: string, b: number, state: { seq: number }) => BatchMsg;

/** A producer in its own Worker thread: posts `batches` batches (optionally spaced), then 'end' unless noEnd. */
function workerProducer(port: MessagePort, id: string, batches: number, delayMs = 0, noEnd = false): Worker {
  const code = `
    const { workerData } = require('node:worker_threads');
    const { port, id, batches, delayMs, noEnd } = workerData;
    const build = new Function('id', 'b', 'state', ${JSON.stringify(BUILD_SRC)});
    const state = { seq: 0 };
    (async () => {
      for (let b = 0; b < batches; b++) {
        port.postMessage(build(id, b, state));
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      }
      if (!noEnd) port.postMessage({ type: 'end' });
      port.close();
    })();
  `;
  const w = new Worker(code, { eval: true, workerData: { port, id, batches, delayMs, noEnd }, transferList: [port] });
  workers.push(w);
  return w;
}

/** Every line of a file: whole (file ends with "\n"), valid JSON. */
function parseLines(text: string, what: string): Record<string, unknown>[] {
  if (text === '') return [];
  expect(text.endsWith('\n'), `${what} ends with a newline`).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const readLines = (path: string): Record<string, unknown>[] => parseLines(fs.readFileSync(path, 'utf8'), path);

/** Check per-producer order inside each file and that every (producer, seq) appears exactly once overall. */
function checkComplete(perFile: Record<Key, Record<string, unknown>[]>, expected: Record<string, number>): void {
  const seen = new Map<string, Set<number>>();
  for (const k of KEYS) {
    const last = new Map<string, number>();
    for (const r of perFile[k]) {
      const p = r.p as string;
      const s = r.s as number;
      expect(r.f).toBe(k);
      expect(s).toBeGreaterThan(last.get(p) ?? -1); // per-producer order kept
      last.set(p, s);
      const set = seen.get(p) ?? new Set<number>();
      expect(set.has(s), `duplicate ${p}/${s}`).toBe(false);
      set.add(s);
      seen.set(p, set);
    }
  }
  for (const [p, n] of Object.entries(expected)) expect(seen.get(p)?.size ?? 0, `lines of ${p}`).toBe(n);
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const line = (o: unknown): string => JSON.stringify(o) + '\n';
const batch = (p: Partial<Record<Key, string>>): BatchMsg => {
  const m = { type: 'batch', events: '', denied: '', success: '', failed: '', raw: '', lines: 0, ...p } as BatchMsg;
  m.lines = KEYS.reduce((n, k) => n + (m[k].match(/\n/g)?.length ?? 0), 0);
  return m;
};

describe('JournalWriter', () => {
  test('start creates events + the three order files empty, raw on first write; a detached (dead) producer is not waited for', async () => {
    const dir = join(tmp(), 'nested', 'session');
    const w = await start({ sessionDir: dir });
    for (const k of ['events', 'denied', 'success', 'failed'] as Key[]) expect(fs.statSync(join(dir, DEFAULT_FILES[k])).size).toBe(0);
    expect(fs.existsSync(join(dir, DEFAULT_FILES.raw))).toBe(false);
    const p = w.attachProducer('main');
    p.postMessage(batch({ raw: line({ r: 1 }) }));
    await waitFor(() => w.stats().linesWritten === 1);
    expect(readLines(join(dir, DEFAULT_FILES.raw))).toEqual([{ r: 1 }]);
    p.postMessage({ type: 'end' });
    // a producer that posts 3 batches and dies without 'end'
    const wk = workerProducer(w.attachProducer('dead'), 'dead', 3, 0, true);
    await new Promise((r) => wk.once('exit', r));
    w.detachProducer('dead');
    const t0 = Date.now();
    const s = await w.close(5000);
    expect(Date.now() - t0).toBeLessThan(1000);
    const state = { seq: 0 };
    for (let b = 0; b < 3; b++) buildBatch('dead', b, state);
    expect(s).toMatchObject({ linesReceived: 1 + state.seq, linesWritten: 1 + state.seq, batchesPending: 0, failing: false, lastError: null });
    expect(s.lastWriteMs).toBeTypeOf('number');
    const perFile = {} as Record<Key, Record<string, unknown>[]>;
    for (const k of KEYS) perFile[k] = readLines(join(dir, DEFAULT_FILES[k])).filter((r) => r.p === 'dead');
    checkComplete(perFile, { dead: state.seq });
  });

  test('start rejects when the session dir cannot be created', async () => {
    const base = tmp();
    fs.writeFileSync(join(base, 'file'), 'x');
    await expect(JournalWriter.start({ sessionDir: join(base, 'file', 'session') })).rejects.toThrow(/cannot open/);
  });

  test('main + 3 worker producers x 1000 batches: every line once, valid JSON, per-producer order', async () => {
    const dir = tmp();
    const w = await start({ sessionDir: dir });
    const expected: Record<string, number> = {};
    const exits: Promise<unknown>[] = [];
    for (let i = 0; i < 3; i++) {
      const wk = workerProducer(w.attachProducer(`w${i}`), `w${i}`, 1000);
      exits.push(new Promise((r) => wk.once('exit', r)));
    }
    const main = w.attachProducer('main');
    const state = { seq: 0 };
    for (let b = 0; b < 1000; b++) {
      main.postMessage(buildBatch('main', b, state));
      if (b % 100 === 0) await new Promise((r) => setImmediate(r)); // let the threads interleave
    }
    main.postMessage({ type: 'end' });
    expected.main = state.seq;
    const s = await w.close();
    await Promise.all(exits);
    // workers used the same builder: same line count per producer
    for (let i = 0; i < 3; i++) expected[`w${i}`] = state.seq;

    const perFile = {} as Record<Key, Record<string, unknown>[]>;
    for (const k of KEYS) perFile[k] = readLines(join(dir, DEFAULT_FILES[k]));
    checkComplete(perFile, expected);
    const total = 4 * state.seq;
    expect(KEYS.reduce((n, k) => n + perFile[k].length, 0)).toBe(total);
    expect(s.linesReceived).toBe(total);
    expect(s.linesWritten).toBe(total);
    expect(s.bytesWritten).toBe(KEYS.reduce((n, k) => n + fs.statSync(join(dir, DEFAULT_FILES[k])).size, 0));
    expect(s.batchesPending).toBe(0);
    expect(s.fsyncs).toBeGreaterThan(0);
    expect(s.failing).toBe(false);
  });

  test('fsync by line count (interval disabled)', async () => {
    const w = await start({ sessionDir: tmp(), fsyncIntervalMs: 1e9, fsyncLines: 10 });
    const p = w.attachProducer('main');
    p.postMessage(batch({ events: line({ a: 1 }).repeat(9) }));
    await waitFor(() => w.stats().linesWritten === 9);
    expect(w.stats().fsyncs).toBe(0);
    p.postMessage(batch({ denied: line({ a: 2 }) }));
    await waitFor(() => w.stats().linesWritten === 10);
    expect(w.stats().fsyncs).toBe(2); // both dirty files, as soon as the threshold was crossed
    p.postMessage({ type: 'end' });
    await w.close();
  });

  test('fsync by interval (line threshold out of reach)', async () => {
    const w = await start({ sessionDir: tmp(), fsyncIntervalMs: 20, fsyncLines: 1e9 });
    const p = w.attachProducer('main');
    p.postMessage(batch({ events: line({ a: 1 }) }));
    await waitFor(() => w.stats().fsyncs >= 1, 1000);
    const before = w.stats().fsyncs;
    await new Promise((r) => setTimeout(r, 100));
    expect(w.stats().fsyncs).toBe(before); // nothing dirty: no further fsync
    p.postMessage({ type: 'end' });
    await w.close();
  });

  test('rotation by size: gz archives hold whole lines, archives + live file hold every line once, in order; retention', async () => {
    const dir = tmp();
    // retention fixtures (glob `<stem>.*.jsonl.gz`, mtime)
    const old = new Date(Date.now() - 30 * 86_400_000);
    const mk = (name: string, mtime: Date | null): void => {
      fs.writeFileSync(join(dir, name), 'x');
      if (mtime) fs.utimesSync(join(dir, name), mtime, mtime);
    };
    mk('aurora_events.fixture-old.jsonl.gz', old); // older than 7 days: deleted
    mk('aurora_events.fixture-recent.jsonl.gz', null); // recent: kept
    mk('aurora_events.old.bak', old); // not an archive: kept
    const max = 4096;
    const w = await start({ sessionDir: dir, eventsMaxBytes: max, ordersMaxBytes: max, retentionDays: 7 });
    const p = w.attachProducer('main');
    const state = { seq: 0 };
    let maxChunk = 0;
    for (let b = 0; b < 600; b++) {
      const m = buildBatch('main', b, state);
      for (const k of KEYS) maxChunk = Math.max(maxChunk, Buffer.byteLength(m[k]));
      p.postMessage(m);
    }
    p.postMessage({ type: 'end' });
    const s = await w.close();
    expect(s.linesWritten).toBe(state.seq);

    const names = fs.readdirSync(dir);
    expect(names.some((n) => n.endsWith('.tmp'))).toBe(false);
    expect(names).not.toContain('aurora_events.fixture-old.jsonl.gz');
    expect(names).toContain('aurora_events.fixture-recent.jsonl.gz');
    expect(names).toContain('aurora_events.old.bak');
    const perFile = {} as Record<Key, Record<string, unknown>[]>;
    for (const k of KEYS) {
      const stemName = DEFAULT_FILES[k].replace(/\.jsonl$/, '');
      const re = new RegExp(`^${stemName}\\.\\d{8}\\.\\d{6}\\.part(\\d+)\\.jsonl\\.gz$`);
      const archives = names
        .map((n) => ({ n, m: re.exec(n) }))
        .filter((x) => x.m !== null)
        .sort((a, b) => Number(a.m![1]) - Number(b.m![1]));
      expect(archives.length, `${k} archives`).toBeGreaterThan(2);
      expect(archives.map((a) => Number(a.m![1]))).toEqual(archives.map((_, i) => i + 1)); // part1, part2, ...
      expect(names).not.toContain(archives[0].n.replace(/\.gz$/, '')); // plain archive removed
      perFile[k] = [];
      for (const a of archives) {
        const text = gunzipSync(fs.readFileSync(join(dir, a.n))).toString('utf8');
        expect(Buffer.byteLength(text)).toBeLessThan(max + maxChunk); // may exceed max bytes by one batch
        perFile[k].push(...parseLines(text, a.n));
      }
      const live = readLines(join(dir, DEFAULT_FILES[k]));
      expect(fs.statSync(join(dir, DEFAULT_FILES[k])).size).toBeLessThan(max + maxChunk);
      perFile[k].push(...live);
    }
    checkComplete(perFile, { main: state.seq });
  });

  test('rotated archives are gzipped at the configured level (gzip header XFL: 4 = fastest, 2 = best)', async () => {
    for (const [level, xfl] of [
      [1, 4],
      [9, 2],
    ] as const) {
      const dir = tmp();
      const w = await start({ sessionDir: dir, eventsMaxBytes: 4096, gzipLevel: level });
      const p = w.attachProducer('main');
      for (let i = 0; i < 200; i++) p.postMessage(batch({ events: line({ i, pad: 'y'.repeat(40) }) }));
      p.postMessage({ type: 'end' });
      await w.close();
      const archives = fs.readdirSync(dir).filter((n) => /^aurora_events\..*\.jsonl\.gz$/.test(n));
      expect(archives.length, `level ${level}`).toBeGreaterThan(0);
      for (const a of archives) {
        const gz = fs.readFileSync(join(dir, a));
        expect(gz[8], `${a} at level ${level}`).toBe(xfl);
        expect(parseLines(gunzipSync(gz).toString('utf8'), a).length).toBeGreaterThan(0);
      }
    }
  });

  test('rotation on UTC day change (existing non-empty file from an earlier day)', async () => {
    const dir = tmp();
    const events = join(dir, DEFAULT_FILES.events);
    fs.writeFileSync(events, line({ old: true }));
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    fs.utimesSync(events, twoDaysAgo, twoDaysAgo);
    const w = await start({ sessionDir: dir });
    const p = w.attachProducer('main');
    p.postMessage(batch({ events: line({ new: true }) }));
    p.postMessage({ type: 'end' });
    await w.close();
    const archives = fs.readdirSync(dir).filter((n) => /^aurora_events\.\d{8}\.\d{6}\.part1\.jsonl\.gz$/.test(n));
    expect(archives).toHaveLength(1);
    expect(parseLines(gunzipSync(fs.readFileSync(join(dir, archives[0]))).toString(), 'archive')).toEqual([{ old: true }]);
    expect(readLines(events)).toEqual([{ new: true }]);
  });

  test('write failure (ENOSPC via /dev/full): counted, failing, onError, other files still written', async () => {
    const dir = tmp();
    fs.symlinkSync('/dev/full', join(dir, DEFAULT_FILES.failed));
    const w = await start({ sessionDir: dir });
    const errors: [string, string][] = [];
    w.onError((file, message) => errors.push([file, message]));
    const p = w.attachProducer('main');
    for (let i = 0; i < 20; i++) p.postMessage(batch({ events: line({ i }), failed: line({ i }), denied: line({ i }) }));
    await waitFor(() => w.stats().writeErrors.failed === 20);
    const mid = w.stats();
    expect(mid.failing).toBe(true);
    expect(mid.lastError).toMatch(/ENOSPC/);
    expect(mid.lastError).toContain(DEFAULT_FILES.failed);
    p.postMessage({ type: 'end' });
    const s = await w.close();
    expect(s.writeErrors).toEqual({ events: 0, denied: 0, success: 0, failed: 20, raw: 0 });
    expect(s.linesReceived).toBe(60);
    expect(s.linesWritten).toBe(40); // failed lines are not counted as written
    expect(errors).toHaveLength(20);
    expect(errors.every(([f, m]) => f === 'failed' && /ENOSPC/.test(m))).toBe(true);
    expect(readLines(join(dir, DEFAULT_FILES.events)).map((r) => r.i)).toEqual([...Array(20).keys()]);
    expect(readLines(join(dir, DEFAULT_FILES.denied))).toHaveLength(20);
  });

  test('write failure (EBADF via fault injection) then recovery: failing clears', async () => {
    const dir = tmp();
    const w = await start({ sessionDir: dir, faultInjection: { failWritesFor: 'denied', failCount: 2 } });
    const errors: string[] = [];
    w.onError((file) => errors.push(file));
    const p = w.attachProducer('main');
    p.postMessage(batch({ events: line({ i: 0 }), denied: line({ i: 0 }) }));
    // the error is published at once (for /health), the batch's written lines when the batch is done
    await waitFor(() => w.stats().writeErrors.denied === 1 && w.stats().linesWritten > 0);
    expect(w.stats()).toMatchObject({ failing: true, linesWritten: 1 });
    expect(w.stats().lastError).toMatch(/EBADF/);
    for (let i = 1; i < 4; i++) p.postMessage(batch({ events: line({ i }), denied: line({ i }) }));
    p.postMessage({ type: 'end' });
    const s = await w.close();
    expect(s.writeErrors.denied).toBe(2);
    expect(s.failing).toBe(false); // the next write succeeded
    expect(s.linesWritten).toBe(6);
    expect(errors).toEqual(['denied', 'denied']);
    expect(readLines(join(dir, DEFAULT_FILES.denied)).map((r) => r.i)).toEqual([2, 3]);
    expect(readLines(join(dir, DEFAULT_FILES.events)).map((r) => r.i)).toEqual([0, 1, 2, 3]);
  });

  test("close() waits for a slow producer's 'end'", async () => {
    const dir = tmp();
    const w = await start({ sessionDir: dir });
    workerProducer(w.attachProducer('slow'), 'slow', 6, 100);
    const t0 = Date.now();
    const s: JournalStats = await w.close(4000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(Date.now() - t0).toBeLessThan(3000);
    const state = { seq: 0 };
    for (let b = 0; b < 6; b++) buildBatch('slow', b, state);
    expect(s.linesWritten).toBe(state.seq);
    const perFile = {} as Record<Key, Record<string, unknown>[]>;
    for (const k of KEYS) perFile[k] = fs.existsSync(join(dir, DEFAULT_FILES[k])) ? readLines(join(dir, DEFAULT_FILES[k])) : [];
    checkComplete(perFile, { slow: state.seq });
  });

  test('close() timeout: a producer that never ends is cut off after timeoutMs, its posted batches written', async () => {
    const dir = tmp();
    const w = await start({ sessionDir: dir });
    const ghost = w.attachProducer('ghost');
    ghost.postMessage(batch({ events: line({ g: 1 }) }));
    const t0 = Date.now();
    const s = await w.close(300);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(2000);
    expect(s.linesWritten).toBe(1);
    expect(readLines(join(dir, DEFAULT_FILES.events))).toEqual([{ g: 1 }]);
    expect(() => w.attachProducer('late')).toThrow(/clos/);
  });
});
