/**
 * SVG plots of a `npm run bench` result (bench/results/bench-*.json), without dependencies.
 *
 *   npx tsx bench/plot.ts [bench/results/bench-latest.json]
 *
 * - latencyPlotSvg: latency percentiles (x: p50 … p99.99 on a "nines" axis, -log10(1 - p); y: µs on a
 *   log10 axis), one line per (scenario, target); floor lines dashed, gate lines solid.
 * - throughputBarsSvg: horizontal req/s bars per (scenario, target), "× floor" next to gate bars.
 * - writePlots: writes bench-<stamp>-latency.svg, bench-<stamp>-throughput.svg, latency-latest.svg and
 *   throughput-latest.svg into a directory (bench/run.ts calls it after writing the JSON).
 *
 * Given bench-latest.json (the default), the CLI also copies the two "latest" plots to docs/img/ (committed;
 * referenced by docs/performance.md); given an older bench-<stamp>.json it writes only that run's plots.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlagsOrExit } from '../src/util/flags.ts';

/** The fields of a bench row the plots use (latencies in microseconds). */
export interface PlotRow {
  scenario: string;
  target: string;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  ratio: number | null;
}

interface PlotResult {
  rows: PlotRow[];
  when?: string;
  quick?: boolean;
  loadGenerator?: string;
  machine?: { node?: string; cpu?: string; cores?: number };
}

/** The percentiles plotted, in order: row key, label, and the percentile as a fraction. */
const PERCENTILES: ReadonlyArray<{ key: 'p50' | 'p90' | 'p99' | 'p999' | 'p9999'; label: string; p: number }> = [
  { key: 'p50', label: 'p50', p: 0.5 },
  { key: 'p90', label: 'p90', p: 0.9 },
  { key: 'p99', label: 'p99', p: 0.99 },
  { key: 'p999', label: 'p99.9', p: 0.999 },
  { key: 'p9999', label: 'p99.99', p: 0.9999 },
];

const WIDTH = 900;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
/** One hue per scenario (cycled); targets within a scenario differ in lightness. */
const HUES = [210, 28, 130, 320, 0, 180, 55, 270];

/** Rows grouped by scenario (scenarios in order of first appearance, rows within one in their given order). */
function groupByScenario<T extends Pick<PlotRow, 'scenario'>>(rows: readonly T[]): T[] {
  const order = [...new Set(rows.map((r) => r.scenario))];
  return order.flatMap((sc) => rows.filter((r) => r.scenario === sc));
}

/** A colour per row: the scenario's hue, darker to lighter across its targets. */
function colours(rows: readonly PlotRow[]): string[] {
  const order = [...new Set(rows.map((r) => r.scenario))];
  return rows.map((r) => {
    const hue = HUES[order.indexOf(r.scenario) % HUES.length];
    const peers = rows.filter((q) => q.scenario === r.scenario);
    const k = peers.indexOf(r);
    const light = peers.length === 1 ? 42 : 28 + (k / (peers.length - 1)) * 34;
    return `hsl(${hue}, 65%, ${Math.round(light)}%)`;
  });
}

/** Escapes text for SVG text content and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const isFloor = (r: Pick<PlotRow, 'target'>): boolean => /^floor\b/i.test(r.target.trim());
const labelOf = (r: PlotRow) => `${r.scenario} — ${r.target}`;
const n1 = (v: number) => (Math.round(v * 10) / 10).toString();
const fmtInt = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '-');

function fmtUs(v: number): string {
  if (v >= 1e6) return `${v / 1e6} s`;
  if (v >= 1e3) return `${v / 1e3} ms`;
  return `${v} µs`;
}

function svgOpen(height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT} font-size="12">\n` +
    `<title>${esc(title)}</title>\n` +
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>\n`
  );
}

/** x position of a percentile on the "nines" axis: -log10(1 - p) (p50 0.30, p90 1, p99 2, …). */
export const nines = (p: number): number => -Math.log10(1 - p);

// ---------------------------------------------------------------------------------------------------
// latency percentiles

