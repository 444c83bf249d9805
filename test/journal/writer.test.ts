import { afterEach, describe, expect, test } from 'vitest';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BELL_DROPS } from '../../src/shm/journal-bell.ts';
import { JournalBatch } from '../../src/journal/line-batch.ts';
import { JournalRingProducer } from '../../src/journal/ring-producer.ts';
import { DEFAULT_FILES, JournalWriter, restartDelayMs, WRITER_THREAD, type JournalFiles, type JournalStats } from '../../src/journal/writer.ts';
import { Ring } from '../../src/shm/ring.ts';
import { startJournalWriter, testHooks, type WriterTestOptions } from '../../src/testing/index.ts';

/**
 * The journal writer through the path production uses: a JournalRingProducer copies a JournalBatch into
 * its shared-memory ring, the writer thread writes the ring's records into the session's files. The
 * producers run on this thread; the writer thread is a real thread.
 */

type Key = keyof JournalFiles;
const KEYS: Key[] = ['events', 'denied', 'success', 'failed', 'raw'];

const dirs: string[] = [];
const writers: JournalWriter[] = [];

function tmp(): string {
  const d = fs.mkdtempSync(join(tmpdir(), 'aurora-journal-'));
  dirs.push(d);
  return d;
}

async function start(opts: Parameters<typeof JournalWriter.start>[0], test?: WriterTestOptions): Promise<JournalWriter> {
  const w = await (test === undefined ? JournalWriter.start(opts) : startJournalWriter(opts, test));
  writers.push(w);
  return w;
}

