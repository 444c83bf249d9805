import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import { compileValidator } from '../../schema/validate.ts';

export const SCENARIO_NAMES = ['spoof_wall', 'spread_blowout', 'stale_feed', 'latency_spike', 'crash'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export const ScenarioSpec = Type.Object({
  name: Type.Union(
    [
      Type.Literal('spoof_wall'),
      Type.Literal('spread_blowout'),
      Type.Literal('stale_feed'),
      Type.Literal('latency_spike'),
      Type.Literal('crash'),
    ],
    { description: `one of ${SCENARIO_NAMES.join(', ')}` },
  ),
  /** Start, seconds after the run's start; omitted → spread evenly over the run. */
  at_s: Type.Optional(Type.Number({ minimum: 0, description: 'a start time >= 0 in seconds after the run start' })),
});
export type ScenarioSpec = Static<typeof ScenarioSpec>;

/**
 * Options of the synthetic feed generator (docs/replay-format.md, "Synthetic generator"). Defaults
 * describe a calm BTCUSDT perpetual: ~0.6 bps/√s diffusion, a latent order-flow drift that
 * persists ~20 s (what makes OBI/TFI predictive), 10 levels a side, ~15 events/s.
 */
export const SyntheticOptions = Type.Object({
  seed: Type.Integer({ default: 42, description: 'the PRNG seed (same seed ⇒ byte-identical file)' }),
  minutes: Type.Number({ exclusiveMinimum: 0, maximum: 24 * 60, default: 10, description: 'run length in minutes' }),
  start_ms: Type.Integer({ minimum: 1e12, maximum: 1e13, default: 1767225600000, description: 'first event time (epoch ms)' }),
  symbol: Type.String({ pattern: '^[A-Z0-9]{2,30}$', default: 'BTCUSDT' }),
  regime: Type.Union([Type.Literal('normal'), Type.Literal('trend_up'), Type.Literal('trend_down'), Type.Literal('volatile')], {
    default: 'normal',
    description: 'normal | trend_up | trend_down | volatile',
  }),
  mid0: Type.Number({ exclusiveMinimum: 0, default: 50000, description: 'initial mid price' }),
  tick: Type.Number({ exclusiveMinimum: 0, default: 0.1, description: 'price tick; 1/tick must be an integer' }),
  lot_step: Type.Number({ exclusiveMinimum: 0, default: 0.001, description: 'quantity step; 1/lot_step must be an integer' }),
  min_qty: Type.Number({ exclusiveMinimum: 0, default: 0.001 }),
  min_notional: Type.Number({ minimum: 0, default: 5 }),
  maker_bps: Type.Number({ default: 0.2 }),
  taker_bps: Type.Number({ default: 0.5 }),
  levels: Type.Integer({ minimum: 5, maximum: 20, default: 10, description: 'displayed levels per side (5–20)' }),
  level_spacing_ticks: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'distance between displayed levels, in ticks' }),
  level_size_base: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'mean level size scale (base units)' }),
  vol_bps_per_sqrt_s: Type.Number({ minimum: 0, default: 0.6, description: 'diffusion of the fair price' }),
  mean_reversion_half_life_s: Type.Number({ exclusiveMinimum: 0, default: 300 }),
  drift_bps_per_min: Type.Number({ default: 0, description: 'drift of the mean-reversion anchor' }),
  jumps_per_hour: Type.Number({ minimum: 0, default: 0 }),
  jump_bps: Type.Number({ minimum: 0, default: 15, description: 'standard deviation of a jump' }),
  alpha_sd_bps_per_s: Type.Number({ minimum: 0, default: 0.3, description: 'stationary sd of the latent drift' }),
  alpha_half_life_s: Type.Number({ exclusiveMinimum: 0, default: 20 }),
  book_rate_hz: Type.Number({ exclusiveMinimum: 0, maximum: 100, default: 8, description: 'book updates per second' }),
  trade_rate_hz: Type.Number({ minimum: 0, maximum: 100, default: 4, description: 'base Poisson trade rate' }),
  trade_size_mean: Type.Number({ exclusiveMinimum: 0, default: 0.15, description: 'mean trade size (base units)' }),
  latency_base_ms: Type.Number({ minimum: 0, default: 2, description: 'recv_ts − exch_ts floor' }),
  latency_jitter_ms: Type.Number({ minimum: 0, default: 3, description: 'mean of the gamma-distributed extra latency' }),
  history_bars: Type.Integer({ minimum: 0, maximum: 1000, default: 20, description: 'bar_1m lines of history before the start' }),
  scenarios: Type.Array(ScenarioSpec, { default: [], maxItems: 50 }),
});
export type SyntheticOptions = Static<typeof SyntheticOptions>;

const validator = compileValidator<SyntheticOptions>(SyntheticOptions);

/** Fills defaults and validates; throws a readable error naming the bad option. */
export function resolveSyntheticOptions(input: Partial<SyntheticOptions> = {}): SyntheticOptions {
  const withDefaults = Value.Default(SyntheticOptions, structuredClone(input)) as SyntheticOptions;
  if (!validator.check(withDefaults)) {
    const detail = validator.errors(withDefaults).map((e) => `${e.path} ${e.message}`).join('; ');
    throw new RangeError(`invalid synthetic options: ${detail}`);
  }
  for (const [name, step] of [['tick', withDefaults.tick], ['lot_step', withDefaults.lot_step]] as const) {
    const inverse = 1 / step;
    if (Math.abs(inverse - Math.round(inverse)) > 1e-9 * inverse) {
      throw new RangeError(`invalid synthetic options: 1/${name} must be an integer (got ${name} ${step})`);
    }
  }
  return withDefaults;
}

/**
 * Parses a CLI scenario list: `spoof_wall,crash@240` → names with optional start seconds.
 * Unknown names are an error listing the valid ones.
 */
export function parseScenarioList(text: string): ScenarioSpec[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((item) => {
      const [name, at] = item.split('@');
      if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
        throw new RangeError(`unknown scenario "${name}" (valid: ${SCENARIO_NAMES.join(', ')})`);
      }
      if (at === undefined) return { name: name as ScenarioName };
      const atS = Number(at);
      if (at.trim() === '' || !Number.isFinite(atS) || atS < 0) throw new RangeError(`scenario "${item}": start must be seconds >= 0`);
      return { name: name as ScenarioName, at_s: atS };
    });
}

/**
 * Parses the runner's `--synthetic seed=42,minutes=10,regime=volatile,scenarios=spoof_wall+crash@240`
 * form (runner.md §4.2): comma-separated `key=value` pairs with SyntheticOptions keys; scenarios are
 * joined with `+` because commas separate the pairs. Returns resolved options (defaults filled).
 */
export function parseSyntheticSpec(spec: string): SyntheticOptions {
  const props = SyntheticOptions.properties as Record<string, { type?: string }>;
  const out: Record<string, unknown> = {};
  for (const pair of spec.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new RangeError(`--synthetic: "${pair}" is not key=value`);
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (key === 'scenarios') {
      out.scenarios = parseScenarioList(value.replaceAll('+', ','));
    } else if (key in props) {
      const type = props[key].type;
      if (type === 'number' || type === 'integer') {
        const n = Number(value);
        if (value === '' || !Number.isFinite(n)) throw new RangeError(`--synthetic: ${key} must be a number, got "${value}"`);
        out[key] = n;
      } else out[key] = value;
    } else {
      throw new RangeError(`--synthetic: unknown key "${key}" (valid: ${Object.keys(props).join(', ')})`);
    }
  }
  return resolveSyntheticOptions(out as Partial<SyntheticOptions>);
}
