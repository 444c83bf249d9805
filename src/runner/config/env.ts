import { coerceText } from './coerce.ts';
import { ConfigError, setPath, type Tree } from './tree.ts';

/** Named `RUNNER_*` variables (runner.md §3.3) and the key each one sets. */
export const NAMED_ENV: Readonly<Record<string, string>> = {
  RUNNER_MODE: 'mode',
  RUNNER_RUN_ID: 'run_id',
  RUNNER_SEED: 'seed',
  RUNNER_SESSION_DIR: 'session_dir',
  RUNNER_FEED: 'feed.path',
  RUNNER_GATE_URL: 'gate.url',
  RUNNER_GATE_TOKEN: 'gate.runner_token',
  RUNNER_MAX_RUNTIME_S: 'shutdown.max_runtime_s',
};

/** `RUNNER_*` variables that are read elsewhere and set no key. */
export const OTHER_ENV = new Set(['RUNNER_CONFIG', 'RUNNER_CONFIRM_LIVE']);

/**
 * Config overrides from the environment: the named variables above plus the generic form
 * `RUNNER__<section>__<key>=value` (double underscores separate path parts, e.g.
 * `RUNNER__gate__timeout_ms=200`). Any other `RUNNER_*` variable is an error, like an unknown YAML
 * key. An empty value counts as unset.
 */
export function envOverrides(env: Readonly<Record<string, string | undefined>>): Tree {
  const tree: Tree = {};
  for (const name of Object.keys(env).sort()) {
    const raw = env[name];
    if (!name.startsWith('RUNNER_') || raw === undefined || raw === '') continue;
    if (OTHER_ENV.has(name)) continue;
    let path: string | undefined = NAMED_ENV[name];
    if (path === undefined && name.startsWith('RUNNER__')) path = name.slice('RUNNER__'.length).split('__').join('.');
    if (path === undefined || path === '') {
      throw new ConfigError(`environment: unknown variable ${name} (named: ${Object.keys(NAMED_ENV).join(', ')}; or RUNNER__<section>__<key>)`);
    }
    setPath(tree, path, coerceText(path, raw, `environment ${name}`));
  }
  return tree;
}
