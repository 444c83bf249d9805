import Type, { type Static } from 'typebox';
import { IntegerLike, LIMITS, NonNegativeNumberLike, NumberLike, NumberList, OptString } from './common.ts';
import {
  AnyQuotas,
  ControlsAccountFields,
  ControlsAllowObservability,
  ControlsDenyObservability,
  ControlsMarketFields,
  ControlsOrderFields,
} from './controls.ts';

/** `account` (gate.md 1.2; `account_id` ≤ 64 characters, controls.md §1): extra keys allowed and kept. */
export const Account = Type.Object(
  {
    mode: OptString('the account mode echoed as observability.mode (e.g. "paper", "testnet", "prod")'),
    ...ControlsAccountFields,
    subaccount: OptString(),
  },
  { additionalProperties: true, description: 'an object' },
);

/** `order` (gate.md 1.3). */
export const Order = Type.Object(
  {
    symbol: OptString('the order symbol (anti-churn key)'),
    side: OptString('"buy" or "sell"'),
    qty: Type.Optional(NonNegativeNumberLike('a finite quantity >= 0, or null')),
    price: Type.Optional(NumberLike()),
    base_notional: Type.Optional(NumberLike()),
    notional: Type.Optional(NumberLike()),
    /** D-11: a closing order is exempt from the min-hold / opposite-side rules */
    reduce_only: Type.Optional(Type.Union([Type.Boolean(), Type.Null()], { description: 'a boolean or null' })),
    action: OptString('"open" or "close"'),
    // controls.md §1: the idempotency / reservation key, and market vs limit
    ...ControlsOrderFields,
  },
  { additionalProperties: true, description: 'an object' },
);

/** `market` (gate.md 1.4): unknown keys are kept and `dq`, `aci`, `symbol` are used. */
export const Market = Type.Object(
  {
    latency_ms: Type.Optional(NumberLike()),
    slip_bps_est: Type.Optional(NumberLike()),
    a_bps: Type.Optional(NumberLike()),
    b_bps: Type.Optional(NumberLike()),
    spread_bps: Type.Optional(NumberLike()),
    score: Type.Optional(NumberLike()),
    mode_regime: OptString(),
    trap_cancel_deltas: Type.Optional(NumberList()),
    trap_add_deltas: Type.Optional(NumberList()),
    trap_trades_cnt: Type.Optional(IntegerLike()),
    obi_sign: Type.Optional(IntegerLike()),
    tfi_sign: Type.Optional(IntegerLike()),
    sprt_samples: Type.Optional(NumberList()),
    pnl_today_pct: Type.Optional(NumberLike()),
    open_positions: Type.Optional(IntegerLike()),
    dq: Type.Optional(
      Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
        description: 'an object of data-quality flags (stale_book, crossed_book, abnormal_spread), or null',
      }),
    ),
    symbol: OptString(),
    // controls.md §1: reference prices and the snapshot time (price collar, notional, staleness)
    ...ControlsMarketFields,
  },
  { additionalProperties: true, description: 'an object' },
);

export const PretradeCheckRequest = Type.Object(
  {
    ts: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: 'an integer or null' })),
    req_id: OptString('a request id string, or null'),
    account: Account,
    order: Order,
    market: Market,
    risk_tags: Type.Optional(
      Type.Union([Type.Array(Type.String({ maxLength: LIMITS.maxStringLength }), { maxItems: 256 }), Type.Null()], {
        description: 'a list of strings, or null',
      }),
    ),
    fees_bps: Type.Optional(NumberLike('round-trip fees in bps: a finite number, a numeric string, or null')),
  },
  { additionalProperties: true, description: 'a JSON object with account, order and market objects' },
);
export type PretradeCheckRequest = Static<typeof PretradeCheckRequest>;

const Num = Type.Number();
const NullableNum = Type.Union([Type.Number(), Type.Null()]);

export const RiskObservability = Type.Union([
  Type.Null(),
  Type.Object({
    cfg: Type.Object({ dd_day_pct: Num, max_concurrent: Num, size_scale: Num }),
    ctx: Type.Object(
      { size_scale: Num, base_notional: Num, scaled_notional: Num },
      { additionalProperties: true, description: 'plus block details (dd_cap_pct, dd_used_pct, pnl_today_pct / open_positions, max_concurrent)' },
    ),
  }),
]);

export const TrapObservability = Type.Union([
  Type.Null(),
  Type.Object({ trap_z: Num, cancel_rate: Num, repl_rate: Num, n_trades: Num, trap_score: NullableNum }),
]);

export const SprtObservability = Type.Object({
  decision: Type.Union([Type.Null(), Type.Literal('ACCEPT'), Type.Literal('REJECT'), Type.Literal('CONTINUE')]),
  llr: NullableNum,
  n_obs: NullableNum,
});

export const Observability = Type.Object(
  {
    gate_state: Type.Optional(Type.Union([Type.Literal('PASS'), Type.Literal('BLOCK')])),
    spread_bps: Type.Optional(Num),
    latency_ms: Type.Optional(Num),
    slip_bps_est: Type.Optional(Num),
    a_bps: Type.Optional(Num),
    b_bps: Type.Optional(Num),
    score: Type.Optional(Num),
    mode: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    risk: Type.Optional(RiskObservability),
    trap: Type.Optional(TrapObservability),
    sprt: Type.Optional(SprtObservability),
    reasons: Type.Array(Type.String()),
    icp: Type.Optional(Type.Object({ alpha: NullableNum, is_transition: Type.Union([Type.Boolean(), Type.Null()]) })),
    diagnostics: Type.Optional(Type.Array(Type.String())),
    cooldown_remaining_ms: Type.Optional(Num),
    rate_limit_ms_left: Type.Optional(Num),
    position: Type.Optional(Type.Object({ symbol: Type.String(), side: Type.String(), age_ms: Num, min_hold_ms: Type.Optional(Num) })),
    controls: Type.Optional(
      Type.Union([ControlsAllowObservability, ControlsDenyObservability], {
        description:
          'desk controls (controls.md), only when a control is on: {reserved_usdt, quotas} for an answer the controls let through, {rule, limit, value, ...} for a controls denial',
      }),
    ),
    idempotent_replay: Type.Optional(Type.Literal(true, { description: 'this answer is the original answer of the same client_order_id again (controls.md §3 rule 1)' })),
  },
  {
    description:
      'decision details; an anti-churn short-circuit carries only reasons and one extra key (plus `controls` when a control is on), a desk-controls denial reasons and `controls`',
  },
);
export type Observability = Static<typeof Observability>;

export const PretradeCheckResponse = Type.Object({
  allow: Type.Boolean(),
  max_qty: Num,
  risk_scale: Num,
  cooldown_ms: Type.Integer(),
  reason: Type.String(),
  hard_gate: Type.Boolean({ description: 'true for a desk-controls denial (controls.md §3)' }),
  quotas: AnyQuotas,
  observability: Observability,
});
export type PretradeCheckResponse = Static<typeof PretradeCheckResponse>;
