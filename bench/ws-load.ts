import WebSocket from 'ws';
import { LatencyHistogram } from '../src/client/latency.ts';
import type { LoadResult } from './wrk.ts';

/** A percentile of `lat` (µs; nearest rank, 3 significant digits), NaN when it holds no sample. */
function percentile(lat: LatencyHistogram, q: number): number {
  return lat.count === 0 ? NaN : lat.percentile(q);
}

/** The LoadResult of `lat` (latencies in µs) over `seconds`. */
export function summarise(lat: LatencyHistogram, seconds: number, errors: number): LoadResult {
  return {
    requests: lat.count,
    seconds,
    rps: lat.count / seconds,
    p50: percentile(lat, 50),
    p90: percentile(lat, 90),
    p99: percentile(lat, 99),
    p999: percentile(lat, 99.9),
    p9999: percentile(lat, 99.99),
    errors,
    non2xx: 0,
  };
}

/**
 * WebSocket load: `connections` sockets, each keeping `inFlight` pretrade.check requests outstanding
 * (1 = strictly sequential), for `seconds`. Latency is measured per request from send to reply.
 */
export async function runWs(url: string, body: string, connections: number, inFlight: number, seconds: number): Promise<LoadResult> {
  const lat = new LatencyHistogram('us');
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
            lat.record((now - t) * 1000);
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
