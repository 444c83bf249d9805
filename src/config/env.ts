/**
 * Reading ENV values strictly: a variable that is set (non-empty after trimming, D-35) but does not
 * parse is a start-up error naming the variable and the value — never a silent fallback.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/** The value of a set variable, trimmed; undefined when unset or blank. */
export function envString(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

export function envNumber(env: Env, name: string): number | undefined {
  const s = envString(env, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!NUMBER.test(s) || !Number.isFinite(n)) {
    throw new ConfigError(`${name}=${JSON.stringify(env[name])} is not a finite number`);
  }
  return n;
}

export function envInteger(env: Env, name: string): number | undefined {
  const s = envString(env, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!INTEGER.test(s) || !Number.isSafeInteger(n)) {
    throw new ConfigError(`${name}=${JSON.stringify(env[name])} is not an integer`);
  }
  return n;
}

/** `1/true/yes/on` (any case) = true; anything else set = false (the reference's overlay parser). */
export function envBool(env: Env, name: string): boolean | undefined {
  const s = envString(env, name);
  if (s === undefined) return undefined;
  return ['1', 'true', 'yes', 'on'].includes(s.toLowerCase());
}

/** A strict boolean for our own switches: 1/true/yes/on or 0/false/no/off, else an error. */
export function envFlag(env: Env, name: string): boolean | undefined {
  const s = envString(env, name);
  if (s === undefined) return undefined;
  const l = s.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(l)) return true;
  if (['0', 'false', 'no', 'off'].includes(l)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(env[name])} is not a boolean (use 1/0, true/false, yes/no, on/off)`);
}
