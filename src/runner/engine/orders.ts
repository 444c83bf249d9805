import type { ExchangeEvent, FillEvent, OrderSnapshot, RejectCode } from '../exchange/types.ts';
import type { OrderAction, OrderType } from '../logic/posttrade.ts';
import type { Side } from '../logic/types.ts';

/** runner.md §2.2 Ours: NEW → SUBMITTED → ACKED → PARTIAL* → FILLED | CANCELLED | REJECTED | EXPIRED. */
export type OrderState = 'NEW' | 'SUBMITTED' | 'ACKED' | 'PARTIAL' | 'FILLED' | 'CANCELLED' | 'REJECTED' | 'EXPIRED';

const NEXT: Readonly<Record<OrderState, readonly OrderState[]>> = {
  NEW: ['SUBMITTED', 'REJECTED'],
  // a venue may report a fill or a cancel before its ack reaches us
  SUBMITTED: ['ACKED', 'PARTIAL', 'FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED'],
  ACKED: ['PARTIAL', 'FILLED', 'CANCELLED', 'EXPIRED'],
  PARTIAL: ['PARTIAL', 'FILLED', 'CANCELLED', 'EXPIRED'],
  FILLED: [],
  CANCELLED: [],
  REJECTED: [],
  EXPIRED: [],
};

export function isTerminal(s: OrderState): boolean {
  return NEXT[s].length === 0;
}

export function canMove(from: OrderState, to: OrderState): boolean {
  return NEXT[from].includes(to);
}

export interface TrackedOrder {
  /** deterministic client order id `<run_id>-o<seq>`, sent to the venue */
  cid: string;
  /** the account the posttrade bodies name (`account_id`) */
  accountId: string;
  orderId: string | null;
  symbol: string;
  side: Side;
  type: OrderType;
  action: OrderAction;
  /** `open`, or the exit rule */
  reason: string;
  /** the pretrade req_id the order came from (exits: the opening one) */
  reqId: string;
  positionId: string | null;
  qty: number;
  /** limit price, or the reference price of a market order */
  price: number;
  reduceOnly: boolean;
  state: OrderState;
  filled: number;
  notional: number;
  fees: number;
  feeCurrency: string;
  liquidity: 'maker' | 'taker' | null;
  createdMs: number;
  updatedMs: number;
  ackDeadlineMs: number;
  /** maker entries: cancel the rest at this time */
  cancelAtMs: number | null;
  cancelRequested: boolean;
  /** an ack-timeout status query is under way */
  querying: boolean;
  rejectCode: RejectCode | null;
  detail: string | null;
}

/** What an exchange event did to a tracked order. */
export type OrderUpdate =
  | { kind: 'fill'; order: TrackedOrder; fill: FillEvent; late: boolean }
  | { kind: 'terminal'; order: TrackedOrder; late: false }
  | { kind: 'noop'; order: TrackedOrder | null; late: boolean };

const NONE: readonly TrackedOrder[] = Object.freeze([]);

export type OrderJournal = (rec: Record<string, unknown>) => void;

/**
 * The runner's orders by client id: every transition is checked against the state machine and
 * journaled (`orders.jsonl`); fills are de-duplicated by `fill_id`. Events that arrive after an
 * order is terminal (a late ack after EXPIRED, a fill after a cancel) are journaled as late; a late
 * fill still counts, because fills are the truth about the position (§5.7).
 */
export class OrderTracker {
  private readonly orders = new Map<string, TrackedOrder>();
  private readonly fillIds = new Set<string>();
  /** orders not yet in a terminal state (added in add(), removed when move() reaches a final state) */
  private readonly open = new Set<TrackedOrder>();
  late = 0;
  /** events for a client id we never placed (the summary counts them too, as `unknown_order_event`) */
  unknown = 0;

  constructor(
    private readonly journal: OrderJournal,
    private readonly now: () => number,
    /** told of every transition (the summary counts them); `code` is the reject code of a REJECTED */
    private readonly onMove: (from: OrderState | null, to: OrderState, code: string | null) => void = () => {},
  ) {}

  get(cid: string): TrackedOrder | undefined {
    return this.orders.get(cid);
  }

  /**
   * Working (non-terminal) orders, in the order they were placed: a snapshot of the open set (callers
   * await inside their loops, during which orders may end or be added).
   */
  working(): readonly TrackedOrder[] {
    return this.open.size === 0 ? NONE : [...this.open];
  }

  /** Number of working (non-terminal) orders. */
  get workingCount(): number {
    return this.open.size;
  }

  add(o: Omit<TrackedOrder, 'state' | 'filled' | 'notional' | 'fees' | 'liquidity' | 'updatedMs' | 'cancelRequested' | 'querying' | 'rejectCode' | 'detail' | 'orderId' | 'feeCurrency'>): TrackedOrder {
    const order: TrackedOrder = {
      ...o,
      orderId: null,
      state: 'NEW',
      filled: 0,
      notional: 0,
      fees: 0,
      feeCurrency: 'USDT',
      liquidity: null,
      updatedMs: o.createdMs,
      cancelRequested: false,
      querying: false,
      rejectCode: null,
      detail: null,
    };
    this.orders.set(order.cid, order);
    this.open.add(order);
    this.record(order, null, 'NEW', null);
    return order;
  }

