import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startTestGate, type TestGate } from './gate.ts';
import { testHooks } from '../../src/testing/index.ts';
import { DIVERGENT } from './divergent.ts';
import { isPretradeOnly, loadScenarios, subsetMismatches, type Scenario } from './vectors.ts';
import { replayWs } from './ws-replay.ts';

/** Replays one scenario's steps over HTTP; returns the mismatches (empty = conforms). */
export async function replayHttp(gate: TestGate, s: Scenario): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, st] of s.steps.entries()) {
    if (st.sleep_ms !== undefined) {
      await new Promise((r) => setTimeout(r, st.sleep_ms));
      continue;
    }
    const r = await http(gate.url + st.path!, st.method!, { headers: st.headers, body: st.body, raw: st.raw_body });
    if (r.status !== st.expect!.status) problems.push(`step ${i} ${st.method} ${st.path}: status ${r.status}, expected ${st.expect!.status}: ${r.text.slice(0, 300)}`);
    if (st.expect!.json !== undefined) {
      if (r.json === undefined) problems.push(`step ${i}: body is not JSON: ${r.text.slice(0, 200)}`);
      else for (const p of subsetMismatches(st.expect!.json, r.json)) problems.push(`step ${i}: ${p}`);
    }
  }
  return problems;
}

/** Scenarios grouped by identical configuration (env + YAML): one gate per group, state reset between. */
export function groupByConfig(scenarios: Scenario[]): Scenario[][] {
  const groups = new Map<string, Scenario[]>();
  for (const s of scenarios) {
    const key = JSON.stringify([s.env ?? {}, s.config_yaml ?? null]);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.values()];
}

/**
 * Declares the HTTP conformance suite for one pool size. Every scenario gets the state of a fresh gate
 * (`testHooks(gate).resetState()`, src/testing: the whole shared state and the ops token re-initialised),
 * while scenarios with the same configuration share one running gate to keep the suite fast.
 */
export function declareHttpVectorSuite(threads: number): void {
  const scenarios = loadScenarios().filter((s) => !DIVERGENT.has(s.name));
  declareGroupedSuite(`pool ${threads}`, threads, groupByConfig(scenarios), replayHttp, (s) => (isPretradeOnly(s) ? replayWs : null));
}

/** One describe per config group: a gate started once, `testHooks(gate).resetState()` before each scenario. */
type Replay = (gate: TestGate, s: Scenario) => Promise<string[]>;

/**
 * `alsoOver(s)` may name a second transport to replay the scenario on the same gate (a fresh state
 * again): the HTTP suites replay every pretrade-only scenario over WebSocket too, at no extra start-up.
 */
export function declareGroupedSuite(label: string, threads: number, groups: Scenario[][], replay: Replay, alsoOver?: (s: Scenario) => Replay | null): void {
  for (const group of groups) {
    describe(`${label}: ${group[0].name}${group.length > 1 ? ` (+${group.length - 1} with the same config)` : ''}`, () => {
      let gate: TestGate | null = null;
      let startError: Error | null = null;
      beforeAll(async () => {
        try {
          // one request at a time never overlaps: without this the main thread (pool.inline_when_idle) would
          // decide them all and the workers under test would not
          gate = await startTestGate({ ...(group[0].env ?? {}), AURORA_POOL_THREADS: String(threads), AURORA_POOL_INLINE_WHEN_IDLE: '0' }, group[0].config_yaml);
        } catch (err) {
          startError = err as Error;
        }
      });
      afterAll(async () => {
        await gate?.stop();
      });
      for (const s of group) {
        it(s.name, async () => {
          expect(startError?.message ?? null).toBeNull();
          testHooks(gate!).resetState();
          expect(await replay(gate!, s)).toEqual([]);
        });
        const second = alsoOver?.(s) ?? null;
        if (second !== null) {
          it(`${s.name} (ws)`, async () => {
            expect(startError?.message ?? null).toBeNull();
            testHooks(gate!).resetState();
            expect(await second(gate!, s)).toEqual([]);
          });
        }
      }
    });
  }
}
