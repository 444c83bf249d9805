import { buildControlsConfig, tradingStateCode, type ControlsConfig } from '../../../src/core/controls/config.ts';
import { applyPosttradeToControls, ControlsVerdict, evaluate, initControls, storeAnswer } from '../../../src/core/controls/evaluate.ts';
import { controlsFacts, type ControlsFacts } from '../../../src/core/controls/facts.ts';
import { ControlsState, type ControlsSizes } from '../../../src/core/controls/state.ts';
import type { ControlsSection } from '../../../src/schema/controls.ts';

/** Monday 2025-01-06 12:00:00.000 UTC */
export const T0 = Date.UTC(2025, 0, 6, 12, 0, 0);
export const SMALL: ControlsSizes = { accounts: 8, pairs: 16, reservations: 16, dedupeIds: 16, answerBytes: 4096, configBytes: 4096 };

export interface Req {
  account?: Record<string, unknown>;
  order?: Record<string, unknown>;
  market?: Record<string, unknown>;
}

/** A request: account acc1, buy 1 BTC/USDT limit at 100, mid 100, snapshot taken at `T0`. */
export function req(over: Req = {}): Req {
  return {
    account: { account_id: 'acc1', ...over.account },
    order: { symbol: 'BTC/USDT', side: 'buy', qty: 1, price: 100, ...over.order },
    market: { mid: 100, ts_ms: T0, ...over.market },
  };
}

export class Desk {
  cfg: ControlsConfig;
  readonly st: ControlsState;
  readonly v = new ControlsVerdict();
  now = T0;

  constructor(section: ControlsSection | null | undefined, sizes: ControlsSizes = SMALL) {
    this.cfg = buildControlsConfig(section);
    this.st = ControlsState.create(sizes, tradingStateCode(this.cfg.tradingState), false);
    initControls(this.st, this.cfg);
  }

  facts(over: Req = {}): ControlsFacts {
    return controlsFacts(req(over));
  }

  /** evaluate at `this.now` (+ `dt` ms first) and store a stand-in answer text for a remembered id */
  check(over: Req = {}, dt = 0): ControlsVerdict {
    this.now += dt;
    const f = this.facts(over);
    evaluate(this.cfg, this.st, f, this.now, this.v);
    storeAnswer(this.st, f, this.v, answerText(this.v));
    return this.v;
  }

  reason(over: Req = {}, dt = 0): string {
    const v = this.check(over, dt);
    return v.kind === 1 ? (v.denial?.reason ?? '?') : v.kind === 2 ? 'replay' : 'ok';
  }

  posttrade(payload: Record<string, unknown>, dt = 0) {
    this.now += dt;
    return applyPosttradeToControls(this.st, this.cfg, payload, this.now);
  }

  /** a fill that opens a position: `qty` (signed: + buy, − sell) at `price` */
  position(qty: number, price = 100, account = 'acc1', symbol = 'BTC/USDT') {
    return this.posttrade({ account_id: account, symbol, side: qty > 0 ? 'buy' : 'sell', status: 'closed', filled: Math.abs(qty), average: price });
  }
}

/** A stand-in for the encoded response body of a decision (what the service would store). */
export function answerText(v: ControlsVerdict): string {
  const allow = v.kind === 0;
  return `{"allow":${allow},"reason":${JSON.stringify(allow ? 'ok' : v.denial?.reason)},"observability":{"reasons":[]}}`;
}
