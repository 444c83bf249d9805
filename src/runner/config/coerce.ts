import { load as loadYaml } from 'js-yaml';
import { DEFAULT_RUNNER_CONFIG } from './defaults.ts';
import { ConfigError, getPath, isPlainObject, type Tree } from './tree.ts';

/** Keys whose default is null but whose value is an integer (every other null default is a string). */
const NULLABLE_INTEGERS = new Set(['paper.seed']);

/**
 * Turns a text value from an environment variable or a `--set key=value` flag into the type of the
 * key's default: numbers must parse completely, booleans are true/false/1/0/yes/no/on/off, lists are
 * YAML flow (`[a, b]`) or comma-separated, `null` clears a nullable key.
 */
export function coerceText(path: string, raw: string, source: string): unknown {
  const def = getPath(DEFAULT_RUNNER_CONFIG as unknown as Tree, path);
  if (def === undefined) throw new ConfigError(`${source}: unknown key "${path}"`);
  if (isPlainObject(def)) throw new ConfigError(`${source}: "${path}" is a section; set one of its keys`);
  const text = raw.trim();
  const bad = (what: string) => new ConfigError(`${source}: "${path}" must be ${what}, got ${JSON.stringify(raw)}`);
  if (typeof def === 'number') {
    const n = Number(text);
    if (text === '' || !Number.isFinite(n)) throw bad('a number');
    return n;
  }
  if (typeof def === 'boolean') {
    const t = text.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(t)) return true;
    if (['false', '0', 'no', 'off'].includes(t)) return false;
    throw bad('a boolean (true/false)');
  }
  if (Array.isArray(def)) {
    if (text.startsWith('[')) {
      let v: unknown;
      try {
        v = loadYaml(text);
      } catch {
        throw bad('a list');
      }
      if (!Array.isArray(v)) throw bad('a list');
      return v;
    }
    const items = text === '' ? [] : text.split(',').map((s) => s.trim());
    const numeric = def.length > 0 && typeof def[0] === 'number';
    if (!numeric) return items;
    return items.map((s) => {
      const n = Number(s);
      if (s === '' || !Number.isFinite(n)) throw bad('a list of numbers');
      return n;
    });
  }
  if (def === null) {
    if (text === '' || text === 'null') return null;
    if (NULLABLE_INTEGERS.has(path)) {
      const n = Number(text);
      if (!Number.isInteger(n)) throw bad('an integer or null');
      return n;
    }
    return raw;
  }
  return raw;
}
