import { quantiseDown } from './sizing.ts';
import { sideSign, type PositionSide } from './types.ts';

/**
 * Exit reasons, also used verbatim as posttrade `reason` and in the summary's per-exit-reason PnL:
 * - `sl` / `tp`: the hard stop-loss / take-profit (initial geometry, sl·ATR / tp·ATR from entry)
 * - `tp_ladder_<k>`: ladder level k (1-based) reached; the last level closes the remainder
 * - `breakeven_stop`: the stop after it was moved to breakeven was touched
 * - `trail_stop`: the ATR trailing stop was touched
 * - `time_stop`: position older than `max_position_age_sec`
 * - `no_progress`: older than `no_progress_after_sec` and still within ±`no_progress_eps_bps` of entry
 * - `reversal`: `reversal_ticks` consecutive scores beyond the threshold against the position
 * - `signal_exit`: |score| below the exit threshold (only with `soft_exit: true`)
 * - `shutdown`: flattening at shutdown (§2.6)
 */
export type ExitReason =
  | 'sl'
  | 'tp'
  | `tp_ladder_${number}`
  | 'breakeven_stop'
  | 'trail_stop'
  | 'time_stop'
  | 'no_progress'
  | 'reversal'
  | 'signal_exit'
  | 'shutdown';

export interface ExitParams {
  /** `exits.tp_atr_mult` / `exits.sl_atr_mult`: hard TP and SL distances in ATR (also a/b of §1.6) */
  tp_atr_mult: number;
  sl_atr_mult: number;
  /** `exits.breakeven_after_R`, `exits.be_buffer_bps` */
  breakeven_after_R: number;
  be_buffer_bps: number;
  /** `exits.trail_atr_k`: trail distance in ATR; `exits.trail_activate_at_R`: armed from this R on */
  trail_atr_k: number;
  trail_activate_at_R: number;
  /** `exits.tp_levels_bps` and `exits.tp_sizes` (fractions of the initial qty) */
  tp_levels_bps: readonly number[];
  tp_sizes: readonly number[];
  /** `exits.max_position_age_sec` (reference time stop: 90 s) */
  max_position_age_sec: number;
  /** `exits.no_progress_after_sec` (reference stuck_dt_s 300) and `exits.no_progress_eps_bps` (5) */
  no_progress_after_sec: number;
  no_progress_eps_bps: number;
  /** `exits.reversal_ticks` and the side-aligned score at or below −threshold that counts as reversed */
  reversal_ticks: number;
  reversal_threshold: number;
  /** `exits.soft_exit`: exit when |score| < `exit_threshold` (Gen-1's soft exit; off by default) */
  soft_exit: boolean;
  exit_threshold: number;
  /** `exits.scale_in_enabled`: not implemented; must stay false */
  scale_in_enabled: boolean;
}

/**
 * Reference values (§2.5, §5.25). Note: with these defaults the 90 s time stop fires long before the
 * 300 s no-progress rule can; the latter matters only when `max_position_age_sec` is raised.
 */
export const DEFAULT_EXITS: ExitParams = {
  tp_atr_mult: 1.2,
  sl_atr_mult: 0.8,
  breakeven_after_R: 0.8,
  be_buffer_bps: 2.0,
  trail_atr_k: 0.8,
  trail_activate_at_R: 0.5,
  tp_levels_bps: [20, 40, 70],
  tp_sizes: [0.25, 0.35, 0.4],
  max_position_age_sec: 90,
  no_progress_after_sec: 300,
  no_progress_eps_bps: 5.0,
  reversal_ticks: 2,
  reversal_threshold: 0.35,
  soft_exit: false,
  exit_threshold: 0.05,
  scale_in_enabled: false,
};

export interface ExitOpen {
  side: PositionSide;
  /** average entry price from fills */
  entry: number;
  /** initial position quantity (ladder sizes are fractions of it) */
  qty: number;
  /** ATR at entry, price units: fixes the initial SL and TP */
  atr: number;
  openedAtMs: number;
  /** entry fee plus expected exit fee per base unit, quote (breakeven covers them) */
  feesPerUnit: number;
  /** venue lot step and min qty: ladder slices are quantised down; an unclosable remainder is closed with the slice */
  lotStep?: number;
  minQty?: number;
}

