import Type, { type Static } from 'typebox';
import { ErrorObject } from './errors.ts';

/** WebSocket request envelope (protocol.md): `{"id", "op", "body"}`. */
export const WsRequest = Type.Object(
  {
    id: Type.Union([Type.String({ maxLength: 256 }), Type.Integer({ minimum: -(2 ** 53) + 1, maximum: 2 ** 53 - 1 })], {
      description: 'a string (at most 256 characters) or an integer, echoed verbatim',
    }),
    op: Type.Optional(Type.Unknown({ description: 'pretrade.check | posttrade.log | ping (anything else: unknown_op, with the id)' })),
    body: Type.Optional(Type.Unknown({ description: 'the same JSON the HTTP endpoint takes (ping takes none)' })),
  },
  { additionalProperties: true, description: 'a JSON object {"id", "op", "body"}' },
);
export type WsRequest = Static<typeof WsRequest>;

/** WebSocket response envelope: `{"id", "ok": true, "body"}` or `{"id", "ok": false, "error"}`. */
export const WsResponse = Type.Union([
  Type.Object({ id: Type.Union([Type.String(), Type.Integer()]), ok: Type.Literal(true), body: Type.Unknown() }),
  Type.Object({ id: Type.Union([Type.String(), Type.Integer(), Type.Null()]), ok: Type.Literal(false), error: ErrorObject }),
]);
