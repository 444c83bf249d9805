import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

/** Error lists are capped so a 10 000-element array of bad values cannot produce a megabyte reply. */
const MAX_REPORTED = 20;
/**
 * Arrays are explained from their first elements only: TypeBox lists every error of a value (eagerly),
 * which cost ~26 ms per 10 000 bad elements — 90 ms of worker time for one 64 KiB body anyone can send,
 * against ~0.1 ms to accept a valid one. The reply shows at most 20 fields anyway.
 */
const EXPLAIN_ITEMS = 32;

/** One offending field: a dotted path (`market.latency_ms`, `market.trap_add_deltas.1`) and why. */
export interface FieldError {
  path: string;
  message: string;
}

export interface Validator<T> {
  check(value: unknown): value is T;
  /** Field errors of a value that failed `check`, one per path, in schema terms a user can act on. */
  errors(value: unknown): FieldError[];
}

/**
 * Compiles a schema once (JIT) and turns TypeBox's raw errors into one message per field path,
 * preferring the `description` of the nearest schema node ("a finite number, a numeric string, or
 * null") over the alternatives' individual complaints.
 */
export function compileValidator<T>(schema: TSchema): Validator<T> {
  const compiled = Compile(schema);
  return {
    check: (value: unknown): value is T => compiled.Check(value),
    errors(value: unknown): FieldError[] {
      const cut: string[] = [];
      const sample = truncateArrays(value, '', cut, 0);
      if (cut.length > 0 && compiled.Check(sample)) {
        // every error lies beyond the explained prefix of some long array
        return cut.slice(0, MAX_REPORTED).map((path) => ({ path, message: `has an invalid element after the first ${EXPLAIN_ITEMS}` }));
      }
      const byPath = new Map<string, string>();
      for (const e of compiled.Errors(sample)) {
        const base = e.instancePath.slice(1).replaceAll('/', '.');
        if (e.keyword === 'required') {
          const missing = (e.params as { requiredProperties?: string[] }).requiredProperties ?? [];
          for (const m of missing) byPath.set(base ? `${base}.${m}` : m, 'is required');
          continue;
        }
        if (byPath.has(base)) continue;
        const description = describe(schema, e.schemaPath);
        byPath.set(base || '(body)', description ? `must be ${description}` : e.message);
      }
      const all = [...byPath].map(([path, message]) => ({ path, message }));
      if (all.length <= MAX_REPORTED) return all;
      return [...all.slice(0, MAX_REPORTED), { path: '...', message: `and ${all.length - MAX_REPORTED} more fields` }];
    },
  };
}

/**
 * A copy of `v` whose arrays keep only their first EXPLAIN_ITEMS elements (paths of the cut arrays go
 * to `cut`); values without long arrays are returned as they are. Nesting is bounded by the callers'
 * own depth limits, and by MAX_DEPTH here.
 */
const MAX_DEPTH = 64;
function truncateArrays(v: unknown, path: string, cut: string[], depth: number): unknown {
  if (v === null || typeof v !== 'object' || depth > MAX_DEPTH) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    if (v.length > EXPLAIN_ITEMS) {
      cut.push(path || '(body)');
      out = v.slice(0, EXPLAIN_ITEMS);
    }
    const src = out ?? v;
    for (let i = 0; i < src.length; i++) {
      const t = truncateArrays(src[i], path ? `${path}.${i}` : String(i), cut, depth + 1);
      if (t !== src[i]) (out ??= v.slice(0, Math.min(v.length, EXPLAIN_ITEMS)))[i] = t;
    }
    return out ?? v;
  }
  let copy: Record<string, unknown> | null = null;
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    const t = truncateArrays(x, path ? `${path}.${k}` : k, cut, depth + 1);
    if (t !== x) (copy ??= { ...(v as Record<string, unknown>) })[k] = t;
  }
  return copy ?? v;
}

/** The description of the deepest node on `schemaPath` that has one. */
function describe(root: TSchema, schemaPath: string): string | undefined {
  const segments = schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean);
  let node: any = root;
  let found: string | undefined = typeof node.description === 'string' ? node.description : undefined;
  for (const seg of segments) {
    node = node?.[seg];
    if (node === undefined) break;
    if (node && typeof node === 'object' && typeof node.description === 'string') found = node.description;
  }
  return found;
}
