import { ConfigError as CoreConfigError } from '../../config/env.ts';
import { readYamlTree } from '../../config/load.ts';
import { compileValidator } from '../../schema/validate.ts';
import { DEFAULT_RUNNER_CONFIG } from './defaults.ts';
import { envOverrides } from './env.ts';
import { RunnerConfigSchema, type RunnerConfig } from './schema.ts';
import { ConfigError, mergeOver, type Tree } from './tree.ts';

const validator = compileValidator<RunnerConfig>(RunnerConfigSchema);

export interface ConfigSources {
  /** the process environment (`RUNNER_*`, and `RUNNER_CONFIG` when `yamlPath` is not given) */
  env?: Readonly<Record<string, string | undefined>>;
  /** a YAML file; beats `RUNNER_CONFIG` (the CLI's `--config`) */
  yamlPath?: string;
  /** overrides from CLI flags (highest precedence) */
  cli?: Tree;
}

export interface LoadedConfig {
  config: RunnerConfig;
  /** the YAML file used, if any */
  yamlPath: string | null;
}

/** Parses a YAML config file (the gate's reader, src/config/load.ts); an empty file is an empty mapping. */
export function readYamlFile(path: string): Tree {
  try {
    return readYamlTree(path) ?? {};
  } catch (e) {
    // the gate's ConfigError has no runner exit code: re-raise as the runner's (exit 3)
    if (e instanceof CoreConfigError && !(e instanceof ConfigError)) throw new ConfigError(e.message);
    throw e;
  }
}

/**
 * The effective configuration: built-in defaults < YAML (`--config`, else `RUNNER_CONFIG`) <
 * `RUNNER_*` environment < CLI flags. Unknown keys, wrong types and out-of-range values throw a
 * ConfigError naming the key (exit code 3).
 */
export function loadRunnerConfig(src: ConfigSources = {}): LoadedConfig {
  const env = src.env ?? {};
  const yamlPath = src.yamlPath ?? (env.RUNNER_CONFIG !== undefined && env.RUNNER_CONFIG !== '' ? env.RUNNER_CONFIG : null);
  let tree: Tree = structuredClone(DEFAULT_RUNNER_CONFIG) as unknown as Tree;
  if (yamlPath !== null) tree = mergeOver(tree, readYamlFile(yamlPath), `config file ${yamlPath}`);
  tree = mergeOver(tree, envOverrides(env), 'environment');
  if (src.cli !== undefined) tree = mergeOver(tree, src.cli, 'command line');
  return { config: validateRunnerConfig(tree), yamlPath };
}

/** Schema check plus the cross-key rules; returns the tree typed. */
export function validateRunnerConfig(tree: unknown): RunnerConfig {
  if (!validator.check(tree)) {
    const errs = validator.errors(tree).map((e) => `"${e.path}" ${e.message}`);
    throw new ConfigError(`invalid configuration: ${errs.join('; ')}`);
  }
  const c = tree;
  if (c.exits.tp_levels_bps.length !== c.exits.tp_sizes.length) {
    throw new ConfigError('invalid configuration: "exits.tp_levels_bps" and "exits.tp_sizes" must have the same length');
  }
  if (c.gate.reconnect_max_ms < c.gate.reconnect_base_ms) {
    throw new ConfigError('invalid configuration: "gate.reconnect_max_ms" must be >= "gate.reconnect_base_ms"');
  }
  if (c.execution.exit_retry_max_ms < c.execution.exit_retry_base_ms) {
    throw new ConfigError('invalid configuration: "execution.exit_retry_max_ms" must be >= "execution.exit_retry_base_ms"');
  }
  if (c.gate.url !== 'stub' && !/^wss?:\/\/[^/]+/.test(c.gate.url)) {
    throw new ConfigError(`invalid configuration: "gate.url" must be ws://HOST:PORT/ws, wss://… or "stub", got ${JSON.stringify(c.gate.url)}`);
  }
  return c;
}
