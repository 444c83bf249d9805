import { availableParallelism } from 'node:os';
import { DEFAULT_FILES } from '../../src/journal/files.ts';

/**
 * Every key of the service sections of EMBEDDED_DEFAULTS (api, ws, pool, journal, security, logging,
 * compat): where resolveConfig puts it (`at`, a path in AppConfig), how the tree value becomes the resolved value (identity unless
 * given), and a valid value different from the embedded one. Shared by fallbacks.test.ts and
 * fallbacks-derived.test.ts; a test checks the table lists exactly the embedded service keys.
 */
export interface ServiceKey {
  /** the dotted path of the setting in AppConfig */
  at: string;
  resolved?: (treeValue: any) => unknown;
  mutated: unknown;
}

const basename = (p: string) => p.split(/[\\/]/).pop();

export const SERVICE_KEYS: Record<string, ServiceKey> = {
  'api.host': { at: 'service.host', mutated: '10.0.0.1' },
  'api.port': { at: 'service.port', mutated: 9000 },
  'api.max_body_bytes': { at: 'service.maxBodyBytes', mutated: 2048 },
  'api.report_cooldown_ms': { at: 'core.compat.reportCooldownMs', mutated: true },
  'api.trust_proxy': { at: 'service.ops.trustProxy', mutated: true },
  'ws.max_payload_bytes': { at: 'service.wsMaxPayloadBytes', mutated: 2048 },
  'ws.max_backpressure_bytes': { at: 'service.wsMaxBackpressureBytes', mutated: 8192 },
  'ws.idle_timeout_s': { at: 'service.wsIdleTimeoutS', mutated: 30 },
  'pool.threads': { at: 'service.poolThreads', resolved: (v) => v ?? availableParallelism(), mutated: availableParallelism() + 1 },
  'pool.inline_when_idle': { at: 'service.poolInlineWhenIdle', mutated: false },
  'pool.inline_idle_gap_us': { at: 'service.poolInlineIdleGapUs', mutated: 10 },
  'pool.awake_share': { at: 'service.poolAwakeShare', mutated: 4 },
  'journal.enabled': { at: 'service.journal.enabled', mutated: false },
  'journal.fsync_interval_ms': { at: 'service.journal.fsyncIntervalMs', mutated: 10 },
  'journal.fsync_lines': { at: 'service.journal.fsyncLines', mutated: 16 },
  'journal.on_write_error': { at: 'service.journal.onWriteError', mutated: 'fail_closed' },
  'journal.events_max_bytes': { at: 'service.journal.eventsMaxBytes', mutated: 8192 },
  'journal.orders_max_bytes': { at: 'service.journal.ordersMaxBytes', mutated: 8192 },
  'journal.retention_days': { at: 'service.journal.retentionDays', mutated: 1 },
  'journal.gzip_level': { at: 'service.journal.gzipLevel', mutated: 9 },
  'security.ops_token': { at: 'service.ops.token', mutated: 'mutated-ops-token-0123456789abcdef' },
  'security.allowlist': { at: 'service.ops.allowlist', mutated: ['10.0.0.2'] },
  'security.runner_token': { at: 'service.ops.runnerToken', mutated: 'mutated-runner-token' },
  // only an "aurora_events" file name replaces the journal's own events file name
  'logging.path': {
    at: 'service.journal.eventsFile',
    resolved: (v: string) => (basename(v)!.includes('aurora_events') ? basename(v) : DEFAULT_FILES.events),
    mutated: 'elsewhere/aurora_events_b.jsonl',
  },
  'logging.orders_path': { at: 'service.journal.ordersRawFile', resolved: (v: string) => basename(v) || DEFAULT_FILES.raw, mutated: 'elsewhere/raw.jsonl' },
  'compat.spread_reason_in_reasons': { at: 'core.compat.spreadReasonInReasons', mutated: true },
  'compat.reset_clears_samples': { at: 'core.compat.resetClearsSamples', mutated: true },
  'compat.reset_clears_governance': { at: 'core.compat.resetClearsGovernance', mutated: false },
};

type Tree = Record<string, any>;

/** Every leaf path of a tree ("api.host", ...); lists are leaves. */
export function leafPaths(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => {
    const p = prefix === '' ? k : `${prefix}.${k}`;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? leafPaths(v, p) : [p];
  });
}

export function getPath(tree: unknown, path: string): any {
  return path.split('.').reduce<any>((cur, k) => (cur === null || cur === undefined ? undefined : cur[k]), tree);
}

export function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  let cur = tree;
  for (const k of keys) cur = cur[k];
  cur[last] = value;
}

export function deletePath(tree: Tree, path: string): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  let cur = tree;
  for (const k of keys) cur = cur[k];
  delete cur[last];
}

/** The resolved value a tree value of this key gives. */
export const resolvedValue = (path: string, treeValue: unknown): unknown => (SERVICE_KEYS[path].resolved ?? ((v: unknown) => v))(treeValue);
