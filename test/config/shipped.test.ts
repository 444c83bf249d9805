import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load as loadYaml } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import type { AppConfig } from '../../src/config/resolve.ts';
import { GateState } from '../../src/shm/state/gate-state.ts';
import { checkParsed, isFailure, NO_LOCK, SYSTEM_CLOCK } from '../../src/gate/pretrade.ts';

/** configs/prod.yaml and configs/testnet.yaml: the decision values of gate.md 5.2 and the worked examples of 7. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
type Tree = Record<string, any>;
const yamlOf = (name: string) => loadYaml(readFileSync(join(ROOT, 'configs', `${name}.yaml`), 'utf8')) as Tree;

/** The decision-relevant numbers of gate.md 5.2, one row per file. */
function table(cfg: AppConfig) {
  const c = cfg.core;
  return {
    latency: c.latencyLimitMs,
    spread: c.spreadLimitBps,
    trapGuard: c.trap.guardOn,
    health: [c.health.thresholdMs, c.health.windowSec, c.health.baseCooloffSec, c.health.haltRepeats],
    trap: [c.trap.windowS, c.trap.levels, c.trap.zThreshold, c.trap.cancelPctl, c.trap.scoreThreshold],
    orderProfile: c.orderProfile,
    piMin: c.piMinBps,
    slipEta: c.slipEta,
    risk: [c.risk.ddDayPct, c.risk.maxConcurrent, c.risk.sizeScale],
    sprt: [c.sprt.sigma, Number(c.sprt.A.toFixed(4)), Number(c.sprt.B.toFixed(4)), c.sprt.maxObs],
    antiChurn: [c.antiChurn.cooldownAfterCloseMs, c.antiChurn.minOpenIntervalMs, c.antiChurn.minPositionHoldMs],
    governance: [c.governance.spreadBpsLimit, c.governance.latencyMsLimit, c.governance.dailyDdLimitPct, c.governance.maxConcurrentPositions],
  };
}

const R0 = {
  account: { mode: 'paper' },
  order: { symbol: 'BTCUSDT', side: 'buy', qty: 0.01, price: 100.0 },
  market: { latency_ms: 5, score: 1.0, a_bps: 10, b_bps: 20, slip_bps_est: 1, spread_bps: 2 },
  fees_bps: 1.0,
};

function decide(cfg: AppConfig, body: unknown) {
  const state = GateState.create(cfg.service.stateSizes, cfg.core.risk, false);
  const r = checkParsed(body, cfg.core, state, NO_LOCK, SYSTEM_CLOCK);
  if (isFailure(r)) throw new Error(`request failed: ${JSON.stringify(r)}`);
  return JSON.parse(r.json);
}

describe('shipped profiles (gate.md 5.2)', () => {
  it('prod.yaml has the prod column', () => {
    expect(table(loadConfig({ AURORA_CONFIG: 'prod' }, ROOT))).toEqual({
      latency: 300,
      spread: 80,
      trapGuard: true,
      health: [30, 60, 180, 2],
      trap: [2.0, 5, 2.0, 90, 0.85],
      orderProfile: 'er_before_slip',
      piMin: 3.0,
      slipEta: 0.3,
      risk: [8, 3, 0.2],
      sprt: [1, 2.8904, -2.2513, 10],
      antiChurn: [0, 0, 0],
      governance: [80, 500, 10, 999],
    });
  });

  it('testnet.yaml has the testnet column', () => {
    expect(table(loadConfig({ AURORA_CONFIG: 'testnet' }, ROOT))).toEqual({
      latency: 400,
      spread: 100,
      trapGuard: true,
      health: [40, 60, 120, 2],
      trap: [2.0, 5, 1.64, 90, 0.8],
      orderProfile: 'er_before_slip',
      piMin: 2.0,
      slipEta: 0.25,
      risk: [10, 2, 0.1],
      sprt: [1, 2.8904, -2.2513, 10],
      antiChurn: [0, 0, 0],
      governance: [80, 500, 10, 999],
    });
  });

  it('the embedded defaults / default.yaml have the base.yaml column', () => {
    const row = table(loadConfig({}, ROOT));
    expect(row).toEqual(table(loadConfig({ AURORA_CONFIG: 'configs/default.yaml' }, ROOT)));
    expect(row).toMatchObject({ latency: 300, spread: 80, health: [30, 60, 120, 2], trap: [2.0, 5, 1.64, 90, 0.8], piMin: 2, slipEta: 0.3, risk: [10, 10, 1], sprt: [1, 2, -2, 10] });
  });

  it('prod and testnet carry the same service sections as default.yaml', () => {
    const d = yamlOf('default');
    for (const name of ['prod', 'testnet']) {
      const t = yamlOf(name);
      for (const section of ['api', 'ws', 'pool', 'journal', 'security', 'logging', 'compat']) expect(t[section], `${name}.${section}`).toEqual(d[section]);
      expect(Object.keys(t).sort()).toEqual(Object.keys(d).sort());
    }
  });

  it('a bare name resolves from any working directory (package-root lookup)', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'aurora-cwd-'));
    expect(loadConfig({ AURORA_CONFIG: 'prod' }, elsewhere).source).toBe(join(ROOT, 'configs', 'prod.yaml'));
  });
});

