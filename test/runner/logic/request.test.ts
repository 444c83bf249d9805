import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { toDecisionInput } from '../../../src/core/inputs.ts';
import { decide } from '../../../src/core/pipeline.ts';
import { GateState } from '../../../src/shm/state/gate-state.ts';
import { pretradeValidator } from '../../../src/gate/pretrade.ts';
import { erInputs } from '../../../src/runner/logic/expected-return.ts';
import {
  buildPretradeRequest,
  canonicalSymbol,
  clientOrderId,
  DEFAULT_REQUEST,
  RequestBuildError,
  requestId,
  type PretradeIntent,
} from '../../../src/runner/logic/request.ts';
import { sideAligned } from '../../../src/runner/logic/signal.ts';
import type { PretradeCheckRequest } from '../../../src/schema/pretrade.ts';

/** The §1.8 example intent (taker buy, flat book) with the §1.6 worked-example ER inputs. */
function example(over: Partial<PretradeIntent> = {}): PretradeIntent {
  return {
    runId: 'r20260101-000001',
    seq: 42,
    tsMs: 1767225600000,
    mode: 'paper',
    accountId: 'default',
    clientOrderId: 'r20260101-000001-o42',
    orderType: 'market',
    reduceOnly: false,
    symbol: 'BTC/USDT',
    side: 'buy',
    qty: 0.002,
    price: 50005.0,
    mid: 50002.5,
    marketTsMs: 1767225599992.6, // the newest book update: 7.4 ms before the send
    score: 0.5,
    er: erInputs({ atrBps: 10, route: 'taker', spreadBps: 1.0 })!,
    spreadBps: 1.0,
    latencyMs: 7.4,
    regime: 'normal',
    trap: { cancel: [0.4, 0.1, 0, 0, 0], add: [0.5, 0.2, 0.1, 0, 0], tradesCnt: 12 },
    obiSign: 1,
    tfiSign: 1,
    sprtSamples: [0.41, 0.47, 0.5],
    pnlTodayPct: 0.0,
    openPositions: 0,
    ...over,
  };
}

/** The example request of runner.md §1.8, typed in by hand. */
const SPEC_EXAMPLE = {
  ts: 1767225600000,
  req_id: 'r20260101-000001-42',
  account: { mode: 'paper' },
  order: { symbol: 'BTCUSDT', side: 'buy', qty: 0.002, price: 50005.0, base_notional: 100.01, notional: 100.01 },
  market: {
    score: 0.5,
    a_bps: 8,
    b_bps: 12,
    slip_bps_est: 0.5,
    spread_bps: 1.0,
    latency_ms: 7.4,
    mode_regime: 'normal',
    trap_cancel_deltas: [0.4, 0.1, 0, 0, 0],
    trap_add_deltas: [0.5, 0.2, 0.1, 0, 0],
    trap_trades_cnt: 12,
    obi_sign: 1,
    tfi_sign: 1,
    sprt_samples: [0.41, 0.47, 0.5],
    pnl_today_pct: 0.0,
    open_positions: 0,
  },
  risk_tags: ['scalping', 'auto'],
  fees_bps: 1.0,
};

