import { flagsOf, type CommandDef, type FlagDef } from './args.ts';

const PROG = 'npm run ctl --';

const flagLine = (f: FlagDef) => `  --${f.name}${f.value ? ` ${f.value}` : ''}`.padEnd(26) + f.help;

export function usageLine(c: CommandDef): string {
  return `${PROG} ${c.name}${c.args ? ` ${c.args}` : ''} [options]`;
}

/** `--help` without a command. */
export function globalHelp(commands: Iterable<CommandDef>): string {
  const list = [...commands];
  const width = Math.max(...list.map((c) => c.name.length)) + 2;
  return [
    'AURORA gate operator CLI',
    '',
    `usage: ${PROG} <command> [options]        (${PROG} <command> --help for details)`,
    '',
    'commands:',
    ...list.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'options for commands that talk to the gate:',
    ...flagsOf({ name: '', summary: '', args: '', minArgs: 0, maxArgs: 0, flags: [], token: 'optional' }).map(flagLine),
    '',
    'exit codes: 0 done; 1 the gate said no (error reply, unhealthy) or a check failed; 2 usage error; 3 gate unreachable',
    '',
  ].join('\n');
}

/** `<command> --help`. */
export function commandHelp(c: CommandDef): string {
  const needs = c.token === 'required' ? 'needs the ops token ($OPS_TOKEN or --token)' : c.token === 'optional' ? 'uses the ops token if available' : 'local: does not contact the gate';
  return [`usage: ${usageLine(c)}`, '', c.summary, `(${needs})`, ...(c.help ? ['', ...c.help] : []), '', 'options:', ...flagsOf(c).map(flagLine), ''].join('\n');
}
