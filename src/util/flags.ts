/**
 * Command-line flags for every CLI of the project (ctl, runner, bench, soak, scripts) on Node's own
 * `util.parseArgs`: it tokenises (`--name value`, `--name=value`, `-h`, short groups, `--`), this module
 * checks each token against the declared options the way parseArgs' strict mode does, but with
 * messages that name the flag (the CLIs add where their --help is), and with two deliberate
 * differences that keep the CLIs' existing behaviour:
 * - a string option takes the next argument as its value even when it starts with `-` (strict mode
 *   refuses `--token -abc` as "ambiguous"; a generated token can start with `-`);
 * - with `negativeNumbers`, arguments such as `-5` are positionals (strict mode: an unknown short
 *   option), so a command can refuse them with its own precise message.
 */
import { parseArgs } from 'node:util';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** repeatable: the values are collected in order (otherwise the last occurrence wins) */
  multiple?: boolean;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type One<S extends FlagSpec> = S['type'] extends 'string' ? string : boolean;

/** The values given, typed by the specs (absent flags are undefined). */
export type FlagValues<O extends FlagSpecs> = { -readonly [K in keyof O]?: O[K]['multiple'] extends true ? One<O[K]>[] : One<O[K]> };

/** One option as given on the command line. */
export interface GivenFlag<O extends FlagSpecs> {
  name: keyof O & string;
  /** as typed, e.g. `--seed` or `-h` */
  rawName: string;
  /** string options: the value; switches: undefined */
  value: string | undefined;
}

export interface ParsedFlags<O extends FlagSpecs> {
  values: FlagValues<O>;
  positionals: string[];
  /** the options in command-line order, for flags whose effect depends on it */
  given: GivenFlag<O>[];
}

export type FlagErrorKind = 'unknown-option' | 'missing-value' | 'unexpected-value' | 'unexpected-argument';

/** A command line that does not fit the declared options; `flag` is the flag (or argument) at fault. */
export class FlagError extends Error {
  constructor(
    readonly kind: FlagErrorKind,
    readonly flag: string,
    message: string,
  ) {
    super(message);
    this.name = 'FlagError';
  }
}

export interface ParseFlagsOptions {
  /** positional arguments are accepted (default: refused) */
  positionals?: boolean;
  /** `-5`, `-0.5`: positionals rather than unknown short options (needs `positionals`) */
  negativeNumbers?: boolean;
}

const NEGATIVE_NUMBER = /^-\d/;

/** Parses `args` against `options`; throws FlagError (unknown option, missing value, value on a switch, unexpected argument). */
export function parseFlags<O extends FlagSpecs>(args: readonly string[], options: O, how: ParseFlagsOptions = {}): ParsedFlags<O> {
  const { tokens } = parseArgs({ args: [...args], options: options as Record<string, FlagSpec>, strict: false, allowPositionals: true, tokens: true });
  const positionals: string[] = [];
  const given: GivenFlag<O>[] = [];
  let lastNegativeAt = -1;
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      if (how.positionals !== true) throw new FlagError('unexpected-argument', t.value, `unexpected argument ${JSON.stringify(t.value)}`);
      positionals.push(t.value);
      continue;
    }
    const arg = args[t.index];
    if (how.negativeNumbers === true && how.positionals === true && NEGATIVE_NUMBER.test(arg)) {
      // parseArgs reads `-55` as the short group `-5 -5`: one positional per argument
      if (t.index !== lastNegativeAt) positionals.push(arg);
      lastNegativeAt = t.index;
      continue;
    }
    const spec = Object.hasOwn(options, t.name) ? options[t.name] : undefined;
    if (spec === undefined) throw new FlagError('unknown-option', t.rawName, `unknown option ${t.rawName}`);
    if (spec.type === 'string' && t.value === undefined) throw new FlagError('missing-value', t.rawName, `${t.rawName} needs a value`);
    if (spec.type === 'boolean' && t.value !== undefined) throw new FlagError('unexpected-value', t.rawName, `${t.rawName} takes no value`);
    given.push({ name: t.name as keyof O & string, rawName: t.rawName, value: t.value });
  }
  // the values from the checked tokens (parseArgs' own `values` would include the tokens of `-5h`)
  const typed: Record<string, unknown> = {};
  for (const g of given) {
    const v = options[g.name].type === 'string' ? g.value : true;
    if (options[g.name].multiple === true) ((typed[g.name] ??= []) as unknown[]).push(v);
    else typed[g.name] = v;
  }
  return { values: typed as FlagValues<O>, positionals, given };
}

/**
 * For scripts: parseFlags over `argv` with a `-h, --help` switch added; prints `usage` and exits 0 on
 * --help, prints the error (naming the flag) and the usage and exits 2 on a bad command line.
 */
export function parseFlagsOrExit<O extends FlagSpecs>(argv: readonly string[], options: O, usage: string, how: ParseFlagsOptions = {}): ParsedFlags<O> {
  let parsed: ParsedFlags<O & { help: { type: 'boolean'; short: 'h' } }>;
  try {
    parsed = parseFlags(argv, { ...options, help: { type: 'boolean', short: 'h' } } as O & { help: { type: 'boolean'; short: 'h' } }, how);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    process.stderr.write(`${e.message}; see --help\n${usage}\n`);
    process.exit(2);
  }
  if (parsed.values.help === true) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return { values: parsed.values as FlagValues<O>, positionals: parsed.positionals, given: parsed.given.filter((g) => g.name !== 'help') as GivenFlag<O>[] };
}
