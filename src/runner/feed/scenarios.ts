import type { ScenarioName, ScenarioSpec } from './synthetic-options.ts';

/** How long each scripted scenario lasts (ms). */
export const SCENARIO_DURATION_MS: Readonly<Record<ScenarioName, number>> = {
  spoof_wall: 9_000,
  spread_blowout: 10_000,
  stale_feed: 3_000,
  latency_spike: 20_000,
  crash: 8_000,
};

/** Scenario parameters, fixed so that tests and docs can state what each one produces. */
export const SCENARIO_PARAMS = {
  spoof_wall: { cycles: 3, cycleMs: 3_000, secondAddMs: 500, cancelMs: 2_000, wallSizeMin: 25, wallSizeMax: 40, tradeRateMult: 0.15 },
  spread_blowout: { spreadBps: 150, rampMs: 1_000, sizeMult: 0.3, tradeRateMult: 0.1 },
  latency_spike: { minMs: 50, maxMs: 300 },
  crash: { dropBps: 200, keepFraction: 0.7, tradeRateMult: 6, sellProb: 0.9, spreadLevels: 3 },
} as const;

export interface ScheduledScenario {
  name: ScenarioName;
  startMs: number;
  endMs: number;
}

/**
 * When each scenario runs. Specs without `at_s` are spread evenly: the i-th of n unplaced
 * scenarios starts at duration·(i+1)/(n+1), rounded to whole seconds. Windows may not overlap or
 * run past the end (one effect at a time keeps each visible on its own).
 */
export function scheduleScenarios(specs: readonly ScenarioSpec[], startMs: number, durationMs: number): ScheduledScenario[] {
  const unplaced = specs.filter((s) => s.at_s === undefined);
  let k = 0;
  const out = specs.map((s) => {
    const offset =
      s.at_s !== undefined ? Math.round(s.at_s * 1000) : Math.round((durationMs * (++k)) / (unplaced.length + 1) / 1000) * 1000;
    return { name: s.name, startMs: startMs + offset, endMs: startMs + offset + SCENARIO_DURATION_MS[s.name] };
  });
  out.sort((a, b) => a.startMs - b.startMs);
  for (let i = 0; i < out.length; i++) {
    const s = out[i];
    if (s.endMs > startMs + durationMs) {
      throw new RangeError(`scenario ${s.name} at ${(s.startMs - startMs) / 1000}s runs past the end of a ${durationMs / 1000}s feed`);
    }
    if (i > 0 && s.startMs < out[i - 1].endMs) {
      throw new RangeError(`scenarios ${out[i - 1].name} and ${s.name} overlap; give explicit start times (name@seconds)`);
    }
  }
  return out;
}

/** What the active scenario changes in one simulation step (neutral values when none is active). */
export interface StepEffects {
  /** Multiplies the diffusion. */
  volMult: number;
  /** Forces the latent drift (bps/s); null = leave it to its own process. */
  alphaOverride: number | null;
  /** Extra drift of the fair price (bps/s). */
  forcedDriftBpsPerS: number;
  tradeRateMult: number;
  /** Probability that a trade is a sell (null = from the latent drift). */
  sellProb: number | null;
  /** Probability that a price move consumes the levels it crosses by trades rather than cancels. */
  sweepProb: number;
  /** Minimum spread in bps (null = normal one-level spread). */
  spreadBps: number | null;
  /** Minimum spread in displayed levels. */
  spreadLevels: number;
  sizeMult: number;
  /** false → nothing is emitted (stale feed). */
  emit: boolean;
  /** recv_ts − exch_ts drawn uniformly in this range (ms) instead of the normal latency. */
  latencyRange: readonly [number, number] | null;
  /** Spoof wall overlay wanted at this step: size in base units on one side at rank 1, or none. */
  wall: { side: 'bid' | 'ask'; size: number; cycle: number } | null;
  /** Amount (bps) the mean-reversion anchor has been moved by crashes so far. */
  anchorShiftBps: number;
}

export const NEUTRAL_EFFECTS: StepEffects = {
  volMult: 1,
  alphaOverride: null,
  forcedDriftBpsPerS: 0,
  tradeRateMult: 1,
  sellProb: null,
  sweepProb: 0.6,
  spreadBps: null,
  spreadLevels: 1,
  sizeMult: 1,
  emit: true,
  latencyRange: null,
  wall: null,
  anchorShiftBps: 0,
};

/**
 * The effects at time `t` (ms). `wallSide`/`wallSize` are drawn once per spoof scenario by the
 * generator (seeded) and passed in, keeping this function pure.
 */
export function effectsAt(
  t: number,
  schedule: readonly ScheduledScenario[],
  wall: { side: 'bid' | 'ask'; size: number },
): StepEffects {
  const fx: StepEffects = { ...NEUTRAL_EFFECTS };
  for (const s of schedule) {
    if (s.name === 'crash' && t >= s.endMs) {
      fx.anchorShiftBps -= SCENARIO_PARAMS.crash.dropBps * SCENARIO_PARAMS.crash.keepFraction;
    }
  }
  const active = schedule.find((s) => t >= s.startMs && t < s.endMs);
  if (!active) return fx;
  const dt = t - active.startMs;
  switch (active.name) {
    case 'spoof_wall': {
      const p = SCENARIO_PARAMS.spoof_wall;
      fx.volMult = 0.3;
      fx.alphaOverride = 0;
      fx.tradeRateMult = p.tradeRateMult;
      fx.sweepProb = 0;
      const cycle = Math.floor(dt / p.cycleMs);
      const inCycle = dt % p.cycleMs;
      if (cycle < p.cycles && inCycle < p.cancelMs) {
        // Two large adds (half, then the rest), held, then cancelled in one step with almost no trades.
        const size = inCycle < p.secondAddMs ? wall.size / 2 : wall.size;
        fx.wall = { side: wall.side, size, cycle };
      }
      break;
    }
    case 'spread_blowout': {
      const p = SCENARIO_PARAMS.spread_blowout;
      const len = active.endMs - active.startMs;
      const ramp = Math.min(1, dt / p.rampMs, (len - dt) / p.rampMs);
      // Peak spread well past the gate's 100 bps limit; the ramps make it widen and heal step by step.
      fx.spreadBps = Math.max(1, p.spreadBps * ramp);
      fx.sizeMult = p.sizeMult;
      fx.tradeRateMult = p.tradeRateMult;
      fx.sweepProb = 0;
      break;
    }
    case 'stale_feed':
      fx.emit = false;
      break;
    case 'latency_spike':
      fx.latencyRange = [SCENARIO_PARAMS.latency_spike.minMs, SCENARIO_PARAMS.latency_spike.maxMs];
      break;
    case 'crash': {
      const p = SCENARIO_PARAMS.crash;
      fx.forcedDriftBpsPerS = -p.dropBps / ((active.endMs - active.startMs) / 1000);
      fx.anchorShiftBps -= (p.dropBps * p.keepFraction * dt) / (active.endMs - active.startMs);
      fx.tradeRateMult = p.tradeRateMult;
      fx.sellProb = p.sellProb;
      fx.sweepProb = 1;
      fx.spreadLevels = p.spreadLevels;
      fx.alphaOverride = 0;
      break;
    }
  }
  return fx;
}
