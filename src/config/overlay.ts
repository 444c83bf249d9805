import { Compile } from 'typebox/compile';
import { ConfigTree } from '../schema/config.ts';
import { ConfigError, envBool, envInteger, envNumber, envString, type Env } from './env.ts';
import { get, set, type Tree } from './tree.ts';

/** ENV variables written into the tree before use (gate.md 5.1 "overlay"). */
const OVERLAY: ReadonlyArray<[env: string, path: string, kind: 'number' | 'int' | 'bool' | 'string']> = [
  ['AURORA_LATENCY_MS_LIMIT', 'guards.latency_ms_limit', 'number'],
  ['AURORA_SPREAD_BPS_LIMIT', 'guards.spread_bps_limit', 'number'],
  ['TRAP_GUARD', 'guards.trap_guard_enabled', 'bool'],
  ['AURORA_VOL_GUARD_STD_BPS', 'guards.vol_guard_std_bps', 'number'],
  ['AURORA_LATENCY_GUARD_MS', 'aurora.latency_guard_ms', 'number'],
  ['AURORA_LATENCY_WINDOW_SEC', 'aurora.latency_window_sec', 'number'],
  ['AURORA_COOLOFF_SEC', 'aurora.cooloff_base_sec', 'number'],
  ['AURORA_HALT_THRESHOLD_REPEATS', 'aurora.halt_threshold_repeats', 'int'],
  ['AURORA_TRAP_Z_THRESHOLD', 'trap.z_threshold', 'number'],
  ['AURORA_TRAP_CANCEL_PCTL', 'trap.cancel_pctl', 'number'],
  ['AURORA_TRAP_WINDOW_S', 'trap.window_s', 'number'],
  ['AURORA_TRAP_LEVELS', 'trap.levels', 'int'],
  ['AURORA_PI_MIN_BPS', 'risk.pi_min_bps', 'number'],
  ['AURORA_SLIP_ETA', 'slippage.eta_fraction_of_b', 'number'],
  ['AURORA_ORDER_PROFILE', 'pretrade.order_profile', 'string'],
  ['AURORA_MAX_CONCURRENT', 'risk.max_concurrent', 'int'],
  ['AURORA_SIZE_SCALE', 'risk.size_scale', 'number'],
  ['AURORA_API_HOST', 'api.host', 'string'],
  ['AURORA_API_PORT', 'api.port', 'int'],
  ['AURORA_HOST', 'api.host', 'string'],
  ['AURORA_PORT', 'api.port', 'int'],
  ['AURORA_POOL_THREADS', 'pool.threads', 'int'],
  ['AURORA_POOL_INLINE_WHEN_IDLE', 'pool.inline_when_idle', 'bool'],
  ['AURORA_POOL_INLINE_IDLE_GAP_US', 'pool.inline_idle_gap_us', 'int'],
  ['AURORA_POOL_AWAKE_SHARE', 'pool.awake_share', 'int'],
  ['AURORA_MAX_BODY_BYTES', 'api.max_body_bytes', 'int'],
];

/** The reference's names of two overlay variables, and the name AURORA prefers (which wins when both are set). */
const OVERLAY_ALIASES: ReadonlyArray<[alias: string, name: string]> = [
  ['AURORA_API_HOST', 'AURORA_HOST'],
  ['AURORA_API_PORT', 'AURORA_PORT'],
];

const treeValidator = Compile(ConfigTree);

/**
 * Writes every set overlay variable into the tree (in place; the caller passes its own copy) and
 * returns which variable wrote which path, for the validation messages.
 */
export function applyOverlay(tree: Tree, env: Env): Map<string, string> {
  const provenance = new Map<string, string>();
  for (const [name, path, kind] of OVERLAY) {
    const v =
      kind === 'number' ? envNumber(env, name) : kind === 'int' ? envInteger(env, name) : kind === 'bool' ? envBool(env, name) : envString(env, name);
    if (v === undefined) continue;
    set(tree, path, v);
    provenance.set(path, name);
  }
  return provenance;
}

/**
 * Validates the overlaid tree against ConfigTree; a ConfigError lists each bad key once, naming the ENV
 * variable that set it. The `controls:` section is left to resolveControls (src/core/controls/config.ts),
 * which validates it after its own AURORA_CONTROLS_* overlay, with messages that say what each key must
 * be (a union with null here would add "must be null" to every error of the section).
 */
export function validateTree(tree: Tree, provenance: ReadonlyMap<string, string>, source: string): void {
  let subject = tree;
  if ('controls' in tree) {
    subject = { ...tree };
    delete subject.controls;
  }
  if (treeValidator.Check(subject)) return;
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const e of treeValidator.Errors(subject)) {
    const path = e.instancePath.slice(1).replaceAll('/', '.');
    if (seen.has(path) || e.keyword === 'anyOf') continue;
    seen.add(path);
    const from = provenance.get(path);
    const where = from ? `${from} (${path})` : path;
    lines.push(`${where} = ${JSON.stringify(get(subject, path))}: ${e.message}`);
  }
  throw new ConfigError(`invalid configuration (${source}):\n  ${lines.join('\n  ')}`);
}

/** A warning for each reference-named overlay alias that is set. */
export function overlayAliasWarnings(env: Env, warnings: string[]): void {
  for (const [alias, name] of OVERLAY_ALIASES) {
    if (envString(env, alias) !== undefined) warnings.push(`${alias} is the reference's name: prefer ${name} (which wins when both are set)`);
  }
}
