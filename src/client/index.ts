export { GateClient, type CheckResult, type GateClientStats, type LogResult, type Outcome, type Transport } from './gate-client.ts';
export { DEFAULTS, deriveHttpUrl, resolveOptions, type GateClientOptions, type ResolvedOptions } from './options.ts';
export { failClosed, type LocalReason } from './fail-closed.ts';
export { denyFamily } from './reasons.ts';
export { backoffCeiling, backoffDelay, seededRandom, type BackoffParams } from './backoff.ts';
export { LatencyHistogram, type LatencySummary } from './latency.ts';
