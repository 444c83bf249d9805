import Type, { type Static, type TSchema } from 'typebox';
import { EVENT_CODES } from '../core/events.ts';
import { DEFAULT_FILES } from '../journal/files.ts';
import { EXCHANGE_CODES, EXCHANGE_UNKNOWN } from '../journal/records.ts';
import { plainSchema, sortKeys } from './util.ts';

/**
 * JSON Schemas of the journal lines (service.md 4.1, 4.3), as TypeBox. `npm run openapi` writes them to
 * docs/schemas/; test/integration-kit checks every line a real gate writes against them.
 */

const Any = (description: string) => Type.Unknown({ description });
const NullableString = Type.Union([Type.String(), Type.Null()]);

/** Sorted so the generated file is stable. */
const EVENT_CODE_VALUES = [...EVENT_CODES].sort();

const Num = Type.Number();
const TradingStateName = Type.Union([Type.Literal('ACTIVE'), Type.Literal('REDUCING'), Type.Literal('HALTED')]);

/**
 * `details` of the desk-control events (controls.md §3, §5; docs/controls.md "Events"), checked per
 * `event_code` (if/then): exactly the keys listed must be present; more are allowed (a denial merges
 * what explains it into CONTROL.DENY's observability, not into these).
 */
export const CONTROL_EVENT_DETAILS: Readonly<Record<string, TSchema>> = {
  'LIMIT.UPDATE': Type.Object(
    {
      key: Type.String({ description: 'the controls key that moved: rate.* and max_order_qty.<symbol> one by one, lists whole' }),
      old: Any('the effective value before (null = off)'),
      new: Any('the effective value after (null = off)'),
      token_mask: Type.Union([Type.String(), Type.Null()], { description: 'the ops token that made the change, masked (****1234)' }),
    },
    { description: 'POST /ops/limits: one event per effective value that changed' },
  ),
  TRADING_STATE: Type.Object(
    { from: TradingStateName, to: TradingStateName, source: Type.String({ description: 'who changed it: "ops" (POST /ops/trading_state)' }) },
    { description: 'the desk trading state changed' },
  ),
  'CONTROL.DENY': Type.Object(
    {
      reason: Type.String({ description: 'the answer\'s reason code (docs/controls.md, one per rule)' }),
      rule: Type.String({ description: 'the controls key that refused' }),
      limit: Any('the limit compared against'),
      value: Any('the order\'s value compared'),
      account_id: Type.String(),
      client_order_id: Type.Union([Type.String(), Type.Null()]),
    },
    { description: 'a pre-trade order refused by a desk control' },
  ),
  'RESERVATION.EXPIRED': Type.Object(
    { account_id: Type.String(), client_order_id: Type.Union([Type.String(), Type.Null()]), notional_usdt: Num, age_ms: Num },
    { description: 'a reservation ended by controls.reservation_ttl_ms without a final post-trade outcome' },
  ),
  'LIMIT.NEAR': Type.Object(
    { account_id: Type.String(), limit: Type.String(), value: Num, max: Num, utilization: Num, threshold: Num },
    { description: 'an allowed order took an exposure limit\'s utilisation to controls.alert_utilization or above (once per crossing)' },
  ),
};

/** `aurora_events.jsonl`: one event per line, exactly these keys (service.md 4.1). */
export const AuroraEventRecord = Type.Object(
  {
    ts_ns: Type.Integer({ minimum: 0, description: 'epoch nanoseconds, strictly increasing per process' }),
    run_id: Type.String({ minLength: 1, description: 'one id per process, shared by all files' }),
    event_code: Type.Union(
      EVENT_CODE_VALUES.map((c) => Type.Literal(c)),
      { description: 'an allow-listed event code (service.md 4.2, src/core/events.ts)' },
    ),
    symbol: Any('order symbol, or null'),
    cid: Any('client order id, or null'),
    oid: Any('exchange order id, or null'),
    side: Any('order side, or null'),
    order_type: Any('order type, or null'),
    price: Any('price, or null'),
    qty: Any('quantity, or null'),
    position_id: Any('position id, or null'),
    details: Type.Object({}, { additionalProperties: true, description: 'event-specific details (service.md 4.2)' }),
    src: NullableString,
  },
  {
    additionalProperties: false,
    $id: 'https://aurora.local/schemas/aurora_event.schema.json',
    title: 'AURORA journal event (aurora_events.jsonl)',
    // the desk-control events' details, per event code
    allOf: Object.entries(CONTROL_EVENT_DETAILS).map(([code, details]) => ({
      if: { properties: { event_code: { const: code } }, required: ['event_code'] },
      then: { properties: { details } },
    })),
  } as Record<string, unknown>,
);
export type AuroraEventRecord = Static<typeof AuroraEventRecord>;

