/** Python value semantics the reference relies on, for JSON values. */

/** Python truthiness of a JSON value: false for null/undefined, false, 0, "", [] and {}. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') {
    for (const _ in v as object) return true;
    return false;
  }
  return v === v; // NaN is truthy in Python, but never reaches here (rejected at the boundary)
}

/**
 * `float(v or 0.0)` for a value the schema already accepted (number, numeric string, boolean, null):
 * falsy values give 0, true gives 1, numeric strings parse (the schema bounds them to finite values).
 */
export function toFloat(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === true) return 1;
  if (typeof v === 'string' && v !== '') return Number(v);
  return 0;
}

/** `float(v)` for a present, non-null value. */
export function toFloatPresent(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return Number(v);
}

/** `int(v)` for a present, non-null value: truncation toward zero. */
export function toInt(v: unknown): number {
  const n = Math.trunc(toFloatPresent(v));
  return n === 0 ? 0 : n; // no -0
}

export function toFloatList(v: readonly unknown[]): number[] {
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = toFloatPresent(v[i]);
  return out;
}

/** Present and not null (the reference's test for optional inputs). */
export function given(v: unknown): boolean {
  return v !== undefined && v !== null;
}

export function clip(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