export interface ExitTick {
  nowMs: number;
  bid: number;
  ask: number;
  /** the raw (unaligned) alpha score of this tick, or null when none was computed */
  score: number | null;
  /** current ATR, price units, for the trail (falls back to the entry ATR) */
  atr?: number | null;
  /** position quantity still open according to fills */
  remainingQty: number;
  /**
   * an exit order is under way or the exit retry backoff is running, so a partial exit could not be
   * placed now: the TP ladder holds (it neither advances nor plans a slice) until the next free tick.
   * Full exits still latch (they repeat on every update until flat).
   */
  busy?: boolean;
}

export type ExitAction = { kind: 'hold' } | { kind: 'exit'; qty: number; reason: ExitReason; full: boolean };

export type StopKind = 'initial' | 'breakeven' | 'trail';

export interface ExitEvent {
  kind: 'breakeven_set' | 'trail_armed' | 'trail_moved';
  stop: number;
}

export interface ExitUpdate {
  action: ExitAction;
  stop: number;
  stopKind: StopKind;
  events: ExitEvent[];
}

const HOLD: ExitAction = { kind: 'hold' };

/**
 * Exit engine for one position (§2.5 Ours, §5.26). R is measured against the *initial* stop; SL/TP and
 * the moving stop are checked on the touch price (bid for longs, ask for shorts); ladder slices are
 * fractions of the *initial* qty; several rules may act on one update (a ladder slice and a stop move).
 * A full exit latches: later updates repeat it for whatever remains until fills say flat (the order
 * layer de-duplicates in-flight exits and retries).
 */
export class ExitEngine {
  readonly s: 1 | -1;
  readonly initialStop: number;
  readonly takeProfit: number;
  private stopPx: number;
  private kind: StopKind = 'initial';
  private trailArmed = false;
  private beDone = false;
  private ladderNext = 0;
  private ladderPlanned = 0;
  /** the ladder before the last partial slice it planned (undoSlice) */
  private ladderBefore: { next: number; planned: number } | null = null;
  private reversedTicks = 0;
  private latched: ExitReason | null = null;

  constructor(
    readonly pos: ExitOpen,
    private readonly p: ExitParams = DEFAULT_EXITS,
  ) {
    if (!(pos.entry > 0) || !(pos.qty > 0) || !(pos.atr > 0) || !Number.isFinite(pos.atr)) {
      throw new RangeError('ExitEngine needs entry > 0, qty > 0 and a finite ATR > 0');
    }
    if (p.tp_levels_bps.length !== p.tp_sizes.length) throw new RangeError('tp_levels_bps and tp_sizes differ in length');
    if (p.scale_in_enabled) throw new RangeError('scale-in is not supported');
    this.s = sideSign(pos.side);
    this.initialStop = pos.entry - this.s * p.sl_atr_mult * pos.atr;
    this.takeProfit = pos.entry + this.s * p.tp_atr_mult * pos.atr;
    this.stopPx = this.initialStop;
  }

  get stop(): number {
    return this.stopPx;
  }

  get stopKind(): StopKind {
    return this.kind;
  }

  /** The latched full-exit reason, if any. */
  get closing(): ExitReason | null {
    return this.latched;
  }

  /** R of a touch price against the initial stop distance (signed: losses are negative). */
  rOf(px: number): number {
    const risk = Math.abs(this.pos.entry - this.initialStop);
    return risk > 0 ? (this.s * (px - this.pos.entry)) / risk : 0;
  }

  update(t: ExitTick): ExitUpdate {
    const events: ExitEvent[] = [];
    const done = (action: ExitAction): ExitUpdate => ({ action, stop: this.stopPx, stopKind: this.kind, events });
    const remaining = t.remainingQty;
    if (!(remaining > 0)) return done(HOLD);

    // the reversal count follows every scored tick, whichever rule acts
    if (t.score !== null && Number.isFinite(t.score)) {
      this.reversedTicks = this.s * t.score <= -this.p.reversal_threshold ? this.reversedTicks + 1 : 0;
    }
    if (this.latched !== null) return done(this.full(remaining, this.latched));

    const s = this.s;
    const px = s > 0 ? t.bid : t.ask;
    const { entry } = this.pos;
    const ageSec = (t.nowMs - this.pos.openedAtMs) / 1000;
    const profitBps = ((s * (px - entry)) / entry) * 1e4;

    if (s * (px - this.stopPx) <= 0) {
      return done(this.full(remaining, this.kind === 'initial' ? 'sl' : this.kind === 'breakeven' ? 'breakeven_stop' : 'trail_stop'));
    }
    if (s * (px - this.takeProfit) >= 0) return done(this.full(remaining, 'tp'));
    if (ageSec >= this.p.max_position_age_sec) return done(this.full(remaining, 'time_stop'));
    if (ageSec >= this.p.no_progress_after_sec && Math.abs(profitBps) < this.p.no_progress_eps_bps) return done(this.full(remaining, 'no_progress'));
    if (this.p.reversal_ticks > 0 && this.reversedTicks >= this.p.reversal_ticks) return done(this.full(remaining, 'reversal'));
    if (this.p.soft_exit && t.score !== null && Math.abs(t.score) < this.p.exit_threshold) return done(this.full(remaining, 'signal_exit'));

    const action = t.busy === true ? HOLD : this.ladder(profitBps, remaining);
    if (action.kind === 'exit' && action.full) return done(action);
    this.manageStop(px, t.atr, events);
    return done(action);
  }