describe('PretradeCheckRequest builder (§1.8)', () => {
  it('builds the spec example field for field, plus the controls.md §1 fields, and the gate validator accepts it', () => {
    const req = buildPretradeRequest(example());
    const { order, ...rest } = req;
    const { order: specOrder, ...specRest } = SPEC_EXAMPLE;
    expect(rest).toEqual({
      ...specRest,
      account: { mode: 'paper', account_id: 'default' },
      market: { ...specRest.market, mid: 50002.5, ts_ms: 1767225599992 }, // ts_ms floored to an integer
    });
    expect({ ...order, base_notional: undefined, notional: undefined }).toEqual({
      ...specOrder,
      client_order_id: 'r20260101-000001-o42',
      type: 'market',
      reduce_only: false,
      base_notional: undefined,
      notional: undefined,
    });
    expect(order.base_notional).toBeCloseTo(100.01, 9);
    expect(order.notional).toBe(order.base_notional);
    expect(pretradeValidator.check(req)).toBe(true);
    expect(pretradeValidator.check(JSON.parse(JSON.stringify(req)))).toBe(true);
  });

  it('the validator is real: a request without market or with a NaN latency fails it', () => {
    const req = buildPretradeRequest(example()) as Record<string, unknown>;
    const { market: _m, ...noMarket } = req;
    expect(pretradeValidator.check(noMarket)).toBe(false);
    expect(pretradeValidator.check({ ...req, market: { ...(req.market as object), latency_ms: NaN } })).toBe(false);
  });

  it('req_id is <run_id>-<seq>; symbols are canonical BASEQUOTE', () => {
    expect(requestId('run7', 0)).toBe('run7-0');
    expect(canonicalSymbol('BTC/USDT')).toBe('BTCUSDT');
    expect(canonicalSymbol(' btc/usdt:usdt ')).toBe('BTCUSDT');
    expect(canonicalSymbol('binance:btc/usdt')).toBe('BTCUSDT');
    expect(canonicalSymbol('ETH-USDT')).toBe('ETHUSDT');
    expect(canonicalSymbol('solusdt')).toBe('SOLUSDT');
    expect(() => canonicalSymbol('BTC/USDT?')).toThrow(RequestBuildError);
  });

  it('omits sprt_samples when null, adds extras only with send_extras (never over a decision field)', () => {
    const noSprt = buildPretradeRequest(example({ sprtSamples: null }));
    expect('sprt_samples' in noSprt.market).toBe(false);
    const extras = { mid: 50000, obi_l5: 0.3, spread_bps: 99, vol_1m_bps: NaN };
    expect(Object.keys(buildPretradeRequest(example({ extras })).market)).not.toContain('obi_l5');
    const withExtras = buildPretradeRequest(example({ extras }), { ...DEFAULT_REQUEST, send_extras: true });
    // mid is a decision field now (controls.md §1): the extra's mid does not overwrite it
    expect(withExtras.market).toMatchObject({ mid: 50002.5, obi_l5: 0.3, spread_bps: 1.0, vol_1m_bps: null });
    expect(pretradeValidator.check(withExtras)).toBe(true);
    const noMid = buildPretradeRequest(example({ extras, mid: null }), { ...DEFAULT_REQUEST, send_extras: true });
    expect(noMid.market).toMatchObject({ mid: 50000 });
  });

  it('marks a reduce-only close and carries the account id', () => {
    const req = buildPretradeRequest(example({ reduceOnly: true, side: 'sell', accountId: 'acc-1' }));
    expect(req.order).toMatchObject({ side: 'sell', reduce_only: true, action: 'close', type: 'market' });
    expect(req.account).toEqual({ mode: 'paper', account_id: 'acc-1' });
    expect(pretradeValidator.check(req)).toBe(true);
  });

  it('an exit block leaves out the entry-only inputs (TRAP, SPRT, risk caps) when they are null', () => {
    const req = buildPretradeRequest(
      example({ reduceOnly: true, side: 'sell', trap: null, obiSign: null, tfiSign: null, sprtSamples: null, pnlTodayPct: null, openPositions: null }),
    );
    expect(Object.keys(req.market).sort()).toEqual(['a_bps', 'b_bps', 'latency_ms', 'mid', 'mode_regime', 'score', 'slip_bps_est', 'spread_bps', 'ts_ms']);
    expect(pretradeValidator.check(req)).toBe(true);
  });

  it('a maker entry is a limit order; mid and ts_ms are omitted when unknown', () => {
    const req = buildPretradeRequest(example({ orderType: 'limit', mid: null, marketTsMs: null }));
    expect((req.order as Record<string, unknown>).type).toBe('limit');
    expect('mid' in req.market).toBe(false);
    expect('ts_ms' in req.market).toBe(false);
  });

  it('client order ids: <run_id>-o<n>, at most 64 characters, distinct per n and per run id', () => {
    expect(clientOrderId('r20260101-000001-a1b2', 7)).toBe('r20260101-000001-a1b2-o7');
    const long = 'x'.repeat(64);
    const a = clientOrderId(long, 123456789);
    expect(a.length).toBe(64);
    expect(a.endsWith('-o123456789')).toBe(true);
    expect(clientOrderId(long, 123456789)).toBe(a); // deterministic
    expect(clientOrderId(long, 123456780)).not.toBe(a);
    expect(clientOrderId('y' + 'x'.repeat(63), 123456789)).not.toBe(a); // the hash keeps long run ids apart
  });

  it.each([
    ['latencyMs', NaN],
    ['latencyMs', -1],
    ['qty', 0],
    ['price', Infinity],
    ['spreadBps', NaN],
    ['obiSign', 0.5],
    ['seq', 1.5],
    ['pnlTodayPct', NaN],
    ['clientOrderId', ''],
    ['clientOrderId', 'x'.repeat(65)],
    ['accountId', 'a'.repeat(65)],
    ['orderType', 'stop'],
    ['mid', NaN],
    ['marketTsMs', -1],
  ] as const)('refuses %s = %s (no NaN or nonsense reaches the wire)', (key, value) => {
    expect(() => buildPretradeRequest(example({ [key]: value } as Partial<PretradeIntent>))).toThrow(RequestBuildError);
  });

  it('clamps the score to [-1, 1] and floors ts to an integer', () => {
    const req = buildPretradeRequest(example({ score: 1.5, tsMs: 1000.7 }));
    expect(req.market.score).toBe(1);
    expect(req.ts).toBe(1000);
  });
});

