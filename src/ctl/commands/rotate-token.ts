import { envString } from '../../config/env.ts';
import { MIN_TOKEN_LENGTH, tokenProblem } from '../../config/resolve.ts';
import { EXIT_OK, UsageError } from '../errors.ts';
import { jsonLine } from '../format.ts';
import { GateRefusal } from '../http.ts';
import { expectShape, OkReply } from '../replies.ts';
import { gateOf, type Command } from './command.ts';

/** 32 random bytes, base64url: 43 characters, no whitespace, well above the gate's minimum. */
function generateToken(random: (n: number) => Uint8Array): string {
  return Buffer.from(random(32)).toString('base64url');
}

export const rotateToken: Command = {
  def: {
    name: 'rotate-token',
    summary: 'replace the ops token (POST /ops/rotate_token); the old one stops working at once',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    flags: [{ name: 'new-token', value: 'TOKEN', help: 'the new token (default $NEW_OPS_TOKEN, else a random one, printed once)' }],
    token: 'required',
    help: [
      `The new token needs ${MIN_TOKEN_LENGTH}+ characters and no whitespace. Without --new-token / $NEW_OPS_TOKEN a`,
      'random 32-byte base64url token is generated and printed ONCE on stdout: store it before closing the terminal.',
      'The rotated token lives in the gate\'s memory only: after a restart the gate uses $OPS_TOKEN again.',
      'The gate refuses a second rotation within 30 s (429 rotation_cooldown).',
    ],
  },
  async run(ctx) {
    const given = ctx.args.flags.get('new-token');
    const fromEnv = envString(ctx.env, 'NEW_OPS_TOKEN');
    let token: string;
    let generated = false;
    if (typeof given === 'string') token = given.trim();
    else if (fromEnv !== undefined) token = fromEnv;
    else {
      token = generateToken(ctx.io.randomBytes);
      generated = true;
    }
    const problem = tokenProblem(token);
    if (problem !== null) {
      // never echo the rejected value: it may be a real secret with a typo
      throw new UsageError(`rotate-token: the new token ${problem}`, 'rotate-token');
    }
    const reply = await gateOf(ctx).request('POST', '/ops/rotate_token', { ops: true, body: { new_token: token } });
    if (reply.status !== 200) throw new GateRefusal(reply, 'rotate-token');
    expectShape(OkReply, reply, 'rotate-token');
    if (ctx.json) ctx.io.out(jsonLine(generated ? { status: 'ok', new_token: token } : { status: 'ok' }));
    else if (generated) {
      ctx.io.out(
        'token rotated; the previous token no longer works.\n' +
          'NEW OPS TOKEN (shown only this once; store it now, e.g. as OPS_TOKEN in your secret store):\n' +
          `${token}\n`,
      );
    } else ctx.io.out('token rotated; the previous token no longer works.\n');
    ctx.io.err('note: the rotated token is kept in memory only; a gate restart returns to $OPS_TOKEN.\n');
    return EXIT_OK;
  },
};
