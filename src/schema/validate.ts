import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

/** Error lists are capped so a 10 000-element array of bad values cannot produce a megabyte reply. */
const MAX_REPORTED = 20;

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
      const byPath = new Map<string, string>();
      for (const e of compiled.Errors(value)) {
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