  /**
   * The last partial ladder slice was not executed (the gate refused it): the ladder goes back to before
   * it, so the slice is planned again on a later update while the profit still reaches its level.
   */
  undoSlice(): void {
    if (this.ladderBefore === null) return;
    this.ladderNext = this.ladderBefore.next;
    this.ladderPlanned = this.ladderBefore.planned;
    this.ladderBefore = null;
  }

  /** Flatten at shutdown (§2.6): latches `shutdown` unless another full exit is already under way. */
  shutdown(remainingQty: number): ExitAction {
    if (!(remainingQty > 0)) return HOLD;
    return this.full(remainingQty, this.latched ?? 'shutdown');
  }

  private full(qty: number, reason: ExitReason): ExitAction {
    this.latched = reason;
    return { kind: 'exit', qty, reason, full: true };
  }

  /**
   * TP ladder: every level reached since the last slice goes out as one slice named after the highest
   * level. Slices are differences of quantised cumulative targets, so lot rounding never accumulates;
   * the last level (or a slice leaving less than min qty) closes the remainder.
   */
  private ladder(profitBps: number, remaining: number): ExitAction {
    const levels = this.p.tp_levels_bps;
    let k = this.ladderNext;
    while (k < levels.length && profitBps >= levels[k]) k++;
    if (k === this.ladderNext) return HOLD;
    const before = { next: this.ladderNext, planned: this.ladderPlanned };
    this.ladderNext = k;
    const reason: ExitReason = `tp_ladder_${k}`;
    if (k === levels.length) return this.full(remaining, reason);
    let cum = 0;
    for (let i = 0; i < k; i++) cum += this.p.tp_sizes[i];
    const step = this.pos.lotStep ?? 0;
    const target = quantiseDown(Math.min(1, cum) * this.pos.qty, step);
    const slice = Math.min(remaining, quantiseDown(Math.max(0, target - this.ladderPlanned), step));
    if (!(slice > 0)) return HOLD;
    this.ladderPlanned = target;
    const leftover = remaining - slice;
    if (leftover <= (this.pos.minQty ?? 0) || leftover <= remaining * 1e-9) return this.full(remaining, reason);
    this.ladderBefore = before;
    return { kind: 'exit', qty: slice, reason, full: false };
  }

  /** Breakeven after `breakeven_after_R`, then the ATR trail once armed; a stop only ever tightens. */
  private manageStop(px: number, atrNow: number | null | undefined, events: ExitEvent[]): void {
    const s = this.s;
    const { entry } = this.pos;
    const r = this.rOf(px);
    const tighter = (x: number) => s * (x - this.stopPx) > 0 && s * (px - x) > 0;
    if (!this.beDone && r >= this.p.breakeven_after_R) {
      this.beDone = true;
      const be = entry + s * (this.pos.feesPerUnit + (this.p.be_buffer_bps * entry) / 1e4);
      if (tighter(be)) {
        this.stopPx = be;
        this.kind = 'breakeven';
        events.push({ kind: 'breakeven_set', stop: be });
      }
    }
    if (!this.trailArmed && r >= this.p.trail_activate_at_R) {
      this.trailArmed = true;
      events.push({ kind: 'trail_armed', stop: this.stopPx });
    }
    if (this.trailArmed) {
      const atr = atrNow !== null && atrNow !== undefined && atrNow > 0 ? atrNow : this.pos.atr;
      const trail = px - s * this.p.trail_atr_k * atr;
      if (tighter(trail)) {
        this.stopPx = trail;
        this.kind = 'trail';
        events.push({ kind: 'trail_moved', stop: trail });
      }
    }
  }
}
