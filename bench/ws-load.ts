import WebSocket from 'ws';
import type { LoadResult } from './wrk.ts';

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((q / 100) * sorted.length))];
}

export function summarise(latUs: number[], seconds: number, errors: number): LoadResult {
  const s = Float64Array.from(latUs).sort();
  return {
    requests: latUs.length,
    seconds,
    rps: latUs.length / seconds,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    p999: percentile(s, 99.9),
    p9999: percentile(s, 99.99),
    errors,
    non2xx: 0,
  };
}

/**
 * WebSocket load: `connections` sockets, each keeping `inFlight` pretrade.check requests outstanding
 * (1 = strictly sequential), for `seconds`. Latency is measured per request from send to reply.
 */
export async function runWs(url: string, body: string, connections: number, inFlight: number, seconds: number): Promise<LoadResult> {
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, (_, c) => {
      return new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(url);
        const sentAt = new Map<number, number>();
        let next = 0;
        let open = 0;
        const send = () => {
          const id = next++;
          sentAt.set(id, performance.now());
          ws.send(`{"id":${id},"op":"pretrade.check","body":${body}}`);
          open++;
        };
        ws.on('open', () => {
          for (let i = 0; i < inFlight; i++) send();
        });
        ws.on('message', (data) => {
          const now = performance.now();
          const text = data.toString();
          const id = Number(text.slice(6, text.indexOf(',')));
          const t = sentAt.get(id);
          if (t !== undefined) {
            sentAt.delete(id);
            lat.push((now - t) * 1000);
          }
          if (!text.includes('"ok":true')) errors++;
          open--;
          if (now < end) send();
          else if (open === 0) ws.close();
        });
        ws.on('close', () => resolve());
        ws.on('error', (e) => reject(new Error(`ws ${c}: ${e.message}`)));
      });
    }),
  );
  return summarise(lat, (performance.now() - started) / 1000, errors);
}
