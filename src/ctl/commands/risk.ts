import { EXIT_OK, UsageError } from '../errors.ts';
import { jsonLine } from '../format.ts';
import { GateRefusal } from '../http.ts';
import { expectShape, RiskReply } from '../replies.ts';
import { gateOf, type Command, type CommandContext } from './command.ts';

/** The live risk limits (service.md 1, `/risk/snapshot` and `/risk/set`). */

/** The keys `/risk/set` reads. The gate ignores unknown keys, so a typo is caught here instead. */
export const RISK_KEYS = ['dd_day_pct', 'max_concurrent', 'size_scale'] as const;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** `key=value` pairs into the `/risk/set` body (`null` = leave unchanged). Range checks are the gate's. */
export function riskBody(pairs: readonly string[]): Record<string, number | null> {
  const body: Record<string, number | null> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`risk-set: expected key=value, got ${JSON.stringify(p)}`, 'risk-set');
    const key = p.slice(0, eq);
    const raw = p.slice(eq + 1);
    if (!(RISK_KEYS as readonly string[]).includes(key)) throw new UsageError(`risk-set: unknown key ${JSON.stringify(key)} (known: ${RISK_KEYS.join(', ')})`, 'risk-set');
    if (key in body) throw new UsageError(`risk-set: ${key} given twice`, 'risk-set');
    if (raw === 'null') body[key] = null;
    else if (NUMBER.test(raw) && Number.isFinite(Number(raw))) body[key] = Number(raw);
    else throw new UsageError(`risk-set: ${key} must be a number or null, got ${JSON.stringify(raw)}`, 'risk-set');
  }
  return body;
}

function printRisk(ctx: CommandContext, body: RiskReply, label: string): void {
  if (ctx.json) ctx.io.out(jsonLine(body));
  else ctx.io.out(`${label}: ${RISK_KEYS.map((k) => `${k}=${body.risk[k]}`).join('  ')}\n`);
}

export const riskSnapshot: Command = {
  def: { name: 'risk-snapshot', summary: 'show the live risk limits (GET /risk/snapshot)', args: '', minArgs: 0, maxArgs: 0, flags: [], token: 'required' },
  async run(ctx) {
    const reply = await gateOf(ctx).request('GET', '/risk/snapshot', { ops: true });
    if (reply.status !== 200) throw new GateRefusal(reply, 'risk-snapshot');
    printRisk(ctx, expectShape<RiskReply>(RiskReply, reply, 'risk-snapshot'), 'risk');
    return EXIT_OK;
  },
};

export const riskSet: Command = {
  def: {
    name: 'risk-set',
    summary: 'change live risk limits (POST /risk/set), e.g. risk-set size_scale=0.5',
    args: 'key=value ...',
    minArgs: 1,
    maxArgs: RISK_KEYS.length,
    flags: [],
    token: 'required',
    help: [
      'keys: dd_day_pct (0 < x <= 100), max_concurrent (integer >= 0), size_scale (clamped to [0, 1] by the gate);',
      'value `null` leaves a key unchanged. Nothing is applied if any value is refused (422).',
      'The change lives in memory only: a restart returns to the configured limits.',
    ],
  },
  async run(ctx) {
    const body = riskBody(ctx.args.positionals);
    const reply = await gateOf(ctx).request('POST', '/risk/set', { ops: true, body });
    if (reply.status !== 200) throw new GateRefusal(reply, 'risk-set');
    printRisk(ctx, expectShape<RiskReply>(RiskReply, reply, 'risk-set'), 'risk now');
    return EXIT_OK;
  },
};
