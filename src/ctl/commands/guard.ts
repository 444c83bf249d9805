import { EXIT_OK, UsageError } from '../errors.ts';
import { guardWords, jsonLine } from '../format.ts';
import { GateRefusal, type GateReply } from '../http.ts';
import { CooloffReply, expectShape, StateReply } from '../replies.ts';
import { gateOf, type Command, type CommandContext } from './command.ts';

/** The HealthGuard commands (service.md 5.1): arm, disarm, cooloff <sec>, reset. */

async function stateChange(ctx: CommandContext, path: string, what: string, verb: string): Promise<number> {
  const reply = await gateOf(ctx).request('POST', path, { ops: true });
  if (reply.status !== 200) throw new GateRefusal(reply, what);
  const body = expectShape<StateReply>(StateReply, reply, what);
  if (ctx.json) ctx.io.out(jsonLine(body));
  else ctx.io.out(`${verb}: ${guardWords(body.state, ctx.io.nowMs())}\n`);
  return EXIT_OK;
}

export const arm: Command = {
  def: { name: 'arm', summary: 'arm the gate (POST /aurora/arm): checks are decided again', args: '', minArgs: 0, maxArgs: 0, flags: [], token: 'required' },
  run: (ctx) => stateChange(ctx, '/aurora/arm', 'arm', 'armed'),
};

export const disarm: Command = {
  def: {
    name: 'disarm',
    summary: 'disarm the gate (POST /aurora/disarm): every check is denied latency_disarmed',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    flags: [],
    token: 'required',
  },
  run: (ctx) => stateChange(ctx, '/aurora/disarm', 'disarm', 'disarmed'),
};

export const reset: Command = {
  def: {
    name: 'reset',
    summary: 'clear cool-off, halt and the kill switch (POST /ops/reset); armed/disarmed is kept',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    flags: [],
    token: 'required',
  },
  run: (ctx) => stateChange(ctx, '/ops/reset', 'reset', 'reset'),
};

export const cooloff: Command = {
  def: {
    name: 'cooloff',
    summary: 'block checks for <sec> seconds (POST /ops/cooloff/<sec>); it can only lengthen a cool-off',
    args: '<sec>',
    minArgs: 1,
    maxArgs: 1,
    flags: [],
    token: 'required',
    help: ['<sec> is a whole number of seconds (the gate accepts up to 86400).', 'A shorter cool-off than the one in force changes nothing; `reset` clears it.'],
  },
  async run(ctx) {
    const sec = ctx.args.positionals[0];
    if (!/^\d{1,12}$/.test(sec)) throw new UsageError(`cooloff: <sec> must be a whole number of seconds >= 0, got ${JSON.stringify(sec)}`, 'cooloff');
    const reply: GateReply = await gateOf(ctx).request('POST', `/ops/cooloff/${sec}`, { ops: true });
    if (reply.status !== 200) throw new GateRefusal(reply, 'cooloff');
    const body = expectShape<CooloffReply>(CooloffReply, reply, 'cooloff');
    if (ctx.json) ctx.io.out(jsonLine(body));
    else ctx.io.out(`cool-off: ${guardWords({ cooloff_until: body.until }, ctx.io.nowMs())}\n`);
    return EXIT_OK;
  },
};
