import type { TestGate } from './gate.ts';
import { subsetMismatches, type Scenario } from './vectors.ts';
import { WsClient } from './ws.ts';

/** Error codes an HTTP status maps to over the WebSocket (the error envelope is the HTTP one). */
const CODE_FOR_STATUS: Record<number, string> = { 400: 'malformed_json', 422: 'invalid_request' };

/** Replays a pretrade-only scenario over one WebSocket; returns the mismatches. */
export async function replayWs(gate: TestGate, s: Scenario): Promise<string[]> {
  const problems: string[] = [];
  const ws = await WsClient.connect(gate.url);
  try {
    for (const [i, st] of s.steps.entries()) {
      if (st.sleep_ms !== undefined) {
        await new Promise((r) => setTimeout(r, st.sleep_ms));
        continue;
      }
      const id = `${s.name}#${i}`;
      const env = await ws.request('pretrade.check', st.body, id);
      const want = st.expect!;
      if (env.id !== id) problems.push(`step ${i}: id ${JSON.stringify(env.id)}, expected ${JSON.stringify(id)}`);
      if (want.status === 200) {
        if (env.ok !== true) {
          problems.push(`step ${i}: ok ${JSON.stringify(env.ok)}, expected true: ${env.text.slice(0, 300)}`);
          continue;
        }
        if (want.json !== undefined) for (const p of subsetMismatches(want.json, env.body)) problems.push(`step ${i}: ${p}`);
      } else {
        if (env.ok !== false) problems.push(`step ${i}: ok ${JSON.stringify(env.ok)}, expected false (HTTP status ${want.status}): ${env.text.slice(0, 300)}`);
        const code = env.error?.code;
        if (typeof code !== 'string' || code === '') problems.push(`step ${i}: no error.code: ${env.text.slice(0, 300)}`);
        else if (CODE_FOR_STATUS[want.status] !== undefined && code !== CODE_FOR_STATUS[want.status]) {
          problems.push(`step ${i}: error.code ${code}, expected ${CODE_FOR_STATUS[want.status]} (HTTP ${want.status})`);
        }
        if ('body' in env) problems.push(`step ${i}: an error envelope carries a body`);
      }
    }
  } finally {
    await ws.close();
  }
  return problems;
}

