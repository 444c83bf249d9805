/** GateClient options and their defaults (docs/client.md). */
export interface GateClientOptions {
  /** WebSocket endpoint; default `ws://127.0.0.1:8037/ws` */
  url?: string;
  /** HTTP base for the fallback; default derived from `url` (`ws://h:p/ws` → `http://h:p`) */
  httpUrl?: string;
  /** per-call deadline, measured from `check()` to the matched answer, on either transport; default 250 */
  timeoutMs?: number;
  /** calls pending at once (pretrade + posttrade); the next one fails closed `gate_backpressure`; default 256 */
  maxInFlight?: number;
  /** first reconnect ceiling (full jitter below it); default 50 */
  reconnectBaseMs?: number;
  /** reconnect ceiling cap; default 5000 */
  reconnectMaxMs?: number;
  /** backoff attempt counter resets once a connection has stayed up this long; default 30 000 */
  reconnectResetMs?: number;
  /** WebSocket handshake deadline; default 2000 */
  connectTimeoutMs?: number;
  /** while the socket is down, send calls over `POST /pretrade/check` / `POST /posttrade/log`; default true */
  httpFallback?: boolean;
  /** the deny reason for a deadline miss; default `gate_timeout` */
  failClosedReason?: string;
  /** `op:"ping"` interval; two unanswered pings drop the socket; 0 disables; default 5000 */
  pingMs?: number;
  /** how long `start()` waits for the first connection; default 2000 */
  startupWaitMs?: number;
  /** extra headers for both transports (e.g. `X-RUNNER-TOKEN`) */
  headers?: Record<string, string>;
  /** random source for the jitter (pass `seededRandom(seed)` for reproducible runs); default Math.random */
  random?: () => number;
  /** validate every gate answer against the PretradeCheckResponse schema; default true */
  validateResponses?: boolean;
}

export type ResolvedOptions = Required<Omit<GateClientOptions, 'headers'>> & { headers: Record<string, string> };

export const DEFAULTS = {
  url: 'ws://127.0.0.1:8037/ws',
  timeoutMs: 250,
  maxInFlight: 256,
  reconnectBaseMs: 50,
  reconnectMaxMs: 5000,
  reconnectResetMs: 30_000,
  connectTimeoutMs: 2000,
  httpFallback: true,
  failClosedReason: 'gate_timeout',
  pingMs: 5000,
  startupWaitMs: 2000,
  validateResponses: true,
} as const;

/** `ws://host:port/ws` → `http://host:port` (`wss` → `https`); the path is dropped. */
export function deriveHttpUrl(wsUrl: string): string {
  const u = new URL(wsUrl);
  const scheme = u.protocol === 'wss:' ? 'https:' : 'http:';
  return `${scheme}//${u.host}`;
}

function positive(name: string, v: number, allowZero = false): number {
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new RangeError(`GateClient: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number (got ${v})`);
  return v;
}

export function resolveOptions(o: GateClientOptions = {}): ResolvedOptions {
  const url = o.url ?? DEFAULTS.url;
  const proto = new URL(url).protocol;
  if (proto !== 'ws:' && proto !== 'wss:') throw new TypeError(`GateClient: url must be ws:// or wss:// (got ${url})`);
  const r: ResolvedOptions = {
    url,
    httpUrl: (o.httpUrl ?? deriveHttpUrl(url)).replace(/\/+$/, ''),
    timeoutMs: positive('timeoutMs', o.timeoutMs ?? DEFAULTS.timeoutMs),
    maxInFlight: Math.floor(positive('maxInFlight', o.maxInFlight ?? DEFAULTS.maxInFlight)),
    reconnectBaseMs: positive('reconnectBaseMs', o.reconnectBaseMs ?? DEFAULTS.reconnectBaseMs),
    reconnectMaxMs: positive('reconnectMaxMs', o.reconnectMaxMs ?? DEFAULTS.reconnectMaxMs),
    reconnectResetMs: positive('reconnectResetMs', o.reconnectResetMs ?? DEFAULTS.reconnectResetMs, true),
    connectTimeoutMs: positive('connectTimeoutMs', o.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs),
    httpFallback: o.httpFallback ?? DEFAULTS.httpFallback,
    failClosedReason: o.failClosedReason ?? DEFAULTS.failClosedReason,
    pingMs: positive('pingMs', o.pingMs ?? DEFAULTS.pingMs, true),
    startupWaitMs: positive('startupWaitMs', o.startupWaitMs ?? DEFAULTS.startupWaitMs, true),
    headers: { ...(o.headers ?? {}) },
    random: o.random ?? Math.random,
    validateResponses: o.validateResponses ?? DEFAULTS.validateResponses,
  };
  if (r.reconnectMaxMs < r.reconnectBaseMs) throw new RangeError('GateClient: reconnectMaxMs must be >= reconnectBaseMs');
  return r;
}
