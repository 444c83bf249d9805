import { availableParallelism } from 'node:os';
import type { CoreConfig } from '../core/config.ts';
import { DEFAULT_SIZES, type StateSizes } from '../shm/state/gate-state.ts';
import { DEFAULT_CONTROLS_SIZES } from '../core/controls/state.ts';
import { DEFAULT_FILES } from '../journal/files.ts';
import { CODE_DEFAULTS, SERVICE_ENV_DEFAULTS } from './defaults.ts';
import { ConfigError, envFlag, envString, type Env } from './env.ts';
import { selectOpsToken, type TokenSource } from './ops-tokens.ts';
import { serviceSetting, val, type Tree } from './tree.ts';

/**
 * The service's settings (transport, pool, journal, ops authentication, labels). Every key of a service
 * section that the tree leaves out (or sets to null) falls back to its EMBEDDED_DEFAULTS value
 * (`serviceSetting`); settings with no YAML key to SERVICE_ENV_DEFAULTS (src/config/defaults.ts).
 */

export interface JournalSettings {
  /** false only for benchmarks: decisions are then NOT journaled (a loud start-up warning says so) */
  enabled: boolean;
  fsyncIntervalMs: number;
  fsyncLines: number;
  onWriteError: 'continue' | 'fail_closed';
  eventsMaxBytes: number;
  ordersMaxBytes: number;
  retentionDays: number;
  /** zlib level of rotated archives (1 fastest .. 9 smallest) */
  gzipLevel: number;
  /** file name of the events journal (basename of logging.path if it contains "aurora_events") */
  eventsFile: string;
  /** file name of the raw post-trade log (basename of logging.orders_path) */
  ordersRawFile: string;
}

export interface OpsSettings {
  /** the one active token (service.md 1.1), or null when none usable is configured */
  token: string | null;
  tokenSource: TokenSource | null;
  /** only the alias AURORA_OPS_TOKEN provided the token: journal OPS.TOKEN.ALIAS_USED once */
  aliasUsed: boolean;
  allowlist: string[];
  trustProxy: boolean;
  runnerToken: string | null;
}

