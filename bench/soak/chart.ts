import { esc, niceStep } from '../plot.ts';
import type { Sample } from './summary.ts';

/**
 * The soak chart: two panels over the run's time axis (minutes) — memory (gate RSS and main-thread heap
 * in use, MiB) and latency (p50 and p99 of each sample window, ms) — with the warm-up shaded. Text is
 * escaped with bench/plot.ts's `esc`; the layout is this chart's own (plot.ts draws percentile and bar charts).
 */

const W = 900;
const M = { left: 70, right: 150, top: 56, bottom: 44 };
const PANEL_H = 220;
const GAP = 46;

interface Series {
  label: string;
  colour: string;
  width: number;
  pick: (s: Sample) => number;
}

/** A tick step of 1, 2, 2.5 or 5 × 10^k giving about `n` ticks over `span`. */
export function tickStep(span: number, n = 5): number {
  return niceStep(Math.max(span, 1e-9) / n);
}

const r1 = (v: number) => (Math.round(v * 10) / 10).toString();

function panel(samples: readonly Sample[], top: number, title: string, unit: string, series: Series[], xMax: number, warmupMin: number): string {
  const plotW = W - M.left - M.right;
  const values = samples.flatMap((s) => series.map((q) => q.pick(s))).filter((v) => Number.isFinite(v));
  const vMax = values.length ? Math.max(...values) : 1;
  const step = tickStep(vMax);
  const yMax = Math.max(step, Math.ceil((vMax * 1.05) / step) * step);
  const px = (min: number) => M.left + (min / xMax) * plotW;
  const py = (v: number) => top + PANEL_H - (v / yMax) * PANEL_H;
  let s = `<text x="${M.left}" y="${top - 10}" font-size="13" font-weight="bold">${esc(title)}</text>\n`;
  if (warmupMin > 0) s += `<rect x="${M.left}" y="${top}" width="${r1(px(Math.min(warmupMin, xMax)) - M.left)}" height="${PANEL_H}" fill="#f2f2f2"/>\n`;
  for (let v = 0; v <= yMax + step / 2; v += step) {
    s += `<line x1="${M.left}" y1="${r1(py(v))}" x2="${M.left + plotW}" y2="${r1(py(v))}" stroke="#e4e4e4"/>\n`;
    s += `<text x="${M.left - 6}" y="${r1(py(v) + 4)}" text-anchor="end">${esc(`${+v.toFixed(3)} ${unit}`)}</text>\n`;
  }
  const xs = tickStep(xMax, 8);
  for (let m = 0; m <= xMax * (1 + 1e-9); m += xs) {
    s += `<line x1="${r1(px(m))}" y1="${top}" x2="${r1(px(m))}" y2="${top + PANEL_H}" stroke="#eeeeee"/>\n`;
    s += `<text x="${r1(px(m))}" y="${top + PANEL_H + 16}" text-anchor="middle">${esc(`${+m.toFixed(2)}`)}</text>\n`;
  }
  s += `<rect x="${M.left}" y="${top}" width="${plotW}" height="${PANEL_H}" fill="none" stroke="#333333"/>\n`;
  series.forEach((q, k) => {
    const pts = samples.filter((x) => Number.isFinite(q.pick(x))).map((x) => `${r1(px(x.t / 60))},${r1(py(q.pick(x)))}`);
    s += `<polyline class="series" data-label="${esc(q.label)}" points="${pts.join(' ')}" fill="none" stroke="${q.colour}" stroke-width="${q.width}"/>\n`;
    const ly = top + 14 + k * 18;
    s += `<line x1="${W - M.right + 14}" y1="${ly}" x2="${W - M.right + 38}" y2="${ly}" stroke="${q.colour}" stroke-width="${q.width}"/>\n`;
    s += `<text x="${W - M.right + 44}" y="${ly + 4}">${esc(q.label)}</text>\n`;
  });
  return s;
}

/** The whole SVG document. `subtitle`: machine, rate, verdict. */
export function soakChartSvg(samples: readonly Sample[], warmupS: number, subtitle: string): string {
  const height = M.top + 2 * PANEL_H + GAP + M.bottom + 10;
  const xMax = Math.max(samples.length ? samples[samples.length - 1].t / 60 : 1, 1 / 60);
  const title = 'AURORA soak — gate memory and latency over time';
  let s =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">\n` +
    `<title>${esc(title)}</title>\n<rect x="0" y="0" width="${W}" height="${height}" fill="#ffffff"/>\n` +
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="17" font-weight="bold">${esc(title)}</text>\n` +
    `<text x="${W / 2}" y="40" text-anchor="middle" fill="#555555">${esc(subtitle)}</text>\n`;
  const MB = 2 ** 20;
  s += panel(samples, M.top + 10, 'memory (shaded: warm-up)', 'MiB', [
    { label: 'RSS', colour: 'hsl(210, 65%, 38%)', width: 2.2, pick: (x) => x.rss / MB },
    { label: 'heap used (main)', colour: 'hsl(130, 55%, 36%)', width: 1.8, pick: (x) => x.heapUsed / MB },
  ], xMax, warmupS / 60);
  s += panel(samples, M.top + 10 + PANEL_H + GAP, 'latency per sample window', 'ms', [
    { label: 'p99', colour: 'hsl(0, 65%, 45%)', width: 2.2, pick: (x) => x.p99 / 1000 },
    { label: 'p50', colour: 'hsl(28, 75%, 50%)', width: 1.6, pick: (x) => x.p50 / 1000 },
  ], xMax, warmupS / 60);
  s += `<text x="${M.left + (W - M.left - M.right) / 2}" y="${height - 10}" text-anchor="middle" font-size="13">minutes since the constant-rate phase started</text>\n`;
  return `${s}</svg>\n`;
}
