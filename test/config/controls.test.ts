import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load as loadYaml } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_DEFAULTS } from '../../src/config/defaults.ts';
import { ConfigError } from '../../src/config/env.ts';
import { loadConfig } from '../../src/config/load.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { CONTROLS_ENV_KEYS, controlsEnvName, isOn, NO_CONTROLS } from '../../src/core/controls/config.ts';
import { DEFAULT_CONTROLS_SIZES, ControlsState } from '../../src/core/controls/state.ts';
import { ControlsSection } from '../../src/schema/controls.ts';
import { DEFAULT_SIZES, GateState, MODEST_CONTROLS_SIZES } from '../../src/shm/state/gate-state.ts';

/**
 * The `controls:` section at start-up (controls.md §2): every bad value of every key stops start-up with a
 * ConfigError naming the key (and the AURORA_CONTROLS_* variable when it came from the environment);
 * configs/desk.yaml turns every control on and documents each key; the embedded default has no section
 * (parity); the shared control tables are sized from the configuration.
 */
type Tree = Record<string, any>;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULTS = EMBEDDED_DEFAULTS as unknown as Tree;
const resolve = (tree: Tree, env: Record<string, string> = {}) => resolveConfig(tree, env, 'test');
const withControls = (controls: unknown) => ({ ...structuredClone(DEFAULTS), controls });

function configError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

/** [the key, a bad value] for every key of the section (several per key where the kinds differ). */
const BAD_YAML: Array<[string, unknown]> = [
  ['trading_state', 'PAUSED'],
  ['trading_state', 1],
  ['reduce_only_passes_halt', 'yes'],
  ['symbols_allowed', 'BTCUSDT'],
  ['symbols_allowed', ['']],
  ['symbols_blocked', [42]],
  ['trading_windows_utc', [['9:00', '17:00']]],
  ['trading_windows_utc', [['09:00']]],
  ['trading_windows_utc', []],
  ['trading_windows_utc', [['24:00', '01:00']]],
  ['trading_windows_utc', [['10:00', '10:00']]],
  ['max_order_qty', { BTCUSDT: 0 }],
  ['max_order_qty', { BTCUSDT: 'one' }],
  ['max_order_qty', { btcusdt: 1, BTCUSDT: 2 }],
  ['max_order_qty', 5],
  ['max_order_notional_usdt', 0],
  ['max_order_notional_usdt', -5],
  ['max_order_notional_usdt', '1000'],
  ['price_collar_bps', 0],
  ['price_collar_bps', 10_001],
  ['max_market_age_ms', 0],
  ['max_market_age_ms', 1.5],
  ['rate', { account_per_s: 0 }],
  ['rate', { account_per_min: 2.5 }],
  ['rate', { symbol_per_s: -1 }],
  ['rate', { symbol_per_min: '10' }],
  ['rate', { per_hour: 10 }],
  ['dedupe_window_s', 0],
  ['dedupe_window_s', 86_401],
  ['reservation_ttl_ms', 0],
  ['reservation_ttl_ms', 100.5],
  ['max_position_notional_usdt', 0],
  ['max_gross_notional_usdt', -1],
  ['max_open_orders', -1],
  ['max_open_orders', 1.5],
  ['alert_utilization', 0],
  ['alert_utilization', 1.5],
  ['max_order_notinal_usdt', 100],
];

describe('controls: bad values stop start-up with a ConfigError naming the key', () => {
  it.each(BAD_YAML)('YAML controls.%s = %j', (key, value) => {
    const msg = configError(() => resolve(withControls({ [key]: value })));
    // the key's dotted path (rate.* nested keys: the sub-key) appears in the message
    const sub = key === 'rate' ? Object.keys(value as object)[0] : null;
    expect(msg).toContain(sub ? `controls.rate.${sub}` : `controls.${key}`);
  });

  it('a section that is not a mapping', () => {
    expect(configError(() => resolve(withControls([1, 2])))).toMatch(/controls/);
    expect(configError(() => resolve(withControls('on')))).toMatch(/controls/);
  });

  it.each(CONTROLS_ENV_KEYS.map(([path, kind]) => [path, kind] as const))('ENV for controls.%s (%s): a value that does not parse or is out of range', (path, kind) => {
    const name = controlsEnvName(path);
    const bad = kind === 'state' ? 'PAUSED' : kind === 'bool' ? 'maybe' : 'abc';
    const msg = configError(() => resolve(structuredClone(DEFAULTS), { [name]: bad }));
    expect(msg).toContain(name);
    if (kind === 'number' || kind === 'int') {
      const range = configError(() => resolve(structuredClone(DEFAULTS), { [name]: '-3' }));
      expect(range).toContain(name);
      expect(range).toContain(`controls.${path}`);
    }
  });

  it('ENV values are written into the section (and create it); `off` turns a limit off, not a default key', () => {
    const c = resolve(structuredClone(DEFAULTS), { AURORA_CONTROLS_MAX_ORDER_NOTIONAL_USDT: '2500', AURORA_CONTROLS_RATE_ACCOUNT_PER_S: '7' }).core.controls;
    expect(c.present).toBe(true);
    expect(c.maxOrderNotionalUsdt).toBe(2500);
    expect(c.accountPerS).toBe(7);
    const off = resolve(withControls({ max_order_notional_usdt: 5, max_open_orders: 3 }), { AURORA_CONTROLS_MAX_ORDER_NOTIONAL_USDT: 'off' }).core.controls;
    expect(isOn(off.maxOrderNotionalUsdt)).toBe(false);
    expect(off.maxOpenOrders).toBe(3);
    expect(configError(() => resolve(structuredClone(DEFAULTS), { AURORA_CONTROLS_RESERVATION_TTL_MS: 'off' }))).toMatch(/AURORA_CONTROLS_RESERVATION_TTL_MS.*cannot be turned off/);
  });

  it('a bad value in a YAML file names the key too (loadConfig)', () => {
    const dir = join(ROOT, 'configs');
    const desk = readFileSync(join(dir, 'desk.yaml'), 'utf8').replace('max_open_orders: 50', 'max_open_orders: lots');
    const tmp = join(process.env.TMPDIR ?? '/tmp', `desk-bad-${process.pid}.yaml`);
    writeFileSync(tmp, desk);
    expect(configError(() => loadConfig({ AURORA_CONFIG: tmp }, ROOT))).toMatch(/controls\.max_open_orders = "lots"/);
  });
});

