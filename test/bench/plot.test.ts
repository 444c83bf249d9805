import { afterEach, describe, expect, test } from 'vitest';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliTargets, latencyPlotSvg, niceStep, throughputBarsSvg, writePlots, type PlotRow } from '../../bench/plot.ts';

const row = (scenario: string, target: string, rps: number, base: number, ratio: number | null): PlotRow => ({
  scenario,
  target,
  rps,
  p50: base,
  p90: base * 2,
  p99: base * 5,
  p999: base * 20,
  p9999: base * 50,
  ratio,
});

const ROWS: PlotRow[] = [
  row('http 32 conns', 'floor', 60_000, 500, null),
  row('http 32 conns', 'gate pool 2', 24_000, 1_200, 0.4),
  row('ws <seq> & co', 'floor', 20_000, 44, null),
  row('ws <seq> & co', 'gate "A" & <B>', 6_000, 150, 0.3),
];

/** Checks that every element opened is closed in order (self-closing tags count as balanced). */
function tagBalance(svg: string): string | null {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([A-Za-z][\w:-]*)\b[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (!closing) stack.push(name);
    else if (stack.pop() !== name) return `unexpected </${name}>`;
  }
  return stack.length ? `unclosed <${stack.join('>, <')}>` : null;
}

function points(svg: string): Array<{ label: string; pts: Array<[number, number]> }> {
  return [...svg.matchAll(/<polyline[^>]*data-label="([^"]*)"[^>]*points="([^"]*)"/g)].map((m) => ({
    label: m[1],
    pts: m[2].split(' ').map((p) => p.split(',').map(Number) as [number, number]),
  }));
}

