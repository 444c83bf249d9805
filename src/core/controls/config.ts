import { ConfigError, envFlag, envInteger, envNumber, envString, type Env } from '../../config/env.ts';
import {
  TRADING_STATES,
  controlsSectionValidator,
  opsLimitsValidator,
  type ControlsSection,
  type TradingStateName,
} from '../../schema/controls.ts';
import type { FieldError } from '../../schema/validate.ts';
import { canonicalSymbol } from '../symbol.ts';
import { SymbolRules } from './symbol-rules.ts';

/**
 * The desk controls' configuration (controls.md §2), resolved once from a validated `controls:` tree into
 * an immutable object with every derived value the hot path needs. A limit that is off is `Infinity`
 * (one comparison on the hot path, no branch on "is it on"); `null` appears only in the JSON views
 * (`effectiveLimits`, quotas). The live configuration is replaced as a whole (POST /ops/limits →
 * `mergeLimits`), never mutated.
 *
 * ConfigError and the ENV readers are reused from src/config/env.ts (a leaf module with no imports),
 * so a bad `AURORA_CONTROLS_*` value stops start-up exactly like every other bad ENV value.
 */

export const OFF = Infinity;
export const isOn = (limit: number): boolean => limit !== Infinity;

/** Trading state codes: the shared-state word and `aurora_trading_state` (0/1/2). */
export const TS_ACTIVE = 0;
export const TS_REDUCING = 1;
export const TS_HALTED = 2;
export const tradingStateCode = (s: TradingStateName): number => TRADING_STATES.indexOf(s);
export const tradingStateName = (code: number): TradingStateName => TRADING_STATES[code] ?? 'HALTED';

export const DEFAULT_RESERVATION_TTL_MS = 30_000;
export const DEFAULT_ALERT_UTILIZATION = 0.8;

export interface ControlsConfig {
  /** a `controls:` section exists (possibly empty) */
  readonly present: boolean;
  /**
   * At least one control is configured (a list, a limit, a rate or dedupe). Off: every answer stays the
   * reference's (quotas constant, no observability.controls, no reservations), controls.md §0.
   * `trading_state`, `reduce_only_passes_halt`, `reservation_ttl_ms` and `alert_utilization` alone do not
   * turn controls on.
   */
  readonly anyOn: boolean;
  /** start-up trading state (the live one is a shared-state word, changed by POST /ops/trading_state) */
  readonly tradingState: TradingStateName;
  readonly reduceOnlyPassesHalt: boolean;
  /** canonical symbols, or null (off) */
  readonly symbolsAllowed: ReadonlySet<string> | null;
  readonly symbolsBlocked: ReadonlySet<string> | null;
  /** UTC windows as [start, end) minutes of day, flat pairs; end ≤ start wraps midnight; null = off */
  readonly windows: Int32Array | null;
  /** canonical symbol → max qty (the `"*"` entry is `maxOrderQtyOther`); null = map off */
  readonly maxOrderQty: ReadonlyMap<string, number> | null;
  readonly maxOrderQtyOther: number;
  readonly maxOrderNotionalUsdt: number;
  readonly priceCollarBps: number;
  readonly maxMarketAgeMs: number;
  /** token-bucket capacities (orders per window); the refill rate is capacity / window, continuous */
  readonly accountPerS: number;
  readonly accountPerMin: number;
  readonly symbolPerS: number;
  readonly symbolPerMin: number;
  /** derived refill rates, tokens per ms (0 when off) */
  readonly accountPerSPerMs: number;
  readonly accountPerMinPerMs: number;
  readonly symbolPerSPerMs: number;
  readonly symbolPerMinPerMs: number;
  readonly dedupeOn: boolean;
  readonly dedupeWindowMs: number;
  readonly reservationTtlMs: number;
  readonly maxPositionNotionalUsdt: number;
  readonly maxGrossNotionalUsdt: number;
  readonly maxOpenOrders: number;
  readonly alertUtilization: number;
  /** any of the four rate buckets is on */
  readonly rateOn: boolean;
  /** any of the three exposure rules (§3 rule 7) is on */
  readonly exposureOn: boolean;
  /** an order's notional is needed: notional limit or an exposure limit on */
  readonly notionalNeeded: boolean;
  /** throttles or exposure on: the decision reads the account and pair records */
  readonly stateful: boolean;
  /** the buckets that are on: 1 account/s, 2 account/min, 4 symbol/s, 8 symbol/min */
  readonly rateBits: number;
  /** the lists and the per-symbol qty limits as one table keyed by symbol key (null: none of them on) */
  readonly symbolRules: SymbolRules | null;
  /** the normalised section (nulls removed, symbols canonical): what mergeLimits patches and the state publishes */
  readonly section: Readonly<ControlsSection>;
}

