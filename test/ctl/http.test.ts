import { describe, expect, it } from 'vitest';
import { GateHttp } from '../../src/ctl/http.ts';

/** GateHttp without a gate: a stub fetch, the --verbose trace captured. */
describe('GateHttp --verbose trace', () => {
  const TOKEN = 'http-test-ops-token-0123456789abcdef';
  const NEW = 'http-test-new-token-0123456789abcdef';

  it('shows method, URL, the masked token and byte counts, never a request body', async () => {
    const lines: string[] = [];
    let sent: string | undefined;
    const fetchImpl = (async (_url: string, init: RequestInit) => {
      sent = init.body as string;
      return new Response('{"status":"ok"}', { status: 200 });
    }) as unknown as typeof fetch;
    const gate = new GateHttp({ url: 'http://127.0.0.1:1', token: TOKEN, timeoutMs: 1000, trace: (l) => lines.push(l), fetchImpl });
    const r = await gate.request('POST', '/ops/rotate_token', { ops: true, body: { new_token: NEW } });
    expect(r.status).toBe(200);
    expect(sent).toBe(JSON.stringify({ new_token: NEW })); // the gate still gets the body
    const trace = lines.join('\n');
    expect(trace).not.toContain(NEW);
    expect(trace).not.toContain(TOKEN);
    expect(lines[0]).toBe(`> POST http://127.0.0.1:1/ops/rotate_token X-OPS-TOKEN: ****${TOKEN.slice(-4)} (${Buffer.byteLength(sent!)} bytes)`);
    expect(lines[1]).toMatch(/^< 200 POST \/ops\/rotate_token \(\d+\.\d ms, 15 bytes\)$/);
  });
});
