import Type, { type Static } from 'typebox';
import { compileValidator, type Validator } from '../../schema/validate.ts';

/**
 * The replay feed's line format (runner.md §4.2; documented for users in docs/replay-format.md).
 * One JSON object per line, discriminated by `type`. Unknown extra fields are allowed and ignored
 * (recorders may add their own bookkeeping); every listed field is checked.
 */

const SymbolName = Type.String({
  pattern: '^[A-Z0-9]{2,30}$',
  description: 'a canonical symbol: upper-case letters and digits only, e.g. "BTCUSDT"',
});

/** Epoch milliseconds; the bounds (2001…2286) catch seconds, micro- and nanoseconds written by mistake. */
const EpochMs = (what: string) =>
  Type.Integer({
    minimum: 1e12,
    maximum: 1e13,
    description: `${what} as integer epoch milliseconds (between 1e12 and 1e13)`,
  });

const Price = Type.Number({ exclusiveMinimum: 0, description: 'a price > 0 (quote currency)' });

export const Level = Type.Tuple(
  [Price, Type.Number({ minimum: 0, description: 'a size >= 0 (base units)' })],
  { description: 'a level [price > 0, size >= 0]' },
);
export type Level = Static<typeof Level>;

const Levels = Type.Array(Level, { maxItems: 5000, description: 'a list of [price, size] levels' });

const Stamped = {
  symbol: SymbolName,
  exch_ts: EpochMs('exchange event time'),
  recv_ts: EpochMs('local receive time'),
};

export const BookSnapshot = Type.Object({
  type: Type.Literal('book_snapshot'),
  ...Stamped,
  bids: Levels,
  asks: Levels,
});
export type BookSnapshot = Static<typeof BookSnapshot>;

export const BookDelta = Type.Object({
  type: Type.Literal('book_delta'),
  ...Stamped,
  bids: Levels,
  asks: Levels,
});
export type BookDelta = Static<typeof BookDelta>;

export const Trade = Type.Object({
  type: Type.Literal('trade'),
  ...Stamped,
  id: Type.String({ minLength: 1, maxLength: 64, description: 'a non-empty trade id string (unique per symbol)' }),
  price: Price,
  qty: Type.Number({ exclusiveMinimum: 0, description: 'a quantity > 0 (base units)' }),
  aggressor: Type.Union([Type.Literal('buy'), Type.Literal('sell')], {
    description: '"buy" (taker bought, lifted the ask) or "sell" (taker sold, hit the bid)',
  }),
});
export type Trade = Static<typeof Trade>;

export const MarketInfo = Type.Object({
  type: Type.Literal('market_info'),
  symbol: SymbolName,
  lot_step: Type.Number({ exclusiveMinimum: 0, description: 'the quantity increment > 0 (base units)' }),
  min_qty: Type.Number({ exclusiveMinimum: 0, description: 'the minimum order quantity > 0 (base units)' }),
  min_notional: Type.Number({ minimum: 0, description: 'the minimum order notional >= 0 (quote)' }),
  tick: Type.Number({ exclusiveMinimum: 0, description: 'the price increment > 0 (quote)' }),
  maker_bps: Type.Number({ minimum: -100, maximum: 1000, description: 'the maker fee in bps (negative = rebate)' }),
  taker_bps: Type.Number({ minimum: -100, maximum: 1000, description: 'the taker fee in bps' }),
});
export type MarketInfo = Static<typeof MarketInfo>;

export const Bar1m = Type.Object({
  type: Type.Literal('bar_1m'),
  ...Stamped,
  open_ts: EpochMs('the bar start'),
  open: Price,
  high: Price,
  low: Price,
  close: Price,
  volume: Type.Number({ minimum: 0, description: 'the traded volume >= 0 (base units)' }),
});
export type Bar1m = Static<typeof Bar1m>;

export type BookEvent = BookSnapshot | BookDelta;
export type TimedEvent = BookSnapshot | BookDelta | Trade | Bar1m;
export type FeedEvent = TimedEvent | MarketInfo;
export type FeedEventType = FeedEvent['type'];

/** One validator per event type, compiled once at module load. */
export const FEED_VALIDATORS: { readonly [K in FeedEventType]: Validator<Extract<FeedEvent, { type: K }>> } = {
  book_snapshot: compileValidator<BookSnapshot>(BookSnapshot),
  book_delta: compileValidator<BookDelta>(BookDelta),
  trade: compileValidator<Trade>(Trade),
  market_info: compileValidator<MarketInfo>(MarketInfo),
  bar_1m: compileValidator<Bar1m>(Bar1m),
};

export const FEED_EVENT_TYPES = Object.keys(FEED_VALIDATORS) as FeedEventType[];
