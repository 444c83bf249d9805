/**
 * Nanosecond timestamp text of an integer microsecond time (`${us}000`), for journal lines. Converting
 * a 16-digit number to text cost ~0.75 us per call, 7 % of a worker's time per decision; the seconds
 * part changes once a second, so it is converted once and the microseconds appended as a padded small
 * integer. Each thread has its own cache (module state).
 */
let cachedSec = -1;
let cachedSecText = '';

export function tsNsText(us: number): string {
  const sec = Math.floor(us / 1e6);
  if (sec !== cachedSec) {
    cachedSec = sec;
    cachedSecText = sec === 0 ? '' : String(sec);
  }
  const frac = us - sec * 1e6;
  // the fraction pads to 6 digits after a non-empty seconds part; alone it is printed as is
  return (cachedSecText === '' ? String(frac) : cachedSecText + String(1e6 + frac).slice(1)) + '000';
}