describe('contract with the real gate core (§5.1/§5.2, §4.6)', () => {
  const cfg = loadConfig({}, tmpdir()); // the embedded default configuration
  const run = (req: PretradeCheckRequest) => {
    expect(pretradeValidator.check(req)).toBe(true); // a 422 would be a contract break
    const state = GateState.create(cfg.service.stateSizes, cfg.core.risk, false);
    const input = toDecisionInput(req, cfg.core.defaultMode);
    return decide(state, cfg.core, input, (req.ts as number) / 1000, () => 0);
  };

  it('the worked example (favourable long) is allowed, and not by luck of the ER check', () => {
    const d = run(buildPretradeRequest(example()));
    expect(d.reason).not.toBe('expected_return_gate');
    expect(d.observability.reasons).not.toContain('expected_return_below_threshold');
    expect(d.allow).toBe(true);
  });

  it('a short with a side-aligned score passes ER; the same short with the raw signed score is denied', () => {
    const rawScore = -0.5;
    const aligned = buildPretradeRequest(example({ side: 'sell', score: sideAligned('sell', rawScore), sprtSamples: [0.41, 0.47, 0.5] }));
    const d = run(aligned);
    expect(d.reason).not.toBe('expected_return_gate');
    expect(d.allow).toBe(true);
    const signed = buildPretradeRequest(example({ side: 'sell', score: rawScore, sprtSamples: null }));
    expect(run(signed).reason).toBe('expected_return_gate'); // the Gen-1 defect the alignment fixes
  });

  it('a thin Gen-2 style block {latency_ms, spread_bps, score} is denied expected_return_gate', () => {
    const thin = {
      ts: 1767225600000,
      req_id: 'gen2-1',
      account: { mode: 'paper' },
      order: { symbol: 'BTCUSDT', side: 'buy', qty: 0.002, price: 50005 },
      market: { latency_ms: 10, spread_bps: 1.0, score: 0.9 },
      fees_bps: 1.0,
    };
    expect(run(thin).reason).toBe('expected_return_gate');
  });

  it('ER inputs that describe a too-tight exit geometry are denied too (the gate really reads a/b)', () => {
    const tight = buildPretradeRequest(example({ er: erInputs({ atrBps: 1, route: 'taker', spreadBps: 1.0 })! }));
    expect(run(tight).reason).toBe('expected_return_gate');
  });
});
