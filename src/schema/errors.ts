import Type, { type Static } from 'typebox';

/** The error object of protocol.md. */
export const ErrorObject = Type.Object({
  code: Type.String({ description: 'stable snake_case code' }),
  message: Type.String({ description: 'a human sentence' }),
  details: Type.Optional(Type.Unknown({ description: '422: [{path, message}] per offending field' })),
});

/** `{"error": {"code", "message", "details"}}` */
export const ErrorBody = Type.Object({ error: ErrorObject });
export type ErrorBody = Static<typeof ErrorBody>;