describe('configs/desk.yaml: every control on, documented key by key', () => {
  const text = readFileSync(join(ROOT, 'configs', 'desk.yaml'), 'utf8');
  const tree = loadYaml(text) as Tree;

  it('loads without a ConfigError and without warnings other than the missing ops token', () => {
    const cfg = loadConfig({ AURORA_CONFIG: 'desk' }, ROOT);
    expect(cfg.warnings).toEqual(['no ops token configured (OPS_TOKEN): ops endpoints answer 401']);
    const c = cfg.core.controls;
    expect(c.anyOn && c.rateOn && c.exposureOn && c.dedupeOn).toBe(true);
    for (const limit of [c.maxOrderNotionalUsdt, c.priceCollarBps, c.maxMarketAgeMs, c.accountPerS, c.accountPerMin, c.symbolPerS, c.symbolPerMin, c.maxPositionNotionalUsdt, c.maxGrossNotionalUsdt, c.maxOpenOrders]) {
      expect(isOn(limit)).toBe(true);
    }
    expect(c.symbolsAllowed?.size).toBeGreaterThan(0);
    expect(c.symbolsBlocked?.size).toBeGreaterThan(0);
    expect(c.windows?.length).toBeGreaterThan(0);
    expect(c.maxOrderQty?.size).toBeGreaterThan(0);
    expect(c.tradingState).toBe('ACTIVE');
    expect(c.reduceOnlyPassesHalt).toBe(true);
    // the full control tables
    expect(cfg.service.stateSizes.controls).toEqual(DEFAULT_CONTROLS_SIZES);
  });

  it('names every key of the controls section (and of rate), each with a comment naming it', () => {
    const all = Object.keys(ControlsSection.properties);
    expect(Object.keys(tree.controls).sort()).toEqual([...all].sort());
    expect(Object.keys(tree.controls.rate).sort()).toEqual(['account_per_min', 'account_per_s', 'symbol_per_min', 'symbol_per_s']);
    const lines = text.split('\n');
    for (const key of [...all.map((k) => `controls.${k}`), ...Object.keys(tree.controls.rate).map((k) => `controls.rate.${k}`)]) {
      const leaf = key.split('.').at(-1)!;
      const i = lines.findIndex((l) => new RegExp(`^\\s+${leaf}:`).test(l) && (key.startsWith('controls.rate.') ? /^ {4}/.test(l) : /^ {2}\w/.test(l)));
      expect(i, key).toBeGreaterThan(0);
      let j = i - 1;
      const comments: string[] = [];
      while (j >= 0 && /^\s*#/.test(lines[j])) comments.unshift(lines[j--]);
      expect(comments.join('\n'), key).toContain(`# ${key}:`);
    }
  });

  it('its decision and service sections are configs/default.yaml\'s (except journal.on_write_error)', () => {
    const { controls, ...rest } = tree;
    expect(controls).toBeDefined();
    const expected = structuredClone(DEFAULTS);
    expected.journal.on_write_error = 'fail_closed';
    expect(rest).toEqual(expected);
  });
});

describe('no controls section: parity, and the modest control tables', () => {
  it('the embedded default and configs/default.yaml have none: NO_CONTROLS', () => {
    const embedded = loadConfig({}, ROOT);
    expect(embedded.core.controls).toBe(NO_CONTROLS);
    expect(loadConfig({ AURORA_CONFIG: 'default' }, ROOT).core.controls).toBe(NO_CONTROLS);
    expect('controls' in DEFAULTS).toBe(false);
    expect(embedded.service.stateSizes.controls).toEqual(MODEST_CONTROLS_SIZES);
  });

  it('`controls: null` is no section; `controls: {}` is a section with nothing on (full tables)', () => {
    expect(resolve(withControls(null)).core.controls).toBe(NO_CONTROLS);
    const empty = resolve(withControls({}));
    expect(empty.core.controls.present).toBe(true);
    expect(empty.core.controls.anyOn).toBe(false);
    expect(empty.service.stateSizes.controls).toEqual(DEFAULT_CONTROLS_SIZES);
  });

  it('region sizes: modest ≈ 1.6 MiB, full ≈ 13.2 MiB, placed after the rest of the decision state', () => {
    expect(ControlsState.bytesNeeded(MODEST_CONTROLS_SIZES)).toBeLessThan(1.7 * 1024 * 1024);
    expect(ControlsState.bytesNeeded(DEFAULT_CONTROLS_SIZES)).toBeLessThan(13.3 * 1024 * 1024);
    const st = GateState.create(DEFAULT_SIZES, { ddDayPct: 10, maxConcurrent: 10, sizeScale: 1 }, false);
    expect(st.controls.initialised).toBe(true);
    expect(st.controls.tradingState).toBe(0);
    expect(st.controls.configGeneration).toBe(0);
    expect(GateState.byteLength(DEFAULT_SIZES)).toBeGreaterThanOrEqual(ControlsState.bytesNeeded(MODEST_CONTROLS_SIZES) + 1_422_576);
  });
});
