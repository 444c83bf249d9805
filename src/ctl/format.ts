/** Small human-output helpers (pure). */

/** `1h 2m 3s`, `4m 0s`, `12s`; negative counts as 0. */
export function duration(seconds: number): string {
  let s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** Guard state in words: `armed, COOL-OFF 4m 59s left (until ...Z), not halted` (unknown parts left out). */
export function guardWords(g: { armed?: boolean; cooloff_until?: number; halted?: boolean }, nowMs: number): string {
  const parts: string[] = [];
  if (g.armed !== undefined) parts.push(g.armed ? 'armed' : 'DISARMED');
  if (g.cooloff_until !== undefined) {
    const leftS = (g.cooloff_until * 1000 - nowMs) / 1000;
    parts.push(leftS > 0 ? `COOL-OFF ${duration(leftS)} left (until ${new Date(g.cooloff_until * 1000).toISOString()})` : 'no cool-off');
  }
  if (g.halted !== undefined) parts.push(g.halted ? 'HALTED' : 'not halted');
  return parts.join(', ');
}

/** A count or `n/a`. */
export const num = (v: number | null | undefined, digits = 0): string => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(digits));

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export const jsonLine = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
