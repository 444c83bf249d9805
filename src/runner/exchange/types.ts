/**
 * The runner's view of a venue (runner.md §3.1 Ours, §4.3). `PaperExchange` implements it offline;
 * a `CcxtExchange` (testnet/live only, never loaded in tests) would implement the same interface:
 * `place` → `createOrder` with `clientOrderId`/`newClientOrderId` and `reduceOnly`/`postOnly` params,
 * emitting `ack` when the REST call returns and `rejected` mapped from ccxt's error classes
 * (InsufficientFunds → insufficient_balance, RateLimitExceeded/DDoSProtection → rate_limited,
 * InvalidOrder → min_qty/min_notional/off_tick by message, RequestTimeout → timeout);
 * fills from `watchMyTrades` (or polling `fetchMyTrades`), `cancel` → `cancelOrder`,
 * `fetchOrder` → `fetchOrder(undefined, symbol, { clientOrderId })`, `positions` → `fetchPositions`,
 * `balance` → `fetchBalance`, `marketInfo` from `loadMarkets` precision/limits and fee fields.
 */

export type OrderSide = 'buy' | 'sell';
export type OrderType = 'market' | 'limit';
export type Liquidity = 'maker' | 'taker';

/** Reject codes: those of runner.md §2.3 plus the venue-rule codes the paper exchange can tell apart. */
export type RejectCode =
  | 'rejected'
  | 'rate_limited'
  | 'insufficient_balance'
  | 'min_notional'
  | 'timeout'
  | 'unknown'
  | 'post_only_would_take'
  | 'off_tick'
  | 'reduce_only_would_increase'
  | 'min_qty';

export type CancelReason = 'user' | 'cancel_all' | 'ioc_remainder' | 'reduce_only_excess';

export interface PlaceRequest {
  /** Chosen by the runner (deterministic `<run_id>-o<seq>`), echoed on every event. */
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  /** Base units, a multiple of the lot step. */
  qty: number;
  /** Required for limit orders; ignored for market orders. */
  price?: number;
  /** Limit only: reject instead of taking liquidity. */
  postOnly?: boolean;
  /** Only ever reduce the position; a remainder beyond the position is cancelled. */
  reduceOnly?: boolean;
}

export interface PlaceReceipt {
  clientOrderId: string;
  orderId: string;
}

export type OrderStatus = 'open' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected';

export interface OrderSnapshot {
  orderId: string;
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  price: number | null;
  qty: number;
  filled: number;
  /** Volume-weighted fill price, null before any fill. */
  avgPrice: number | null;
  fees: number;
  status: OrderStatus;
  postOnly: boolean;
  reduceOnly: boolean;
  /** When the venue accepted (or rejected) it. */
  acceptedMs: number;
  updatedMs: number;
  rejectCode?: RejectCode;
}

interface EventBase {
  /** Venue time of the event (virtual ms for the paper exchange). */
  ts: number;
  symbol: string;
  clientOrderId: string;
  orderId: string;
}

export interface AckEvent extends EventBase {
  type: 'ack';
}

export interface FillEvent extends EventBase {
  type: 'fill';
  fillId: string;
  side: OrderSide;
  price: number;
  qty: number;
  /** Fee in `feeCurrency` (quote for the paper exchange: linear contracts). Negative = rebate. */
  fee: number;
  feeCurrency: string;
  liquidity: Liquidity;
  /** Cumulative filled qty of the order after this fill, and what is left. */
  filled: number;
  remaining: number;
  status: 'partially_filled' | 'filled';
  reduceOnly: boolean;
}

export interface CancelledEvent extends EventBase {
  type: 'cancelled';
  reason: CancelReason;
  filled: number;
  /** Qty that will never fill. */
  cancelledQty: number;
}

export interface RejectedEvent extends EventBase {
  type: 'rejected';
  code: RejectCode;
  message: string;
}

export interface CancelFailedEvent extends EventBase {
  type: 'cancel_failed';
  reason: 'unknown_order' | 'already_closed';
}

export type ExchangeEvent = AckEvent | FillEvent | CancelledEvent | RejectedEvent | CancelFailedEvent;
export type ExchangeListener = (ev: ExchangeEvent) => void;

export interface Position {
  symbol: string;
  /** Signed base units: > 0 long, < 0 short. */
  qty: number;
  side: 'LONG' | 'SHORT' | 'FLAT';
  /** Volume-weighted entry of the open FIFO lots, null when flat. */
  avgEntry: number | null;
  /** Fee-inclusive realised PnL (FIFO) since start, quote. */
  realizedPnl: number;
  /** Marked to mid, gross of the exit fee; 0 when flat or without a book. */
  unrealizedPnl: number;
  markPrice: number | null;
}

export interface Balance {
  currency: string;
  /** Start equity + gross realised PnL − every fee paid. */
  cash: number;
  /** cash + unrealised PnL. */
  equity: number;
  realizedPnl: number;
  unrealizedPnl: number;
  feesPaid: number;
  /** Margin held by open positions and by resting orders that would increase exposure. */
  usedMargin: number;
  available: number;
}

export interface VenueMarketInfo {
  symbol: string;
  lotStep: number;
  minQty: number;
  minNotional: number;
  tick: number;
  makerBps: number;
  takerBps: number;
}

export interface Exchange {
  /** Sends an order; the outcome arrives as events (`ack` or `rejected`, then fills/cancel). */
  place(req: PlaceRequest): Promise<PlaceReceipt>;
  /** Requests a cancel by client order id; the outcome arrives as `cancelled` or `cancel_failed`. */
  cancel(clientOrderId: string): Promise<void>;
  /** Cancels every open order (of one symbol when given); resolves with how many were targeted. */
  cancelAll(symbol?: string): Promise<number>;
  /** The venue's view of an order, undefined when the venue does not know the id (yet). */
  fetchOrder(clientOrderId: string): Promise<OrderSnapshot | undefined>;
  positions(): Promise<Position[]>;
  balance(): Promise<Balance>;
  marketInfo(symbol: string): Promise<VenueMarketInfo | undefined>;
  /** Subscribes to order events; returns the unsubscribe function. */
  on(listener: ExchangeListener): () => void;
}