/** The shared order-record keys of service.md 4.3 (reference order). */
const base = {
  ts_ns: Type.Integer({ minimum: 0 }),
  run_id: Type.String({ minLength: 1 }),
  cid: Any('client order id, or null'),
  oid: Any('exchange order id, or null'),
  position_id: Type.Null(),
  lifecycle_state: Type.Union([Type.String(), Type.Null()], { description: 'upper-cased status, or null' }),
  latency_ms: Type.Null(),
  spread_bps: Type.Null(),
  vol_std_bps: Type.Null(),
  governance_gate: Type.Null(),
  reward_tag: Type.Null(),
  // ours (service.md 4.3 "Ours")
  symbol: Any('canonical symbol, or null'),
  side: Any('order side, or null'),
  qty: Any('quantity, or null'),
  price: Any('price, or null'),
};

/** `orders_denied.jsonl`: one per pretrade deny. */
export const OrderDeniedRecord = Type.Object(
  {
    ...base,
    reason_code: Type.String({ description: 'the full deny reason (e.g. spread_bps_too_wide:90.0, open_rate_limit, AURORA.HALT)' }),
    reason_detail: Type.Null(),
    reason_class: Type.Literal('AURORA'),
    severity: Type.Literal('WARN'),
    action: Type.Literal('ABORT'),
    reasons: Type.Array(Type.String()),
    req_id: NullableString,
  },
  { additionalProperties: false, title: 'denied order record' },
);

/** What the gate can write for a failed order: every EXCHANGE_CODES outcome plus the fallback (journal/records.ts). */
const EXCHANGE_OUTCOMES = [...Object.values(EXCHANGE_CODES), EXCHANGE_UNKNOWN];
/** Column `i` of the outcomes (code, severity, action), first-seen order, each value once. */
const outcomeColumn = (i: 0 | 1 | 2) => [...new Set(EXCHANGE_OUTCOMES.map((o) => o[i]))].map((v) => Type.Literal(v));

/** `orders_failed.jsonl`: one per posttrade classified failed. */
export const OrderFailedRecord = Type.Object(
  {
    ...base,
    reason_code: Type.Union(outcomeColumn(0)),
    reason_detail: Any('the exchange error message, or null'),
    reason_class: Type.Literal('EXCHANGE'),
    severity: Type.Union(outcomeColumn(1)),
    action: Type.Union(outcomeColumn(2)),
  },
  { additionalProperties: false, title: 'failed order record' },
);

/** `orders_success.jsonl`: one per (de-duplicated) posttrade classified success. */
export const OrderSuccessRecord = Type.Object(
  {
    ...base,
    reason_code: Type.Null(),
    reason_detail: Type.Null(),
    reason_class: Type.Null(),
    severity: Type.Null(),
    action: Type.Null(),
    fill_qty: Any('filled quantity, or null'),
    avg_price: Any('average fill price, or null'),
    fees: Any('fees, or null'),
  },
  { additionalProperties: false, title: 'success order record' },
);

/** Any line of the three order files. */
export const OrderRecord = Type.Union([OrderDeniedRecord, OrderFailedRecord, OrderSuccessRecord], {
  $id: 'https://aurora.local/schemas/order_record.schema.json',
  title: 'AURORA order record (orders_success/failed/denied.jsonl)',
});
export type OrderRecord = Static<typeof OrderRecord>;

/** `orders.jsonl`: the raw posttrade payload plus `ts_server` (epoch ms) when the client sent none. */
export const RawOrderRecord = Type.Object(
  { ts_server: Any('server time (epoch ms) the record was received, unless the client sent ts_server') },
  { additionalProperties: true, required: ['ts_server'], $id: 'https://aurora.local/schemas/orders_raw.schema.json', title: 'AURORA raw posttrade record (orders.jsonl)' },
);

/** Which schema each session file's lines follow (file names: journal/files.ts DEFAULT_FILES). */
export const JOURNAL_FILE_SCHEMAS: Readonly<Record<string, TSchema>> = {
  [DEFAULT_FILES.events]: AuroraEventRecord,
  [DEFAULT_FILES.denied]: OrderDeniedRecord,
  [DEFAULT_FILES.failed]: OrderFailedRecord,
  [DEFAULT_FILES.success]: OrderSuccessRecord,
  [DEFAULT_FILES.raw]: RawOrderRecord,
};

/** The schema files written by `npm run openapi` (docs/schemas/<name>). */
const JOURNAL_SCHEMA_FILES = {
  'aurora_event.schema.json': AuroraEventRecord,
  'order_record.schema.json': OrderRecord,
  'orders_raw.schema.json': RawOrderRecord,
} as const;

/** The schema files' text, name -> pretty JSON with sorted keys (as written to docs/schemas/). */
export function journalSchemaTexts(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, schema] of Object.entries(JOURNAL_SCHEMA_FILES)) {
    const doc = { $schema: 'https://json-schema.org/draft/2020-12/schema', ...(plainSchema(schema) as object) };
    out[name] = JSON.stringify(sortKeys(doc), null, 2) + '\n';
  }
  return out;
}
