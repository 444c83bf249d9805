/**
 * Shared fixtures for the per-guard unit tests (gate.md sections 3, 4, 7): a config built from a tree
 * (embedded base.yaml values by default) plus explicit ENV, a fresh GateState, a fake clock, the base
 * request R0 of gate.md 7. Expected percentiles are constants in the tests (recorded from numpy), not
 * recomputed by a copy of the implementation.
 */
import { expect } from 'vitest';
import { EMBEDDED_DEFAULTS } from '../../../src/config/defaults.ts';
import { resolveConfig, type AppConfig } from '../../../src/config/resolve.ts';
import type { CoreConfig } from '../../../src/core/config.ts';
import type { GateEvent } from '../../../src/core/events.ts';
import { GateState } from '../../../src/shm/state/gate-state.ts';
import { checkParsed, isFailure, NO_LOCK, type Clock } from '../../../src/gate/pretrade.ts';

export type Tree = Record<string, unknown>;
export type Env = Record<string, string>;

/** A round epoch second to start every scenario at. */
export const T0 = 1_700_000_000;

/** gate.md 7, base request R0 (market part). */
export const R0_MARKET: Tree = { latency_ms: 5, score: 1.0, a_bps: 10, b_bps: 20, slip_bps_est: 1, spread_bps: 2 };

const isObj = (v: unknown): v is Tree => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Deep merge; a value `undefined` in `over` deletes the key. */
export function merge(base: Tree, over: Tree): Tree {
  const out: Tree = structuredClone(base);
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete out[k];
    else if (isObj(v) && isObj(out[k])) out[k] = merge(out[k] as Tree, v);
    else out[k] = structuredClone(v);
  }
  return out;
}

const strip = (o: Tree): Tree => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** R0 with `market` keys replaced/added (`undefined` removes a key), as in "R0 + {…}". */
export function r0(market: Tree = {}, patch: { order?: Tree; account?: Tree; fees_bps?: unknown; market?: 'replace' } = {}): Tree {
  const m = patch.market === 'replace' ? strip(market) : strip({ ...R0_MARKET, ...market });
  const body: Tree = {
    account: strip({ mode: 'paper', ...(patch.account ?? {}) }),
    order: strip({ symbol: 'BTCUSDT', side: 'buy', qty: 0.01, price: 100.0, ...(patch.order ?? {}) }),
    market: m,
  };
  const fees = 'fees_bps' in patch ? patch.fees_bps : 1.0;
  if (fees !== undefined) body.fees_bps = fees;
  return body;
}

/** Resolve a config from `base` (embedded base.yaml values) deep-merged with `over`, and explicit ENV only. */
export function makeConfig(over: Tree = {}, env: Env = {}, base: Tree = EMBEDDED_DEFAULTS as unknown as Tree): AppConfig {
  return resolveConfig(merge(base, over), env, 'unit-test');
}

/** Arrow-function members: checkParsed hands `clock.monoMs` to the SPRT unbound. */
export class FakeClock implements Clock {
  t: number;
  mono = 0;
  constructor(t0 = T0) {
    this.t = t0;
  }
  wallSec = (): number => this.t;
  monoMs = (): number => this.mono;
}

export interface Result {
  allow: boolean;
  reason: string;
  maxQty: number;
  riskScale: number;
  cooldownMs: number;
  obs: Record<string, any>;
  reasons: string[];
  events: GateEvent[];
  /** the serialised response body, parsed back */
  response: Record<string, any>;
}

/** One fresh gate: config + state + fake clock. `at(s)` puts the clock at t0 + s. */
export class Gate {
  readonly app: AppConfig;
  readonly cfg: CoreConfig;
  readonly state: GateState;
  readonly clock: FakeClock;
  readonly t0: number;

  constructor(over: Tree = {}, env: Env = {}, opts: { base?: Tree; t0?: number } = {}) {
    this.app = makeConfig(over, env, opts.base);
    this.cfg = this.app.core;
    this.state = GateState.create(this.app.service.stateSizes, this.cfg.risk, false);
    this.t0 = opts.t0 ?? T0;
    this.clock = new FakeClock(this.t0);
  }

  at(offsetSec: number): this {
    this.clock.t = this.t0 + offsetSec;
    return this;
  }

  /** current fake time (epoch s) */
  get now(): number {
    return this.clock.t;
  }

  send(body: unknown): Result {
    const r = checkParsed(body, this.cfg, this.state, NO_LOCK, this.clock);
    if (isFailure(r)) throw new Error(`unexpected ${r.status}: ${JSON.stringify(r.body)}`);
    const d = r.decision;
    return {
      allow: d.allow,
      reason: d.reason,
      maxQty: d.maxQty,
      riskScale: d.riskScale,
      cooldownMs: d.cooldownMs,
      obs: d.observability as Record<string, any>,
      reasons: (d.observability.reasons ?? []) as string[],
      events: d.events,
      response: JSON.parse(r.json),
    };
  }

  /** R0 + market patch */
  check(market: Tree = {}, patch: Parameters<typeof r0>[1] = {}): Result {
    return this.send(r0(market, patch));
  }
}

export const codes = (events: GateEvent[]): string[] => events.map((e) => e.code);
export const eventsOf = (events: GateEvent[], code: string): GateEvent[] => events.filter((e) => e.code === code);

/** Asserts the gate.md 1.5 constant fields and the headline decision. */
export function expectDecision(r: Result, allow: boolean, reason: string, reasons: string[]): void {
  expect({ allow: r.allow, reason: r.reason, reasons: r.reasons }).toEqual({ allow, reason, reasons });
  expect(r.response.allow).toBe(allow);
  expect(r.response.reason).toBe(reason);
  expect(r.response.cooldown_ms).toBe(0);
  expect(r.response.hard_gate).toBe(false);
  expect(r.response.quotas).toEqual({ trades_pm_left: 999, symbol_exposure_left_usdt: 1e12 });
  if ('gate_state' in r.obs) expect(r.obs.gate_state).toBe(allow ? 'PASS' : 'BLOCK');
}

/** gate.md 4.4 Platt fallback. */
export const platt = (score: number): number => Math.min(1, Math.max(0, 1 / (1 + Math.exp(-2 * score))));

/** gate.md 3.5 expected return. */
export const ePi = (score: number, a: number, b: number, fees: number, slip: number): number => {
  const p = platt(score);
  return p * b - (1 - p) * a - (fees + slip);
};
