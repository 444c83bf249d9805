/**
 * The gate's quotas (controls.md §4) as a brake on new entries. Every allowed answer carries `quotas`:
 * what the desk limits leave after that decision (`null` = the limit is off; with no control on, the
 * reference constant `{trades_pm_left: 999, symbol_exposure_left_usdt: 1e12}`). The runner does not ask
 * for an entry it already knows the gate would refuse:
 *
 * - a throttle quota (`orders_ps_left`, `trades_pm_left`) or `open_orders_left` at 0, or an exposure
 *   quota (`account_exposure_left_usdt`, `symbol_exposure_left_usdt`) at 0 → **pause**: no entry check
 *   until now + max(`cooldown_ms`, `QUOTA_PAUSE_MS`); then the runner asks again and the next answer
 *   says whether there is room (a throttle refusal's `cooldown_ms` tells exactly when a token is back);
 * - a desk-limit refusal (`throttle_account`, `open_orders_limit`, `exposure_limit_account`, and for
 *   its symbol `throttle_symbol`, `exposure_limit_symbol`) pauses the same way;
 * - an exposure quota smaller than the next entry's notional (limits are inclusive: an order of exactly
 *   the room left passes) holds that entry while the quota is fresh (the same pause span after the
 *   answer that reported it).
 *
 * The throttle quotas are the minimum of the account and symbol buckets, so an exhausted one pauses
 * every symbol (conservative: at worst one pause span of lost entries on the other symbols). Symbol
 * exposure pauses only its symbol. An answer with room ends a pause early (an exit's answer counts too:
 * it reports the same account buckets). Exits never consult this guard: they are never held back.
 * Everything is on the runner's clock (virtual in a replay).
 */

/** Minimum pause after an exhausted quota or a desk-limit refusal, ms. */
export const QUOTA_PAUSE_MS = 1000;

/** The controls.md §4 keys; each a number, null (limit off) or absent (reference quotas). */
export interface Quotas {
  trades_pm_left?: number | null;
  symbol_exposure_left_usdt?: number | null;
  account_exposure_left_usdt?: number | null;
  orders_ps_left?: number | null;
  open_orders_left?: number | null;
}

/** Account-wide (all symbols) and per-symbol desk-limit refusals. */
const ACCOUNT_DENIALS = new Set(['throttle_account', 'open_orders_limit', 'exposure_limit_account']);
const SYMBOL_DENIALS = new Set(['throttle_symbol', 'exposure_limit_symbol']);

interface Pause {
  untilMs: number;
  /** the quota key or denial code that started it */
  why: string;
}

interface Room {
  left: number;
  untilMs: number;
}

/** A desk-limit refusal whose wait this guard keeps (its `cooldown_ms` pauses entries here, not as a per-symbol cool-down). */
export function isQuotaDenial(reason: string): boolean {
  return ACCOUNT_DENIALS.has(reason) || SYMBOL_DENIALS.has(reason);
}

const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Reads the five keys from an answer's `quotas` (anything else → absent). */
export function readQuotas(q: unknown): Quotas {
  if (q === null || typeof q !== 'object') return {};
  const o = q as Record<string, unknown>;
  const out: Quotas = {};
  for (const k of ['trades_pm_left', 'symbol_exposure_left_usdt', 'account_exposure_left_usdt', 'orders_ps_left', 'open_orders_left'] as const) {
    if (k in o) out[k] = numOrNull(o[k]);
  }
  return out;
}

export class QuotaGuard {
  private account: Pause | null = null;
  private readonly symbol = new Map<string, Pause>();
  private accountRoom: Room | null = null;
  private readonly symbolRoom = new Map<string, Room>();
  /** pauses started, by quota key or denial code (summary `gate.quota_pauses`) */
  readonly pauses: Record<string, number> = {};

  constructor(private readonly pauseMs = QUOTA_PAUSE_MS) {}

  /**
   * The quotas of an allowed answer for `symbol`. `reduceOnly`: the answer of an exit, whose
   * symbol exposure quota is about the closing side and is not used for entries.
   * Returns the quota that started a pause, or null.
   */
  onAllow(symbol: string, quotas: unknown, cooldownMs: number, nowMs: number, reduceOnly: boolean): string | null {
    const q = readQuotas(quotas);
    const until = nowMs + Math.max(cooldownMs, this.pauseMs);
    let started: string | null = null;
    const accountZero = (['orders_ps_left', 'trades_pm_left', 'open_orders_left', 'account_exposure_left_usdt'] as const).find((k) => {
      const v = q[k];
      return v !== undefined && v !== null && v <= 0;
    });
    if (accountZero !== undefined) {
      if (this.pauseAccount(accountZero, until, nowMs)) started = accountZero;
    } else if (this.account !== null) this.account = null; // this answer shows room: the pause ends
    const acc = q.account_exposure_left_usdt;
    if (acc !== undefined && acc !== null) this.accountRoom = { left: acc, untilMs: until };
    if (!reduceOnly) {
      const sym = q.symbol_exposure_left_usdt;
      if (sym !== undefined && sym !== null) {
        this.symbolRoom.set(symbol, { left: sym, untilMs: until });
        if (sym <= 0) {
          if (this.pauseSymbol(symbol, 'symbol_exposure_left_usdt', until, nowMs)) started ??= 'symbol_exposure_left_usdt';
        } else this.symbol.delete(symbol);
      }
    }
    return started;
  }

  /** A gate refusal: the desk-limit ones pause entries. Returns the code when a pause started. */
  onDeny(symbol: string, reason: string, cooldownMs: number, nowMs: number): string | null {
    const until = nowMs + Math.max(cooldownMs, this.pauseMs);
    if (ACCOUNT_DENIALS.has(reason)) return this.pauseAccount(reason, until, nowMs) ? reason : null;
    if (SYMBOL_DENIALS.has(reason)) return this.pauseSymbol(symbol, reason, until, nowMs) ? reason : null;
    return null;
  }

  /** Why an entry of `notional` on `symbol` must not be asked for now, or null. */
  blocked(symbol: string, notional: number, nowMs: number): string | null {
    if (this.account !== null && nowMs < this.account.untilMs) return this.account.why;
    const p = this.symbol.get(symbol);
    if (p !== undefined && nowMs < p.untilMs) return p.why;
    if (this.accountRoom !== null && nowMs < this.accountRoom.untilMs && this.accountRoom.left < notional) return 'account_exposure_left_usdt';
    const r = this.symbolRoom.get(symbol);
    if (r !== undefined && nowMs < r.untilMs && r.left < notional) return 'symbol_exposure_left_usdt';
    return null;
  }

  /** Extends or starts the account pause; true when a new pause started (counted). */
  private pauseAccount(why: string, untilMs: number, nowMs: number): boolean {
    const fresh = this.account === null || nowMs >= this.account.untilMs;
    if (fresh || untilMs > this.account!.untilMs) this.account = { untilMs, why };
    if (fresh) this.pauses[why] = (this.pauses[why] ?? 0) + 1;
    return fresh;
  }

  private pauseSymbol(symbol: string, why: string, untilMs: number, nowMs: number): boolean {
    const cur = this.symbol.get(symbol);
    const fresh = cur === undefined || nowMs >= cur.untilMs;
    if (fresh || untilMs > cur!.untilMs) this.symbol.set(symbol, { untilMs, why });
    if (fresh) this.pauses[why] = (this.pauses[why] ?? 0) + 1;
    return fresh;
  }
}
