import { FlagError, parseFlags, type FlagSpecs, type GivenFlag } from '../../util/flags.ts';
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
const KEY_FLAGS = {
  replay: 'feed.path',
  gate: 'gate.url',
  report: 'report.path',
  mode: 'mode',
  seed: 'seed',
  'session-dir': 'session_dir',
  'run-id': 'run_id',
  'max-events': 'feed.max_events',
  'max-runtime-s': 'shutdown.max_runtime_s',
} as const;

/** Every flag of USAGE, for node:util parseArgs (through parseFlags). */
const FLAGS = {
  ...(Object.fromEntries(Object.keys(KEY_FLAGS).map((k) => [k, { type: 'string' }])) as Record<keyof typeof KEY_FLAGS, { type: 'string' }>),
  json: { type: 'boolean' },
  config: { type: 'string' },
  'no-progress': { type: 'boolean' },
  set: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const satisfies FlagSpecs;

/**
 * Parses the runner's command line; unknown flags, missing values and stray arguments are
 * ConfigErrors (exit 3) naming the flag. Flags apply in command-line order (a later one that sets the
 * same key wins); --replay sets mode replay unless a flag before it set the mode.
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let given: GivenFlag<typeof FLAGS>[];
  try {
    given = parseFlags(argv, FLAGS).given;
  } catch (e) {
    if (e instanceof FlagError) throw new ConfigError(`${e.message}; see --help`);
    throw e;
  }
  const out: CliArgs = { overrides: {}, json: false, help: false };
  const set = (path: string, raw: string, flag: string) => setPath(out.overrides, path, coerceText(path, raw, `flag ${flag}`));
  for (const { name, rawName, value = '' } of given) {
    if (name === 'help') out.help = true;
    else if (name === 'json') out.json = true;
    else if (name === 'no-progress') setPath(out.overrides, 'report.progress_ms', 0);
    else if (name === 'config') out.configPath = value;
    else if (name === 'set') {
      const k = value.indexOf('=');
      if (k <= 0) throw new ConfigError(`flag --set needs KEY=VALUE, got ${JSON.stringify(value)}`);
      set(value.slice(0, k).trim(), value.slice(k + 1), '--set');
    } else {
      set(KEY_FLAGS[name], value, rawName);
      if (name === 'replay' && !('mode' in out.overrides)) setPath(out.overrides, 'mode', 'replay');
    }
  }
  return out;
}
