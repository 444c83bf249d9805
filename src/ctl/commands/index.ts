import type { CommandDef } from '../args.ts';
import { archive } from './archive.ts';
import type { Command } from './command.ts';
import { limits, setLimit, tradingState } from './controls.ts';
import { arm, cooloff, disarm, reset } from './guard.ts';
import { riskSet, riskSnapshot } from './risk.ts';
import { rotateToken } from './rotate-token.ts';
import { status } from './status.ts';
import { verifyArchive } from './verify-archive.ts';

/** Every command, in the order `--help` lists them. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  [status, arm, disarm, cooloff, reset, riskSnapshot, riskSet, tradingState, limits, setLimit, rotateToken, archive, verifyArchive].map((c) => [c.def.name, c]),
);

export const COMMAND_DEFS: ReadonlyMap<string, CommandDef> = new Map([...COMMANDS].map(([n, c]) => [n, c.def]));
