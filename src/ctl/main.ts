import { checkAgainst, intFlag, parseArgs, type CommandDef, type ParsedArgs } from './args.ts';
import { envString, type Env } from '../config/env.ts';
import { maskToken } from '../config/resolve.ts';
import type { CommandContext } from './commands/command.ts';
import { COMMAND_DEFS, COMMANDS } from './commands/index.ts';
import { CtlError, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, UsageError } from './errors.ts';
import { commandHelp, globalHelp, usageLine } from './help.ts';
import { DEFAULT_TIMEOUT_MS, DEFAULT_URL, GateHttp, GateRefusal } from './http.ts';
import type { CtlIo } from './io.ts';

/**
 * `--token`, then $OPS_TOKEN, then $AURORA_OPS_TOKEN: the gate's own order and reading (envString:
 * trimmed, blank counts as unset), so a blank $OPS_TOKEN falls through to the alias as in the gate.
 */
function resolveToken(args: ParsedArgs, env: Env): string | null {
  const flag = args.flags.get('token');
  if (typeof flag === 'string') {
    if (flag.trim() === '') throw new UsageError('--token is empty', args.command);
    return flag.trim();
  }
  return envString(env, 'OPS_TOKEN') ?? envString(env, 'AURORA_OPS_TOKEN') ?? null;
}

function context(def: CommandDef, args: ParsedArgs, env: Env, io: CtlIo, token: string | null): CommandContext {
  const json = args.flags.get('json') === true;
  if (def.token === 'none') return { io, env, args, json, gate: null, hasToken: false };
  if (def.token === 'required' && token === null) {
    throw new UsageError(`${def.name} needs the ops token: set $OPS_TOKEN (or $AURORA_OPS_TOKEN), or pass --token`, def.name);
  }
  const flagUrl = args.flags.get('url');
  const url = typeof flagUrl === 'string' ? flagUrl : (envString(env, 'AURORA_URL') ?? DEFAULT_URL);
  const timeoutMs = intFlag(args, 'timeout-ms', DEFAULT_TIMEOUT_MS, 1, 600_000);
  const verbose = args.flags.get('verbose') === true;
  const gate = new GateHttp({ url, token, timeoutMs, trace: verbose ? (line) => io.err(`${line}\n`) : undefined });
  return { io, env, args, json, gate, hasToken: token !== null };
}

/**
 * Output with every occurrence of the ops token masked (maskToken: the gate's journal mask, `****` +
 * last 4): a last line of defence, never the first.
 */
function scrubbed(io: CtlIo, token: string | null): CtlIo {
  if (token === null || token.length < 4) return io;
  const clean = (t: string) => t.split(token).join(maskToken(token));
  return { ...io, out: (t) => io.out(clean(t)), err: (t) => io.err(clean(t)) };
}

/**
 * The whole CLI as a function: arguments, environment and io in, exit code out. Expected failures
 * print one message on stderr (usage errors with the usage line); nothing here calls process.exit.
 */
export async function main(argv: readonly string[], env: Env, rawIo: CtlIo): Promise<number> {
  let io = rawIo;
  let args: ParsedArgs | null = null;
  try {
    args = parseArgs(argv, COMMAND_DEFS);
    const token = resolveToken(args, env);
    io = scrubbed(rawIo, token);
    if (args.command === null || args.command === 'help') {
      const topic = args.command === 'help' ? args.positionals[0] : undefined;
      const def = topic === undefined ? undefined : COMMAND_DEFS.get(topic);
      if (topic !== undefined && def === undefined) throw new UsageError(`unknown command ${JSON.stringify(topic)}`);
      if (def !== undefined) io.out(commandHelp(def));
      else if (args.flags.get('help') === true || args.command === 'help') io.out(globalHelp(COMMAND_DEFS.values()));
      else throw new UsageError('no command given');
      return EXIT_OK;
    }
    const cmd = COMMANDS.get(args.command);
    if (cmd === undefined) throw new UsageError(`unknown command ${JSON.stringify(args.command)}`);
    if (args.flags.get('help') === true) {
      io.out(commandHelp(cmd.def));
      return EXIT_OK;
    }
    checkAgainst(cmd.def, args);
    return await cmd.run(context(cmd.def, args, env, io, token));
  } catch (err) {
    if (err instanceof UsageError) {
      const def = err.command === null ? undefined : COMMAND_DEFS.get(err.command);
      io.err(`error: ${err.message}\n${def ? `usage: ${usageLine(def)}` : 'run with --help for the commands'}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof GateRefusal && args?.flags.get('json') === true && err.reply.json !== undefined) {
      io.out(`${JSON.stringify(err.reply.json, null, 2)}\n`);
    }
    if (err instanceof CtlError) {
      io.err(`error: ${err.message}\n`);
      return err.exitCode;
    }
    io.err(`internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT_REFUSED;
  }
}
