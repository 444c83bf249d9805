import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { parseArgs, warmupSeconds } from '../../bench/soak/args.ts';
import { checkBody, isDenied } from '../../bench/soak/bodies.ts';
import { soakChartSvg, tickStep } from '../../bench/soak/chart.ts';
import { ANSWER_200, ANSWER_NONE, ANSWER_OTHER, Schedule } from '../../bench/soak/client.ts';
import { checkJournal } from '../../bench/soak/journal-check.ts';
import { median, slope, summarize, type Sample } from '../../bench/soak/summary.ts';

/** The pure parts of `npm run soak` (bench/soak.ts): options, figures, chart, journal check. */

const MiB = 2 ** 20;
const sample = (t: number, rssMiB: number, p99: number, extra: Partial<Sample> = {}): Sample => ({
  t,
  rss: rssMiB * MiB,
  heapUsed: 20 * MiB,
  rate: 1000,
  sent: 5000,
  ok: 5000,
  non200: 0,
  netErrors: 0,
  p50: p99 / 4,
  p99,
  backlog: 0,
  journalLag: 0,
  ...extra,
});

describe('options', () => {
  it('defaults: 10 minutes at half the measured maximum over HTTP', () => {
    expect(parseArgs([])).toMatchObject({ minutes: 10, rate: null, fraction: 0.5, transport: 'http', sampleS: 5, maxRssGrowthPct: 10 });
  });

  it('reads both "--flag value" and "--flag=value"; --env keeps "=" inside the value', () => {
    const o = parseArgs(['--minutes', '1', '--fraction=0.25', '--transport=ws', '--env', 'A=b=c', '--env=NODE_OPTIONS=--x', '--pool', '2', '--keep']);
    expect(o).toMatchObject({ minutes: 1, fraction: 0.25, transport: 'ws', pool: 2, keep: true, env: { A: 'b=c', NODE_OPTIONS: '--x' } });
  });

  it('refuses unknown options and out-of-range values with a message', () => {
    expect(() => parseArgs(['--minuts', '1'])).toThrow(/unknown option "--minuts"/);
    expect(() => parseArgs(['--fraction', '2'])).toThrow(/--fraction/);
    expect(() => parseArgs(['--rate', 'x'])).toThrow(/--rate/);
    expect(() => parseArgs(['--transport', 'udp'])).toThrow(/http or ws/);
    expect(() => parseArgs(['--env', 'NOEQUALS'])).toThrow(/KEY=VALUE/);
  });

  it('warm-up: min(60 s, 20 % of the run) unless given', () => {
    expect(warmupSeconds({ minutes: 10, warmupS: null })).toBe(60);
    expect(warmupSeconds({ minutes: 1, warmupS: null })).toBe(12);
    expect(warmupSeconds({ minutes: 10, warmupS: 90 })).toBe(90);
  });
});

