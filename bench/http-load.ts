import { Agent, request } from 'node:http';
import { LatencyHistogram } from '../src/client/latency.ts';
import type { LoadResult } from './wrk.ts';
import { summarise } from './ws-load.ts';

/**
 * Fallback HTTP load generator (when wrk is not installed): `connections` keep-alive sockets each with
 * one request outstanding. Weaker than wrk — it shares the CPU with the server — so ratios against the
 * floor are what count.
 */
export async function runHttpNode(url: string, body: string, connections: number, seconds: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const u = new URL(url);
  const payload = Buffer.from(body);
  const lat = new LatencyHistogram('us');
  let errors = 0;
  let non2xx = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  const one = () =>
    new Promise<void>((resolve) => {
      const t = performance.now();
      const req = request(
        { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': payload.length } },
        (res) => {
          if (res.statusCode !== 200) non2xx++;
          res.resume();
          res.on('end', () => {
            lat.record((performance.now() - t) * 1000);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(payload);
    });
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  agent.destroy();
  return { ...summarise(lat, (performance.now() - started) / 1000, errors), non2xx };
}
