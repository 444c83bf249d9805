import type { PretradeCheckRequest } from '../../schema/pretrade.ts';
import type { ErInputs } from './expected-return.ts';
import type { TrapInputs } from './trap-window.ts';
import type { Regime } from './trend.ts';
import { clamp, type Side } from './types.ts';

export type AccountMode = 'paper' | 'testnet' | 'prod';

export interface RequestParams {
  /** `risk_tags` sent with every request */
  risk_tags: readonly string[];
  /** `gate.send_extras`: add the Gen-1 diagnostic features to `market` (off: keep requests small) */
  send_extras: boolean;
}

export const DEFAULT_REQUEST: RequestParams = { risk_tags: ['scalping', 'auto'], send_extras: false };

/** Everything one pretrade check carries (§1.8 Ours). */
export interface PretradeIntent {
  runId: string;
  /** per-run sequence number: req_id = `<run_id>-<seq>` */
  seq: number;
  /** wall clock at send, ms */
  tsMs: number;
  mode: AccountMode;
  accountId?: string;
  symbol: string;
  side: Side;
  qty: number;
  /** limit price (maker) or best opposite price (taker reference) */
  price: number;
  /** side-aligned score (§1.5 Ours) */
  score: number;
  er: ErInputs;
  /** effective spread, bps */
  spreadBps: number;
  latencyMs: number;
  regime: Regime;
  trap: TrapInputs;
  obiSign: number;
  tfiSign: number;
  /** last side-aligned scores; omitted when null */
  sprtSamples: readonly number[] | null;
  pnlTodayPct: number;
  /** open positions across symbols, pending opens included */
  openPositions: number;
  /** a reduce-only close (exempt from the gate's min-hold / opposite-side rules) */
  closing?: boolean;
  /** Gen-1 diagnostics (`mid`, `obi_l5`, `tfi_5s`, …), sent only with `send_extras` */
  extras?: Record<string, number | string | boolean | null>;
}

export class RequestBuildError extends Error {
  override name = 'RequestBuildError';
}

/** `<run_id>-<seq>`; also the WS envelope id. */
export function requestId(runId: string, seq: number): string {
  return `${runId}-${seq}`;
}

/**
 * Canonical `BASEQUOTE` upper-case symbol (§1.8, §5.9): drops an exchange prefix (`binance:`) and a
 * settle suffix (`BTC/USDT:USDT`), and the separators `/`, `-`, `_`. Used identically for pretrade and
 * posttrade.
 */
export function canonicalSymbol(raw: string): string {
  let s = raw.trim().toUpperCase();
  const parts = s.split(':');
  const pair = parts.find((x) => x.includes('/'));
  s = pair ?? parts[parts.length - 1];
  s = s.replace(/[/\-_\s]/g, '');
  if (!/^[A-Z0-9]+$/.test(s)) throw new RequestBuildError(`symbol ${JSON.stringify(raw)} has no canonical BASEQUOTE form`);
  return s;
}

function finite(name: string, x: number, min = -Infinity): number {
  if (!Number.isFinite(x) || x < min) throw new RequestBuildError(`${name} must be a finite number${min > -Infinity ? ` >= ${min}` : ''}, got ${x}`);
  return x;
}

function signOf(name: string, x: number): number {
  if (x !== -1 && x !== 0 && x !== 1) throw new RequestBuildError(`${name} must be -1, 0 or 1, got ${x}`);
  return x;
}

/**
 * Builds the full request of §1.8. Every number is checked finite here, so a NaN never reaches JSON as
 * `null` (which the gate would read as 0 and, for latency, wave through).
 */
export function buildPretradeRequest(i: PretradeIntent, p: RequestParams = DEFAULT_REQUEST): PretradeCheckRequest {
  const qty = finite('qty', i.qty, 0);
  if (!(qty > 0)) throw new RequestBuildError('qty must be > 0');
  const price = finite('price', i.price, 0);
  if (!(price > 0)) throw new RequestBuildError('price must be > 0');
  if (!Number.isInteger(i.seq) || i.seq < 0) throw new RequestBuildError(`seq must be a non-negative integer, got ${i.seq}`);
  const notional = qty * price;
  const list = (name: string, xs: readonly number[]) => xs.map((x, k) => finite(`${name}[${k}]`, x, 0));
  const market: PretradeCheckRequest['market'] = {
    score: clamp(finite('score', i.score), -1, 1),
    a_bps: finite('a_bps', i.er.a_bps, 0),
    b_bps: finite('b_bps', i.er.b_bps, 0),
    slip_bps_est: finite('slip_bps_est', i.er.slip_bps_est, 0),
    spread_bps: finite('spread_bps', i.spreadBps, 0),
    latency_ms: finite('latency_ms', i.latencyMs, 0),
    mode_regime: i.regime,
    trap_cancel_deltas: list('trap_cancel_deltas', i.trap.cancel),
    trap_add_deltas: list('trap_add_deltas', i.trap.add),
    trap_trades_cnt: Math.trunc(finite('trap_trades_cnt', i.trap.tradesCnt, 0)),
    obi_sign: signOf('obi_sign', i.obiSign),
    tfi_sign: signOf('tfi_sign', i.tfiSign),
  };
  if (i.sprtSamples !== null) market.sprt_samples = i.sprtSamples.map((x, k) => finite(`sprt_samples[${k}]`, x));
  market.pnl_today_pct = finite('pnl_today_pct', i.pnlTodayPct);
  market.open_positions = Math.trunc(finite('open_positions', i.openPositions, 0));
  if (p.send_extras && i.extras !== undefined) {
    for (const [k, v] of Object.entries(i.extras)) {
      if (k in market) continue; // extras never overwrite a decision field
      (market as Record<string, unknown>)[k] = typeof v === 'number' && !Number.isFinite(v) ? null : v;
    }
  }
  const order: PretradeCheckRequest['order'] = {
    symbol: canonicalSymbol(i.symbol),
    side: i.side,
    qty,
    price,
    base_notional: notional,
    notional,
  };
  if (i.closing === true) {
    order.reduce_only = true;
    order.action = 'close';
  }
  const account: PretradeCheckRequest['account'] = { mode: i.mode };
  if (i.accountId !== undefined) account.account_id = i.accountId;
  return {
    ts: Math.floor(finite('ts', i.tsMs, 0)),
    req_id: requestId(i.runId, i.seq),
    account,
    order,
    market,
    risk_tags: [...p.risk_tags],
    fees_bps: finite('fees_bps', i.er.fees_bps, 0),
  };
}
