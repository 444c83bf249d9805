import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/ctl/args.ts';
import { COMMAND_DEFS } from '../../src/ctl/commands/index.ts';
import { riskBody } from '../../src/ctl/commands/risk.ts';
import { keyMetrics } from '../../src/ctl/commands/status.ts';
import { UsageError } from '../../src/ctl/errors.ts';
import { captureIo } from '../../src/ctl/io.ts';
import { main } from '../../src/ctl/main.ts';
import { duration } from '../../src/ctl/format.ts';
import { maskToken } from '../../src/config/resolve.ts';
import { normaliseUrl } from '../../src/ctl/http.ts';
import { buildManifest, compareWithManifest, ContentDigest, LineCounter, type ManifestEntry, type ObservedFile } from '../../src/ctl/manifest.ts';
import { histogramQuantile, parsePrometheus } from '../../src/ctl/prom.ts';
import { decodeHeader, encodeHeader, splitName, TarParser, tarStream, type TarSource } from '../../src/ctl/tar.ts';

/** Pure parts of the operator CLI, checked against hand-computed values and the system `tar`. */

const hasTar = spawnSync('tar', ['--version']).status === 0;
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

describe('Prometheus text and histogram_quantile', () => {
  const text = [
    '# HELP h a histogram',
    '# TYPE h histogram',
    'h_bucket{le="1"} 10',
    'h_bucket{le="2"} 20',
    'h_bucket{le="4"} 40',
    'h_bucket{le="+Inf"} 40',
    'h_sum 100',
    'h_count 40',
    'c_total{decision="allow"} 7',
    'c_total{decision="deny",x="a \\"quoted\\" \\\\ value"} 2',
    'g 3.5 1700000000000',
    'garbage line',
  ].join('\n');
  const s = parsePrometheus(text);

  it('parses samples, labels with escapes, and timestamps', () => {
    expect(s.find((x) => x.name === 'g')?.value).toBe(3.5);
    const deny = s.find((x) => x.labels.decision === 'deny');
    expect(deny?.labels.x).toBe('a "quoted" \\ value');
    expect(s.find((x) => x.labels.le === '+Inf')?.value).toBe(40);
    expect(s.some((x) => x.name === 'garbage')).toBe(false);
  });

  it('interpolates inside the bucket like Prometheus (hand-computed)', () => {
    // rank 38 of 40 falls in (2, 4] holding 20 -> 2 + 2 * 18/20
    expect(histogramQuantile(0.95, s, 'h')).toBeCloseTo(3.8, 10);
    // rank 20 -> exactly the top of (1, 2]
    expect(histogramQuantile(0.5, s, 'h')).toBeCloseTo(2, 10);
    // rank 4 in the first bucket, which starts at 0
    expect(histogramQuantile(0.1, s, 'h')).toBeCloseTo(0.4, 10);
  });

  it('a rank in +Inf answers the highest finite bound; empty or missing is null', () => {
    const t = parsePrometheus('x_bucket{le="1"} 5\nx_bucket{le="+Inf"} 10\ny_bucket{le="1"} 0\ny_bucket{le="+Inf"} 0\n');
    expect(histogramQuantile(0.95, t, 'x')).toBe(1);
    expect(histogramQuantile(0.95, t, 'y')).toBeNull();
    expect(histogramQuantile(0.95, t, 'nope')).toBeNull();
  });

  it('keyMetrics reads the gate series (p95 from the microsecond histogram, in ms)', () => {
    const m = keyMetrics(
      parsePrometheus(
        [
          'aurora_pretrade_latency_us_bucket{le="100"} 50',
          'aurora_pretrade_latency_us_bucket{le="200"} 100',
          'aurora_pretrade_latency_us_bucket{le="+Inf"} 100',
          'aurora_pretrade_latency_us_count 100',
          'aurora_pretrade_requests_total{decision="allow"} 90',
          'aurora_pretrade_requests_total{decision="deny"} 10',
          'aurora_journal_write_errors_total{file="events"} 2',
          'aurora_journal_write_errors_total{file="orders_denied"} 1',
          'aurora_pool_workers_alive 4',
        ].join('\n'),
      ),
    );
    // rank 95 in (100, 200] holding 50: 100 + 100 * 45/50 = 190 us
    expect(m.pretrade_p95_ms).toBeCloseTo(0.19, 10);
    expect(m.pretrade_count).toBe(100);
    expect(m.decisions).toEqual({ allow: 90, deny: 10 });
    expect(m.journal_write_errors_total).toBe(3);
    expect(m.pool_workers_alive).toBe(4);
    expect(m.journal_dropped_total).toBeNull();
  });
});