export function latencyPlotSvg(input: readonly PlotRow[], subtitle = ''): string {
  const rows = groupByScenario(input);
  const palette = colours(rows);
  const legendW = 300;
  const m = { left: 70, right: legendW + 20, top: subtitle ? 62 : 48, bottom: 56 };
  const legendRowH = 18;
  const plotH = Math.max(360, rows.length * legendRowH + 10);
  const height = m.top + plotH + m.bottom;
  const plotW = WIDTH - m.left - m.right;

  const values = rows.flatMap((r) => PERCENTILES.map((q) => r[q.key])).filter((v) => Number.isFinite(v) && v > 0);
  let lo = values.length ? Math.floor(Math.log10(Math.min(...values))) : 1;
  let hi = values.length ? Math.ceil(Math.log10(Math.max(...values))) : 4;
  if (hi <= lo) hi = lo + 1;
  lo = Math.min(lo, hi - 1);
  const xMin = nines(PERCENTILES[0].p);
  const xMax = nines(PERCENTILES[PERCENTILES.length - 1].p);
  const pad = 0.15;
  const px = (p: number) => m.left + ((nines(p) - xMin + pad) / (xMax - xMin + 2 * pad)) * plotW;
  const py = (us: number) => m.top + plotH - ((Math.log10(us) - lo) / (hi - lo)) * plotH;

  const title = 'Latency percentiles — gate vs floor';
  let s = svgOpen(height, title);
  s += `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="17" font-weight="bold">${esc(title)}</text>\n`;
  if (subtitle) s += `<text x="${WIDTH / 2}" y="43" text-anchor="middle" font-size="12" fill="#555555">${esc(subtitle)}</text>\n`;

  // grid: decades (labelled) and 2× / 5× minor lines
  s += '<g stroke-width="1">\n';
  for (let d = lo; d <= hi; d++) {
    const y = n1(py(10 ** d));
    s += `<line x1="${m.left}" y1="${y}" x2="${m.left + plotW}" y2="${y}" stroke="#cccccc"/>\n`;
    if (d < hi) {
      for (const k of [2, 5]) {
        const ym = n1(py(k * 10 ** d));
        s += `<line x1="${m.left}" y1="${ym}" x2="${m.left + plotW}" y2="${ym}" stroke="#eeeeee"/>\n`;
      }
    }
  }
  for (const q of PERCENTILES) {
    const x = n1(px(q.p));
    s += `<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + plotH}" stroke="#e4e4e4"/>\n`;
  }
  s += '</g>\n';
  s += `<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333333"/>\n`;

  // tick labels
  for (let d = lo; d <= hi; d++) {
    s += `<text x="${m.left - 6}" y="${n1(py(10 ** d) + 4)}" text-anchor="end">${esc(fmtUs(10 ** d))}</text>\n`;
  }
  for (const q of PERCENTILES) {
    s += `<text x="${n1(px(q.p))}" y="${m.top + plotH + 18}" text-anchor="middle">${esc(q.label)}</text>\n`;
  }
  // axis labels
  s += `<text x="${m.left + plotW / 2}" y="${height - 12}" text-anchor="middle" font-size="13">percentile (nines scale)</text>\n`;
  const yMid = m.top + plotH / 2;
  s += `<text x="16" y="${yMid}" text-anchor="middle" font-size="13" transform="rotate(-90 16 ${yMid})">latency (µs, log scale)</text>\n`;

  // series
  rows.forEach((r, i) => {
    const color = palette[i];
    const floor = isFloor(r);
    const pts = PERCENTILES.filter((q) => Number.isFinite(r[q.key]) && r[q.key] > 0).map((q) => `${n1(px(q.p))},${n1(py(r[q.key]))}`);
    const dash = floor ? ' stroke-dasharray="7 4"' : '';
    s += `<polyline class="series" data-label="${esc(labelOf(r))}" points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="${floor ? 1.8 : 2.2}"${dash}/>\n`;
    for (const p of pts) {
      const [x, y] = p.split(',');
      s += floor
        ? `<rect x="${n1(Number(x) - 2.5)}" y="${n1(Number(y) - 2.5)}" width="5" height="5" fill="#ffffff" stroke="${color}" stroke-width="1.3"/>\n`
        : `<circle cx="${x}" cy="${y}" r="2.8" fill="${color}"/>\n`;
    }
  });

  // legend
  const lx = WIDTH - legendW;
  s += `<text x="${lx}" y="${m.top + 4}" font-weight="bold">solid: gate · dashed: floor</text>\n`;
  rows.forEach((r, i) => {
    const color = palette[i];
    const y = m.top + 22 + i * legendRowH;
    const dash = isFloor(r) ? ' stroke-dasharray="7 4"' : '';
    s += `<line x1="${lx}" y1="${y}" x2="${lx + 28}" y2="${y}" stroke="${color}" stroke-width="2.2"${dash}/>\n`;
    s += `<text x="${lx + 34}" y="${y + 4}" font-size="11.5">${esc(labelOf(r))}</text>\n`;
  });
  return `${s}</svg>\n`;
}