afterEach(async () => {
  await Promise.all(writers.splice(0).map((w) => w.close(200)));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A producer as a worker or the main thread has one: its ring, its batch, dropped lines counted. */
class Producer {
  readonly ring = Ring.allocate(1 << 20);
  readonly out: JournalRingProducer;
  readonly batch = new JournalBatch();
  dropped = 0;
  readonly seq = { seq: 0 };

  constructor(
    readonly w: JournalWriter | null,
    readonly name: string,
    bell: SharedArrayBuffer = w!.bell,
    ringBytes = 1 << 20,
  ) {
    if (ringBytes !== 1 << 20) this.ring = Ring.allocate(ringBytes);
    this.out = new JournalRingProducer(this.ring, bell, { dropped: (n) => (this.dropped += n), log: () => {} });
    w?.attach(name, this.ring);
  }

  add(file: Key, text: string): this {
    for (const line of text.split(/(?<=\n)/)) if (line !== '') this.batch.add(file, line);
    return this;
  }

  /** Hands the batch over, waiting (in the test, never in the producer) until the ring has room. */
  async flush(): Promise<void> {
    while (!this.out.hasRoom(this.batch)) await sleep(1);
    this.out.write(this.batch);
  }

  /** Batch b of this producer (see build()), handed over. */
  async send(b: number): Promise<void> {
    build(this.batch, this.name, b, this.seq);
    await this.flush();
  }

  detach(): void {
    this.w!.detach(this.name);
  }
}

/**
 * Batch b of producer `id` puts 1..3 lines into 2-3 of the five files; every line carries the producer id,
 * the file and a per-producer sequence number.
 */
function build(batch: JournalBatch, id: string, b: number, state: { seq: number }): void {
  const n = 1 + (b % 3);
  for (let fi = 0; fi < 5; fi++) {
    if ((b + fi) % 2 !== 0) continue;
    for (let k = 0; k < n; k++) batch.add(KEYS[fi], JSON.stringify({ p: id, f: KEYS[fi], s: state.seq++, pad: 'x'.repeat(20 + (k % 7)) }) + '\n');
  }
}

/** Lines of `batches` batches of one producer. */
function linesOf(batches: number): number {
  const b = new JournalBatch();
  const state = { seq: 0 };
  for (let i = 0; i < batches; i++) build(b, 'x', i, state);
  return state.seq;
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

const readLines = (path: string): Record<string, unknown>[] => (fs.existsSync(path) ? parseLines(fs.readFileSync(path, 'utf8'), path) : []);

function readAll(dir: string): Record<Key, Record<string, unknown>[]> {
  const perFile = {} as Record<Key, Record<string, unknown>[]>;
  for (const k of KEYS) perFile[k] = readLines(join(dir, DEFAULT_FILES[k]));
  return perFile;
}

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
    await sleep(5);
  }
}

const line = (o: unknown): string => JSON.stringify(o) + '\n';

describe('JournalWriter (ring producers)', () => {
  test('start creates events + the three order files empty, raw on first write; detach writes a ring completely, close does not wait for it', async () => {
    const dir = join(tmp(), 'nested', 'session');
    const w = await start({ sessionDir: dir });
    for (const k of ['events', 'denied', 'success', 'failed'] as Key[]) expect(fs.statSync(join(dir, DEFAULT_FILES[k])).size).toBe(0);
    expect(fs.existsSync(join(dir, DEFAULT_FILES.raw))).toBe(false);
    const main = new Producer(w, 'main');
    await main.add('raw', line({ r: 1 })).flush();
    await waitFor(() => w.stats().linesWritten === 1);
    expect(readLines(join(dir, DEFAULT_FILES.raw))).toEqual([{ r: 1 }]);
    // a producer whose thread ended right after its last batches: detached at once, written completely
    const dead = new Producer(w, 'dead');
    for (let b = 0; b < 3; b++) await dead.send(b);
    dead.detach();
    main.detach();
    const t0 = Date.now();
    const s = await w.close(5000);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(s).toMatchObject({ linesReceived: 1 + linesOf(3), linesWritten: 1 + linesOf(3), batchesPending: 0, failing: false, lastError: null, writerRestarts: 0 });
    expect(s.lastWriteMs).toBeTypeOf('number');
    const perFile = readAll(dir);
    for (const k of KEYS) perFile[k] = perFile[k].filter((r) => r.p === 'dead');
    checkComplete(perFile, { dead: linesOf(3) });
  });

  test('start rejects when the session dir cannot be created', async () => {
    const base = tmp();
    fs.writeFileSync(join(base, 'file'), 'x');
    await expect(JournalWriter.start({ sessionDir: join(base, 'file', 'session') })).rejects.toThrow(/cannot open/);
  });

  test('4 producers x 1000 batches, interleaved: every line once, valid JSON, per-producer order', async () => {
    const dir = tmp();
    const w = await start({ sessionDir: dir });
    const ps = ['main', 'w0', 'w1', 'w2'].map((n) => new Producer(w, n));
    for (let b = 0; b < 1000; b++) {
      for (const p of ps) await p.send(b);
      if (b % 100 === 0) await new Promise((r) => setImmediate(r)); // let the writer interleave
    }
    for (const p of ps) p.detach();
    const s = await w.close();
    const expected = Object.fromEntries(ps.map((p) => [p.name, linesOf(1000)]));
    const perFile = readAll(dir);
    checkComplete(perFile, expected);
    const total = 4 * linesOf(1000);
    expect(KEYS.reduce((n, k) => n + perFile[k].length, 0)).toBe(total);
    expect(s.linesReceived).toBe(total);
    expect(s.linesWritten).toBe(total);
    expect(s.bytesWritten).toBe(KEYS.reduce((n, k) => n + fs.statSync(join(dir, DEFAULT_FILES[k])).size, 0));
    expect(s.fsyncs).toBeGreaterThan(0);
    expect(s.failing).toBe(false);
    expect(ps.every((p) => p.dropped === 0)).toBe(true);
  });

  test('fsync by line count (interval disabled)', async () => {
    const w = await start({ sessionDir: tmp(), fsyncIntervalMs: 1e9, fsyncLines: 10 });
    const p = new Producer(w, 'main');
    await p.add('events', line({ a: 1 }).repeat(9)).flush();
    await waitFor(() => w.stats().linesWritten === 9);
    expect(w.stats().fsyncs).toBe(0);
    await p.add('denied', line({ a: 2 })).flush();
    await waitFor(() => w.stats().linesWritten === 10);
    expect(w.stats().fsyncs).toBe(2); // both dirty files, as soon as the threshold was crossed
    p.detach();
    await w.close();
  });

  test('fsync by interval (line threshold out of reach)', async () => {
    const w = await start({ sessionDir: tmp(), fsyncIntervalMs: 20, fsyncLines: 1e9 });
    const p = new Producer(w, 'main');
    await p.add('events', line({ a: 1 })).flush();
    await waitFor(() => w.stats().fsyncs >= 1, 1000);
    const before = w.stats().fsyncs;
    await sleep(100);
    expect(w.stats().fsyncs).toBe(before); // nothing dirty: no further fsync
    p.detach();
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
    const p = new Producer(w, 'main');
    let maxChunk = 0;
    for (let b = 0; b < 600; b++) {
      build(p.batch, 'main', b, p.seq);
      for (const k of KEYS) maxChunk = Math.max(maxChunk, Buffer.byteLength(p.batch[k]));
      await p.flush();
    }
    p.detach();
    const s = await w.close();
    expect(s.linesWritten).toBe(p.seq.seq);

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
        expect(Buffer.byteLength(text)).toBeLessThan(max + maxChunk); // may exceed max bytes by one record
        perFile[k].push(...parseLines(text, a.n));
      }
      const live = readLines(join(dir, DEFAULT_FILES[k]));
      expect(fs.statSync(join(dir, DEFAULT_FILES[k])).size).toBeLessThan(max + maxChunk);
      perFile[k].push(...live);
    }
    checkComplete(perFile, { main: p.seq.seq });
  });

  test('rotated archives are gzipped at the configured level (gzip header XFL: 4 = fastest, 2 = best)', async () => {
    for (const [level, xfl] of [
      [1, 4],
      [9, 2],
    ] as const) {
      const dir = tmp();
      const w = await start({ sessionDir: dir, eventsMaxBytes: 4096, gzipLevel: level });
      const p = new Producer(w, 'main');
      for (let i = 0; i < 200; i++) await p.add('events', line({ i, pad: 'y'.repeat(40) })).flush();
      p.detach();
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
    const p = new Producer(w, 'main');
    await p.add('events', line({ new: true })).flush();
    p.detach();
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
    const p = new Producer(w, 'main');
    for (let i = 0; i < 20; i++) await p.add('events', line({ i })).add('failed', line({ i })).add('denied', line({ i })).flush();
    await waitFor(() => w.stats().writeErrors.failed === 20);
    const mid = w.stats();
    expect(mid.failing).toBe(true);
    expect(mid.lastError).toMatch(/ENOSPC/);
    expect(mid.lastError).toContain(DEFAULT_FILES.failed);
    p.detach();
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
    const w = await start({ sessionDir: dir }, { failWritesFor: 'denied', failCount: 2 });
    const errors: string[] = [];
    w.onError((file) => errors.push(file));
    const p = new Producer(w, 'main');
    await p.add('events', line({ i: 0 })).add('denied', line({ i: 0 })).flush();
    await waitFor(() => w.stats().writeErrors.denied === 1 && w.stats().linesWritten > 0);
    expect(w.stats()).toMatchObject({ failing: true, linesWritten: 1 });
    expect(w.stats().lastError).toMatch(/EBADF/);
    for (let i = 1; i < 4; i++) await p.add('events', line({ i })).add('denied', line({ i })).flush();
    p.detach();
    const s = await w.close();
    expect(s.writeErrors.denied).toBe(2);
    expect(s.failing).toBe(false); // the next write succeeded
    expect(s.linesWritten).toBe(6);
    expect(errors).toEqual(['denied', 'denied']);
    expect(readLines(join(dir, DEFAULT_FILES.denied)).map((r) => r.i)).toEqual([2, 3]);
    expect(readLines(join(dir, DEFAULT_FILES.events)).map((r) => r.i)).toEqual([0, 1, 2, 3]);
  });

  test('close() waits until a producer still writing is detached', async () => {
    const dir = tmp();
    const w = await start({ sessionDir: dir });
    const slow = new Producer(w, 'slow');
    const writing = (async () => {
      for (let b = 0; b < 6; b++) {
        await slow.send(b);
        await sleep(100);
      }
      slow.detach();
    })();
    const t0 = Date.now();
    const s: JournalStats = await w.close(4000);
    await writing;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(s.linesWritten).toBe(linesOf(6));
    checkComplete(readAll(dir), { slow: linesOf(6) });
  });

  test('close() timeout: a producer never detached is cut off after timeoutMs, what is in its ring is written', async () => {
    const dir = tmp();
    const w = await start({ sessionDir: dir });
    const ghost = new Producer(w, 'ghost');
    await ghost.add('events', line({ g: 1 })).flush();
    const t0 = Date.now();
    const s = await w.close(300);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(2000);
    expect(s.linesWritten).toBe(1);
    expect(readLines(join(dir, DEFAULT_FILES.events))).toEqual([{ g: 1 }]);
    expect(() => w.attach('late', Ring.allocate(4096))).toThrow(/clos/);
  });
});

