import { describe, expect, test } from 'vitest';
import type { EngineContext } from '../../../src/runner/engine/context.ts';
import { manageExit } from '../../../src/runner/engine/exit-flow.ts';
import type { OrderFlow } from '../../../src/runner/engine/order-flow.ts';
import type { SymbolState } from '../../../src/runner/engine/symbol-state.ts';
import { ExitEngine } from '../../../src/runner/logic/exits.ts';

// entry 100, ATR 1, qty 1: ladder levels at 20 / 40 / 70 bps with 0.25 / 0.35 / 0.4 of the initial qty
describe('manageExit: a TP ladder slice is consumed only when it can be placed', () => {
  function setup() {
    let now = 1_000;
    let bid = 100.0;
    const placed: Array<{ qty: number; reason: string; full: boolean }> = [];
    const st = {
      symbol: 'BTCUSDT',
      positionId: 'p1',
      flat: false,
      position: { qty: 1 },
      exit: new ExitEngine({ side: 'LONG', entry: 100, qty: 1, atr: 1, openedAtMs: 0, feesPerUnit: 0.01 }),
      exitOrder: null as unknown,
      exitRetryAtMs: 0,
      fe: { book: { bestBid: () => [bid, 1], bestAsk: () => [bid + 0.05, 1], isCrossed: () => false } },
    };
    const ctx = { clock: { nowMs: () => now }, journal: { write: () => {} } } as unknown as EngineContext;
    // the same guard as OrderFlow.placeExit: one exit at a time, none during the retry backoff
    const flow = {
      placeExit: async (s: typeof st, qty: number, reason: string, full: boolean) => {
        if (s.exitOrder !== null || now < s.exitRetryAtMs) return;
        placed.push({ qty, reason, full });
      },
    } as unknown as OrderFlow;
    const tickAt = async (ms: number, px: number) => {
      now = ms;
      bid = px;
      await manageExit(ctx, flow, st as unknown as SymbolState, null, null);
    };
    return { st, placed, tickAt };
  }

  test('an exit order under way: the ladder holds and sends the slice once the order is done', async () => {
    const { st, placed, tickAt } = setup();
    st.exitOrder = { cid: 'x' }; // e.g. an earlier exit still working
    await tickAt(2_000, 100.25); // 25 bps: level 1 reached, but nothing can be placed
    expect(placed).toEqual([]);
    st.exitOrder = null;
    await tickAt(2_100, 100.25);
    expect(placed).toEqual([{ qty: 0.25, reason: 'tp_ladder_1', full: false }]);
  });

  test('exit retry backoff: the ladder holds until the backoff is over', async () => {
    const { st, placed, tickAt } = setup();
    st.exitRetryAtMs = 5_000;
    await tickAt(2_000, 100.45); // levels 1 and 2 reached during the backoff
    await tickAt(3_000, 100.45);
    expect(placed).toEqual([]);
    await tickAt(5_000, 100.45);
    expect(placed).toEqual([{ qty: 0.6, reason: 'tp_ladder_2', full: false }]);
  });
});