// ---------------------------------------------------------------------------------------------------
// throughput bars

export function throughputBarsSvg(input: readonly PlotRow[], subtitle = ''): string {
  const rows = groupByScenario(input);
  const m = { left: 300, right: 150, top: subtitle ? 80 : 60, bottom: 52 };
  const barH = 18;
  const gap = 7;
  const groupGap = 10;
  const plotW = WIDTH - m.left - m.right;
  // rows in their given order, with extra space where the scenario changes
  let y = m.top + 6;
  const placed = rows.map((r, i) => {
    if (i > 0 && rows[i - 1].scenario !== r.scenario) y += groupGap;
    const at = y;
    y += barH + gap;
    return { r, y: at };
  });
  const plotH = y - m.top;
  const height = m.top + plotH + m.bottom;
  const maxRps = Math.max(1, ...rows.map((r) => (Number.isFinite(r.rps) ? r.rps : 0)));
  const step = niceStep(maxRps / 5);
  const xMax = Math.ceil(maxRps / step) * step;
  const px = (v: number) => m.left + (Math.max(0, v) / xMax) * plotW;

  const title = 'Throughput — gate vs floor (req/s)';
  let s = svgOpen(height, title);
  s += `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="17" font-weight="bold">${esc(title)}</text>\n`;
  if (subtitle) s += `<text x="${WIDTH / 2}" y="43" text-anchor="middle" font-size="12" fill="#555555">${esc(subtitle)}</text>\n`;
  for (let v = 0; v <= xMax + step / 2; v += step) {
    const x = n1(px(v));
    s += `<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + plotH}" stroke="#e4e4e4"/>\n`;
    s += `<text x="${x}" y="${m.top + plotH + 16}" text-anchor="middle">${esc(v >= 1000 ? `${v / 1000}k` : String(v))}</text>\n`;
  }
  s += `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + plotH}" stroke="#333333"/>\n`;
  s += `<text x="${m.left + plotW / 2}" y="${height - 12}" text-anchor="middle" font-size="13">requests per second (higher is better)</text>\n`;

  for (const { r, y: by } of placed) {
    const floor = isFloor(r);
    const w = Math.max(0, px(r.rps) - m.left);
    const fill = floor ? '#bab0ac' : '#4e79a7';
    s += `<text x="${m.left - 8}" y="${n1(by + barH / 2 + 4)}" text-anchor="end" font-size="11.5">${esc(labelOf(r))}</text>\n`;
    s += `<rect class="bar" data-label="${esc(labelOf(r))}" x="${m.left}" y="${by}" width="${n1(w)}" height="${barH}" fill="${fill}"/>\n`;
    const ratio = !floor && r.ratio !== null && Number.isFinite(r.ratio) ? ` · ${r.ratio.toFixed(2)}× floor` : '';
    s += `<text x="${n1(m.left + w + 6)}" y="${n1(by + barH / 2 + 4)}" font-size="11.5"${ratio ? ' font-weight="bold"' : ' fill="#555555"'}>${esc(fmtInt(r.rps) + ratio)}</text>\n`;
  }
  // legend
  const ly = m.top - 12;
  s += `<rect x="${m.left}" y="${ly - 9}" width="12" height="10" fill="#4e79a7"/><text x="${m.left + 16}" y="${ly}">gate</text>\n`;
  s += `<rect x="${m.left + 60}" y="${ly - 9}" width="12" height="10" fill="#bab0ac"/><text x="${m.left + 76}" y="${ly}">floor (bare uWebSockets.js)</text>\n`;
  return `${s}</svg>\n`;
}