describe('argument parsing', () => {
  const parse = (...a: string[]) => parseArgs(a, COMMAND_DEFS);

  it('flags before and after the command, --x=y, switches, -h, and -- ', () => {
    const p = parse('--url', 'http://h:1', 'cooloff', '30', '--timeout-ms=250', '--json');
    expect(p.command).toBe('cooloff');
    expect(p.positionals).toEqual(['30']);
    expect(p.flags.get('url')).toBe('http://h:1');
    expect(p.flags.get('timeout-ms')).toBe('250');
    expect(p.flags.get('json')).toBe(true);
    expect(parse('arm', '-h').flags.get('help')).toBe(true);
    expect(parse('risk-set', '--', '--odd=1').positionals).toEqual(['--odd=1']);
  });

  it('a negative number is a positional (for the command to refuse precisely)', () => {
    expect(parse('cooloff', '-5').positionals).toEqual(['-5']);
  });

  it('unknown options, a missing value and a value on a switch are usage errors', () => {
    expect(() => parse('arm', '--bogus')).toThrow(UsageError);
    expect(() => parse('arm', '--url')).toThrow(/needs a value/);
    expect(() => parse('arm', '--json=yes')).toThrow(/takes no value/);
    expect(() => parse('arm', '-x')).toThrow(UsageError);
  });

  it('the error names the flag and points at --help; main prints it with the command\'s usage line (exit 2)', async () => {
    const message = (...a: string[]) => {
      try {
        parse(...a);
      } catch (e) {
        return (e as UsageError).message;
      }
      return null;
    };
    expect(message('arm', '--bogus')).toBe('unknown option --bogus; see --help');
    expect(message('arm', '--url')).toBe('--url needs a value (URL); see --help');
    expect(message('--timeout-ms')).toBe('--timeout-ms needs a value (MS); see --help');
    expect(message('arm', '--json=yes')).toBe('--json takes no value; see --help');
    expect(message('cooloff', '-x')).toBe('unknown option -x; see --help');
    const run = async (...a: string[]) => {
      const io = captureIo();
      return { code: await main(a, { OPS_TOKEN: 'units-test-token-0123456789abcdef' }, io), err: io.stderr(), out: io.stdout() };
    };
    expect(await run('arm', '--bogus')).toEqual({ code: 2, out: '', err: 'error: unknown option --bogus; see --help\nusage: npm run ctl -- arm [options]\n' });
    expect(await run('--verbos')).toEqual({ code: 2, out: '', err: 'error: unknown option --verbos; see --help\nrun with --help for the commands\n' });
    expect((await run('cooloff', '--timeout-ms')).err).toMatch(/^error: --timeout-ms needs a value \(MS\); see --help\nusage: npm run ctl -- cooloff <sec> \[options\]\n$/);
    // a flag of another command: named, with the command's own --help
    expect((await run('arm', '--new-token', 'x')).err).toMatch(/^error: arm does not take --new-token; see arm --help\n/);
    expect((await run('arm', '-h')).code).toBe(0);
  });

  it('values may start with a dash (a generated token can), as before parseArgs', () => {
    const p = parse('rotate-token', '--new-token', '-abc_DEF', '--token=-xyz');
    expect(p.flags.get('new-token')).toBe('-abc_DEF');
    expect(p.flags.get('token')).toBe('-xyz');
  });

  it('risk-set pairs', () => {
    expect(riskBody(['size_scale=0.5', 'max_concurrent=3', 'dd_day_pct=null'])).toEqual({ size_scale: 0.5, max_concurrent: 3, dd_day_pct: null });
    expect(riskBody(['dd_day_pct=1e1'])).toEqual({ dd_day_pct: 10 });
    for (const bad of [['size_scale'], ['=1'], ['sizescale=1'], ['size_scale=abc'], ['size_scale=Infinity'], ['size_scale='], ['size_scale=1', 'size_scale=2'], ['size_scale=0x10']]) {
      expect(() => riskBody(bad), bad.join(' ')).toThrow(UsageError);
    }
  });

  it('URLs: trailing slashes dropped; other schemes and embedded credentials refused', () => {
    expect(normaliseUrl('http://127.0.0.1:8037/')).toBe('http://127.0.0.1:8037');
    expect(() => normaliseUrl('ftp://x')).toThrow(UsageError);
    expect(() => normaliseUrl('not a url')).toThrow(UsageError);
    expect(() => normaliseUrl('http://user:secret@h:1')).toThrow(UsageError);
  });

  it('token mask and durations', () => {
    expect(maskToken('abcdefghijklmnopqrstuvwxyz')).toBe('****wxyz');
    expect(maskToken('short')).toBe('****');
    expect(duration(0)).toBe('0s');
    expect(duration(119.6)).toBe('2m 0s');
    expect(duration(3 * 3600 + 62)).toBe('3h 1m 2s');
    expect(duration(2 * 86400 + 3600)).toBe('2d 1h 0m');
  });
});

