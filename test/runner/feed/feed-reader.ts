import { readFileSync } from 'node:fs';

/**
 * A deliberately naive, independent reader for generated feeds (JSON.parse per line, a Map book),
 * so the generator's tests do not rely on the code under test to interpret its output.
 */
export interface Line {
  type: string;
  symbol: string;
  exch_ts: number;
  recv_ts: number;
  bids?: [number, number][];
  asks?: [number, number][];
  id?: string;
  price?: number;
  qty?: number;
  aggressor?: 'buy' | 'sell';
  [k: string]: unknown;
}

export interface BookRow {
  t: number;
  recv: number;
  bestBid: number;
  bestAsk: number;
  mid: number;
  spreadBps: number;
  obi5: number;
  bidLevels: number;
  askLevels: number;
}

export function readLines(path: string): Line[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

/** Book state after every book event. */
export function bookRows(lines: Line[]): BookRow[] {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  const rows: BookRow[] = [];
  for (const e of lines) {
    if (e.type !== 'book_snapshot' && e.type !== 'book_delta') continue;
    if (e.type === 'book_snapshot') {
      bids.clear();
      asks.clear();
    }
    for (const [p, s] of e.bids!) s === 0 ? bids.delete(p) : bids.set(p, s);
    for (const [p, s] of e.asks!) s === 0 ? asks.delete(p) : asks.set(p, s);
    const b = [...bids.keys()].sort((x, y) => y - x);
    const a = [...asks.keys()].sort((x, y) => x - y);
    const sb = b.slice(0, 5).reduce((s, p) => s + bids.get(p)!, 0);
    const sa = a.slice(0, 5).reduce((s, p) => s + asks.get(p)!, 0);
    const mid = (b[0] + a[0]) / 2;
    rows.push({
      t: e.exch_ts,
      recv: e.recv_ts,
      bestBid: b[0],
      bestAsk: a[0],
      mid,
      spreadBps: ((a[0] - b[0]) / mid) * 1e4,
      obi5: (sb - sa) / (sb + sa),
      bidLevels: b.length,
      askLevels: a.length,
    });
  }
  return rows;
}

/** The last row at or before t (rows sorted by t). */
export function rowAt(rows: BookRow[], t: number): BookRow | undefined {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid].t <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? rows[lo - 1] : undefined;
}

export function correlation(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}
