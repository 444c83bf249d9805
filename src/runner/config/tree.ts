/** Plain-object trees: the unknown-key check and the precedence merge of the config sources. */

import { ConfigError as CoreConfigError } from '../../config/env.ts';

export type Tree = Record<string, unknown>;

/** The gate's ConfigError plus the runner's exit code. */
export class ConfigError extends CoreConfigError {
  override name = 'ConfigError';
  /** the runner's exit code for a fatal configuration error (runner.md §2.6) */
  readonly exitCode = 3;
}

export function isPlainObject(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Writes `override` over `base` (a copy is returned): objects merge key by key, everything else
 * (scalars, arrays, null) replaces. A key that `base` does not have is an unknown key: the defaults
 * tree is the registry of every valid key, so a typo can never be silently ignored.
 */
export function mergeOver(base: Tree, override: unknown, source: string, prefix = ''): Tree {
  if (!isPlainObject(override)) {
    throw new ConfigError(`${source}: ${prefix === '' ? 'the top level' : `"${prefix}"`} must be a mapping of keys`);
  }
  const out: Tree = structuredClone(base);
  for (const [key, value] of Object.entries(override)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (!Object.hasOwn(base, key)) throw new ConfigError(`${source}: unknown key "${path}"`);
    const current = base[key];
    if (isPlainObject(current)) {
      out[key] = mergeOver(current, value, source, path);
    } else {
      out[key] = structuredClone(value);
    }
  }
  return out;
}

/** The value at a dotted path, or undefined. */
export function getPath(tree: Tree, path: string): unknown {
  let cur: unknown = tree;
  for (const k of path.split('.')) {
    if (!isPlainObject(cur) || !Object.hasOwn(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** A one-key-path tree: `setPath({}, 'gate.url', x)` → `{gate: {url: x}}` (merged into `tree`). */
export function setPath(tree: Tree, path: string, value: unknown): Tree {
  const keys = path.split('.');
  let cur = tree;
  for (let i = 0; i < keys.length - 1; i++) {
    const next = cur[keys[i]];
    if (!isPlainObject(next)) cur[keys[i]] = {};
    cur = cur[keys[i]] as Tree;
  }
  cur[keys[keys.length - 1]] = value;
  return tree;
}
