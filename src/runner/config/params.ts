import type { PaperParams } from '../exchange/paper-params.ts';
import type { ErParams } from '../logic/expected-return.ts';
import type { ExitParams } from '../logic/exits.ts';
import type { FeatureEngineParams } from '../logic/feature-engine.ts';
import type { AccountMode, RequestParams } from '../logic/request.ts';
import type { SignalParams } from '../logic/signal.ts';
import type { SizingParams } from '../logic/sizing.ts';
import type { RunnerConfig, RunnerMode } from './schema.ts';

/** The config keys mapped onto the logic modules' parameter objects (their doc comments name the keys). */

export function featureEngineParams(c: RunnerConfig): FeatureEngineParams {
  const f = c.features;
  return {
    features: {
      obi_levels: c.alpha.obi_levels,
      tfi_window_ms: c.alpha.tfi_window_ms,
      absorb_window_ms: f.absorb_window_ms,
      sweep_window_ms: f.sweep_window_ms,
      eff_spread_levels: f.eff_spread_levels,
      order_size: f.order_size,
      consensus_obi: f.consensus_obi,
      consensus_tfi: f.consensus_tfi,
      trap_flag_obi: f.trap_flag_obi,
      trap_flag_tfi: f.trap_flag_tfi,
      liquidity_levels: f.liquidity_levels,
    },
    book: { max_staleness_ms: c.feed.max_staleness_ms },
    tape: { retention_ms: f.tape_retention_ms, id_retention_ms: f.trade_id_retention_ms },
    vol: { vol_window_ms: f.vol_window_ms, sample_ms: f.vol_sample_ms, dispersion_samples: f.dispersion_samples },
    bars: { bar_ms: f.bar_ms, max_bars: f.max_bars, atr_period: f.atr_period },
    ofi: { ofi_window_ms: f.ofi_window_ms },
    trend: {
      alpha_fast: f.trend_alpha_fast,
      alpha_slow: f.trend_alpha_slow,
      obi_persist_n: f.obi_persist_n,
      obi_persist_threshold: f.obi_persist_threshold,
    },
    trap: { trap_window_ms: c.trap.window_ms, trap_levels: c.trap.levels },
  };
}

export function signalParams(c: RunnerConfig): SignalParams {
  return {
    weights: { ...c.alpha.weights },
    entry_threshold: c.alpha.entry_threshold,
    exit_threshold: c.alpha.exit_threshold,
    reconfirm_ticks: c.alpha.reconfirm_ticks,
    scaler_window: c.alpha.scaler_window,
    scaler_warmup: c.alpha.scaler_warmup,
    sprt_n: c.sprt.n,
  };
}

export function exitParams(c: RunnerConfig): ExitParams {
  return {
    ...c.exits,
    tp_levels_bps: [...c.exits.tp_levels_bps],
    tp_sizes: [...c.exits.tp_sizes],
    exit_threshold: c.alpha.exit_threshold,
  };
}

/** a/b come from the same `exits.*` multipliers the exit engine uses (§5.3). */
export function erParams(c: RunnerConfig): ErParams {
  return {
    tp_atr_mult: c.exits.tp_atr_mult,
    sl_atr_mult: c.exits.sl_atr_mult,
    min_bps: c.er.min_bps,
    max_bps: c.er.max_bps,
    slip_fraction: c.execution.slip_fraction,
    maker_bps: c.fees.maker_bps,
    taker_bps: c.fees.taker_bps,
    pi_min_bps: c.er.pi_min_bps,
    slip_eta: c.er.slip_eta,
  };
}

export function sizingParams(c: RunnerConfig): SizingParams {
  return {
    kelly_multiplier: c.sizing.kelly_multiplier,
    max_fraction: c.sizing.max_fraction,
    max_symbol_exposure_usdt: c.execution.max_symbol_exposure_usdt,
    max_order_notional_usdt: c.sizing.limits.max_notional_usd,
  };
}

export function requestParams(c: RunnerConfig): RequestParams {
  return { risk_tags: [...c.gate.risk_tags], send_extras: c.gate.send_extras };
}

export function paperParams(c: RunnerConfig): Partial<PaperParams> {
  const { seed, ...rest } = c.paper;
  return { ...rest, seed: seed ?? c.seed };
}

/** `account.mode` of the requests (§3.2 Ours). */
export function accountMode(mode: RunnerMode): AccountMode {
  return mode === 'live' ? 'prod' : mode === 'testnet' ? 'testnet' : 'paper';
}