/** A tick step of 1, 2, 2.5 or 5 × 10^k at least `raw`. */
export function niceStep(raw: number): number {
  const mag = 10 ** Math.floor(Math.log10(raw > 0 ? raw : 1e-9));
  return ([1, 2, 2.5, 5].find((k) => k * mag >= raw) ?? 10) * mag; // mag <= raw < 10 * mag
}

// ---------------------------------------------------------------------------------------------------
// files

function subtitleOf(result: PlotResult): string {
  const parts: string[] = [];
  if (result.when) parts.push(result.when.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
  if (result.quick !== undefined) parts.push(result.quick ? 'quick run' : 'full run');
  if (result.loadGenerator) parts.push(`load: ${result.loadGenerator}`);
  const mc = result.machine;
  if (mc) parts.push([mc.node ? `node ${mc.node}` : '', mc.cpu ?? '', mc.cores ? `${mc.cores} cores` : ''].filter(Boolean).join(', '));
  return parts.join(' · ');
}

/**
 * Writes bench-<stamp>-latency.svg and bench-<stamp>-throughput.svg into `dir`, and latency-latest.svg and
 * throughput-latest.svg into each of `latestDirs` (default: `dir`; none when the result is not the latest
 * run). Draws each chart once; returns the paths written.
 */
export function writePlots(result: PlotResult, dir: string, stamp: string, latestDirs: readonly string[] = [dir]): string[] {
  const sub = subtitleOf(result);
  const latency = latencyPlotSvg(result.rows, sub);
  const throughput = throughputBarsSvg(result.rows, sub);
  const files: Array<[string, string]> = [
    [join(dir, `bench-${stamp}-latency.svg`), latency],
    [join(dir, `bench-${stamp}-throughput.svg`), throughput],
    ...latestDirs.flatMap((d): Array<[string, string]> => [
      [join(d, 'latency-latest.svg'), latency],
      [join(d, 'throughput-latest.svg'), throughput],
    ]),
  ];
  return files.map(([path, text]) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  });
}

/**
 * What the CLI does with `file`: the stamp of the per-run SVGs (from a bench-<stamp>.json name, else the
 * result's `when`), and where the *-latest.svg copies go — next to the JSON and to `docsDir` only when
 * `file` is bench-latest.json, so that plotting an older run does not overwrite the latest charts.
 */
export function cliTargets(file: string, when: string | undefined, docsDir: string): { stamp: string; latestDirs: string[] } {
  const m = /^bench-(.+)\.json$/.exec(basename(file));
  const latest = m !== null && m[1] === 'latest';
  const stamp = m && !latest ? m[1] : (when ?? new Date().toISOString()).replace(/:/g, '-');
  return { stamp, latestDirs: latest ? [dirname(file), docsDir] : [] };
}

// ---------------------------------------------------------------------------------------------------
// CLI: tsx bench/plot.ts [json]

const USAGE = `usage: npx tsx bench/plot.ts [bench/results/bench-latest.json]
  the plots of one bench result next to it; given bench-latest.json (the default), the *-latest.svg copies
  also go to docs/img/`;

function cli(): void {
  const here = dirname(fileURLToPath(import.meta.url));
  const { positionals } = parseFlagsOrExit(process.argv.slice(2), {}, USAGE, { positionals: true });
  if (positionals.length > 1) {
    process.stderr.write(`unexpected argument ${JSON.stringify(positionals[1])}: one result file at most; see --help\n${USAGE}\n`);
    process.exit(2);
  }
  const file = resolve(positionals[0] ?? join(here, 'results', 'bench-latest.json'));
  const result = JSON.parse(readFileSync(file, 'utf8')) as PlotResult;
  if (!Array.isArray(result.rows)) throw new Error(`${file}: no "rows" array`);
  const { stamp, latestDirs } = cliTargets(file, result.when, join(here, '..', 'docs', 'img'));
  const written = writePlots(result, dirname(file), stamp, latestDirs);
  process.stderr.write(`plots from ${file}:\n${written.map((p) => `  ${p}`).join('\n')}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) cli();
