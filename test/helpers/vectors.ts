import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A conformance scenario (test/fixtures/vectors/README.md). */
export interface Step {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: unknown;
  raw_body?: string;
  expect?: { status: number; json?: unknown };
  sleep_ms?: number;
}

export interface Scenario {
  name: string;
  tags: string[];
  note: string;
  env?: Record<string, string>;
  config_yaml?: string;
  steps: Step[];
}

const here = dirname(fileURLToPath(import.meta.url));

/** The vector file: AURORA_VECTORS if set (e.g. a fuller suite), else the copy of visible.json. */
export function loadScenarios(): Scenario[] {
  const file = process.env.AURORA_VECTORS ?? resolve(here, '../fixtures/vectors/visible.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { format: number; scenarios: Scenario[] };
  if (doc.format !== 1) throw new Error(`unsupported vector format ${doc.format}`);
  return doc.scenarios;
}

/**
 * Subset match of the README: objects match listed keys recursively, arrays element-wise with equal
 * length, numbers within 1e-6 relative or 1e-9 absolute, everything else exactly. Returns mismatches.
 */
export function subsetMismatches(expected: unknown, actual: unknown, path = '$'): string[] {
  if (expected === null) return actual === null ? [] : [`${path}: expected null, got ${JSON.stringify(actual)}`];
  if (typeof expected === 'number') {
    if (typeof actual !== 'number') return [`${path}: expected ${expected}, got ${JSON.stringify(actual)}`];
    const ok = Math.abs(expected - actual) <= 1e-9 || Math.abs(expected - actual) <= 1e-6 * Math.max(Math.abs(expected), Math.abs(actual));
    return ok ? [] : [`${path}: expected ${expected}, got ${actual}`];
  }
  if (typeof expected !== 'object') {
    return expected === actual ? [] : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
    }
    return expected.flatMap((e, i) => subsetMismatches(e, actual[i], `${path}[${i}]`));
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
    return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
  }
  const out: string[] = [];
  for (const [k, v] of Object.entries(expected as Record<string, unknown>)) {
    if (!(k in (actual as object))) out.push(`${path}.${k}: missing`);
    else out.push(...subsetMismatches(v, (actual as Record<string, unknown>)[k], `${path}.${k}`));
  }
  return out;
}

/** Only POST /pretrade/check steps with a JSON body (and sleeps): replayable against the core alone. */
export function isPretradeOnly(s: Scenario): boolean {
  return s.steps.every((st) => st.sleep_ms !== undefined || (st.method === 'POST' && st.path === '/pretrade/check' && 'body' in st));
}