function deepFreeze<T>(v: T): T {
  // typed arrays cannot be frozen (their elements stay writable: `windows` is readonly by type only)
  if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v) && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : OFF);

function minutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function canonicalList(list: readonly string[], path: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const c = canonicalSymbol(list[i]);
    if (c === null) throw new ConfigError(`controls.${path}.${i} = ${JSON.stringify(list[i])}: not a symbol`);
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

/**
 * Builds the immutable configuration from a `controls:` value that passed `controlsSectionValidator`
 * (undefined or null = no section: everything off, parity with the reference). Semantic checks the
 * schema cannot express throw ConfigError naming the key: a window starting at 24:00 or empty (start =
 * end; write ["00:00", "24:00"] for the whole day), a symbol that canonicalises to nothing, two
 * `max_order_qty` keys naming the same canonical symbol with different limits.
 */
export function buildControlsConfig(tree: ControlsSection | null | undefined): ControlsConfig {
  const present = tree !== undefined && tree !== null;
  const t: ControlsSection = present ? tree : {};
  const section: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t)) if (v !== null && v !== undefined) section[k] = v;

  const allowed = t.symbols_allowed ? canonicalList(t.symbols_allowed, 'symbols_allowed') : null;
  const blocked = t.symbols_blocked ? canonicalList(t.symbols_blocked, 'symbols_blocked') : null;
  if (allowed) section.symbols_allowed = allowed;
  if (blocked) section.symbols_blocked = blocked;

  let windows: Int32Array | null = null;
  if (t.trading_windows_utc) {
    const w = t.trading_windows_utc;
    windows = new Int32Array(w.length * 2);
    for (let i = 0; i < w.length; i++) {
      const [a, b] = w[i];
      if (a === '24:00') throw new ConfigError(`controls.trading_windows_utc.${i} = ${JSON.stringify(w[i])}: a window cannot start at 24:00`);
      const s = minutes(a);
      const e = minutes(b);
      if (s === e) throw new ConfigError(`controls.trading_windows_utc.${i} = ${JSON.stringify(w[i])}: an empty window (for the whole day write ["00:00", "24:00"])`);
      windows[2 * i] = s;
      windows[2 * i + 1] = e;
    }
  }

  let qtyMap: Map<string, number> | null = null;
  let qtyOther = OFF;
  if (t.max_order_qty) {
    qtyMap = new Map();
    const normal: Record<string, number> = {};
    for (const [k, v] of Object.entries(t.max_order_qty)) {
      if (k === '*') {
        qtyOther = v;
        normal['*'] = v;
        continue;
      }
      const c = canonicalSymbol(k);
      if (c === null || c === '*') throw new ConfigError(`controls.max_order_qty.${k}: not a symbol`);
      const prev = qtyMap.get(c);
      if (prev !== undefined && prev !== v) throw new ConfigError(`controls.max_order_qty: ${JSON.stringify(k)} and another key both name ${c} with different limits`);
      qtyMap.set(c, v);
      normal[c] = v;
    }
    section.max_order_qty = normal;
  }

  const rate = t.rate ?? {};
  const rateNormal: Record<string, number> = {};
  for (const [k, v] of Object.entries(rate)) if (typeof v === 'number') rateNormal[k] = v;
  if (Object.keys(rateNormal).length > 0) section.rate = rateNormal;
  else delete section.rate;

  const accountPerS = num(rate.account_per_s);
  const accountPerMin = num(rate.account_per_min);
  const symbolPerS = num(rate.symbol_per_s);
  const symbolPerMin = num(rate.symbol_per_min);
  const perMs = (cap: number, windowMs: number) => (isOn(cap) ? cap / windowMs : 0);

  const maxOrderNotionalUsdt = num(t.max_order_notional_usdt);
  const maxPositionNotionalUsdt = num(t.max_position_notional_usdt);
  const maxGrossNotionalUsdt = num(t.max_gross_notional_usdt);
  const maxOpenOrders = num(t.max_open_orders);
  const priceCollarBps = num(t.price_collar_bps);
  const maxMarketAgeMs = num(t.max_market_age_ms);
  const dedupeOn = typeof t.dedupe_window_s === 'number';
  const exposureOn = isOn(maxPositionNotionalUsdt) || isOn(maxGrossNotionalUsdt) || isOn(maxOpenOrders);
  const anyOn =
    allowed !== null ||
    blocked !== null ||
    windows !== null ||
    qtyMap !== null ||
    isOn(maxOrderNotionalUsdt) ||
    isOn(priceCollarBps) ||
    isOn(maxMarketAgeMs) ||
    isOn(accountPerS) ||
    isOn(accountPerMin) ||
    isOn(symbolPerS) ||
    isOn(symbolPerMin) ||
    dedupeOn ||
    exposureOn;

  return deepFreeze({
    present,
    anyOn,
    tradingState: t.trading_state ?? 'ACTIVE',
    reduceOnlyPassesHalt: t.reduce_only_passes_halt ?? true,
    symbolsAllowed: allowed ? new Set(allowed) : null,
    symbolsBlocked: blocked ? new Set(blocked) : null,
    windows,
    maxOrderQty: qtyMap,
    maxOrderQtyOther: qtyOther,
    maxOrderNotionalUsdt,
    priceCollarBps,
    maxMarketAgeMs,
    accountPerS,
    accountPerMin,
    symbolPerS,
    symbolPerMin,
    accountPerSPerMs: perMs(accountPerS, 1000),
    accountPerMinPerMs: perMs(accountPerMin, 60_000),
    symbolPerSPerMs: perMs(symbolPerS, 1000),
    symbolPerMinPerMs: perMs(symbolPerMin, 60_000),
    dedupeOn,
    dedupeWindowMs: dedupeOn ? Math.round((t.dedupe_window_s as number) * 1000) : 0,
    reservationTtlMs: t.reservation_ttl_ms ?? DEFAULT_RESERVATION_TTL_MS,
    maxPositionNotionalUsdt,
    maxGrossNotionalUsdt,
    maxOpenOrders,
    alertUtilization: t.alert_utilization ?? DEFAULT_ALERT_UTILIZATION,
    rateOn: isOn(accountPerS) || isOn(accountPerMin) || isOn(symbolPerS) || isOn(symbolPerMin),
    exposureOn,
    notionalNeeded: isOn(maxOrderNotionalUsdt) || isOn(maxPositionNotionalUsdt) || isOn(maxGrossNotionalUsdt),
    stateful: isOn(accountPerS) || isOn(accountPerMin) || isOn(symbolPerS) || isOn(symbolPerMin) || exposureOn,
    rateBits: (isOn(accountPerS) ? 1 : 0) | (isOn(accountPerMin) ? 2 : 0) | (isOn(symbolPerS) ? 4 : 0) | (isOn(symbolPerMin) ? 8 : 0),
    symbolRules: allowed !== null || blocked !== null || qtyMap !== null ? new SymbolRules(allowed, blocked, qtyMap) : null,
    section: section as ControlsSection,
  }) as ControlsConfig;
}