describe('JournalRingProducer never waits for room', () => {
  test('a write into a full ring with no consumer returns at once; its lines are counted as dropped and the bell counts them', () => {
    const bell = new SharedArrayBuffer(16);
    const p = new Producer(null, 'orphan', bell, 8192);
    // fill the ring: nothing ever drains it
    let i = 0;
    while (p.dropped === 0) {
      p.batch.add('events', line({ i: i++, pad: 'z'.repeat(100) }));
      p.out.write(p.batch);
    }
    expect(p.out.hasRoom(p.batch)).toBe(false);
    const before = p.dropped;
    p.batch.add('events', line({ late: 1, pad: 'z'.repeat(200) }));
    p.batch.add('denied', line({ late: 1, pad: 'z'.repeat(200) }));
    const t0 = performance.now();
    p.out.write(p.batch);
    const took = performance.now() - t0;
    expect(took, 'write() into a full ring').toBeLessThan(50);
    expect(p.dropped - before).toBe(2);
    expect(p.batch.lines, 'the batch is emptied either way').toBe(0);
    expect(Atomics.load(new Int32Array(bell), BELL_DROPS)).toBe(p.dropped);
  });

  test('hasRoom keeps room for one more request: false well before the ring is full', () => {
    const p = new Producer(null, 'x', new SharedArrayBuffer(16), 1 << 20);
    expect(p.out.hasRoom(p.batch)).toBe(true);
    // ~300 KiB of text: with the reserve (3 bytes per code unit) that no longer fits into 1 MiB
    p.batch.add('events', 'a'.repeat(300 * 1024) + '\n');
    expect(p.out.hasRoom(p.batch)).toBe(false);
    p.out.write(p.batch); // the batch itself still fits
    expect(p.dropped).toBe(0);
  });
});

