/** The runner's configuration: schema, defaults, sources and precedence, masking, logic params. */
export { RunnerConfigSchema, type RunnerConfig, type RunnerMode } from './schema.ts';
export { DEFAULT_RUNNER_CONFIG } from './defaults.ts';
export { loadRunnerConfig, readYamlFile, validateRunnerConfig, type ConfigSources, type LoadedConfig } from './load.ts';
export { envOverrides, NAMED_ENV } from './env.ts';
export { parseCliArgs, USAGE, type CliArgs } from './cli-args.ts';
export { maskSecret, maskSecrets } from './mask.ts';
export { checkMode } from './mode.ts';
export { ConfigError } from './tree.ts';
export * from './params.ts';
