/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?\s*$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

/** Parses Prometheus text format 0.0.4 (comments and malformed lines skipped). */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    if (m[3] !== undefined && m[3].trim() !== '') {
      LABEL.lastIndex = 0;
      let lm: RegExpExecArray | null;
      let end = 0;
      while ((lm = LABEL.exec(m[3])) !== null) {
        labels[lm[1]] = lm[2].replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
        end = LABEL.lastIndex;
      }
      if (end !== m[3].length) continue; // labels that do not parse: skip the line rather than guess
    }
    const value = parseValue(m[4]);
    if (Number.isNaN(value) && m[4] !== 'NaN') continue;
    out.push({ name: m[1], labels, value });
  }
  return out;
}

function parseValue(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s); // NaN stays NaN
}

/** Sum of every sample of `name` whose labels include `match` (null when there is none). */
export function sumOf(samples: readonly Sample[], name: string, match: Record<string, string> = {}): number | null {
  let total: number | null = null;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (!Object.entries(match).every(([k, v]) => s.labels[k] === v)) continue;
    total = (total ?? 0) + s.value;
  }
  return total;
}

/**
 * The q-quantile of a cumulative histogram, interpolated linearly inside the bucket as Prometheus'
 * `histogram_quantile` does: the lowest bucket starts at 0; a rank in the +Inf bucket answers the
 * highest finite bound. Null when the histogram is absent or empty.
 */
export function histogramQuantile(q: number, samples: readonly Sample[], name: string): number | null {
  const buckets = samples
    .filter((s) => s.name === `${name}_bucket` && s.labels.le !== undefined)
    .map((s) => ({ le: parseValue(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
  if (buckets.length === 0 || buckets.at(-1)!.le !== Infinity) return null;
  const total = buckets.at(-1)!.count;
  if (!(total > 0)) return null;
  const rank = q * total;
  let i = buckets.findIndex((b) => b.count >= rank);
  if (i === -1) i = buckets.length - 1;
  if (buckets[i].le === Infinity) return buckets.length >= 2 ? buckets[buckets.length - 2].le : null;
  const lower = i === 0 ? 0 : buckets[i - 1].le;
  const below = i === 0 ? 0 : buckets[i - 1].count;
  const inBucket = buckets[i].count - below;
  if (inBucket <= 0) return buckets[i].le;
  return lower + (buckets[i].le - lower) * ((rank - below) / inBucket);
}
