import { exitParams } from '../config/params.ts';
import { ExitEngine } from '../logic/exits.ts';
import { logError, logEvent, type EngineContext } from './context.ts';
import type { OrderFlow } from './order-flow.ts';
import type { SymbolState } from './symbol-state.ts';

/** ATR fallback when the entry's ATR is unusable: 10 bps of the entry price keeps the stops sane. */
const FALLBACK_ATR_BPS = 10;

/**
 * (Re)builds the exit engine of an open position from its fills (runner.md §2.5 Ours): average entry,
 * current size as the initial size, the ATR of the intent that opened it. Called on every entry fill,
 * so a position built from several fills is managed from the first one on.
 */
export function armExit(ctx: EngineContext, st: SymbolState): void {
  const side = st.position.side;
  const entry = st.position.avgEntry;
  if (side === null || entry === null) return;
  const qty = Math.abs(st.position.qty);
  const atr = st.entryAtr !== null && st.entryAtr > 0 && Number.isFinite(st.entryAtr) ? st.entryAtr : (entry * FALLBACK_ATR_BPS) / 1e4;
  const takerBps = st.market?.takerBps ?? ctx.cfg.fees.taker_bps;
  try {
    st.exit = new ExitEngine(
      {
        side,
        entry,
        qty,
        atr,
        openedAtMs: st.position.openedAtMs ?? ctx.clock.nowMs(),
        feesPerUnit: st.position.openFees / qty + (entry * Math.max(0, takerBps)) / 1e4,
        lotStep: st.market?.lotStep,
        minQty: st.market?.minQty,
      },
      exitParams(ctx.cfg),
    );
    logEvent(ctx, 'position', 'exchange', {
      symbol: st.symbol,
      position_id: st.positionId,
      side,
      qty,
      entry,
      atr,
      stop: st.exit.stop,
      take_profit: st.exit.takeProfit,
    });
  } catch (e) {
    logError(ctx, 'exit_engine', e);
  }
}

/** Runs the exit engine on a book update (`score` only on decision ticks) and acts on its verdict. */
export async function manageExit(ctx: EngineContext, flow: OrderFlow, st: SymbolState, score: number | null, atrNow: number | null): Promise<void> {
  if (st.flat) return;
  if (st.exit === null) armExit(ctx, st);
  if (st.exit === null) return;
  const bid = st.fe.book.bestBid();
  const ask = st.fe.book.bestAsk();
  if (bid === null || ask === null || st.fe.book.isCrossed()) return;
  const now = ctx.clock.nowMs();
  // placeExit sends nothing while an exit is under way, being asked of the gate, or backing off: the ladder must not consume a slice then
  const busy = st.exitOrder !== null || st.exitChecking || now < st.exitRetryAtMs;
  const u = st.exit.update({ nowMs: now, bid: bid[0], ask: ask[0], score, atr: atrNow, remainingQty: Math.abs(st.position.qty), busy });
  for (const e of u.events) logEvent(ctx, `exit_${e.kind}`, 'local', { symbol: st.symbol, position_id: st.positionId, stop: e.stop });
  if (u.action.kind === 'exit') await flow.placeExit(st, u.action.qty, u.action.reason, u.action.full);
}

/** Shutdown flattening (§2.6): a full reduce-only exit for whatever is open, reason `shutdown` unless another full exit is under way. */
export async function flattenPosition(flow: OrderFlow, st: SymbolState): Promise<void> {
  if (st.flat) return;
  const held = Math.abs(st.position.qty);
  const action = st.exit?.shutdown(held);
  const reason = action !== undefined && action.kind === 'exit' ? action.reason : 'shutdown';
  await flow.placeExit(st, held, reason, true);
}
