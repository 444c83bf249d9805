/** Small helpers for publishing TypeBox schemas as plain JSON (openapi.ts, journal-records.ts). */

/** A plain JSON copy of a schema: TypeBox-internal keys (`~kind`, `~optional`, symbols) removed. */
export function plainSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(plainSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(schema)) {
    if (k.startsWith('~')) continue;
    const v = (schema as Record<string, unknown>)[k];
    if (v === undefined || typeof v === 'function') continue;
    out[k] = plainSchema(v);
  }
  return out;
}

/** Recursively sorted object keys (arrays keep their order): a stable serialisation. */
export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}
