import { FlagError, parseFlags, type FlagSpec, type ParsedFlags } from '../util/flags.ts';
import { UsageError } from './errors.ts';

/** One `--flag`: `value` names its argument (absent = a boolean switch). */
export interface FlagDef {
  name: string;
  value?: string;
  help: string;
}

/** What a command accepts; `token` says whether it talks to the ops endpoints. */
export interface CommandDef {
  name: string;
  summary: string;
  /** positional part of the usage line, e.g. `<sec>` */
  args: string;
  minArgs: number;
  maxArgs: number;
  flags: readonly FlagDef[];
  /** required: ops endpoints (missing token = usage error); optional: used if given; none: local only */
  token: 'required' | 'optional' | 'none';
  /** extra lines for `<command> --help` */
  help?: readonly string[];
}

const BASE_FLAGS: readonly FlagDef[] = [
  { name: 'json', help: 'print machine-readable JSON on stdout' },
  { name: 'help', help: 'show help (also per command)' },
];

const GATE_FLAGS: readonly FlagDef[] = [
  { name: 'url', value: 'URL', help: 'the gate (default $AURORA_URL, else http://127.0.0.1:8037)' },
  { name: 'token', value: 'TOKEN', help: 'ops token (default $OPS_TOKEN, then $AURORA_OPS_TOKEN); prefer the env: argv is visible to other users' },
  { name: 'timeout-ms', value: 'MS', help: 'per-request timeout (default 5000)' },
  { name: 'verbose', help: 'log each request to stderr (the token masked)' },
];

/** Every flag a command accepts: its own, the base ones, and the gate ones if it talks to the gate. */
export function flagsOf(cmd: CommandDef): FlagDef[] {
  return [...cmd.flags, ...(cmd.token === 'none' ? [] : GATE_FLAGS), ...BASE_FLAGS];
}

export interface ParsedArgs {
  command: string | null;
  positionals: string[];
  /** flag name -> value (`true` for switches); the last occurrence wins */
  flags: Map<string, string | true>;
}

/** The parseFlags options for every flag of every command (a command's own flags may come before it). */
function flagSpecs(commands: ReadonlyMap<string, CommandDef>): { specs: Record<string, FlagSpec>; defs: Map<string, FlagDef> } {
  const defs = new Map<string, FlagDef>();
  for (const f of [...GATE_FLAGS, ...BASE_FLAGS]) defs.set(f.name, f);
  for (const c of commands.values()) for (const f of c.flags) defs.set(f.name, f);
  const specs: Record<string, FlagSpec> = {};
  for (const f of defs.values()) specs[f.name] = { type: f.value === undefined ? 'boolean' : 'string', ...(f.name === 'help' ? { short: 'h' } : {}) };
  return { specs, defs };
}

/**
 * Splits argv into the command, its positionals and flags (node:util parseArgs through parseFlags:
 * `--name value`, `--name=value`, `-h`; `--` ends the flags). Flags may come before or after the
 * command. Tokens such as `-5` are taken as positionals so the command can reject them with a precise
 * message. Unknown options, a missing value and a value on a switch are usage errors naming the flag.
 */
export function parseArgs(argv: readonly string[], commands: ReadonlyMap<string, CommandDef>): ParsedArgs {
  const { specs, defs } = flagSpecs(commands);
  let parsed: ParsedFlags<Record<string, FlagSpec>>;
  try {
    parsed = parseFlags(argv, specs, { positionals: true, negativeNumbers: true });
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    // the usage line shown under the message is the command's, when one was named
    const command = argv.find((a) => commands.has(a)) ?? null;
    const metavar = err.kind === 'missing-value' ? defs.get(err.flag.replace(/^--/, ''))?.value : undefined;
    throw new UsageError(`${err.message}${metavar ? ` (${metavar})` : ''}; see --help`, command);
  }
  const [command = null, ...positionals] = parsed.positionals;
  const flags = new Map<string, string | true>();
  for (const [name, value] of Object.entries(parsed.values)) flags.set(name, value === true ? true : String(value));
  return { command, positionals, flags };
}

/** Checks flags and positionals against the command (after `parseArgs` found which one it is). */
export function checkAgainst(cmd: CommandDef, parsed: ParsedArgs): void {
  const allowed = new Set(flagsOf(cmd).map((f) => f.name));
  for (const name of parsed.flags.keys()) {
    if (!allowed.has(name)) throw new UsageError(`${cmd.name} does not take --${name}; see ${cmd.name} --help`, cmd.name);
  }
  const n = parsed.positionals.length;
  if (n < cmd.minArgs) throw new UsageError(`${cmd.name} needs ${cmd.args || 'no arguments'}`, cmd.name);
  if (n > cmd.maxArgs) throw new UsageError(`${cmd.name}: unexpected argument ${JSON.stringify(parsed.positionals[cmd.maxArgs])}`, cmd.name);
}

/** Reads a flag as a positive integer, with a default. */
export function intFlag(parsed: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const v = parsed.flags.get(name);
  if (v === undefined) return fallback;
  if (v === true || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`, parsed.command);
  }
  return Number(v);
}

export function stringFlag(parsed: ParsedArgs, name: string): string | undefined {
  const v = parsed.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function boolFlag(parsed: ParsedArgs, name: string): boolean {
  return parsed.flags.get(name) === true;
}
