import Type, { type Static } from 'typebox';
import { GuardSnapshot, RiskLimits } from './ops.ts';

/**
 * The gate's 200 reply bodies that are built inline in the transport (docs/api.md), defined once: the
 * OpenAPI document publishes them (openapi.ts, with GuardSnapshot / RiskLimits as $refs) and the ops
 * CLI checks replies against them (src/ctl). Type.Object allows extra keys, so a newer gate adding a
 * field does not break an older reader.
 */

/** `{"status": "ok"}`: /ops/rotate_token, and /posttrade/log (PosttradeLogResponse). */
export const OkResponse = Type.Object({ status: Type.Literal('ok') });
export type OkResponse = Static<typeof OkResponse>;

/** `GET /version` */
export const Version = Type.Object({ version: Type.String() });
export type Version = Static<typeof Version>;

/** `POST /ops/cooloff/{sec}` */
export const CooloffResponse = Type.Object({ status: Type.Literal('ok'), until: Type.Number(), until_ms: Type.Number() });
export type CooloffResponse = Static<typeof CooloffResponse>;

/** `POST /ops/reset`, `POST /aurora/{mode}` */
export const StateResponse = Type.Object({ status: Type.Literal('ok'), state: GuardSnapshot });
export type StateResponse = Static<typeof StateResponse>;

/** `GET /risk/snapshot`, `POST /risk/set` */
export const RiskResponse = Type.Object({ status: Type.Literal('ok'), risk: RiskLimits });
export type RiskResponse = Static<typeof RiskResponse>;
