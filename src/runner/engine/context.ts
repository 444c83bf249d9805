import type { Clock } from '../clock.ts';
import type { RunnerConfig } from '../config/schema.ts';
import type { Exchange } from '../exchange/types.ts';
import type { GatePort } from '../gate/port.ts';
import type { RunnerJournal } from '../journal/runner-journal.ts';
import type { Calibrator } from '../logic/calibration.ts';
import { clientOrderId, type AccountMode } from '../logic/request.ts';
import type { SummaryCollector } from '../report/summary.ts';
import type { OrderTracker } from './orders.ts';
import type { PosttradeQueue } from './posttrade-queue.ts';
import type { QuotaGuard } from './quota-guard.ts';
import { SymbolState } from './symbol-state.ts';

/** What the engine's parts share: config, clock, the outside world (exchange, gate), files, counters. */
export interface EngineContext {
  cfg: RunnerConfig;
  runId: string;
  mode: AccountMode;
  clock: Clock;
  exchange: Exchange;
  gate: GatePort;
  journal: RunnerJournal;
  summary: SummaryCollector;
  calibrator: Calibrator;
  orders: OrderTracker;
  posttrade: PosttradeQueue;
  /** the gate's quotas as a brake on new entries (quota-guard.ts) */
  quotas: QuotaGuard;
  /** `account.account_id` of every check and posttrade body ("default" when the config leaves it null) */
  accountId: string;
  symbols: Map<string, SymbolState>;
  /** per-run sequences: req_id `<run_id>-<n>`, client order id `<run_id>-o<n>`, position id `<run_id>-p<n>` */
  seq: { req: number; order: number; position: number };
}

export function symbolState(ctx: EngineContext, symbol: string): SymbolState {
  let st = ctx.symbols.get(symbol);
  if (!st) {
    st = new SymbolState(symbol, ctx.cfg);
    ctx.symbols.set(symbol, st);
  }
  return st;
}

/** The next client order id of the run (`<run_id>-o<n>`, logic/request.ts): one per order intent, entries and exits. */
export function nextClientOrderId(ctx: EngineContext): string {
  return clientOrderId(ctx.runId, ++ctx.seq.order);
}

/** One `events.jsonl` record (every decision step; `origin` says who decided: local, gate, exchange, runner). */
export function logEvent(ctx: EngineContext, kind: string, origin: 'local' | 'gate' | 'exchange' | 'runner', rec: Record<string, unknown>): void {
  ctx.journal.write('events', { ts: ctx.clock.nowMs(), kind, origin, ...rec });
}

/** An exception inside the loop: typed, counted and journaled, never rethrown (runner.md §5.13). */
export function logError(ctx: EngineContext, where: string, e: unknown): void {
  const name = e instanceof Error ? e.name : 'Error';
  ctx.summary.error(`${where}:${name}`);
  logEvent(ctx, 'error', 'runner', { where, error: name, message: e instanceof Error ? e.message : String(e) });
}

/** Realised + unrealised PnL of every symbol (marked to mid), quote. */
export function pnlNow(ctx: EngineContext): { realized: number; unrealized: number } {
  let realized = 0;
  let unrealized = 0;
  for (const st of ctx.symbols.values()) {
    realized += st.position.realized;
    const mid = st.fe.book.mid();
    if (mid !== null && !st.flat) unrealized += st.position.unrealized(mid);
  }
  return { realized, unrealized };
}
