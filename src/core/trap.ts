import type { TrapConfig } from './config.ts';
import { clip } from './pyvalue.ts';
import type { GateState } from '../shm/state/gate-state.ts';

export interface TrapUpdate {
  cancelRate: number;
  replRate: number;
  trapRaw: number;
  trapZ: number;
  nTrades: number;
  flag: boolean;
}

function positiveSum(xs: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) if (xs[i] > 0) s += xs[i];
  return s;
}

const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);

/**
 * TRAP window update (gate.md 4.2): robust z of the cancel/replenish imbalance against the history
 * *before* this value, plus the OBI/TFI conflict rule against the cancel-rate percentile *after* it.
 * The window is service-wide (D22) and lives in GateState.
 */
export function trapUpdate(
  state: GateState,
  cfg: TrapConfig,
  cancel: readonly number[],
  add: readonly number[],
  trades: number,
  obiSign: number | null,
  tfiSign: number | null,
): TrapUpdate {
  const cancelSum = positiveSum(cancel);
  const addSum = positiveSum(add);
  const cancelRate = cfg.windowS > 0 ? cancelSum / cfg.windowS : 0;
  const replRate = cfg.windowS > 0 ? addSum / cfg.windowS : 0;
  const trapRaw = (cancelRate - replRate) / Math.max(1, trades);

  const hist = state.trapRaw;
  const history = hist.count;
  const p10 = hist.percentile(10);
  const p50 = hist.percentile(50);
  const p90 = hist.percentile(90);
  const spread = Math.max(1e-6, p90 - p10);
  const trapZ = clip((trapRaw - p50) / spread, -4, 4);

  hist.push(trapRaw);
  state.trapCancel.push(cancelRate);
  const pCancel = state.trapCancel.percentile(cfg.cancelPctl);

  const conflict = obiSign !== null && tfiSign !== null && sign(obiSign) !== sign(tfiSign);
  const zRule = history >= cfg.minHistory && trapZ >= cfg.zThreshold;
  const flag = zRule || (conflict && cancelRate >= pCancel);
  return { cancelRate, replRate, trapRaw, trapZ, nTrades: trades, flag };
}

/** Composite TRAP score (gate.md 4.3), from this request's lists only. */
export function trapScore(cancel: readonly number[], add: readonly number[], windowS: number): number {
  const cancelSum = positiveSum(cancel);
  const addSum = positiveSum(add);
  const cancelRatio = cancelSum / Math.max(1e-6, cancelSum + addSum);
  const dt = windowS || 2.0;
  const replRate = dt > 0 ? addSum / dt : 0;
  const replMs = replRate <= 0 ? 1000 : Math.max(0, 250 / replRate);
  const c = 1 / (1 + Math.exp(-8 * (cancelRatio - 0.5)));
  const r = clip(Math.exp(-replMs / 250), 0, 1);
  return clip(0.6 * c + 0.4 * r, 0, 1);
}
