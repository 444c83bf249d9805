import { GateClient, deriveHttpUrl, seededRandom } from '../../client/index.ts';
import type { PosttradeLogRequest } from '../../schema/posttrade.ts';
import type { PretradeCheckRequest } from '../../schema/pretrade.ts';
import type { RunnerConfig } from '../config/schema.ts';
import type { PosttradeBody } from '../logic/posttrade.ts';
import type { GateAnswer, GatePort, GatePortStats, LogAnswer } from './port.ts';

/**
 * The real gate through `GateClient` (docs/client.md), configured from `gate.*`. The client's own
 * in-flight bound is `max_inflight` plus the posttrade concurrency: the runner enforces
 * `gate.max_inflight` for pretrade itself (local `gate_backpressure`), so posttrade traffic can never
 * make a pretrade check fail.
 */
export class ClientGate implements GatePort {
  readonly name: string;
  readonly client: GateClient;
  private readonly healthUrl: string;

  constructor(
    private readonly cfg: RunnerConfig,
    seed: number = cfg.seed,
  ) {
    const g = cfg.gate;
    this.name = g.url;
    const httpUrl = g.http_url ?? deriveHttpUrl(g.url);
    this.healthUrl = `${httpUrl.replace(/\/+$/, '')}/health`;
    this.client = new GateClient({
      url: g.url,
      httpUrl,
      timeoutMs: g.timeout_ms,
      maxInFlight: g.max_inflight + cfg.posttrade.concurrency,
      reconnectBaseMs: g.reconnect_base_ms,
      reconnectMaxMs: g.reconnect_max_ms,
      reconnectResetMs: g.reconnect_reset_ms,
      connectTimeoutMs: g.connect_timeout_ms,
      httpFallback: g.http_fallback,
      pingMs: g.ping_ms,
      startupWaitMs: Math.min(g.startup_wait_ms, g.connect_timeout_ms),
      headers: g.runner_token !== null ? { 'X-RUNNER-TOKEN': g.runner_token } : {},
      random: seededRandom(seed),
    });
  }

  /** `GET /health` 200 (polled every 100 ms up to `gate.startup_wait_ms`), then the socket. */
  async start(): Promise<boolean> {
    const deadline = performance.now() + this.cfg.gate.startup_wait_ms;
    let healthy = false;
    for (;;) {
      try {
        const r = await fetch(this.healthUrl, { signal: AbortSignal.timeout(1000) });
        await r.arrayBuffer();
        healthy = r.status === 200;
      } catch {
        healthy = false;
      }
      if (healthy || performance.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!healthy) {
      void this.client.start(); // keeps reconnecting in the background; calls fail closed meanwhile
      return false;
    }
    return this.client.start();
  }

  async check(req: PretradeCheckRequest): Promise<GateAnswer> {
    const r = await this.client.checkDetailed(onGateClock(req, Date.now()));
    return { decision: r.decision, transport: r.transport, outcome: r.outcome, rttMs: r.latencyMs };
  }

  async log(body: PosttradeBody): Promise<LogAnswer> {
    const r = await this.client.log(body as PosttradeLogRequest);
    return r.ok ? { ok: true } : { ok: false, reason: r.reason };
  }

  stats(): GatePortStats {
    const s = this.client.stats();
    return { connected: s.connected, reconnects: s.counters.reconnects, late: s.counters.late };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/**
 * `ts` and `market.ts_ms` on the gate's clock. The gate ages market data against its wall clock
 * (`controls.max_market_age_ms`), while the runner stamps requests and books on its own clock, which in a
 * replay is the feed's virtual time (months old). Both are re-based on the wall clock at send, keeping
 * the age the runner saw (`ts − ts_ms`); live, the two clocks are the same and this changes ~nothing.
 * The runner's own journal keeps its clock.
 */
export function onGateClock(req: PretradeCheckRequest, wallNowMs: number): PretradeCheckRequest {
  const market = req.market as Record<string, unknown> | undefined;
  const tsMs = market?.ts_ms;
  const ts = (req as { ts?: unknown }).ts;
  if (typeof tsMs !== 'number' || typeof ts !== 'number') return req;
  if (ts === wallNowMs) return req;
  return { ...req, ts: wallNowMs, market: { ...market, ts_ms: Math.floor(wallNowMs - Math.max(0, ts - tsMs)) } } as PretradeCheckRequest;
}
