import { isOn, type ControlsConfig } from '../core/controls/config.ts';
import type { ControlsState } from '../core/controls/state.ts';

/**
 * The desk-control gauges (docs/controls.md "Metrics"), read from the shared control state at scrape
 * time by the main thread under the state lock (Ops.controlsGauges): one pass over the account table
 * and one over the (account, symbol) table, no allocation per record beyond the per-account maxima.
 *
 * `aurora_limit_utilization{account,limit}` has bounded label sets: `limit` is one of
 * UTILIZATION_LIMITS (only those configured), and only the UTILIZATION_TOP_ACCOUNTS accounts with the
 * highest utilisation (their largest over the three limits; ties by account id) are exported. The full
 * picture per account is GET /ops/limits.
 */

/** Accounts exported by aurora_limit_utilization, the most utilised first. */
export const UTILIZATION_TOP_ACCOUNTS = 20;

/**
 * The `limit` label values: the exposure limits of controls.md §3 rule 7. `max_position_notional_usdt`
 * is the account's most utilised symbol (no symbol label: that would multiply the series).
 */
export const UTILIZATION_LIMITS = ['max_open_orders', 'max_gross_notional_usdt', 'max_position_notional_usdt'] as const;
export type UtilizationLimit = (typeof UTILIZATION_LIMITS)[number];

export interface UtilizationSample {
  account: string;
  limit: UtilizationLimit;
  /** used / limit (1 = at the limit; above 1 possible after a limit was lowered) */
  value: number;
}

export interface ControlsGauges {
  /** 0 ACTIVE, 1 REDUCING, 2 HALTED */
  tradingState: number;
  reservationsOpen: number;
  utilization: UtilizationSample[];
}

/** used / max for a limit that is on and > 0; NaN otherwise (not exported: a limit of 0 refuses everything, see GET /ops/limits). */
const ratio = (used: number, max: number): number => (isOn(max) && max > 0 ? used / max : NaN);

/** Reads the gauges; call under the state lock. */
export function readControlsGauges(st: ControlsState, cfg: ControlsConfig, topN = UTILIZATION_TOP_ACCOUNTS): ControlsGauges {
  const gauges: ControlsGauges = { tradingState: st.tradingState, reservationsOpen: st.reservations.live, utilization: [] };
  const open = isOn(cfg.maxOpenOrders) && cfg.maxOpenOrders > 0;
  const gross = isOn(cfg.maxGrossNotionalUsdt) && cfg.maxGrossNotionalUsdt > 0;
  const pos = isOn(cfg.maxPositionNotionalUsdt) && cfg.maxPositionNotionalUsdt > 0;
  if (!open && !gross && !pos) return gauges;
  const a = st.accounts;
  const p = st.pairs;
  // per account record: the largest position utilisation over its symbols
  const posMax = new Map<number, number>();
  if (pos) {
    for (const q of p.records()) {
      const u = ratio(Math.abs(p.positionCost(q)) + p.reservedSide(q, 0), cfg.maxPositionNotionalUsdt);
      const acc = p.account(q);
      if (u === u && u > (posMax.get(acc) ?? -1)) posMax.set(acc, u);
    }
  }
  const rows: Array<{ account: string; max: number; values: Array<[UtilizationLimit, number]> }> = [];
  for (const r of a.records()) {
    const values: Array<[UtilizationLimit, number]> = [];
    if (open) values.push(['max_open_orders', ratio(a.openOrders(r), cfg.maxOpenOrders)]);
    if (gross) values.push(['max_gross_notional_usdt', ratio(a.grossPositions(r) + a.reserved(r), cfg.maxGrossNotionalUsdt)]);
    if (pos) values.push(['max_position_notional_usdt', posMax.get(r) ?? 0]);
    let max = 0;
    for (const [, v] of values) if (v > max) max = v;
    rows.push({ account: a.label(r), max, values });
  }
  rows.sort((x, y) => y.max - x.max || (x.account < y.account ? -1 : x.account > y.account ? 1 : 0));
  for (const row of rows.slice(0, topN)) for (const [limit, value] of row.values) gauges.utilization.push({ account: row.account, limit, value });
  return gauges;
}
