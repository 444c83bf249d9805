import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { GateState } from '../../src/shm/state/gate-state.ts';
import { checkParsed, isFailure, NO_LOCK, SYSTEM_CLOCK } from '../../src/gate/pretrade.ts';
import { isPretradeOnly, loadScenarios, subsetMismatches, type Scenario } from '../helpers/vectors.ts';

/**
 * The pretrade-only conformance scenarios replayed against the decision core in-process (no HTTP):
 * config from the scenario's env/YAML, a fresh shared state per scenario, each step's response matched
 * with the README's subset rules. Quirk scenarios where we deliberately diverge are listed in
 * docs/decisions.md and asserted in test/service/divergences.test.ts instead.
 */
const DIVERGENT_QUIRKS = new Set(['trap-bad-delta-type-500', 'input-qty-negative-allowed', 'input-latency-non-numeric-500', 'gov-dq-stale-book-killswitch', 'gov-dq-abnormal-spread', 'spread-limit-env-invalid-shadows-alias']);

function configFor(s: Scenario) {
  const dir = mkdtempSync(join(tmpdir(), 'aurora-vec-'));
  const env: Record<string, string> = { ...(s.env ?? {}), AURORA_SESSION_DIR: dir };
  if (s.config_yaml !== undefined) {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, s.config_yaml);
    env.AURORA_CONFIG = file;
  }
  return loadConfig(env, dir);
}

const scenarios = loadScenarios().filter((s) => isPretradeOnly(s) && !DIVERGENT_QUIRKS.has(s.name));

describe('conformance vectors (pretrade-only, in-process)', () => {
  it('has scenarios to replay', () => {
    expect(scenarios.length).toBeGreaterThan(50);
  });
  for (const s of scenarios) {
    it(`${s.name}: ${s.note}`, async () => {
      const cfg = configFor(s);
      const state = GateState.create(cfg.service.stateSizes, cfg.core.risk, false);
      for (const [i, step] of s.steps.entries()) {
        if (step.sleep_ms !== undefined) {
          await new Promise((r) => setTimeout(r, step.sleep_ms));
          continue;
        }
        const r = checkParsed(step.body, cfg.core, state, NO_LOCK, SYSTEM_CLOCK);
        const status = isFailure(r) ? r.status : 200;
        const json = isFailure(r) ? r.body : JSON.parse(r.json);
        const problems = [
          ...(status === step.expect!.status ? [] : [`status: expected ${step.expect!.status}, got ${status}`]),
          ...(step.expect!.json === undefined ? [] : subsetMismatches(step.expect!.json, json)),
        ];
        expect(problems, `step ${i}: ${JSON.stringify(json)}`).toEqual([]);
      }
    });
  }
});
