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

/**
 * The `id` of a WebSocket request frame the main thread refuses without deciding it (a frame over
 * ws.max_payload_bytes): the JSON text of the frame's top-level `"id"` member (the last one, as
 * JSON.parse keeps it) when it is a string of at most 256 characters or a safe integer — the envelope's
 * rule (src/schema/ws.ts) — else `null`. One bounded pass over the bytes, without parsing the frame:
 * strings are skipped with a native byte search, nested values by depth; a frame that stops being JSON
 * ends the scan with what was read so far.
 */
export function scanFrameId(b: Uint8Array): string {
  const n = b.length;
  let i = skipWs(b, 0);
  if (i >= n || b[i] !== 0x7b /* { */) return 'null';
  let id = 'null';
  i++;
  for (;;) {
    i = skipWs(b, i);
    if (i >= n || b[i] === 0x7d /* } */) return id;
    if (b[i] !== 0x22) return id;
    const keyEnd = stringEnd(b, i);
    if (keyEnd < 0) return id;
    const isId = keyEnd - i === 4 ? b[i + 1] === 0x69 && b[i + 2] === 0x64 : keyEnd - i <= 16 && hasEscape(b, i, keyEnd) && decodeJsonString(b, i, keyEnd) === 'id';
    i = skipWs(b, keyEnd);
    if (i >= n || b[i] !== 0x3a /* : */) return id;
    i = skipWs(b, i + 1);
    if (i >= n) return id;
    const valueStart = i;
    i = valueEnd(b, i);
    if (i < 0) return id;
    if (isId) id = idJson(b, valueStart, i);
    i = skipWs(b, i);
    if (i < n && b[i] === 0x2c /* , */) i++;
    else return id;
  }
}

function hasEscape(b: Uint8Array, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (b[k] === 0x5c) return true;
  return false;
}

function skipWs(b: Uint8Array, i: number): number {
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  return i;
}

/** Index just past the string starting at b[i] === '"', or -1 when it does not end. */
function stringEnd(b: Uint8Array, i: number): number {
  let j = i + 1;
  for (;;) {
    j = b.indexOf(0x22, j);
    if (j < 0) return -1;
    let k = j - 1;
    while (b[k] === 0x5c) k--;
    if ((j - 1 - k) % 2 === 0) return j + 1;
    j++;
  }
}

/** Index just past the JSON value starting at b[i] (strings and nesting skipped), or -1. */
function valueEnd(b: Uint8Array, i: number): number {
  if (b[i] === 0x22) return stringEnd(b, i);
  if (b[i] !== 0x7b && b[i] !== 0x5b) {
    while (i < b.length && b[i] !== 0x2c && b[i] !== 0x7d && b[i] !== 0x5d && b[i] !== 0x20 && b[i] !== 0x0a && b[i] !== 0x0d && b[i] !== 0x09) i++;
    return i;
  }
  let depth = 0;
  while (i < b.length) {
    const c = b[i];
    if (c === 0x22) {
      i = stringEnd(b, i);
      if (i < 0) return -1;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return -1;
}

function decodeJsonString(b: Uint8Array, from: number, to: number): string | null {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(from, to))) as string;
  } catch {
    return null;
  }
}

function idJson(b: Uint8Array, from: number, to: number): string {
  if (b[from] === 0x22) {
    const s = decodeJsonString(b, from, to);
    return s !== null && s.length <= 256 ? JSON.stringify(s) : 'null';
  }
  if (to - from > 32) return 'null';
  const text = Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('latin1');
  if (!/^-?\d/.test(text)) return 'null';
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'null';
  }
  return typeof v === 'number' && Number.isSafeInteger(v) ? JSON.stringify(v) : 'null';
}