  /** Moves an order; false (and a `late` journal line) when the machine does not allow it. */
  move(o: TrackedOrder, to: OrderState, detail: string | null = null): boolean {
    if (!canMove(o.state, to)) {
      this.late++;
      this.journal({ ts: this.now(), cid: o.cid, event: 'late', state: o.state, attempted: to, detail });
      return false;
    }
    const from = o.state;
    o.state = to;
    if (isTerminal(to)) this.open.delete(o);
    o.updatedMs = this.now();
    if (detail !== null) o.detail = detail;
    this.record(o, from, to, detail);
    this.onMove(from, to, to === 'REJECTED' ? (o.rejectCode ?? 'unknown') : null);
    return true;
  }

  /** Applies one exchange event to its order. */
  apply(ev: ExchangeEvent): OrderUpdate {
    const o = this.orders.get(ev.clientOrderId);
    if (!o) {
      this.unknown++;
      return { kind: 'noop', order: null, late: false };
    }
    if (ev.orderId !== '' && o.orderId === null) o.orderId = ev.orderId;
    switch (ev.type) {
      case 'ack':
        if (o.state === 'SUBMITTED') this.move(o, 'ACKED');
        else if (isTerminal(o.state)) {
          this.late++;
          this.journal({ ts: this.now(), cid: o.cid, event: 'late_ack', state: o.state });
          return { kind: 'noop', order: o, late: true };
        }
        return { kind: 'noop', order: o, late: false };
      case 'fill': {
        if (this.fillIds.has(ev.fillId)) return { kind: 'noop', order: o, late: false };
        this.fillIds.add(ev.fillId);
        o.filled = ev.filled;
        o.notional += ev.price * ev.qty;
        o.fees += ev.fee;
        o.feeCurrency = ev.feeCurrency;
        o.liquidity = ev.liquidity;
        const late = isTerminal(o.state);
        if (late) {
          this.late++;
          this.journal({ ts: this.now(), cid: o.cid, event: 'late_fill', state: o.state, fill_id: ev.fillId, qty: ev.qty, price: ev.price });
        } else {
          this.move(o, ev.remaining > 0 ? 'PARTIAL' : 'FILLED', `fill ${ev.fillId}`);
        }
        return { kind: 'fill', order: o, fill: ev, late };
      }
      case 'cancelled':
        if (!this.move(o, 'CANCELLED', ev.reason)) return { kind: 'noop', order: o, late: true };
        return { kind: 'terminal', order: o, late: false };
      case 'rejected':
        o.rejectCode = ev.code;
        if (!this.move(o, 'REJECTED', `${ev.code}: ${ev.message}`)) return { kind: 'noop', order: o, late: true };
        return { kind: 'terminal', order: o, late: false };
      case 'cancel_failed':
        this.journal({ ts: this.now(), cid: o.cid, event: 'cancel_failed', state: o.state, detail: ev.reason });
        return { kind: 'noop', order: o, late: false };
    }
  }

  /**
   * Ack timeout (§2.2, §5.30): the venue's answer to one status query. Unknown to the venue → EXPIRED;
   * known → the state the venue reports (fills still arrive as events, so only non-fill states are
   * taken from the snapshot).
   */
  reconcile(o: TrackedOrder, snap: OrderSnapshot | undefined): 'expired' | 'reconciled' | 'noop' {
    if (isTerminal(o.state)) return 'noop';
    if (snap === undefined) {
      this.move(o, 'EXPIRED', 'no ack within execution.ack_timeout_ms and unknown to the venue');
      return 'expired';
    }
    if (o.orderId === null) o.orderId = snap.orderId;
    if (snap.status === 'rejected') {
      o.rejectCode = snap.rejectCode ?? 'unknown';
      this.move(o, 'REJECTED', 'reconciled: rejected');
    } else if (snap.status === 'cancelled' && snap.filled <= o.filled) this.move(o, 'CANCELLED', 'reconciled: cancelled');
    else if (o.state === 'SUBMITTED') this.move(o, 'ACKED', `reconciled: ${snap.status}`);
    return 'reconciled';
  }

  private record(o: TrackedOrder, from: OrderState | null, to: OrderState, detail: string | null): void {
    this.journal({
      ts: this.now(),
      cid: o.cid,
      order_id: o.orderId,
      req_id: o.reqId,
      position_id: o.positionId,
      symbol: o.symbol,
      side: o.side,
      type: o.type,
      action: o.action,
      reason: o.reason,
      reduce_only: o.reduceOnly,
      qty: o.qty,
      price: o.price,
      from,
      to,
      filled: o.filled,
      avg_price: o.filled > 0 ? o.notional / o.filled : null,
      fees: o.fees,
      detail,
    });
  }
}
