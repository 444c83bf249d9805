/** Command line of `npm run soak -- [options]` (bench/soak.ts). Pure: argv in, options or an error out. */

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
  --transport T      http (default: keep-alive connections, one request in flight each) or ws (one connection)
  --connections C    HTTP connections (default 64)
  --sample-s S       seconds between samples (default 5)
  --warmup-s W       seconds excluded from the growth figures (default min(60, 20 % of the run))
  --pool N           AURORA_POOL_THREADS (default: the gate's own default, one per core)
  --env KEY=VALUE    extra environment for the gate, e.g. --env AURORA_JOURNAL_ENABLED=0
  --keep             keep the session directory (the journal) even when the run passes`;

const num = (flag: string, v: string | undefined, min: number, max = Infinity): number => {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new Error(`${flag}: expected a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
};

export function parseArgs(argv: readonly string[]): SoakOptions {
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
    keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = flag !== a ? a.slice(eq + 1) : undefined;
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--minutes':
        o.minutes = num(flag, value(), 0.05, 24 * 60);
        break;
      case '--rate':
        o.rate = num(flag, value(), 1);
        break;
      case '--fraction':
        o.fraction = num(flag, value(), 0.01, 1);
        break;
      case '--transport': {
        const t = value();
        if (t !== 'http' && t !== 'ws') throw new Error(`--transport: http or ws, got ${JSON.stringify(t)}`);
        o.transport = t;
        break;
      }
      case '--connections':
        o.connections = Math.round(num(flag, value(), 1, 4096));
        break;
      case '--sample-s':
        o.sampleS = num(flag, value(), 0.5, 600);
        break;
      case '--warmup-s':
        o.warmupS = num(flag, value(), 0);
        break;
      case '--calibrate-s':
        o.calibrateS = num(flag, value(), 1, 120);
        break;
      case '--pool':
        o.pool = Math.round(num(flag, value(), 0, 64));
        break;
      case '--max-rss-growth-pct':
        o.maxRssGrowthPct = num(flag, value(), 0);
        break;
      case '--keep':
        o.keep = true;
        break;
      case '--env': {
        const kv = value();
        const k = kv === undefined ? -1 : kv.indexOf('=');
        if (k <= 0) throw new Error(`--env: expected KEY=VALUE, got ${JSON.stringify(kv)}`);
        o.env[kv.slice(0, k)] = kv.slice(k + 1);
        break;
      }
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown option ${JSON.stringify(a)}\n${USAGE}`);
    }
  }
  return o;
}

/** Warm-up length in seconds: the explicit value, else min(60 s, 20 % of the run). */
export function warmupSeconds(o: Pick<SoakOptions, 'minutes' | 'warmupS'>): number {
  return o.warmupS ?? Math.min(60, 0.2 * o.minutes * 60);
}
