import type { PretradeCheckRequest } from '../../schema/pretrade.ts';
import type { ErInputs } from './expected-return.ts';
import type { TrapInputs } from './trap-window.ts';
import type { Regime } from './trend.ts';
import { clamp, type Side } from './types.ts';

export type AccountMode = 'paper' | 'testnet' | 'prod';

/** `account.account_id` when the runner config leaves it null (controls.md §1: absent → "default"). */
export const DEFAULT_ACCOUNT_ID = 'default';

/** Longest `order.client_order_id` and `account.account_id` the gate accepts (controls.md §1). */
export const MAX_ID_LENGTH = 64;

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
  /** `account.account_id` (controls.md §1: the account the gate's limits apply to) */
  accountId: string;
  /** `order.client_order_id`: the runner's id of this order intent, unique per intent and identical on a retry */
  clientOrderId: string;
  /** `order.type`, as the order will be sent (taker entries and exits: market; maker entries: limit) */
  orderType: 'market' | 'limit';
  /** `order.reduce_only`: true for exits (then `order.action: "close"`), false for entries */
  reduceOnly: boolean;
  symbol: string;
  side: Side;
  qty: number;
  /** limit price (maker) or best opposite price (taker reference) */
  price: number;
  /** `market.mid` of the book the decision used; omitted when null */
  mid: number | null;
  /** `market.ts_ms`: when that book was current, on the runner's clock (virtual in a replay); omitted when null */
  marketTsMs: number | null;
  /** side-aligned score (§1.5 Ours) */
  score: number;
  er: ErInputs;
  /** effective spread, bps */
  spreadBps: number;
  latencyMs: number;
  regime: Regime;
  /** TRAP deltas and the OBI/TFI signs (entries); null omits all five (exits: not a TRAP sample) */
  trap: TrapInputs | null;
  obiSign: number | null;
  tfiSign: number | null;
  /** last side-aligned scores; omitted when null */
  sprtSamples: readonly number[] | null;
  /** omitted when null (exits: the risk caps guard new risk) */
  pnlTodayPct: number | null;
  /** open positions across symbols, pending opens included; omitted when null */
  openPositions: number | null;
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
 * The client order id of the run's `seq`-th order intent: `<run_id>-o<seq>`, sent to the gate as
 * `order.client_order_id` and, when the gate allows, to the venue. Deterministic (a replay with the
 * same run id sends the same ids). Kept to 64 characters (controls.md §1): when `<run_id>-o<seq>` is
 * longer, the run id is cut and an 8-hex FNV-1a hash of the whole run id keeps it unique.
 */
export function clientOrderId(runId: string, seq: number): string {
  const suffix = `-o${seq}`;
  const full = `${runId}${suffix}`;
  if (full.length <= MAX_ID_LENGTH) return full;
  const hash = fnv1a32(runId).toString(16).padStart(8, '0');
  return `${runId.slice(0, MAX_ID_LENGTH - suffix.length - hash.length - 1)}~${hash}${suffix}`;
}

function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function idOf(name: string, v: string): string {
  if (typeof v !== 'string' || v.length < 1 || v.length > MAX_ID_LENGTH) throw new RequestBuildError(`${name} must be a string of 1..${MAX_ID_LENGTH} characters, got ${JSON.stringify(v)}`);
  return v;
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
  };
  if (i.trap !== null) {
    market.trap_cancel_deltas = list('trap_cancel_deltas', i.trap.cancel);
    market.trap_add_deltas = list('trap_add_deltas', i.trap.add);
    market.trap_trades_cnt = Math.trunc(finite('trap_trades_cnt', i.trap.tradesCnt, 0));
    market.obi_sign = signOf('obi_sign', i.obiSign ?? Number.NaN);
    market.tfi_sign = signOf('tfi_sign', i.tfiSign ?? Number.NaN);
  }
  if (i.sprtSamples !== null) market.sprt_samples = i.sprtSamples.map((x, k) => finite(`sprt_samples[${k}]`, x));
  if (i.pnlTodayPct !== null) market.pnl_today_pct = finite('pnl_today_pct', i.pnlTodayPct);
  if (i.openPositions !== null) market.open_positions = Math.trunc(finite('open_positions', i.openPositions, 0));
  // controls.md §1: the reference price and the snapshot time (the gate's staleness rule)
  const ctl = market as Record<string, unknown>;
  if (i.mid !== null) {
    const mid = finite('mid', i.mid, 0);
    if (mid > 0) ctl.mid = mid;
  }
  if (i.marketTsMs !== null) ctl.ts_ms = Math.floor(finite('market ts_ms', i.marketTsMs, 0));
  if (p.send_extras && i.extras !== undefined) {
    for (const [k, v] of Object.entries(i.extras)) {
      if (k in market) continue; // extras never overwrite a decision field
      (market as Record<string, unknown>)[k] = typeof v === 'number' && !Number.isFinite(v) ? null : v;
    }
  }
  if (i.orderType !== 'market' && i.orderType !== 'limit') throw new RequestBuildError(`order type must be market or limit, got ${JSON.stringify(i.orderType)}`);
  const order: PretradeCheckRequest['order'] & { client_order_id: string; type: 'market' | 'limit' } = {
    symbol: canonicalSymbol(i.symbol),
    side: i.side,
    qty,
    price,
    base_notional: notional,
    notional,
    client_order_id: idOf('client_order_id', i.clientOrderId),
    type: i.orderType,
    reduce_only: i.reduceOnly,
  };
  if (i.reduceOnly) order.action = 'close';
  const account: PretradeCheckRequest['account'] = { mode: i.mode, account_id: idOf('account_id', i.accountId) };
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
