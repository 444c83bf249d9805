import type { PretradeCheckRequest, PretradeCheckResponse } from '../../schema/pretrade.ts';
import type { PosttradeBody } from '../logic/posttrade.ts';

/** How a pretrade call went: the decision (the gate's, or a fail-closed deny) and the call's transport. */
export interface GateAnswer {
  decision: PretradeCheckResponse;
  /** `none`: the call was never sent (backpressure, socket down with no fallback) */
  transport: 'ws' | 'http' | 'none' | 'stub';
  /** `ws`/`http`/`stub` = answered; otherwise the client's fail-closed cause */
  outcome: 'ws' | 'http' | 'stub' | 'timeout' | 'unavailable' | 'backpressure' | 'gate_error' | 'invalid_response';
  /** round trip on the monotonic real clock, ms */
  rttMs: number;
}

export interface LogAnswer {
  ok: boolean;
  reason?: string;
}

export interface GatePortStats {
  connected: boolean;
  reconnects: number;
  /** answers that arrived after their deadline (dropped) */
  late: number;
}

/**
 * The runner's view of the gate: the real one over `GateClient` (WebSocket, HTTP fallback,
 * fail-closed) or the in-process stub of runner.md §4.5. `check` and `log` never reject for gate
 * problems; they resolve with a deny / `ok: false`.
 */
export interface GatePort {
  /** `ws://…/ws` or `stub` */
  readonly name: string;
  /** Waits until the gate is usable (bounded); true when it is. */
  start(): Promise<boolean>;
  check(req: PretradeCheckRequest): Promise<GateAnswer>;
  log(body: PosttradeBody): Promise<LogAnswer>;
  stats(): GatePortStats;
  /** Closes the connection (WebSocket close code 1000). */
  close(): Promise<void>;
}