/** Everything off: no `controls:` section. */
export const NO_CONTROLS: ControlsConfig = buildControlsConfig(undefined);

// ---------------------------------------------------------------------------------------------------
// ENV overlay: AURORA_CONTROLS_<KEY> for the scalar keys (controls.md §2)

type EnvKind = 'state' | 'bool' | 'number' | 'int';
/** [path in the section, kind, may be turned off with `off`/`null`/`none`] */
export const CONTROLS_ENV_KEYS: ReadonlyArray<readonly [string, EnvKind, boolean]> = [
  ['trading_state', 'state', false],
  ['reduce_only_passes_halt', 'bool', false],
  ['max_order_notional_usdt', 'number', true],
  ['price_collar_bps', 'number', true],
  ['max_market_age_ms', 'int', true],
  ['rate.account_per_s', 'int', true],
  ['rate.account_per_min', 'int', true],
  ['rate.symbol_per_s', 'int', true],
  ['rate.symbol_per_min', 'int', true],
  ['dedupe_window_s', 'number', true],
  ['reservation_ttl_ms', 'int', false],
  ['max_position_notional_usdt', 'number', true],
  ['max_gross_notional_usdt', 'number', true],
  ['max_open_orders', 'int', true],
  ['alert_utilization', 'number', false],
];

