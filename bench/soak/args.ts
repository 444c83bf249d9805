/** Command line of `npm run soak -- [options]` (bench/soak.ts). Pure: argv in, options or an error out. */
import { FlagError, parseFlags, type FlagSpecs, type FlagValues } from '../../src/util/flags.ts';

type Transport = 'http' | 'ws';

export interface SoakOptions {
  /** length of the constant-rate phase */
  minutes: number;
  /** requests per second; null = measure the maximum first and use `fraction` of it */
  rate: number | null;
  fraction: number;
  transport: Transport;
  /** HTTP keep-alive connections (each carries one request at a time) */
  connections: number;
  /** seconds between samples */
  sampleS: number;
  /** seconds of the run treated as warm-up; null = min(60 s, 20 % of the run) */
  warmupS: number | null;
  /** seconds of the closed-loop maximum-rate measurement */
  calibrateS: number;
  /** AURORA_POOL_THREADS for the gate; null = the gate's default (one per core) */
  pool: number | null;
  /** extra environment for the gate (`--env KEY=VALUE`, repeatable) */
  env: Record<string, string>;
  /** RSS growth after warm-up that still passes, percent */
  maxRssGrowthPct: number;
  /** keep the session directory (the journal) even when the run passes */
  keep: boolean;
}

const USAGE = `usage: npm run soak -- [--minutes N] [--rate R | --fraction F] [--transport http|ws]
       [--connections C] [--sample-s S] [--warmup-s W] [--calibrate-s S] [--pool N] [--env KEY=VALUE]...
       [--max-rss-growth-pct P] [--keep]
  --minutes N        length of the constant-rate phase (default 10; 1 for a quick check)
  --rate R           requests per second; without it the maximum is measured first (closed loop,
                     --calibrate-s seconds) and --fraction of it is used (default 0.5)
  --fraction F       the share of the measured maximum to drive, 0.01 .. 1 (default 0.5)
  --transport T      http (default: keep-alive connections, one request in flight each) or ws (one connection)
  --connections C    HTTP connections (default 64)
  --sample-s S       seconds between samples (default 5)
  --warmup-s W       seconds excluded from the growth figures (default min(60, 20 % of the run))
  --calibrate-s S    seconds of the closed-loop maximum-rate measurement (default 8)
  --pool N           AURORA_POOL_THREADS (default: the gate's own default, one per core)
  --env KEY=VALUE    extra environment for the gate, e.g. --env AURORA_JOURNAL_ENABLED=0
  --max-rss-growth-pct P  RSS growth after warm-up that still passes, percent (default 10)
  --keep             keep the session directory (the journal) even when the run passes
  -h, --help         this text`;

const num = (flag: string, v: string | undefined, min: number, max = Infinity): number => {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new Error(`${flag}: expected a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
};

const FLAGS = {
  minutes: { type: 'string' },
  rate: { type: 'string' },
  fraction: { type: 'string' },
  transport: { type: 'string' },
  connections: { type: 'string' },
  'sample-s': { type: 'string' },
  'warmup-s': { type: 'string' },
  'calibrate-s': { type: 'string' },
  pool: { type: 'string' },
  'max-rss-growth-pct': { type: 'string' },
  keep: { type: 'boolean' },
  env: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const satisfies FlagSpecs;

/** argv -> options (node:util parseArgs through parseFlags); `--help` and every error throw, the message says what to do. */
export function parseArgs(argv: readonly string[]): SoakOptions {
  let v: FlagValues<typeof FLAGS>;
  try {
    v = parseFlags(argv, FLAGS).values;
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    const what = e.kind === 'unknown-option' ? `unknown option ${JSON.stringify(e.flag)}` : e.message;
    throw new Error(`${what}; see --help\n${USAGE}`);
  }
  if (v.help === true) throw new Error(USAGE);
  const o: SoakOptions = {
    minutes: 10,
    rate: null,
    fraction: 0.5,
    transport: 'http',
    connections: 64,
    sampleS: 5,
    warmupS: null,
    calibrateS: 8,
    pool: null,
    env: {},
    maxRssGrowthPct: 10,
    keep: v.keep === true,
  };
  if (v.minutes !== undefined) o.minutes = num('--minutes', v.minutes, 0.05, 24 * 60);
  if (v.rate !== undefined) o.rate = num('--rate', v.rate, 1);
  if (v.fraction !== undefined) o.fraction = num('--fraction', v.fraction, 0.01, 1);
  if (v.transport !== undefined) {
    const t = v.transport;
    if (t !== 'http' && t !== 'ws') throw new Error(`--transport: http or ws, got ${JSON.stringify(t)}`);
    o.transport = t;
  }
  if (v.connections !== undefined) o.connections = Math.round(num('--connections', v.connections, 1, 4096));
  if (v['sample-s'] !== undefined) o.sampleS = num('--sample-s', v['sample-s'], 0.5, 600);
  if (v['warmup-s'] !== undefined) o.warmupS = num('--warmup-s', v['warmup-s'], 0);
  if (v['calibrate-s'] !== undefined) o.calibrateS = num('--calibrate-s', v['calibrate-s'], 1, 120);
  if (v.pool !== undefined) o.pool = Math.round(num('--pool', v.pool, 0, 64));
  if (v['max-rss-growth-pct'] !== undefined) o.maxRssGrowthPct = num('--max-rss-growth-pct', v['max-rss-growth-pct'], 0);
  for (const kv of v.env ?? []) {
    const k = kv.indexOf('=');
    if (k <= 0) throw new Error(`--env: expected KEY=VALUE, got ${JSON.stringify(kv)}`);
    o.env[kv.slice(0, k)] = kv.slice(k + 1);
  }
  return o;
}

/** Warm-up length in seconds: the explicit value, else min(60 s, 20 % of the run). */
export function warmupSeconds(o: Pick<SoakOptions, 'minutes' | 'warmupS'>): number {
  return o.warmupS ?? Math.min(60, 0.2 * o.minutes * 60);
}
