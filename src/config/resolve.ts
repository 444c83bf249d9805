import type { CoreConfig } from '../core/config.ts';
import { ConfigTree } from '../schema/config.ts';
import { resolveCore } from './decision.ts';
import { CODE_DEFAULTS } from './defaults.ts';
import { ConfigError, envFlag, envString, type Env } from './env.ts';
import { applyOverlay, overlayAliasWarnings, validateTree } from './overlay.ts';
import { resolveService, type ServiceConfig } from './service.ts';
import type { Tree } from './tree.ts';

/*
 * The configuration resolver (gate.md 5.1), by concern:
 *   overlay.ts     the ENV overlay and the validation of the overlaid tree
 *   decision.ts    the decision core's settings (fallbacks: CODE_DEFAULTS)
 *   service.ts     the service's settings (fallbacks: EMBEDDED_DEFAULTS, SERVICE_ENV_DEFAULTS)
 *   ops-tokens.ts  ops token selection, validation and masking
 *   defaults.ts    every default value, each written once
 */

export type { JournalSettings, OpsSettings, ServiceConfig } from './service.ts';
export { MIN_TOKEN_LENGTH, maskToken, tokenProblem } from './ops-tokens.ts';

export interface AppConfig {
  core: CoreConfig;
  service: ServiceConfig;
  /** start-up warnings (ignored or contradicting keys, insecure tokens, fallbacks) */
  warnings: string[];
  /** label of the configuration source, for CONFIG.SWITCHED */
  source: string;
}

const KNOWN_SECTIONS = new Set(Object.keys(ConfigTree.properties));
/** Top-level keys ignored without a warning (a YAML label used by the conformance vectors). */
const QUIET_SECTIONS = new Set(['env', 'name', 'version', 'description']);
/** ENV variables of the reference that nothing in AURORA reads (a start-up warning each). */
const IGNORED_ENV = ['AURORA_ACK_TTL_S', 'AURORA_ACK_SCAN_PERIOD_S', 'TRADING_MAX_LATENCY_MS'];

/**
 * Resolves the merged tree (YAML or embedded defaults) and the environment into the core and service
 * configuration, following gate.md 5.1 key by key. Throws ConfigError on any bad value.
 */
export function resolveConfig(fileTree: Tree, env: Env, source: string, startWarnings: string[] = []): AppConfig {
  const warnings = [...startWarnings];
  const tree: Tree = structuredClone(fileTree);
  const provenance = applyOverlay(tree, env);
  validateTree(tree, provenance, source);

  overlayAliasWarnings(env, warnings);
  for (const ignored of IGNORED_ENV) {
    if (envString(env, ignored) !== undefined) warnings.push(`${ignored} is read by nothing in AURORA (the reference's ack tracker and /predict are not part of the gate)`);
  }
  const unknown = Object.keys(tree).filter((k) => !KNOWN_SECTIONS.has(k) && !QUIET_SECTIONS.has(k));
  if (unknown.length > 0) warnings.push(`unknown configuration sections ignored: ${unknown.join(', ')}`);

  const mode = envString(env, 'AURORA_MODE') ?? CODE_DEFAULTS.mode;
  if (mode.toLowerCase() === 'shadow') throw new ConfigError('AURORA_MODE=shadow is not supported (the reference refuses to start too)');

  const core = resolveCore(tree, env, mode, warnings);
  const service = resolveService(tree, env, core, warnings);
  return { core, service, warnings, source };
}

export { ConfigError, envFlag };
