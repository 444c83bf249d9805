/**
 * Exit codes (documented in docs/operations.md, "Operator CLI"):
 * 0 done; 1 the gate (or a check) said no: an error reply, unhealthy, verification failed, refused;
 * 2 usage error, detected before any request; 3 the gate could not be reached (refused, timeout).
 */
export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;

/** An expected failure: printed as one clear message, no stack trace. */
export class CtlError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export class UsageError extends CtlError {
  constructor(
    message: string,
    /** the command whose usage to show under the message (null: the global usage) */
    readonly command: string | null = null,
  ) {
    super(EXIT_USAGE, message);
  }
}

export class UnreachableError extends CtlError {
  constructor(message: string) {
    super(EXIT_UNREACHABLE, message);
  }
}

/** A refusal or a failed check (exit 1). */
export class RefusedError extends CtlError {
  constructor(message: string) {
    super(EXIT_REFUSED, message);
  }
}
