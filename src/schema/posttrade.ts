import Type, { type Static } from 'typebox';
import { OkResponse } from './replies.ts';
import { ControlsAccountFields, ControlsOrderFields } from './controls.ts';

/**
 * `POST /posttrade/log` (service.md 3.1): any JSON object describing an order outcome. The keys the
 * gate reads are listed (all optional, any type, as in the reference: numeric strings are parsed,
 * everything else is kept verbatim in the raw log and in POSTTRADE.LOG).
 */
const any = (description: string) => Type.Optional(Type.Unknown({ description }));

export const PosttradeLogRequest = Type.Object(
  {
    symbol: any('order symbol; canonicalised (trim, upper-case, text after the first ":") for position and cool-down state'),
    side: any('"buy" or "sell" (lower-cased)'),
    qty: any('ordered quantity (or `amount`)'),
    amount: any('ordered quantity when `qty` is absent'),
    price: any('order price'),
    status: any('exchange status: filled / partially_filled / partial / closed = success; anything else = pending'),
    filled: any('filled quantity; > 0 = success (numeric strings are parsed)'),
    average: any('average fill price (or `avg_price`)'),
    fee: any('fee (or `fees`)'),
    order_id: any('exchange order id (or `id`)'),
    ts: any('client timestamp (s, ms, µs or ns: guessed by magnitude); the gate keeps server time for positions'),
    error: any('any truthy error field makes the record a failure'),
    error_code: any('exchange error code (e.g. -2010), normalised in orders_failed.jsonl'),
    error_msg: any('exchange error message'),
    action: any('"close" (any case) signals a close'),
    close: any('truthy = a close'),
    reduceOnly: any('truthy = a close'),
    response: any('a raw CCXT order object; fills status/filled/average/id when absent'),
    // desk controls (controls.md §3): the account of the fill ("default" when absent) and the order's
    // client_order_id, which ends or shrinks its reservation (ccxt's clientOrderId / response.clientOrderId also count)
    account_id: ControlsAccountFields.account_id,
    client_order_id: ControlsOrderFields.client_order_id,
  },
  { additionalProperties: true, description: 'a JSON object (an order outcome)' },
);
export type PosttradeLogRequest = Static<typeof PosttradeLogRequest>;

/** `{"status": "ok"}`: the shared OkResponse (replies.ts). */
export const PosttradeLogResponse = OkResponse;
