import type { ErrorBody } from '../schema/errors.ts';
import type { FieldError } from '../schema/validate.ts';

/** A refusal: the status and the error envelope of protocol.md (ErrorBody, schema/errors.ts). */
export interface Failure {
  status: number;
  body: ErrorBody;
}

export const fail = (status: number, code: string, message: string, details?: unknown): Failure => ({
  status,
  body: { error: details === undefined ? { code, message } : { code, message, details } },
});

export const invalidRequest = (errors: FieldError[]): Failure =>
  fail(422, 'invalid_request', `the request does not match the schema (${errors.length} field${errors.length === 1 ? '' : 's'})`, errors);

export const malformedJson = (why: string): Failure => fail(400, 'malformed_json', `the body is not valid JSON: ${why}`);
