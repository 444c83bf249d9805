export interface ProgressState {
  /** virtual (feed) time, epoch ms */
  nowMs: number;
  /** share of the feed file read, 0..1 (null when unknown) */
  fraction: number | null;
  events: number;
  ticks: number;
  intents: number;
  allowed: number;
  denied: number;
  fills: number;
  pnl: number;
}

/** One progress line for stderr during a replay. */
export function formatProgress(p: ProgressState): string {
  const pct = p.fraction === null ? '  ?  ' : `${(100 * p.fraction).toFixed(1).padStart(5)}%`;
  const t = new Date(p.nowMs).toISOString().replace('.000Z', 'Z');
  return (
    `[runner] ${t} ${pct} events ${p.events} ticks ${p.ticks} intents ${p.intents} ` +
    `allowed ${p.allowed} denied ${p.denied} fills ${p.fills} pnl ${p.pnl.toFixed(4)}`
  );
}
