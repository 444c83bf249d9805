import Type, { type Static } from 'typebox';

/** `POST /risk/set` (service.md 1, D-36): absent or null = unchanged; values are range-checked. */
export const RiskSetRequest = Type.Object(
  {
    dd_day_pct: Type.Optional(Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 100 }), Type.Null()], { description: 'a number in (0, 100], or null' })),
    max_concurrent: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'an integer >= 0, or null' })),
    size_scale: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: 'a finite number (clipped to [0, 1]), or null' })),
  },
  { additionalProperties: true, description: 'a JSON object' },
);
export type RiskSetRequest = Static<typeof RiskSetRequest>;

/** `POST /ops/rotate_token` (service.md 1.2). */
export const RotateTokenRequest = Type.Object(
  { new_token: Type.String({ maxLength: 4096, description: 'the new token (>= 24 characters after trimming, no whitespace inside)' }) },
  { additionalProperties: true, description: 'a JSON object with new_token' },
);
export type RotateTokenRequest = Static<typeof RotateTokenRequest>;

const Num = Type.Number();
export const GuardSnapshot = Type.Object({
  armed: Type.Boolean(),
  cooloff_until: Num,
  halted: Type.Boolean(),
  samples: Type.Integer(),
  warns_5m: Type.Integer(),
  threshold_ms: Num,
  window_sec: Num,
  base_cooloff_sec: Num,
  halt_threshold_repeats: Type.Integer(),
});

export const RiskLimits = Type.Object({ dd_day_pct: Num, max_concurrent: Num, size_scale: Num });
