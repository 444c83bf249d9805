import { isPlainObject } from './tree.ts';

const SECRET_KEY = /(token|secret|password|passphrase|api_key)$/i;

/** `"abcdefgh1234"` → `"********1234"`: the last 4 characters stay so an operator can tell keys apart. */
export function maskSecret(value: string): string {
  if (value.length <= 4) return '*'.repeat(value.length);
  return '*'.repeat(value.length - 4) + value.slice(-4);
}

/**
 * A copy of a config tree with every string under a secret-looking key masked (runner.md §3.3).
 * Keys that only name an environment variable (`api_key_env`) are not secrets and stay readable.
 */
export function maskSecrets<T>(tree: T): T {
  const walk = (v: unknown, key: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, k);
      return out;
    }
    if (typeof v === 'string' && SECRET_KEY.test(key)) return maskSecret(v);
    return v;
  };
  return walk(tree, '') as T;
}