describe('worked examples through loadConfig + the decision core (gate.md 7)', () => {
  it('row 13: AURORA_CONFIG=prod, R0 with base_notional 250 -> ok, risk_scale 0.2, scaled_notional 50', () => {
    const out = decide(loadConfig({ AURORA_CONFIG: 'prod' }, ROOT), { ...R0, order: { ...R0.order, base_notional: 250 } });
    expect(out).toMatchObject({ allow: true, reason: 'ok', max_qty: 0.01, risk_scale: 0.2, cooldown_ms: 0, hard_gate: false });
    expect(out.observability.risk.ctx).toEqual({ size_scale: 0.2, base_notional: 250, scaled_notional: 50 });
    expect(out.observability.reasons).toEqual([]);
  });

  it('row 14: AURORA_CONFIG=prod, SPRT with Wald thresholds -> sprt_continue, llr 0.38, n_obs 5', () => {
    const cfg = loadConfig({ AURORA_CONFIG: 'prod' }, ROOT);
    expect(cfg.core.sprt.A).toBeCloseTo(2.8904, 4);
    expect(cfg.core.sprt.B).toBeCloseTo(-2.2513, 4);
    const out = decide(cfg, { ...R0, market: { ...R0.market, score: 0.2, sprt_samples: [0.4, 0.5, 0.6, 0.4, 0.5] } });
    expect(out).toMatchObject({ allow: true, reason: 'ok', risk_scale: 0.2, max_qty: 0.01 });
    expect(out.observability.reasons).toEqual(['sprt_continue']);
    expect(out.observability.sprt.decision).toBe('CONTINUE');
    expect(out.observability.sprt.llr).toBeCloseTo(0.38, 12);
    expect(out.observability.sprt.n_obs).toBe(5);
  });

  it('rows 3 and 10 with configs/default.yaml: hard latency limit 300, dd cap 10', () => {
    const cfg = loadConfig({ AURORA_CONFIG: 'configs/default.yaml' }, ROOT);
    const r3 = decide(cfg, { ...R0, market: { ...R0.market, latency_ms: 500 } });
    expect(r3).toMatchObject({ allow: false, reason: 'latency_guard' });
    expect(r3.observability.reasons).toEqual(['latency_guard_exceeded:500.0>300.0']);
    const r10 = decide(cfg, { ...R0, market: { ...R0.market, pnl_today_pct: -12 } });
    expect(r10).toMatchObject({ allow: false, reason: 'risk_dd_day_cap' });
  });

  it('row 15: a YAML file without decision keys uses the code defaults (spread 90 -> Governance, latency 40 -> 30 ms guard)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aurora-row15-'));
    const file = join(dir, 'min.yaml');
    writeFileSync(file, 'env: minimal\n');
    const cfg = loadConfig({ AURORA_CONFIG: file }, dir);
    const spread = decide(cfg, { ...R0, market: { ...R0.market, spread_bps: 90 } });
    expect(spread).toMatchObject({ allow: false, reason: 'SPREAD_GUARD_TRIP' });
    expect(spread.observability.reasons).toEqual(['SPREAD_GUARD_TRIP', 'spread_limit']);
    const latency = decide(cfg, { ...R0, market: { ...R0.market, latency_ms: 40 } });
    expect(latency).toMatchObject({ allow: false, reason: 'latency_guard' });
    expect(latency.observability.reasons).toEqual(['latency_guard_exceeded:40.0>30.0']);
  });
});