export interface ServiceConfig {
  host: string;
  port: number;
  maxBodyBytes: number;
  wsMaxPayloadBytes: number;
  wsMaxBackpressureBytes: number;
  wsIdleTimeoutS: number;
  /** worker threads; 0 = decide inline on the main thread */
  poolThreads: number;
  /** with workers, decide on the main thread when the gate is quiet */
  poolInlineWhenIdle: boolean;
  /** ... quiet = nothing in flight and the previous request arrived at least this long ago, µs */
  poolInlineIdleGapUs: number;
  /** requests an awake worker may hold before a sleeping one is woken */
  poolAwakeShare: number;
  journal: JournalSettings;
  ops: OpsSettings;
  sessionDir: string | null;
  version: string;
  gitSha: string;
  gitBranch: string;
  logLevel: string;
  /** `$PRETRADE_ORDER_PROFILE or pretrade.order_profile or "er_before_slip"`, verbatim (for /health) */
  orderProfileLabel: string;
  stateSizes: StateSizes;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function resolveService(tree: Tree, env: Env, core: CoreConfig, warnings: string[]): ServiceConfig {
  const S = SERVICE_ENV_DEFAULTS;
  const { token, tokenSource } = selectOpsToken(env, serviceSetting(tree, 'security', 'ops_token'), warnings);

  // removed (issue 12, docs/decisions.md): uWebSockets.js limits request headers itself, and checking the
  // size per request in JavaScript cost ~0.75 µs of main-thread time per request
  if (val(tree.api?.max_header_bytes) !== undefined) {
    warnings.push('api.max_header_bytes is ignored (removed): uWebSockets.js limits request headers itself (docs/decisions.md)');
  }

  const journalEnabled = envFlag(env, 'AURORA_JOURNAL_ENABLED') ?? serviceSetting(tree, 'journal', 'enabled');
  if (!journalEnabled) warnings.push('journal.enabled is false: decisions are NOT journaled (benchmark mode; never run a trading session like this)');
  // only the file names count (the session directory holds the journal); the events journal keeps the
  // reference's name unless logging.path names an "aurora_events" file
  const eventsBase = basename(serviceSetting(tree, 'logging', 'path'));
  const logLevel = envString(env, 'AURORA_LOG_LEVEL') ?? S.logLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`AURORA_LOG_LEVEL=${JSON.stringify(logLevel)}: must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return {
    host: serviceSetting(tree, 'api', 'host'),
    port: serviceSetting(tree, 'api', 'port'),
    maxBodyBytes: serviceSetting(tree, 'api', 'max_body_bytes'),
    wsMaxPayloadBytes: serviceSetting(tree, 'ws', 'max_payload_bytes'),
    wsMaxBackpressureBytes: serviceSetting(tree, 'ws', 'max_backpressure_bytes'),
    wsIdleTimeoutS: serviceSetting(tree, 'ws', 'idle_timeout_s'),
    // pool.threads null (the embedded value) = one worker per core
    poolThreads: serviceSetting(tree, 'pool', 'threads') ?? availableParallelism(),
    poolInlineWhenIdle: serviceSetting(tree, 'pool', 'inline_when_idle'),
    poolInlineIdleGapUs: serviceSetting(tree, 'pool', 'inline_idle_gap_us'),
    poolAwakeShare: serviceSetting(tree, 'pool', 'awake_share'),
    journal: {
      enabled: journalEnabled,
      fsyncIntervalMs: serviceSetting(tree, 'journal', 'fsync_interval_ms'),
      fsyncLines: serviceSetting(tree, 'journal', 'fsync_lines'),
      onWriteError: serviceSetting(tree, 'journal', 'on_write_error') as JournalSettings['onWriteError'],
      eventsMaxBytes: serviceSetting(tree, 'journal', 'events_max_bytes'),
      ordersMaxBytes: serviceSetting(tree, 'journal', 'orders_max_bytes'),
      retentionDays: serviceSetting(tree, 'journal', 'retention_days'),
      gzipLevel: serviceSetting(tree, 'journal', 'gzip_level'),
      eventsFile: eventsBase.includes('aurora_events') ? eventsBase : DEFAULT_FILES.events,
      ordersRawFile: basename(serviceSetting(tree, 'logging', 'orders_path')) || DEFAULT_FILES.raw,
    },
    ops: {
      token,
      tokenSource,
      aliasUsed: tokenSource === 'AURORA_OPS_TOKEN',
      allowlist: serviceSetting(tree, 'security', 'allowlist'),
      trustProxy: serviceSetting(tree, 'api', 'trust_proxy'),
      runnerToken: envString(env, 'AURORA_RUNNER_TOKEN') ?? serviceSetting(tree, 'security', 'runner_token'),
    },
    sessionDir: envString(env, 'AURORA_SESSION_DIR') ?? S.sessionDir,
    version: envString(env, 'AURORA_VERSION') ?? S.version,
    gitSha: envString(env, 'AURORA_GIT_SHA') ?? S.gitSha,
    gitBranch: envString(env, 'GIT_BRANCH') ?? S.gitBranch,
    logLevel,
    orderProfileLabel: core.orderProfile,
    stateSizes: {
      ...DEFAULT_SIZES,
      // aurora.* is a decision section: its fallback is the code default (= the state's own window size)
      latencySamples: val<number>(tree.aurora?.latency_max_samples) ?? CODE_DEFAULTS.health.maxSamples,
      warnSlots: Math.max(DEFAULT_SIZES.warnSlots, core.health.haltRepeats),
      // the desk-controls region: full tables with a `controls:` section (or an AURORA_CONTROLS_* variable),
      // modest ones without (still enough for positions, §0's reduce-only pass-through, and limits turned
      // on live by POST /ops/limits): docs/shared-memory.md section 9
      controls: core.controls.present ? DEFAULT_CONTROLS_SIZES : DEFAULT_SIZES.controls,
    },
  };
}

function basename(p: string): string {
  const parts = p.split(/[\\/]/);
  return parts[parts.length - 1];
}