describe('figures', () => {
  it('slope and median (hand-computed)', () => {
    expect(slope([0, 1, 2], [1, 3, 5])).toBeCloseTo(2, 12);
    expect(slope([0, 1, 2, 3], [0, 1, 0, 1])).toBeCloseTo(0.2, 12); // sum dx*dy = 1, sum dx^2 = 5
    expect(slope([1], [1])).toBeNaN();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([NaN, 5])).toBe(5);
  });

  it('growth: median of the first three samples after warm-up vs median of the last three; drift: first vs last window', () => {
    // warm-up 10 s: samples at 10..35 count. RSS 100, 102, 101 | 104, 106, 105 MiB: medians 101 -> 105 = +3.96 %
    const rss = [80, 90, 100, 102, 101, 104, 106, 105];
    const p99 = [9000, 8000, 2000, 2600, 2400, 2500, 2700, 3000];
    const s = summarize(rss.map((r, k) => sample(k * 5, r, p99[k])), 10, 10);
    expect(s.samplesAfterWarm).toBe(6);
    expect(s.rss.atWarm).toBe(101 * MiB);
    expect(s.rss.atEnd).toBe(105 * MiB);
    expect(s.rss.maxAfterWarm).toBe(106 * MiB);
    expect(s.rss.pct).toBeCloseTo((4 / 101) * 100, 12);
    // slope over t = 1/6 .. 7/12 min (steps of 1/12 min) of 100, 102, 101, 104, 106, 105 (mean 103): in steps,
    // sum dk*dy = 20 and sum dk^2 = 17.5, so 20/17.5 MiB per 1/12 min = 96/7 MiB/min
    expect(s.rss.slopePerMin / MiB).toBeCloseTo(96 / 7, 9);
    expect(s.p99).toMatchObject({ first: 2000, last: 3000, medianFirst3: 2400, medianLast3: 2700 });
    expect(s.p99.driftPct).toBeCloseTo(50, 12);
    expect(s.totals).toMatchObject({ sent: 40_000, ok: 40_000, non200: 0, netErrors: 0, seconds: 35 });
    expect(s.totals.rate).toBeCloseTo(40_000 / 35, 9);
    expect(s.verdicts[0]).toMatchObject({ pass: true });
    expect(s.verdicts[1]).toMatchObject({ pass: true });
  });

  it('fails above the limit, on errors, and says n/a when the run is shorter than the warm-up', () => {
    // after warm-up: 100, 100, 100 | 111, 111, 111 -> medians 100 and 111 = +11 %
    const grown = summarize([0, 100, 100, 100, 111, 111, 111].map((r, k) => sample(30 + k * 30, r || 90, 1000, k === 6 ? { non200: 3 } : {})), 60, 10);
    expect(grown.rss.atWarm).toBe(100 * MiB);
    expect(grown.rss.atEnd).toBe(111 * MiB);
    expect(grown.rss.pct).toBeCloseTo(11, 12);
    expect(grown.verdicts[0].pass).toBe(false);
    expect(grown.verdicts[1]).toMatchObject({ pass: false, shown: '3 non-200, 0 without an answer' });
    const short = summarize([sample(5, 100, 1000), sample(10, 120, 1000)], 60, 10);
    expect(short.verdicts[0].pass).toBeNull();
  });
});

describe('constant-rate schedule', () => {
  it('hands request i out once its due time t0 + i/rate has come, not one period later (latency counts from at(i))', () => {
    const rate = 100; // one request every 10 ms
    const s = new Schedule(rate, 1000, 1000);
    expect(s.due(1000)).toBe(1); // request 0 is due at t0
    // a 1 ms timer: every request handed out at `now` was due no later than now and no earlier than the previous tick
    for (let now = 1000; now <= 1100; now += 1) {
      let n = s.due(now);
      while (n-- > 0) {
        const i = s.issued++;
        expect(s.at(i, now)).toBeLessThanOrEqual(now);
        expect(s.at(i, now)).toBeGreaterThan(now - 1);
      }
    }
    expect(s.issued).toBe(11); // due at 1000, 1010, ..., 1100
    expect(s.due(1104)).toBe(0);
    expect(s.due(1110)).toBe(1);
    expect(s.due(99_999)).toBe(1000 - 11); // capped at max
  });

  it('closed loop: nothing is due on a timer; latency counts from the send time', () => {
    const s = new Schedule(null, 10, 0);
    expect(s.due(1e6)).toBe(0);
    expect(s.at(3, 42)).toBe(42);
  });
});

describe('chart', () => {
  it('is one SVG with RSS, heap, p99 and p50 series, escaped text, the warm-up shaded', () => {
    const svg = soakChartSvg([sample(0, 100, 1000), sample(30, 101, 1200), sample(60, 102, 1100)], 20, 'a <b> & "c"');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect([...svg.matchAll(/data-label="([^"]+)"/g)].map((m) => m[1])).toEqual(['RSS', 'heap used (main)', 'p99', 'p50']);
    expect(svg).toContain('a &lt;b&gt; &amp; &quot;c&quot;');
    expect(svg).toMatch(/<rect x="70" y="\d+" width="[\d.]+" height="220" fill="#f2f2f2"\/>/);
    // three points per series; the RSS series rises from left to right (y decreases)
    const rss = /data-label="RSS" points="([^"]+)"/.exec(svg)![1].split(' ').map((p) => p.split(',').map(Number));
    expect(rss).toHaveLength(3);
    expect(rss[0][0]).toBeLessThan(rss[2][0]);
    expect(rss[0][1]).toBeGreaterThan(rss[2][1]);
  });

  it('tick steps are 1, 2, 2.5 or 5 x 10^k', () => {
    expect(tickStep(100)).toBe(20);
    expect(tickStep(10, 8)).toBe(2);
    expect(tickStep(0.5)).toBe(0.1);
    expect(tickStep(300)).toBe(100);
  });
});

