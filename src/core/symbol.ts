/**
 * Canonical symbol (service.md 0): stringify, trim, upper-case, and keep only what follows the first
 * `:` (`binance:btc/usdt` -> `BTC/USDT`). Empty -> null (anti-churn skipped).
 */
export function canonicalSymbol(raw: unknown): string | null {
  if (raw === null || raw === undefined || raw === '' || raw === false) return null;
  let s = String(raw).trim().toUpperCase();
  const colon = s.indexOf(':');
  if (colon >= 0) s = s.slice(colon + 1);
  return s === '' ? null : s;
}

/** Lower-cased side, or null when empty. */
export function normalSide(raw: unknown): string | null {
  if (raw === null || raw === undefined || raw === '') return null;
  const s = String(raw).toLowerCase();
  return s === '' ? null : s;
}
