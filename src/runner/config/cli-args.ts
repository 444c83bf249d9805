import { coerceText } from './coerce.ts';
import { ConfigError, setPath, type Tree } from './tree.ts';

export const USAGE = `usage: npm run runner -- --replay FILE [options]

  --replay FILE        replay a JSONL feed (mode replay; sets feed.path)
  --gate URL|stub      gate WebSocket URL (default ws://127.0.0.1:8037/ws) or "stub" (in-process fake gate)
  --report FILE        also write the summary JSON to FILE
  --json               print the summary JSON on stdout (instead of the table)
  --config FILE        YAML config (beats RUNNER_CONFIG)
  --mode M             replay | paper | testnet | live (only replay is implemented)
  --seed N             run seed (paper exchange jitter/rejects, reconnect jitter)
  --session-dir DIR    session directory (runner files go to DIR/runner/)
  --run-id ID          run id (default r<YYYYMMDD-hhmmss UTC>-<4 random hex digits>)
  --max-events N       replay only the first N feed events
  --max-runtime-s S    stop after S seconds of real (wall-clock) run time
  --no-progress        no progress line on stderr
  --set KEY=VALUE      any config key, e.g. --set gate.timeout_ms=200 (repeatable)
  -h, --help           this text

precedence: flags > RUNNER_* environment > YAML (RUNNER_CONFIG / --config) > defaults
exit codes: 0 ok, 2 flattening failed (a position stayed open), 3 configuration error, 1 crash`;

export interface CliArgs {
  /** config overrides from flags */
  overrides: Tree;
  configPath?: string;
  json: boolean;
  help: boolean;
}

/** Flags that set exactly one config key. */
const KEY_FLAGS: Readonly<Record<string, string>> = {
  '--replay': 'feed.path',
  '--gate': 'gate.url',
  '--report': 'report.path',
  '--mode': 'mode',
  '--seed': 'seed',
  '--session-dir': 'session_dir',
  '--run-id': 'run_id',
  '--max-events': 'feed.max_events',
  '--max-runtime-s': 'shutdown.max_runtime_s',
};

/** Parses the runner's command line; unknown flags and missing values are ConfigErrors (exit 3). */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const out: CliArgs = { overrides: {}, json: false, help: false };
  const set = (path: string, raw: string, flag: string) => setPath(out.overrides, path, coerceText(path, raw, `flag ${flag}`));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new ConfigError(`flag ${flag} needs a value`);
      return v;
    };
    if (flag === '-h' || flag === '--help') out.help = true;
    else if (flag === '--json') out.json = true;
    else if (flag === '--no-progress') setPath(out.overrides, 'report.progress_ms', 0);
    else if (flag === '--config') out.configPath = value();
    else if (flag === '--set') {
      const kv = value();
      const k = kv.indexOf('=');
      if (k <= 0) throw new ConfigError(`flag --set needs KEY=VALUE, got ${JSON.stringify(kv)}`);
      set(kv.slice(0, k).trim(), kv.slice(k + 1), '--set');
    } else if (Object.hasOwn(KEY_FLAGS, flag)) {
      set(KEY_FLAGS[flag], value(), flag);
      if (flag === '--replay' && !('mode' in out.overrides)) setPath(out.overrides, 'mode', 'replay');
    } else throw new ConfigError(`unknown flag ${JSON.stringify(arg)} (see --help)`);
  }
  return out;
}
