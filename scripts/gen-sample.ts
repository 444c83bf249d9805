/**
 * Writes a seeded synthetic replay feed (docs/replay-format.md):
 *   npm run sample -- --seed 42 --minutes 10 --out samples/replay-sample.jsonl --scenarios spoof_wall,crash@240
 * Every option of SyntheticOptions is accepted as --kebab-case (e.g. --level-spacing-ticks 5);
 * the scenario schedule (absolute times) is printed to stdout as JSON.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeSynthetic } from '../src/runner/feed/synthetic.ts';
import { FlagError, parseFlags, type FlagSpec } from '../src/util/flags.ts';
import { parseScenarioList, SyntheticOptions } from '../src/runner/feed/synthetic-options.ts';

const USAGE = `usage: npm run sample -- --out FILE [--seed N] [--minutes M] [--scenarios a,b@secs,...] [--<option> value ...]
options: ${Object.keys(SyntheticOptions.properties)
  .filter((k) => k !== 'scenarios')
  .map((k) => '--' + k.replaceAll('_', '-'))
  .join(' ')}
scenarios: spoof_wall, spread_blowout, stale_feed, latency_spike, crash (name@seconds sets the start)`;

/** `--out`, `--scenarios`, and every other SyntheticOptions key as --kebab-case (--snake_case too), all taking a value. */
function flagSpecs(): Record<string, FlagSpec> {
  const specs: Record<string, FlagSpec> = { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } };
  for (const key of Object.keys(SyntheticOptions.properties)) specs[key] = specs[key.replaceAll('_', '-')] = { type: 'string' };
  return specs;
}

function parseArgs(argv: string[]): { out: string; options: Record<string, unknown> } {
  const { given } = parseFlags(argv, flagSpecs());
  if (given.some((g) => g.name === 'help')) {
    console.log(USAGE);
    process.exit(0);
  }
  const options: Record<string, unknown> = {};
  let out: string | undefined;
  const props = SyntheticOptions.properties as Record<string, { type?: string }>;
  for (const { name, rawName, value = '' } of given) {
    const key = name.replaceAll('-', '_');
    if (key === 'out') out = value;
    else if (key === 'scenarios') options.scenarios = parseScenarioList(value);
    else {
      const type = props[key].type;
      if (type === 'number' || type === 'integer') {
        const n = Number(value);
        if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`${rawName} must be a number, got "${value}"`);
        options[key] = n;
      } else options[key] = value;
    }
  }
  if (!out) throw new Error('--out FILE is required');
  return { out, options };
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}${e instanceof FlagError ? '; see --help' : ''}\n${USAGE}`);
    process.exit(2);
  }
  mkdirSync(dirname(args.out), { recursive: true });
  const t0 = performance.now();
  const { schedule, lines, options } = await writeSynthetic(args.out, args.options);
  const bytes = statSync(args.out).size;
  console.error(
    `wrote ${args.out}: ${lines} lines, ${(bytes / 1e6).toFixed(2)} MB, ${options.minutes} min of ${options.symbol}, ` +
      `seed ${options.seed}, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const rel = (ms: number) => (ms - options.start_ms) / 1000;
  console.log(
    JSON.stringify(
      schedule.map((s) => ({ name: s.name, start_ms: s.startMs, end_ms: s.endMs, start_s: rel(s.startMs), end_s: rel(s.endMs) })),
      null,
      2,
    ),
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