describe('writer thread supervision', () => {
  test('restart delays: 0, 100, 200, 400 … capped at 5 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 20].map(restartDelayMs)).toEqual([0, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });

  for (const how of ['terminate', 'throw'] as const) {
    test(`a writer thread that dies (${how}) under a stream of batches: failing at once, replaced, every line exactly once, stats continue`, async () => {
      const dir = tmp();
      const w = await start({ sessionDir: dir });
      const errors: [string, string][] = [];
      w.onError((file, message) => errors.push([file, message]));
      const hooks = testHooks(w);
      const ps = ['main', 'w1', 'w2'].map((n) => new Producer(w, n));
      let stop = false;
      let batches = 0;
      const streams = ps.map(async (p) => {
        for (let b = 0; !stop; b++) {
          await p.send(b);
          batches++;
          if (b % 4 === 0) await sleep(1); // a steady stream, not a busy loop that starves this thread's events
        }
      });
      await waitFor(() => w.stats().linesWritten > 300);
      hooks.holdWriterRestart(true);
      await hooks.killJournalWriter(how);
      const down = w.stats();
      expect(down.failing, 'failing as soon as the death is known').toBe(true);
      expect(down.lastError).toMatch(/journal writer thread died/);
      expect(down.lastError).toMatch(how === 'throw' ? /uncaught error thrown in the journal writer thread/ : /exit code 1/);
      expect(errors.at(-1)?.[0]).toBe(WRITER_THREAD);
      const writtenAtDeath = down.linesWritten;
      await sleep(50); // producers keep writing into their rings meanwhile, nobody waits
      expect(w.stats().failing).toBe(true);
      hooks.holdWriterRestart(false);
      await waitFor(() => w.stats().writerRestarts === 1 && !w.stats().failing);
      expect(w.stats().linesWritten, 'counters continue from the dead thread').toBeGreaterThan(writtenAtDeath);
      await sleep(50);
      stop = true;
      await Promise.all(streams);
      for (const p of ps) p.detach();
      const s = await w.close();
      expect(batches).toBeGreaterThan(100);
      const expected = Object.fromEntries(ps.map((p) => [p.name, p.seq.seq]));
      checkComplete(readAll(dir), expected);
      const total = ps.reduce((n, p) => n + p.seq.seq, 0);
      expect(s).toMatchObject({ linesWritten: total, failing: false, writerRestarts: 1 });
      expect(ps.every((p) => p.dropped === 0)).toBe(true);
    });
  }

  test('the record in doubt is settled by the slot, not by its bytes: two identical records, death before / after the second write', async () => {
    for (const at of ['throw-before-write', 'throw-after-write'] as const) {
      const dir = tmp();
      const w = await start({ sessionDir: dir });
      const p = new Producer(w, 'main');
      const same = line({ same: 'post-trade record sent twice' });
      await p.add('raw', same).flush();
      await waitFor(() => w.stats().linesWritten === 1);
      const died = testHooks(w).killJournalWriter(at);
      await sleep(20); // the thread has the crash point armed
      await p.add('raw', same).flush();
      await died;
      await waitFor(() => w.stats().writerRestarts === 1 && !w.stats().failing);
      p.detach();
      const s = await w.close();
      expect(fs.readFileSync(join(dir, DEFAULT_FILES.raw), 'utf8'), at).toBe(same + same);
      expect(s.linesWritten, at).toBe(2);
    }
  });

  test('a writer that keeps dying is restarted with a growing delay; restarts are counted', async () => {
    const dir = tmp();
    const w = await start({ sessionDir: dir });
    const p = new Producer(w, 'main');
    const hooks = testHooks(w);
    await hooks.killJournalWriter('terminate');
    await waitFor(() => w.stats().writerRestarts === 1 && !w.stats().failing);
    const t0 = Date.now();
    await hooks.killJournalWriter('terminate'); // the second death in a row: 100 ms before the restart
    await waitFor(() => w.stats().writerRestarts === 2 && !w.stats().failing);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    await p.add('events', line({ after: 2 })).flush();
    p.detach();
    const s = await w.close();
    expect(s).toMatchObject({ writerRestarts: 2, failing: false, linesWritten: 1 });
    expect(readLines(join(dir, DEFAULT_FILES.events))).toEqual([{ after: 2 }]);
  });

  test('close() while the writer is down waits for the replacement, then drains every ring and closes cleanly', async () => {
    const dir = tmp();
    const w = await start({ sessionDir: dir });
    const a = new Producer(w, 'a');
    const b = new Producer(w, 'b');
    const hooks = testHooks(w);
    hooks.holdWriterRestart(true);
    await hooks.killJournalWriter('terminate');
    for (let i = 0; i < 50; i++) {
      await a.send(i);
      await b.send(i);
    }
    a.detach(); // detached while no thread runs: the replacement drains it
    const closing = w.close(3000);
    await sleep(20);
    b.detach();
    const s = await closing;
    expect(s).toMatchObject({ failing: false, writerRestarts: 1, linesWritten: 2 * linesOf(50) });
    checkComplete(readAll(dir), { a: linesOf(50), b: linesOf(50) });
  });

  test('lines dropped while the writer is down mark the journal failing until the replacement caught up', async () => {
    const dir = tmp();
    const w = await start({ sessionDir: dir });
    const p = new Producer(w, 'main', w.bell, 16 * 1024);
    const hooks = testHooks(w);
    hooks.holdWriterRestart(true);
    await hooks.killJournalWriter('throw');
    for (let i = 0; p.dropped === 0; i++) {
      p.batch.add('events', line({ i, pad: 'q'.repeat(200) }));
      p.out.write(p.batch);
    }
    hooks.holdWriterRestart(false);
    await waitFor(() => w.stats().writerRestarts === 1);
    await waitFor(() => !w.stats().failing);
    expect(w.stats().lastError).toMatch(/dropped \d+ lines/);
    p.detach();
    const s = await w.close();
    expect(s.failing).toBe(false);
    expect(s.linesWritten).toBe(readLines(join(dir, DEFAULT_FILES.events)).length);
  });
});

describe('a failing file nothing is written to is retried', () => {
  test('/dev/full: stays failing while it cannot be written (no flap); healthy again, without any write, once it can', async () => {
    const dir = tmp();
    const failed = join(dir, DEFAULT_FILES.failed);
    fs.symlinkSync('/dev/full', failed);
    const w = await start({ sessionDir: dir, retryFailingMs: 100 });
    const p = new Producer(w, 'main');
    await p.add('failed', line({ i: 1 })).flush();
    await waitFor(() => w.stats().failing);
    // several retries: reopening and fsyncing /dev/full succeed, but a write does not
    const end = Date.now() + 700;
    while (Date.now() < end) {
      expect(w.stats().failing, 'a still-broken file must not look healthy').toBe(true);
      await sleep(10);
    }
    expect(w.stats().writeErrors.failed, 'retries are not counted as write errors').toBe(1);
    fs.rmSync(failed); // the operator repairs it: the next retry creates a regular file
    await waitFor(() => !w.stats().failing, 2000);
    expect(fs.lstatSync(failed).isFile()).toBe(true);
    expect(fs.statSync(failed).size, 'the probe was cut off again').toBe(0);
    await p.add('failed', line({ i: 2 })).flush();
    p.detach();
    const s = await w.close();
    expect(s.failing).toBe(false);
    expect(readLines(failed)).toEqual([{ i: 2 }]);
  });
});
