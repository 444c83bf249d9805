import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import { compileValidator } from '../../schema/validate.ts';

/** Paper exchange parameters (runner.md §4.3); the runner's config section `paper` can embed this schema. */
export const PaperParams = Type.Object({
  seed: Type.Integer({ default: 1, description: 'seed of the latency jitter and random rejects' }),
  start_equity_usdt: Type.Number({ exclusiveMinimum: 0, default: 10_000 }),
  leverage: Type.Number({ minimum: 1, maximum: 125, default: 1, description: 'margin = notional / leverage' }),
  ack_latency_ms: Type.Number({ minimum: 0, default: 20, description: 'request → ack/reject (round trip)' }),
  fill_latency_ms: Type.Number({ minimum: 0, default: 5, description: 'match → fill report' }),
  cancel_latency_ms: Type.Number({ minimum: 0, default: 20, description: 'cancel request → cancelled' }),
  jitter_ms: Type.Number({ minimum: 0, default: 5, description: 'uniform [0, jitter) added to each latency' }),
  reject_prob: Type.Number({ minimum: 0, maximum: 1, default: 0, description: 'probability of a random "rejected"' }),
  rate_limit_per_s: Type.Number({ minimum: 0, default: 10, description: 'orders per rolling second; 0 = unlimited' }),
  maker_bps: Type.Optional(Type.Number({ description: 'overrides market_info maker_bps' })),
  taker_bps: Type.Optional(Type.Number({ description: 'overrides market_info taker_bps' })),
  queue_model: Type.Literal('conservative', { default: 'conservative' }),
  fee_currency: Type.String({ default: 'USDT' }),
});
export type PaperParams = Static<typeof PaperParams>;

const validator = compileValidator<PaperParams>(PaperParams);

export function resolvePaperParams(input: Partial<PaperParams> = {}): PaperParams {
  const p = Value.Default(PaperParams, structuredClone(input)) as PaperParams;
  if (!validator.check(p)) {
    throw new RangeError(`invalid paper exchange params: ${validator.errors(p).map((e) => `${e.path} ${e.message}`).join('; ')}`);
  }
  return p;
}