function checkWellFormed(svg: string): void {
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
  expect(svg).toMatch(/viewBox="0 0 900 \d+"/);
  expect(tagBalance(svg)).toBeNull();
  // no raw special characters in text content: every '&' starts an entity, no '<' inside text
  expect(svg).not.toMatch(/&(?!(amp|lt|gt|quot|#39);)/);
  for (const m of svg.matchAll(/>([^<]*)</g)) expect(m[1]).not.toContain('>');
}

describe('latencyPlotSvg', () => {
  const svg = latencyPlotSvg(ROWS, 'subtitle <x> & y');

  test('is a well-formed standalone SVG', () => checkWellFormed(svg));

  test('one polyline per row, five points each, floor dashed and gate solid', () => {
    const series = points(svg);
    expect(series).toHaveLength(ROWS.length);
    for (const s of series) expect(s.pts).toHaveLength(5);
    const lines = [...svg.matchAll(/<polyline[^>]*>/g)].map((m) => m[0]);
    expect(lines.filter((l) => l.includes('stroke-dasharray'))).toHaveLength(2);
    expect(lines.filter((l) => l.includes('stroke-dasharray')).every((l) => l.includes('— floor"'))).toBe(true);
  });

  test('escapes labels, has legend, axis labels and title', () => {
    expect(svg).toContain('ws &lt;seq&gt; &amp; co — gate &quot;A&quot; &amp; &lt;B&gt;');
    expect(svg).not.toContain('<seq>');
    expect(svg).toContain('subtitle &lt;x&gt; &amp; y');
    expect(svg).toContain('percentile (nines scale)');
    expect(svg).toContain('latency (µs, log scale)');
    expect(svg).toContain('Latency percentiles');
    for (const p of ['p50', 'p90', 'p99', 'p99.9', 'p99.99']) expect(svg).toContain(`>${p}</text>`);
    expect(svg).toContain('solid: gate · dashed: floor');
  });

  test('the y axis is log10: a 10x latency step is a constant pixel distance; x is a nines axis', () => {
    const decade: PlotRow = { scenario: 's', target: 'gate', rps: 1, p50: 10, p90: 100, p99: 1_000, p999: 10_000, p9999: 100_000, ratio: 1 };
    const [s] = points(latencyPlotSvg([decade]));
    const ys = s.pts.map((p) => p[1]);
    const dy = ys.slice(1).map((y, i) => ys[i] - y);
    expect(dy[0]).toBeGreaterThan(10);
    for (const d of dy) expect(d).toBeCloseTo(dy[0], 0);
    // p90 -> p99 -> p99.9 -> p99.99 one "nine" apart each
    const xs = s.pts.map((p) => p[0]);
    const dx = xs.slice(2).map((x, i) => x - xs[i + 1]);
    for (const d of dx) expect(d).toBeCloseTo(dx[0], 0);
    // and a 2x step is log10(2) of a decade
    const [u, t] = points(latencyPlotSvg([decade, { ...decade, target: 'floor', p50: 20 }]));
    expect(u.pts[0][1] - t.pts[0][1]).toBeCloseTo(Math.log10(2) * dy[0], 0);
  });

  test('skips non-positive or missing percentiles instead of emitting NaN', () => {
    const bad = latencyPlotSvg([{ ...ROWS[0], p9999: NaN, p999: 0 }]);
    expect(bad).not.toContain('NaN');
    expect(points(bad)[0].pts).toHaveLength(3);
  });
});

describe('throughputBarsSvg', () => {
  const svg = throughputBarsSvg(ROWS);

  test('is a well-formed standalone SVG', () => checkWellFormed(svg));

  test('one bar per row, widths proportional to req/s', () => {
    const bars = [...svg.matchAll(/<rect class="bar" data-label="([^"]*)"[^>]*width="([\d.]+)"/g)].map((m) => ({ label: m[1], w: Number(m[2]) }));
    expect(bars).toHaveLength(ROWS.length);
    const w = (label: string) => bars.find((b) => b.label === label)!.w;
    expect(w('http 32 conns — gate pool 2') / w('http 32 conns — floor')).toBeCloseTo(0.4, 2);
  });

  test('prints the ratio to floor next to gate bars only, and escapes labels', () => {
    expect(svg).toContain('24,000 · 0.40× floor');
    expect(svg).toContain('6,000 · 0.30× floor');
    expect(svg.match(/× floor</g)).toHaveLength(2);
    expect(svg).toContain('>60,000</text>');
    expect(svg).toContain('ws &lt;seq&gt; &amp; co — gate &quot;A&quot; &amp; &lt;B&gt;');
  });
});

describe('writePlots', () => {
  let dir = '';
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('writes stamped and latest SVGs next to the JSON', () => {
    dir = fs.mkdtempSync(join(tmpdir(), 'aurora-plot-'));
    const written = writePlots({ rows: ROWS, when: '2026-01-01T00:00:00.000Z', quick: true }, dir, 'STAMP');
    expect(written.map((p) => p.slice(dir.length + 1)).sort()).toEqual(
      ['bench-STAMP-latency.svg', 'bench-STAMP-throughput.svg', 'latency-latest.svg', 'throughput-latest.svg'].sort(),
    );
    expect(fs.readFileSync(join(dir, 'latency-latest.svg'), 'utf8')).toBe(fs.readFileSync(join(dir, 'bench-STAMP-latency.svg'), 'utf8'));
    expect(fs.readFileSync(join(dir, 'throughput-latest.svg'), 'utf8')).toContain('quick run');
  });

  test('an older run writes only its own stamped SVGs; the latest copies go to every directory asked for', () => {
    dir = fs.mkdtempSync(join(tmpdir(), 'aurora-plot-'));
    const docs = join(dir, 'docs', 'img');
    const old = writePlots({ rows: ROWS, when: '2026-01-01T00:00:00.000Z' }, dir, 'OLD', []);
    expect(old.map((p) => p.slice(dir.length + 1)).sort()).toEqual(['bench-OLD-latency.svg', 'bench-OLD-throughput.svg']);
    expect(fs.existsSync(join(dir, 'latency-latest.svg'))).toBe(false);
    const latest = writePlots({ rows: ROWS }, dir, 'NEW', [dir, docs]);
    expect(latest).toHaveLength(6);
    expect(fs.readFileSync(join(docs, 'latency-latest.svg'), 'utf8')).toBe(fs.readFileSync(join(dir, 'bench-NEW-latency.svg'), 'utf8'));
  });
});

describe('plot CLI targets', () => {
  test('bench-latest.json: stamp from `when`, latest copies next to it and in docs/img', () => {
    expect(cliTargets('/r/bench-latest.json', '2026-11-26T03:00:00.000Z', '/d/img')).toEqual({ stamp: '2026-11-26T03-00-00.000Z', latestDirs: ['/r', '/d/img'] });
  });

  test('an older bench-<stamp>.json keeps its stamp and does not touch the *-latest.svg charts', () => {
    expect(cliTargets('/r/bench-2026-11-25T23-22-21.157Z.json', '2026-11-25T23:22:21.157Z', '/d/img')).toEqual({ stamp: '2026-11-25T23-22-21.157Z', latestDirs: [] });
    expect(cliTargets('/tmp/other.json', '2026-01-01T00:00:00.000Z', '/d/img')).toEqual({ stamp: '2026-01-01T00-00-00.000Z', latestDirs: [] });
  });
});

describe('niceStep', () => {
  test('1, 2, 2.5, 5 or 10 x 10^k, at least the raw step', () => {
    expect([0.7, 1, 1.5, 2.2, 3, 7, 9.99, 10, 1000, 0.003].map(niceStep)).toEqual([1, 1, 2, 2.5, 5, 10, 10, 10, 1000, 0.005]);
  });
});
