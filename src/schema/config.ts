import Type, { type Static } from 'typebox';
import { ControlsSection } from './controls.ts';

/**
 * The YAML configuration tree (after the ENV overlay), as TypeBox: every key AURORA reads, its type and
 * range. Values outside these stop start-up with a message naming the key and the value (src/config).
 * Unknown top-level sections are allowed (a warning lists them); unknown keys inside known sections too.
 */
const Opt = <T extends Parameters<typeof Type.Optional>[0]>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const Finite = (o: Record<string, unknown> = {}) => Type.Number(o);
const Int = (o: Record<string, unknown> = {}) => Type.Integer(o);
const Section = <P extends Parameters<typeof Type.Object>[0]>(props: P, description: string) =>
  Type.Optional(Type.Object(props, { additionalProperties: true, description }));

export const ConfigTree = Type.Object(
  {
    api: Section(
      {
        host: Opt(Type.String({ minLength: 1 })),
        port: Opt(Int({ minimum: 0, maximum: 65535 })),
        max_body_bytes: Opt(Int({ minimum: 1024, maximum: 16 * 1024 * 1024 })),
        report_cooldown_ms: Opt(Type.Boolean()),
        trust_proxy: Opt(Type.Boolean()),
      },
      'HTTP/WebSocket listener',
    ),
    ws: Section(
      {
        max_payload_bytes: Opt(Int({ minimum: 1024, maximum: 16 * 1024 * 1024 })),
        max_backpressure_bytes: Opt(Int({ minimum: 4096, maximum: 256 * 1024 * 1024 })),
        idle_timeout_s: Opt(Int({ minimum: 0, maximum: 3600 })),
      },
      'WebSocket limits',
    ),
    pool: Section({ threads: Opt(Int({ minimum: 0, maximum: 64 })), inline_when_idle: Opt(Type.Boolean()), inline_idle_gap_us: Opt(Int({ minimum: 0, maximum: 1_000_000 })), awake_share: Opt(Int({ minimum: 1, maximum: 4096 })) }, 'worker pool'),
    journal: Section(
      {
        enabled: Opt(Type.Boolean()),
        fsync_interval_ms: Opt(Int({ minimum: 1, maximum: 60_000 })),
        fsync_lines: Opt(Int({ minimum: 1, maximum: 1_000_000 })),
        on_write_error: Opt(Type.Union([Type.Literal('continue'), Type.Literal('fail_closed')])),
        events_max_bytes: Opt(Int({ minimum: 4096 })),
        orders_max_bytes: Opt(Int({ minimum: 4096 })),
        retention_days: Opt(Int({ minimum: 0, maximum: 3650 })),
        gzip_level: Opt(Int({ minimum: 1, maximum: 9 })),
      },
      'JSONL journal writer',
    ),
    security: Section(
      {
        ops_token: Opt(Type.String()),
        allowlist: Opt(Type.Array(Type.String())),
        runner_token: Opt(Type.String()),
      },
      'ops authentication',
    ),
    logging: Section({ path: Opt(Type.String()), orders_path: Opt(Type.String()) }, 'journal file names'),
    aurora: Section(
      {
        latency_guard_ms: Opt(Finite({ minimum: 0 })),
        latency_window_sec: Opt(Finite({ exclusiveMinimum: 0 })),
        cooloff_base_sec: Opt(Finite({ minimum: 0 })),
        halt_threshold_repeats: Opt(Int({ minimum: 1, maximum: 64 })),
        latency_min_samples: Opt(Int({ minimum: 1 })),
        latency_max_samples: Opt(Int({ minimum: 16, maximum: 1_048_576 })),
        cooldown_after_close_ms: Opt(Finite()),
        min_open_interval_ms: Opt(Finite()),
        min_position_hold_ms: Opt(Finite()),
      },
      'HealthGuard and anti-churn',
    ),
    guards: Section(
      {
        latency_ms_limit: Opt(Finite()),
        spread_bps_limit: Opt(Finite()),
        trap_guard_enabled: Opt(Type.Boolean()),
        vol_guard_std_bps: Opt(Finite()),
      },
      'pipeline guards',
    ),
    gates: Section(
      {
        reject_storm_pct: Opt(Finite({ exclusiveMinimum: 0 })),
        reject_storm_cooldown_s: Opt(Finite({ minimum: 0 })),
        reject_storm_min_orders: Opt(Int({ minimum: 1 })),
        daily_dd_limit_pct: Opt(Finite()),
        cvar_alpha: Opt(Finite()),
        cvar_limit: Opt(Finite()),
        spread_bps_limit: Opt(Finite()),
        latency_ms_limit: Opt(Finite()),
        vol_guard_std_bps: Opt(Finite()),
        max_concurrent_positions: Opt(Finite({ minimum: 0 })),
        trap_guard_enabled: Opt(Type.Boolean()),
      },
      'Governance (and the pipeline guards when no guards section exists)',
    ),
    trap: Section(
      {
        window_s: Opt(Finite({ minimum: 0 })),
        levels: Opt(Int({ minimum: 1 })),
        z_threshold: Opt(Finite()),
        cancel_pctl: Opt(Finite({ minimum: 0, maximum: 100 })),
        score_threshold: Opt(Finite()),
        min_history: Opt(Int({ minimum: 0, maximum: 240 })),
      },
      'TRAP guard',
    ),
    pretrade: Section({ order_profile: Opt(Type.String()) }, 'step order'),
    risk: Section(
      {
        pi_min_bps: Opt(Finite()),
        dd_day_pct: Opt(Finite({ exclusiveMinimum: 0, maximum: 100 })),
        max_concurrent: Opt(Int({ minimum: 0 })),
        size_scale: Opt(Finite()),
      },
      'RiskManager and expected return',
    ),
    slippage: Section({ eta_fraction_of_b: Opt(Finite({ minimum: 0 })) }, 'slippage guard'),
    sprt: Section(
      {
        enabled: Opt(Type.Boolean()),
        sigma: Opt(Finite({ exclusiveMinimum: 0 })),
        A: Opt(Finite()),
        B: Opt(Finite()),
        max_obs: Opt(Int({ minimum: 1 })),
        alpha: Opt(Finite({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
        beta: Opt(Finite({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
      },
      'SPRT',
    ),
    compat: Section(
      {
        spread_reason_in_reasons: Opt(Type.Boolean()),
        reset_clears_samples: Opt(Type.Boolean()),
        reset_clears_governance: Opt(Type.Boolean()),
      },
      'reference-compatibility switches',
    ),
    /** desk controls (controls.md §2): absent or null = every control off (parity with the reference) */
    controls: Type.Optional(Type.Union([ControlsSection, Type.Null()], { description: 'desk controls (controls.md §2), or null' })),
    observability: Section({}, 'ack tracker (idle in the service)'),
    trading: Section({}, 'legacy /predict settings (unused)'),
  },
  { additionalProperties: true },
);
export type ConfigTree = Static<typeof ConfigTree>;