export const controlsEnvName = (path: string): string => `AURORA_CONTROLS_${path.replace('.', '_').toUpperCase()}`;

const OFF_WORDS = new Set(['off', 'null', 'none']);

export interface ControlsOverlay {
  /** the section with the ENV values written in (a new object; the input is not changed), or undefined */
  section: unknown;
  /** section path → the ENV variable that set it (for error messages) */
  provenance: Map<string, string>;
}

/**
 * Writes every set `AURORA_CONTROLS_<KEY>` into a copy of the `controls:` value (creating the section
 * when absent, as an overlay can create `guards`, D11). Values must parse (numbers, integers, booleans
 * as 1/0 true/false yes/no on/off, a trading state in any case); a limit can be turned off with
 * `off` / `null` / `none`. Parse errors throw ConfigError naming the variable; ranges are checked by the
 * schema afterwards (`resolveControls`).
 */
export function overlayControlsEnv(section: unknown, env: Env): ControlsOverlay {
  const provenance = new Map<string, string>();
  let out: Record<string, unknown> | undefined =
    section !== null && typeof section === 'object' && !Array.isArray(section) ? structuredClone(section as Record<string, unknown>) : undefined;
  for (const [path, kind, offable] of CONTROLS_ENV_KEYS) {
    const name = controlsEnvName(path);
    const raw = envString(env, name);
    if (raw === undefined) continue;
    let v: unknown;
    if (kind !== 'bool' && OFF_WORDS.has(raw.toLowerCase())) {
      if (!offable) throw new ConfigError(`${name}=${JSON.stringify(env[name])}: controls.${path} cannot be turned off`);
      v = null;
    } else if (kind === 'state') {
      const s = raw.toUpperCase();
      if (!(TRADING_STATES as readonly string[]).includes(s)) throw new ConfigError(`${name}=${JSON.stringify(env[name])}: must be ACTIVE, REDUCING or HALTED`);
      v = s;
    } else if (kind === 'bool') v = envFlag(env, name);
    else if (kind === 'int') v = envInteger(env, name);
    else v = envNumber(env, name);
    if (out === undefined) {
      if (section !== undefined && section !== null) throw new ConfigError(`${name} is set but controls is not a mapping (${JSON.stringify(section)})`);
      out = {};
    }
    const dot = path.indexOf('.');
    if (dot < 0) out[path] = v;
    else {
      const head = path.slice(0, dot);
      const cur = out[head];
      const obj = cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? (cur as Record<string, unknown>) : (out[head] = {} as Record<string, unknown>);
      obj[path.slice(dot + 1)] = v;
    }
    provenance.set(path, name);
  }
  return { section: out ?? section, provenance };
}

function formatErrors(errors: FieldError[], value: unknown, provenance: Map<string, string>): string {
  return errors
    .filter((e) => e.path !== '(body)' || errors.length === 1)
    .map((e) => {
      const path = e.path === '(body)' ? '' : e.path;
      const from = provenance.get(path);
      const key = path ? `controls.${path}` : 'controls';
      let v: unknown = value;
      for (const seg of path ? path.split('.') : []) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined;
      return `${from ? `${from} (${key})` : key} = ${JSON.stringify(v) ?? 'undefined'}: ${e.message}`;
    })
    .join('\n  ');
}

/**
 * Start-up resolution: ENV overlay, schema validation, build. Any bad value throws ConfigError naming
 * the key (and the ENV variable when it came from one): bad values stop start-up (controls.md §2).
 */
export function resolveControls(section: unknown, env: Env): ControlsConfig {
  const { section: s, provenance } = overlayControlsEnv(section, env);
  if (s === undefined || s === null) return NO_CONTROLS;
  if (!controlsSectionValidator.check(s)) {
    throw new ConfigError(`invalid controls configuration:\n  ${formatErrors(controlsSectionValidator.errors(s), s, provenance)}`);
  }
  return buildControlsConfig(s);
}

// ---------------------------------------------------------------------------------------------------
// Effective limits and POST /ops/limits

