import Type, { type Static, type TSchema } from 'typebox';
import { GuardSnapshot, RiskLimits } from '../schema/ops.ts';
import { compileValidator, type Validator } from '../schema/validate.ts';
import { RefusedError } from './errors.ts';
import type { GateReply } from './http.ts';

/**
 * The gate's 200 replies as the CLI reads them (docs/api.md). Lenient on purpose: extra keys are
 * allowed and only what the CLI prints is required, so a newer gate does not break an older CLI.
 */
export const HealthReply = Type.Object({
  status: Type.String(),
  version: Type.Optional(Type.Object({ sha: Type.Optional(Type.String()), branch: Type.Optional(Type.String()) })),
  uptime_s: Type.Optional(Type.Number()),
  workers: Type.Optional(Type.Union([Type.Number(), Type.String()])),
  journal_failing: Type.Optional(Type.Boolean()),
});
export type HealthReply = Static<typeof HealthReply>;

export const VersionReply = Type.Object({ version: Type.String() });
export type VersionReply = Static<typeof VersionReply>;

export const ReadinessReply = Type.Object({
  halt: Type.Boolean(),
  armed: Type.Optional(Type.Boolean()),
  cooloff_until: Type.Optional(Type.Number()),
  journal_failing: Type.Optional(Type.Boolean()),
  workers_alive: Type.Optional(Type.Union([Type.Number(), Type.String()])),
  last_event_ts: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
});
export type ReadinessReply = Static<typeof ReadinessReply>;

export const StateReply = Type.Object({ status: Type.Literal('ok'), state: GuardSnapshot });
export type StateReply = Static<typeof StateReply>;

export const CooloffReply = Type.Object({ status: Type.Literal('ok'), until: Type.Number(), until_ms: Type.Optional(Type.Number()) });
export type CooloffReply = Static<typeof CooloffReply>;

export const RiskReply = Type.Object({ status: Type.Literal('ok'), risk: RiskLimits });
export type RiskReply = Static<typeof RiskReply>;

export const OkReply = Type.Object({ status: Type.Literal('ok') });

const cache = new Map<TSchema, Validator<unknown>>();

/** The reply body checked against its schema; a mismatch is a refusal naming the endpoint. */
export function expectShape<T>(schema: TSchema, reply: GateReply, what: string): T {
  let v = cache.get(schema);
  if (v === undefined) cache.set(schema, (v = compileValidator<unknown>(schema)));
  if (!v.check(reply.json)) {
    const why = reply.json === undefined ? 'not JSON' : v.errors(reply.json).map((e) => `${e.path} ${e.message}`).join('; ');
    throw new RefusedError(`${what}: unexpected reply from the gate (HTTP ${reply.status}): ${why}`);
  }
  return reply.json as T;
}
