import type { Env } from '../../config/env.ts';
import type { CommandDef, ParsedArgs } from '../args.ts';
import type { GateHttp } from '../http.ts';
import type { CtlIo } from '../io.ts';

/** What a command runs with: its arguments and flags, already checked against its definition. */
export interface CommandContext {
  io: CtlIo;
  env: Env;
  args: ParsedArgs;
  json: boolean;
  /** null for commands that do not talk to the gate */
  gate: GateHttp | null;
  /** an ops token was given (flag or env); commands with `token: required` never run without one */
  hasToken: boolean;
}

export interface Command {
  def: CommandDef;
  /** resolves to the exit code; expected failures are thrown as CtlError */
  run(ctx: CommandContext): Promise<number>;
}

/** The gate client of a command that declared one (`token` not `none`). */
export function gateOf(ctx: CommandContext): GateHttp {
  if (ctx.gate === null) throw new Error('this command has no gate client');
  return ctx.gate;
}