/** The effective value of every key (null = off), as GET /ops/limits shows them; trading_state is live state, not here. */
export function effectiveLimits(c: ControlsConfig): Record<string, unknown> {
  const n = (x: number) => (isOn(x) ? x : null);
  const s = c.section;
  return {
    reduce_only_passes_halt: c.reduceOnlyPassesHalt,
    symbols_allowed: s.symbols_allowed ?? null,
    symbols_blocked: s.symbols_blocked ?? null,
    trading_windows_utc: s.trading_windows_utc ?? null,
    max_order_qty: s.max_order_qty ?? null,
    max_order_notional_usdt: n(c.maxOrderNotionalUsdt),
    price_collar_bps: n(c.priceCollarBps),
    max_market_age_ms: n(c.maxMarketAgeMs),
    rate: {
      account_per_s: n(c.accountPerS),
      account_per_min: n(c.accountPerMin),
      symbol_per_s: n(c.symbolPerS),
      symbol_per_min: n(c.symbolPerMin),
    },
    dedupe_window_s: c.dedupeOn ? (s.dedupe_window_s as number) : null,
    reservation_ttl_ms: c.reservationTtlMs,
    max_position_notional_usdt: n(c.maxPositionNotionalUsdt),
    max_gross_notional_usdt: n(c.maxGrossNotionalUsdt),
    max_open_orders: n(c.maxOpenOrders),
    alert_utilization: c.alertUtilization,
  };
}

/** One LIMIT.UPDATE event's payload (the service adds `token_mask`). */
export interface LimitChange {
  key: string;
  old: unknown;
  new: unknown;
}

/** Leaves of the effective limits: `rate.*` and `max_order_qty.<symbol>` one by one, lists whole. */
function leaves(c: ControlsConfig): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(effectiveLimits(c))) {
    if (k === 'rate') for (const [rk, rv] of Object.entries(v as Record<string, unknown>)) out.set(`rate.${rk}`, rv);
    else if (k === 'max_order_qty') {
      if (v !== null) for (const [sk, sv] of Object.entries(v as Record<string, unknown>)) out.set(`max_order_qty.${sk}`, sv);
    } else out.set(k, v);
  }
  return out;
}

/** The LIMIT.UPDATE list between two configurations, in key order of the effective limits. */
export function diffLimits(before: ControlsConfig, after: ControlsConfig): LimitChange[] {
  const a = leaves(before);
  const b = leaves(after);
  const keys = [...a.keys()];
  for (const k of b.keys()) if (!a.has(k)) keys.push(k);
  const changes: LimitChange[] = [];
  for (const key of keys) {
    const o = a.has(key) ? a.get(key) : null;
    const n = b.has(key) ? b.get(key) : null;
    if (JSON.stringify(o) !== JSON.stringify(n)) changes.push({ key, old: o, new: n });
  }
  return changes;
}

/** RFC 7396 JSON merge patch: objects merge, null deletes, anything else (lists included) replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export type MergeResult =
  | { ok: true; config: ControlsConfig; changes: LimitChange[] }
  | { ok: false; errors: FieldError[] };

/**
 * POST /ops/limits (controls.md §5): validates the partial body, merges it into the live section
 * (RFC 7396 merge patch: `{"rate": {"account_per_s": 10}}` changes one rate, `null` turns a limit off or
 * gives a tuning key its default, lists replace, `max_order_qty` merges per symbol), validates the result
 * like start-up configuration and builds it — all or nothing: on any error nothing changes and the
 * errors name the fields. `changes` lists every effective value that moved (one LIMIT.UPDATE each).
 * The caller publishes `config.section` into shared state (ControlsState.publishConfig).
 */
export function mergeLimits(current: ControlsConfig, body: unknown): MergeResult {
  if (!opsLimitsValidator.check(body)) return { ok: false, errors: opsLimitsValidator.errors(body) };
  const merged = mergePatch(structuredClone(current.section), body);
  if (!controlsSectionValidator.check(merged)) return { ok: false, errors: controlsSectionValidator.errors(merged) };
  let config: ControlsConfig;
  try {
    config = buildControlsConfig(merged);
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, errors: [{ path: '(body)', message: err.message }] };
    throw err;
  }
  if (!current.present && Object.keys(merged as object).length === 0) config = NO_CONTROLS;
  return { ok: true, config, changes: diffLimits(current, config) };
}
