import { isUtf8 } from 'node:buffer';

/**
 * The gate's one way to turn request bytes into text: strict UTF-8 (null when invalid — a lossy decode
 * would act on U+FFFD-mangled values) that keeps a leading BOM (JSON.parse then refuses it). Works on
 * views of a SharedArrayBuffer (the workers' request rings) as well as uWS's buffers.
 */
export function strictUtf8(bytes: Uint8Array): string | null {
  if (!isUtf8(bytes)) return null;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