describe('line counting and content digests', () => {
  const lines = (...chunks: string[]) => {
    const c = new LineCounter();
    for (const ch of chunks) c.update(Buffer.from(ch));
    return c.lines;
  };

  it('counts newline-terminated lines plus an unterminated last one, across chunk splits', () => {
    expect(lines()).toBe(0);
    expect(lines('')).toBe(0);
    expect(lines('a')).toBe(1);
    expect(lines('a\n')).toBe(1);
    expect(lines('a\nb')).toBe(2);
    expect(lines('\n\n')).toBe(2);
    expect(lines('a', '\n', 'b', '\n')).toBe(2);
    expect(lines('a\n', '')).toBe(1);
  });

  it('a .gz is counted on its decompressed content; a broken one reports why', async () => {
    const plain = '{"a":1}\n{"a":2}\n{"a":3}';
    const gz = gzipSync(plain);
    const d = new ContentDigest(true);
    // feed in small pieces, as a tar entry arrives
    for (let i = 0; i < gz.length; i += 7) d.update(gz.subarray(i, i + 7));
    const f = await d.finish();
    expect(f.gzipLines).toBe(3);
    expect(f.sha256).toBe(sha(gz));
    expect(f.size).toBe(gz.length);
    const bad = new ContentDigest(true);
    bad.update(Buffer.from('not gzip at all'));
    const b = await bad.finish();
    expect(b.gzipLines).toBeNull();
    expect(b.gzipError).toMatch(/not a valid gzip/);
  });

  it('compareWithManifest names each disagreement', () => {
    const e = (path: string, content: string, kind: 'text' | 'other' = 'text'): ManifestEntry => ({
      path,
      size: Buffer.byteLength(content),
      sha256: sha(content),
      kind,
      lines: kind === 'text' ? content.split('\n').filter((l, i, a) => l !== '' || i < a.length - 1).length : null,
      mtime_ms: 0,
    });
    const m = buildManifest({ session: 's', root: 's', createdMs: 0, files: [e('b.jsonl', 'x\ny\n'), e('a.bin', 'zz', 'other')], skipped: [] });
    expect(m.files.map((f) => f.path)).toEqual(['a.bin', 'b.jsonl']);
    expect(m.totals).toEqual({ files: 2, bytes: 6, lines: 2 });
    const obs = (path: string, content: string): ObservedFile => ({ path, size: Buffer.byteLength(content), sha256: sha(content), textLines: lines(content), gzipLines: null });
    const good = new Map([obs('a.bin', 'zz'), obs('b.jsonl', 'x\ny\n')].map((o) => [o.path, o]));
    expect(compareWithManifest(m, good)).toEqual([]);
    const changed = new Map(good);
    changed.set('b.jsonl', obs('b.jsonl', 'x\ny\nz\n'));
    changed.delete('a.bin');
    changed.set('extra.log', obs('extra.log', ''));
    const problems = compareWithManifest(m, changed);
    expect(problems.some((p) => p.startsWith('b.jsonl: size 6 bytes, manifest says 4'))).toBe(true);
    expect(problems.some((p) => p.startsWith('b.jsonl: sha256'))).toBe(true);
    expect(problems.some((p) => p.startsWith('b.jsonl: 3 lines'))).toBe(true);
    expect(problems).toContain('a.bin: in the manifest but not in the archive');
    expect(problems).toContain('extra.log: in the archive but not in the manifest');
    expect(compareWithManifest({ ...m, totals: { ...m.totals, lines: 99 } }, good)[0]).toMatch(/totals/);
  });
});