describe('journal check', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const decision = (id: string) => JSON.stringify({ event_code: 'POLICY.DECISION', details: { req_id: id } });

  it('streams live files and gzipped archives; counts torn, lost, doubled, unanswered and denied lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aurora-soakcheck-'));
    dirs.push(dir);
    // requests 0..5: 0-2 and 4 answered 200 (4 is a denied body), 3 answered 503, 5 not answered
    expect([0, 1, 2, 3, 5].map(isDenied)).toEqual([false, false, false, false, false]);
    expect(isDenied(4)).toBe(true);
    const answers = Uint8Array.from([ANSWER_200, ANSWER_200, ANSWER_200, ANSWER_OTHER, ANSWER_200, ANSWER_NONE]);
    writeFileSync(join(dir, 'aurora_events.20261125.000000.part1.jsonl.gz'), gzipSync([decision('soak-0'), decision('soak-1'), ''].join('\n')));
    writeFileSync(join(dir, 'aurora_events.jsonl'), [decision('soak-1'), '{"torn":', decision('soak-4'), decision('soak-5'), decision('cal-2'), ''].join('\n'));
    writeFileSync(join(dir, 'orders_denied.jsonl'), JSON.stringify({ req_id: 'soak-4' }) + '\n');
    const r = await checkJournal(dir, 'soak', answers, answers.length);
    // 0: once (archive); 1: twice (doubled); 2: never (lost); 4: once; 5: journaled, not answered
    expect(r).toMatchObject({ files: 3, lines: 8, torn: 1, answered200: 4, lost: 1, doubled: 1, unanswered: 1, deniedExpected: 1, deniedJournaled: 1, deniedUnanswered: 0, deniedUnexpected: 0, ok: false });
    expect(r.tornExamples[0]).toContain('{"torn":');
  });

  it('a clean journal passes; a gzipped archive whose plain twin still exists is read once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aurora-soakcheck-'));
    dirs.push(dir);
    const text = [decision('soak-0'), decision('soak-1'), ''].join('\n');
    writeFileSync(join(dir, 'aurora_events.20261125.000000.part1.jsonl'), text);
    writeFileSync(join(dir, 'aurora_events.20261125.000000.part1.jsonl.gz'), gzipSync(text));
    writeFileSync(join(dir, 'aurora_events.jsonl'), '');
    const r = await checkJournal(dir, 'soak', Uint8Array.from([ANSWER_200, ANSWER_200]), 2);
    expect(r).toMatchObject({ files: 2, lines: 2, torn: 0, lost: 0, doubled: 0, ok: true });
  });

  it('a denied request the client never saw answered 200 (503, or no answer at the end) does not fail the denial count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aurora-soakcheck-'));
    dirs.push(dir);
    // 0..9: 4 and 9 are denied bodies; 4 answered 200, 9 answered 503 (the gate may still have decided and journaled it)
    expect([4, 9].map(isDenied)).toEqual([true, true]);
    const answers = new Uint8Array(10).fill(ANSWER_200);
    answers[9] = ANSWER_OTHER;
    const ids = [...Array(10).keys()];
    writeFileSync(join(dir, 'aurora_events.jsonl'), [...ids.map((i) => decision(`soak-${i}`)), ''].join('\n'));
    writeFileSync(join(dir, 'orders_denied.jsonl'), [4, 9].map((i) => JSON.stringify({ req_id: `soak-${i}` }) + '\n').join(''));
    const r = await checkJournal(dir, 'soak', answers, answers.length);
    expect(r).toMatchObject({ answered200: 9, lost: 0, unanswered: 1, deniedExpected: 1, deniedJournaled: 1, deniedUnanswered: 1, deniedUnexpected: 0, ok: true });
    // a denied line for an allowed request answered 200 still fails
    writeFileSync(join(dir, 'orders_denied.jsonl'), [4, 9, 3].map((i) => JSON.stringify({ req_id: `soak-${i}` }) + '\n').join(''));
    expect(await checkJournal(dir, 'soak', answers, answers.length)).toMatchObject({ deniedJournaled: 1, deniedUnexpected: 1, ok: false });
  });

  it('request bodies carry their own req_id and are valid JSON; every fifth is the denied variant', () => {
    const a = JSON.parse(checkBody('soak', 3)) as { req_id: string; market: { score: number } };
    const d = JSON.parse(checkBody('soak', 9)) as { req_id: string; market: { score: number } };
    expect(a.req_id).toBe('soak-3');
    expect(d.req_id).toBe('soak-9');
    expect(a.market.score).toBe(1);
    expect(d.market.score).toBe(-2);
  });
});
