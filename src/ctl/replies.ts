import Type, { type Static, type TSchema } from 'typebox';
import { compileValidator, type Validator } from '../schema/validate.ts';
import { RefusedError } from './errors.ts';
import type { GateReply } from './http.ts';

/**
 * The gate's 200 replies as the CLI reads them (docs/api.md). Extra keys are always allowed, so a
 * newer gate does not break an older CLI. /health and /readiness are read leniently (only what the
 * CLI prints is required; `status` reads 503 bodies too); the other replies are the gate's own schemas
 * from src/schema/replies.ts, re-exported under the CLI's names.
 */
export const HealthReply = Type.Object({
  status: Type.String(),
  version: Type.Optional(Type.Object({ sha: Type.Optional(Type.String()), branch: Type.Optional(Type.String()) })),
  uptime_s: Type.Optional(Type.Number()),
  workers: Type.Optional(Type.Union([Type.Number(), Type.String()])),
  journal_failing: Type.Optional(Type.Boolean()),
});
export type HealthReply = Static<typeof HealthReply>;

export const ReadinessReply = Type.Object({
  halt: Type.Boolean(),
  armed: Type.Optional(Type.Boolean()),
  cooloff_until: Type.Optional(Type.Number()),
  journal_failing: Type.Optional(Type.Boolean()),
  workers_alive: Type.Optional(Type.Union([Type.Number(), Type.String()])),
  last_event_ts: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
});
export type ReadinessReply = Static<typeof ReadinessReply>;

// the strict shapes (version, cool-off, state, risk, ok) are the gate's own reply schemas
export {
  CooloffResponse as CooloffReply,
  OkResponse as OkReply,
  RiskResponse as RiskReply,
  StateResponse as StateReply,
  Version as VersionReply,
} from '../schema/replies.ts';

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
