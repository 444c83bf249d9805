import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

/** The bare-name lookup: where `AURORA_CONFIG=<n>` is searched, in order, under each base directory. */
const NAME_DIRS = ['configs/aurora', 'configs', 'configs/runner'];

/** The reserved bare name for the embedded defaults (configs/default.yaml documents the same tree). */
export const DEFAULT_CONFIG_NAME = 'default';

/** Is this AURORA_CONFIG value a path to a YAML file (rather than a bare name)? */
export const isConfigPath = (name: string): boolean => /\.ya?ml$/i.test(name);

/**
 * Finds the YAML file named by AURORA_CONFIG (else AURORA_CONFIG_NAME): a path ending in .yaml/.yml,
 * or a bare name looked up as configs/aurora/<n>.yaml, configs/<n>.yaml, configs/runner/<n>.yaml under
 * the working directory, then under the package root (gate.md 2).
 */
export function findConfigFile(name: string, cwd: string): string | null {
  if (isConfigPath(name)) {
    const p = isAbsolute(name) ? name : resolve(cwd, name);
    return existsSync(p) ? p : null;
  }
  for (const base of [cwd, PACKAGE_ROOT]) {
    for (const dir of NAME_DIRS) {
      const p = resolve(base, dir, `${name}.yaml`);
      if (existsSync(p)) return p;
    }
  }
  return null;
}

/** Every bare name `findConfigFile` can find from `cwd`, plus `default`; sorted. */
export function knownConfigNames(cwd: string): string[] {
  const names = new Set<string>([DEFAULT_CONFIG_NAME]);
  for (const base of [cwd, PACKAGE_ROOT]) {
    for (const dir of NAME_DIRS) {
      let entries: string[];
      try {
        entries = readdirSync(resolve(base, dir));
      } catch {
        continue;
      }
      for (const e of entries) if (e.endsWith('.yaml')) names.add(e.slice(0, -'.yaml'.length));
    }
  }
  return [...names].sort();
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
 * ENV > YAML > embedded defaults.
 *
 * - A bare name (no .yaml/.yml) must name a file of the lookup (`findConfigFile`) or be `default` (the
 *   embedded defaults, whatever configs/ holds): anything else — a typo like `prd` — stops start-up with
 *   the known names, rather than running a production gate on the defaults.
 * - A path to a YAML file that does not exist, or an empty file, falls back to the embedded defaults with
 *   a warning, as in the reference (conformance vector `input-config-missing-file-falls-back`);
 *   AURORA_CONFIG_STRICT=1 makes that fatal. A file that exists but does not parse is always fatal.
 */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): AppConfig {
  const warnings: string[] = [];
  const variable = envString(env, 'AURORA_CONFIG') !== undefined ? 'AURORA_CONFIG' : 'AURORA_CONFIG_NAME';
  const name = envString(env, variable);
  const strict = envFlag(env, 'AURORA_CONFIG_STRICT') ?? false;
  let tree: Record<string, unknown> = EMBEDDED_DEFAULTS as unknown as Record<string, unknown>;
  let source = 'default(embedded)';
  if (name !== undefined && name !== DEFAULT_CONFIG_NAME) {
    const path = findConfigFile(name, cwd);
    if (path === null && !isConfigPath(name)) {
      throw new ConfigError(
        `${variable}=${JSON.stringify(name)}: configuration name not found; known names: ${knownConfigNames(cwd).join(', ')} ` +
          `(${NAME_DIRS.map((d) => `${d}/<name>.yaml`).join(', ')} under ${cwd}${cwd === PACKAGE_ROOT ? '' : ` or ${PACKAGE_ROOT}`}; ` +
          `"${DEFAULT_CONFIG_NAME}" = the embedded defaults), or a path to a YAML file ending in .yaml/.yml`,
      );
    }
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
