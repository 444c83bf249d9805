/** The runner's gate port: the real gate over GateClient, or the in-process stub (runner.md §4.4, §4.5). */
import type { RunnerConfig } from '../config/schema.ts';
import { ClientGate } from './client-gate.ts';
import type { GatePort } from './port.ts';
import { StubGate } from './stub-gate.ts';

export type { GateAnswer, GatePort, GatePortStats, LogAnswer } from './port.ts';
export { ClientGate } from './client-gate.ts';
export { StubGate, stubDecide, STUB_QUOTAS, STUB_THRESHOLDS } from './stub-gate.ts';
export { CONTROL_REASON_CODES, denyFamily, isControlDenial } from './reasons.ts';

/** `gate.url: stub` → the stub; anything else → the real gate. */
export function createGatePort(cfg: RunnerConfig): GatePort {
  return cfg.gate.url === 'stub' ? new StubGate() : new ClientGate(cfg);
}
