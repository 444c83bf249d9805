import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load as loadYaml } from 'js-yaml';
import { EMBEDDED_DEFAULTS } from './defaults.ts';
import { ConfigError, envFlag, envString, type Env } from './env.ts';
import { resolveConfig, type AppConfig } from './resolve.ts';

/**
 * The repository root (package.json and configs/ live there), independent of the working directory:
 * the nearest ancestor with package.json. A fixed '../..' was right for src/config/load.ts but not for
 * the bundle dist/main.mjs, where it pointed above the repository (GET /version answered "unknown").
 */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return resolve(from, '..', '..');
  }
}

/**
 * Finds the YAML file named by AURORA_CONFIG (else AURORA_CONFIG_NAME): a path ending in .yaml/.yml,
 * or a bare name looked up as configs/aurora/<n>.yaml, configs/<n>.yaml, configs/runner/<n>.yaml under
 * the working directory, then under the package root (gate.md 2).
 */
export function findConfigFile(name: string, cwd: string): string | null {
  if (/\.ya?ml$/i.test(name)) {
    const p = isAbsolute(name) ? name : resolve(cwd, name);
    return existsSync(p) ? p : null;
  }
  for (const base of [cwd, PACKAGE_ROOT]) {
    for (const rel of [`configs/aurora/${name}.yaml`, `configs/${name}.yaml`, `configs/runner/${name}.yaml`]) {
      const p = resolve(base, rel);
      if (existsSync(p)) return p;
    }
  }
  return null;
}

/** Parses a YAML file into a mapping; null for an empty document or empty mapping. */
export function readYamlTree(path: string): Record<string, unknown> | null {
  let doc: unknown;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read configuration ${path}: ${(err as Error).message}`);
  }
  // js-yaml 5 rejects a document with no content; for us an empty or comment-only file is "empty"
  if (text.split(/\r?\n/).every((line) => /^\s*(#.*)?$/.test(line))) return null;
  try {
    doc = loadYaml(text, { filename: path });
  } catch (err) {
    throw new ConfigError(`cannot read configuration ${path}: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return null;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`configuration ${path} must be a YAML mapping, got ${Array.isArray(doc) ? 'a list' : typeof doc}`);
  return Object.keys(doc).length === 0 ? null : (doc as Record<string, unknown>);
}

/**
 * ENV > YAML > embedded defaults. A named file that does not exist, or is empty, falls back to the
 * embedded defaults with a warning, as in the reference (conformance vectors rely on it);
 * AURORA_CONFIG_STRICT=1 makes that fatal. A file that exists but does not parse is always fatal.
 */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): AppConfig {
  const warnings: string[] = [];
  const name = envString(env, 'AURORA_CONFIG') ?? envString(env, 'AURORA_CONFIG_NAME');
  const strict = envFlag(env, 'AURORA_CONFIG_STRICT') ?? false;
  let tree: Record<string, unknown> = EMBEDDED_DEFAULTS as unknown as Record<string, unknown>;
  let source = 'default(embedded)';
  if (name !== undefined) {
    const path = findConfigFile(name, cwd);
    if (path === null) {
      const msg = `configuration ${JSON.stringify(name)} not found`;
      if (strict) throw new ConfigError(msg);
      warnings.push(`${msg}: using the embedded defaults`);
    } else {
      const fileTree = readYamlTree(path);
      if (fileTree === null) {
        if (strict) throw new ConfigError(`configuration ${path} is empty`);
        warnings.push(`configuration ${path} is empty: using the embedded defaults`);
      } else {
        tree = fileTree;
        source = path;
      }
    }
  }
  return resolveConfig(tree, env, source, warnings);
}
