import { pino, type Logger } from 'pino';

/** Structured JSON logs on stdout (pino); `AURORA_LOG_LEVEL` sets the level. Tokens are never logged. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'aurora' }, redact: ['*.token', '*.ops_token', 'headers["x-ops-token"]'] });
}

export type { Logger };
