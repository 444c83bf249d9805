import { randomBytes } from 'node:crypto';

/**
 * Everything the CLI touches outside its arguments: output streams, the clock, randomness and the
 * working directory. Passed in so tests run `main()` in-process and see exactly what a user would.
 */
export interface CtlIo {
  out(text: string): void;
  err(text: string): void;
  nowMs(): number;
  randomBytes(n: number): Uint8Array;
  cwd: string;
}

export function processIo(): CtlIo {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    nowMs: () => Date.now(),
    randomBytes: (n) => randomBytes(n),
    cwd: process.cwd(),
  };
}

/** An io that keeps what was written (tests, and anything embedding the CLI). */
export interface CapturedIo extends CtlIo {
  stdout(): string;
  stderr(): string;
}

export function captureIo(overrides: Partial<CtlIo> = {}): CapturedIo {
  let out = '';
  let err = '';
  return {
    ...processIo(),
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    stdout: () => out,
    stderr: () => err,
    ...overrides,
  };
}
