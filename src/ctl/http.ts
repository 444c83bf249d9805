import { maskToken } from '../config/resolve.ts';
import { ErrorBody } from '../schema/errors.ts';
import { compileValidator } from '../schema/validate.ts';
import { CtlError, EXIT_REFUSED, UnreachableError, UsageError } from './errors.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8037';
export const DEFAULT_TIMEOUT_MS = 5000;

export interface GateReply {
  status: number;
  text: string;
  /** the parsed body, or undefined when it is not JSON */
  json: unknown;
}

export interface GateHttpOptions {
  url: string;
  token: string | null;
  timeoutMs: number;
  /**
   * receives one line per request and reply when --verbose: method, URL, masked token and byte
   * counts, never a body (a rotate-token body carries the new token in clear)
   */
  trace?: (line: string) => void;
  fetchImpl?: typeof fetch;
}

const errorBody = compileValidator<ErrorBody>(ErrorBody);

/** Checks a `--url` / `$AURORA_URL` and returns it without a trailing slash. */
export function normaliseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`--url is not a URL: ${JSON.stringify(raw)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--url must be http:// or https://, got ${JSON.stringify(raw)}`);
  if (u.username !== '' || u.password !== '') throw new UsageError('--url must not carry credentials; pass the token with --token or $OPS_TOKEN');
  return u.href.replace(/\/+$/, '');
}

/**
 * A fetch wrapper for the gate: one timeout per request, the ops header only where asked for, and
 * failures sorted into "unreachable" (exit 3) versus a reply (any status, returned to the caller).
 */
export class GateHttp {
  readonly url: string;
  private readonly token: string | null;
  private readonly timeoutMs: number;
  private readonly trace: (line: string) => void;
  private readonly fetchImpl: typeof fetch;

  constructor(o: GateHttpOptions) {
    this.url = normaliseUrl(o.url);
    this.token = o.token;
    this.timeoutMs = o.timeoutMs;
    this.trace = o.trace ?? (() => {});
    this.fetchImpl = o.fetchImpl ?? fetch;
  }

  async request(method: 'GET' | 'POST', path: string, opts: { ops?: boolean; body?: unknown } = {}): Promise<GateReply> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (opts.ops) {
      // callers resolve the token before the first request; this is a programming error otherwise
      if (this.token === null) throw new UsageError('this command needs an ops token (--token or $OPS_TOKEN)');
      headers['X-OPS-TOKEN'] = this.token;
    }
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['Content-Type'] = 'application/json';
    }
    const target = this.url + path;
    const t0 = performance.now();
    // never the body: POST /ops/rotate_token carries the new token in clear
    this.trace(`> ${method} ${target}${opts.ops ? ` X-OPS-TOKEN: ${maskToken(this.token!)}` : ''}${body !== undefined ? ` (${Buffer.byteLength(body)} bytes)` : ''}`);
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(target, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs) });
      text = await res.text();
    } catch (err) {
      throw new UnreachableError(`cannot reach the gate at ${this.url}: ${describeFetchError(err, this.timeoutMs)}`);
    }
    this.trace(`< ${res.status} ${method} ${path} (${(performance.now() - t0).toFixed(1)} ms, ${text.length} bytes)`);
    let json: unknown = undefined;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON (e.g. /metrics) */
    }
    return { status: res.status, text, json };
  }
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no reply within ${timeoutMs} ms`;
  // undici reports "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, "bad port") is in the cause
  const cause = e?.cause;
  if (cause?.message) return cause.message;
  if (cause?.code !== undefined) return cause.code;
  return e?.message ?? String(err);
}

/** The gate said no: its error envelope as one readable message (and exit 1). */
export class GateRefusal extends CtlError {
  constructor(
    readonly reply: GateReply,
    what: string,
  ) {
    super(EXIT_REFUSED, describeRefusal(reply, what));
  }
}

function describeRefusal(reply: GateReply, what: string): string {
  if (!errorBody.check(reply.json)) {
    const snippet = reply.text.length > 200 ? `${reply.text.slice(0, 200)}...` : reply.text;
    return `${what}: the gate answered HTTP ${reply.status}: ${snippet || '(empty body)'}`;
  }
  const e = reply.json.error;
  const lines = [`${what}: the gate answered HTTP ${reply.status} ${e.code}: ${e.message}`];
  if (Array.isArray(e.details)) {
    for (const d of e.details as Array<{ path?: unknown; message?: unknown }>) lines.push(`  ${String(d?.path ?? '?')}: ${String(d?.message ?? '')}`);
  }
  const hint = HINTS[e.code];
  if (hint !== undefined) lines.push(`  hint: ${hint}`);
  return lines.join('\n');
}

const HINTS: Record<string, string> = {
  missing_token: 'pass --token or set $OPS_TOKEN',
  forbidden: 'wrong token (rotated?), or this address is not in security.allowlist',
  ops_token_not_configured: 'the gate has no usable ops token: start it with OPS_TOKEN set (at least 24 characters)',
  auth_rate_limited: 'too many failed ops authentications from this address: wait a minute',
  rotation_cooldown: 'the token was rotated less than 30 s ago: wait and retry',
};