describe('ustar writer and reader', () => {
  it('header fields sit where POSIX puts them, with a checksum computed independently here', () => {
    const h = encodeHeader({ name: 'dir/file.jsonl', size: 1234, mtimeSec: 1_700_000_000, mode: 0o644, type: '0' });
    expect(h.length).toBe(512);
    const ascii = (a: number, b: number) => Buffer.from(h.subarray(a, b)).toString('latin1');
    expect(ascii(0, 14)).toBe('dir/file.jsonl');
    expect(ascii(124, 136)).toBe('00000002322\0'); // 1234 = 0o2322
    expect(ascii(257, 263)).toBe('ustar\0');
    expect(ascii(263, 265)).toBe('00');
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    expect(parseInt(ascii(148, 154), 8)).toBe(sum);
    expect(decodeHeader(h)).toEqual({ name: 'dir/file.jsonl', size: 1234, mtimeSec: 1_700_000_000, mode: 0o644, type: '0' });
    const bad = Uint8Array.from(h);
    bad[0] ^= 1;
    expect(() => decodeHeader(bad)).toThrow(/checksum/);
  });

  it('long paths use the prefix field; paths that cannot be split are refused', () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(90)}.jsonl`;
    expect(splitName(long)).toEqual({ prefix: 'd'.repeat(120), name: `${'f'.repeat(90)}.jsonl` });
    expect(decodeHeader(encodeHeader({ name: long, size: 0, mtimeSec: 0, mode: 0o644, type: '0' }))?.name).toBe(long);
    expect(() => splitName('x'.repeat(101))).toThrow(/too long/);
  });

  const source = (name: string, data: Buffer, size = data.length): TarSource => ({
    name,
    size,
    mtimeSec: 1_700_000_000,
    mode: 0o644,
    async *content() {
      yield data;
    },
  });
  const collect = async (g: AsyncIterable<Uint8Array>) => {
    const parts: Buffer[] = [];
    for await (const c of g) parts.push(Buffer.from(c));
    return Buffer.concat(parts);
  };

  it('round trip through the parser, fed one odd-sized chunk at a time', async () => {
    const files = { 'r/a.txt': Buffer.from('hello\n'), 'r/empty': Buffer.alloc(0), 'r/b.bin': Buffer.alloc(1500, 7) };
    const tar = await collect(tarStream(Object.entries(files).map(([n, d]) => source(n, d))));
    expect(tar.length % 512).toBe(0);
    const seen = new Map<string, Buffer>();
    const p = new TarParser((h) => {
      const parts: Buffer[] = [];
      return { data: (c) => void parts.push(Buffer.from(c)), end: () => void seen.set(h.name, Buffer.concat(parts)) };
    });
    for (let i = 0; i < tar.length; i += 333) await p.push(tar.subarray(i, i + 333));
    p.finish();
    expect(new Map([...seen].map(([k, v]) => [k, v.toString('hex')]))).toEqual(new Map(Object.entries(files).map(([k, v]) => [k, v.toString('hex')])));
    const cut = new TarParser(() => ({ data() {}, end() {} }));
    await cut.push(tar.subarray(0, 700));
    expect(() => cut.finish()).toThrow(/truncated/);
  });

  it('a file whose size changed between measuring and writing aborts the stream', async () => {
    await expect(collect(tarStream([source('x', Buffer.from('abc'), 5)]))).rejects.toThrow(/changed/);
    await expect(collect(tarStream([source('x', Buffer.from('abcdef'), 5)]))).rejects.toThrow(/changed/);
  });

  it.runIf(hasTar)('the system tar lists and extracts what the writer produced, long names included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-tar-'));
    const long = `r/${'d'.repeat(110)}/file.jsonl`;
    const files: Record<string, Buffer> = { 'r/a.jsonl': Buffer.from('{"x":1}\n'), [long]: Buffer.alloc(513, 65) };
    writeFileSync(join(dir, 't.tar.gz'), gzipSync(await collect(tarStream(Object.entries(files).map(([n, d]) => source(n, d))))));
    const list = spawnSync('tar', ['-tzf', join(dir, 't.tar.gz')], { encoding: 'utf8' });
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout.trim().split('\n').sort()).toEqual(Object.keys(files).sort());
    const x = spawnSync('tar', ['-xzf', join(dir, 't.tar.gz'), '-C', dir], { encoding: 'utf8' });
    expect(x.status, x.stderr).toBe(0);
    for (const [n, d] of Object.entries(files)) expect(readFileSync(join(dir, n)).equals(d), n).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});
