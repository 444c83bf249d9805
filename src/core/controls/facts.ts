import { toFloat, toFloatPresent, truthy } from '../pyvalue.ts';
import { symbolKey } from '../../shm/state/symbol-table.ts';
import { canonicalSymbol, normalSide } from '../symbol.ts';
import { keyHash } from './key-index.ts';
import { SIDE_BUY, SIDE_NONE, SIDE_SELL } from './rules.ts';

/**
 * What the controls read from a validated /pretrade/check request (controls.md §1), converted once,
 * outside the lock, like DecisionInput: strings are hashed here (53-bit symbolKey), and so are the
 * index keys (30-bit keyHash of each table's key pair), so the critical section only compares numbers.
 * Absent numbers are NaN.
 */
export interface ControlsFacts {
  /** `account.account_id`, or "default" when absent, null or empty */
  accountId: string;
  accountKey: number;
  /** canonical symbol (order.symbol, else market.symbol), or null */
  symbol: string | null;
  /** symbolKey(symbol), 0 when null */
  symKey: number;
  /** SIDE_BUY / SIDE_SELL / SIDE_NONE */
  side: number;
  qty: number;
  /** order.price as given (NaN when absent or null) */
  price: number;
  /** `order.type`, else "limit" when price > 0, else "market" */
  isLimit: boolean;
  mid: number;
  markPrice: number;
  tsMs: number;
  /** `order.reduce_only === true` */
  reduceOnly: boolean;
  clientOrderId: string | null;
  /** symbolKey(client_order_id), 0 when none */
  idKey: number;
  /** 53-bit hash of the `order` object's text (0 without a client_order_id) */
  orderHash: number;
  /** keyHash(accountKey, 0): the account index key */
  accountHash: number;
  /** keyHash(accountKey, symKey): the (account, symbol) index key */
  pairHash: number;
  /** keyHash(accountKey, idKey): the reservation and dedupe index key */
  idHash: number;
}

export const DEFAULT_ACCOUNT = 'default';

const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const positive = (v: unknown): number => (typeof v === 'number' && v > 0 ? v : NaN);

/**
 * Facts of a validated request. `orderText` is the text the idempotency hash covers: the raw bytes of
 * the request's `order` value when the caller has them, else `JSON.stringify(order)` of the parsed body
 * (identical for a byte-identical retry; it also equates two bodies that differ only in whitespace or
 * number spelling, e.g. `1.0` / `1`, which a desk would call the same order).
 */
export function controlsFacts(req: { account?: unknown; order?: unknown; market?: unknown }, orderText?: string): ControlsFacts {
  const account = obj(req.account);
  const order = obj(req.order);
  const market = obj(req.market);
  const accountId = typeof account.account_id === 'string' && account.account_id !== '' ? account.account_id : DEFAULT_ACCOUNT;
  const symbol = canonicalSymbol(truthy(order.symbol) ? order.symbol : market.symbol);
  const s = normalSide(order.side);
  const price = order.price === undefined || order.price === null ? NaN : toFloatPresent(order.price);
  const type = order.type;
  const cid = typeof order.client_order_id === 'string' && order.client_order_id !== '' ? order.client_order_id : null;
  const accountKey = symbolKey(accountId);
  const symKey = symbol === null ? 0 : symbolKey(symbol);
  const idKey = cid === null ? 0 : symbolKey(cid);
  return {
    accountId,
    accountKey,
    symbol,
    symKey,
    side: s === 'buy' ? SIDE_BUY : s === 'sell' ? SIDE_SELL : SIDE_NONE,
    qty: toFloat(order.qty),
    price,
    isLimit: type === 'limit' ? true : type === 'market' ? false : price > 0,
    mid: positive(market.mid),
    markPrice: positive(market.mark_price),
    tsMs: typeof market.ts_ms === 'number' && Number.isFinite(market.ts_ms) ? market.ts_ms : NaN,
    reduceOnly: order.reduce_only === true,
    clientOrderId: cid,
    idKey,
    orderHash: cid === null ? 0 : symbolKey(orderText ?? JSON.stringify(req.order)),
    accountHash: keyHash(accountKey, 0),
    pairHash: keyHash(accountKey, symKey),
    idHash: keyHash(accountKey, idKey),
  };
}
