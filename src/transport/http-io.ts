import type { HttpRequest, HttpResponse } from 'uWebSockets.js';

/** Status lines uWS expects in writeStatus. */
const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  307: '307 Temporary Redirect',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  422: '422 Unprocessable Entity',
  426: '426 Upgrade Required',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

export const statusLine = (status: number): string => STATUS_TEXT[status] ?? `${status} Status`;

export const JSON_TYPE = 'application/json';

/** Writes a complete JSON reply (must run inside a uWS callback or a cork). */
export function writeJson(res: HttpResponse, status: number, body: string | Uint8Array, extraHeader?: [string, string]): void {
  res.writeStatus(statusLine(status)).writeHeader('Content-Type', JSON_TYPE);
  // Connection: close is uWS's to send: end(body, true) writes it AND closes (the header alone does not)
  const close = extraHeader !== undefined && extraHeader[0] === 'Connection' && extraHeader[1] === 'close';
  if (extraHeader !== undefined && !close) res.writeHeader(extraHeader[0], extraHeader[1]);
  res.end(body, close);
}

export const errorJson = (code: string, message: string, details?: unknown): string =>
  JSON.stringify({ error: details === undefined ? { code, message } : { code, message, details } });

/** Remote address as text, IPv4-mapped IPv6 unwrapped (`::ffff:127.0.0.1` -> `127.0.0.1`). */
export function remoteAddress(res: HttpResponse): string {
  const a = Buffer.from(res.getRemoteAddressAsText()).toString('latin1');
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Is a Content-Type acceptable as JSON? Missing is tolerated (treated as JSON). */
export function isJsonContentType(ct: string): boolean {
  if (ct === '') return true;
  const base = ct.split(';', 1)[0].trim().toLowerCase();
  return base === 'application/json' || base.endsWith('+json');
}

/** Headers a handler needs after the synchronous part of the callback (uWS invalidates `req`). */
export interface RequestHead {
  contentType: string;
  contentLength: number;
  opsToken: string | undefined;
  runnerToken: string | undefined;
}

/** Headers of a data route (pretrade/posttrade/ws): no ops token. */
export function readHead(req: HttpRequest, withRunnerToken: boolean): RequestHead {
  const cl = req.getHeader('content-length');
  const runner = withRunnerToken ? req.getHeader('x-runner-token') : '';
  return {
    contentType: req.getHeader('content-type'),
    contentLength: cl === '' ? -1 : Number(cl),
    opsToken: undefined,
    runnerToken: runner === '' ? undefined : runner,
  };
}

/** Headers of an ops route, including X-OPS-TOKEN. */
export function readOpsHead(req: HttpRequest): RequestHead {
  const head = readHead(req, false);
  const ops = req.getHeader('x-ops-token');
  // uWS returns '' for a missing header; an empty X-OPS-TOKEN must stay distinguishable (403, not 401)
  head.opsToken = ops === '' && !hasHeader(req, 'x-ops-token') ? undefined : ops;
  return head;
}

function hasHeader(req: HttpRequest, name: string): boolean {
  let found = false;
  req.forEach((k) => {
    if (k === name) found = true;
  });
  return found;
}

/**
 * Reads a request body up to `limit` bytes. Calls `done(body)` with the bytes — valid only during that
 * call (a single-chunk body is uWS's own buffer, not copied) — or `tooLarge()` once the limit is
 * passed (413).
 */
export function readBody(
  res: HttpResponse,
  limit: number,
  onAbort: () => void,
  done: (body: Uint8Array) => void,
  tooLarge: () => void,
): void {
  let parts: Buffer[] | null = null;
  let size = 0;
  let over = false;
  res.onAborted(onAbort);
  res.onData((chunk, isLast) => {
    if (over) return;
    size += chunk.byteLength;
    if (size > limit) {
      over = true;
      tooLarge();
      return;
    }
    if (isLast && parts === null) {
      done(new Uint8Array(chunk));
      return;
    }
    (parts ??= []).push(Buffer.from(chunk.slice(0)));
    if (isLast) done(Buffer.concat(parts));
  });
}
