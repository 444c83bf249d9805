export interface Bar {
  /** bar open time, ms, a multiple of bar_ms */
  startMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface BarParams {
  /** bar length (1 minute) */
  bar_ms: number;
  /** bars kept (the reference loads 200 at start-up) */
  max_bars: number;
  /** Wilder ATR period (14) */
  atr_period: number;
}

export const DEFAULT_BARS: BarParams = { bar_ms: 60_000, max_bars: 200, atr_period: 14 };

/**
 * 1-minute OHLCV bars built from trades (or taken as given from `bar_1m` feed lines). Minutes without
 * trades become flat zero-volume bars at the previous close, as venue klines do, so ATR sees real
 * calendar time. Times are whatever clock the caller stamps trades with (exchange time when known).
 */
export class BarBuilder {
  private bars: Bar[] = [];
  /** closedAtr's last result and what it was computed from */
  private atrCache: { n: number; first: Bar | null; last: Bar | null; high: number; low: number; close: number; atr: number | null } | null = null;

  constructor(private readonly p: BarParams = DEFAULT_BARS) {}

  addTrade(price: number, qty: number, tMs: number): void {
    if (!(price > 0) || !Number.isFinite(price) || !Number.isFinite(tMs)) return;
    const start = Math.floor(tMs / this.p.bar_ms) * this.p.bar_ms;
    const last = this.bars[this.bars.length - 1];
    if (last !== undefined && start < last.startMs) return; // a late print for a closed bar
    if (last !== undefined && start === last.startMs) {
      last.high = Math.max(last.high, price);
      last.low = Math.min(last.low, price);
      last.close = price;
      last.volume += Math.max(0, qty);
      return;
    }
    if (last !== undefined) this.fillGap(last, start);
    this.push({ startMs: start, open: price, high: price, low: price, close: price, volume: Math.max(0, qty) });
  }

  /** Adds a ready bar (a `bar_1m` line); replaces a bar with the same start, ignores older ones. */
  addBar(bar: Bar): void {
    const last = this.bars[this.bars.length - 1];
    if (last !== undefined && bar.startMs < last.startMs) return;
    if (last !== undefined && bar.startMs === last.startMs) {
      this.bars[this.bars.length - 1] = { ...bar };
      return;
    }
    if (last !== undefined) this.fillGap(last, bar.startMs);
    this.push({ ...bar });
  }

  /** Bars whose minute has ended by `nowMs` (the in-progress bar is excluded), oldest first. */
  closed(nowMs: number): Bar[] {
    return this.bars.slice(0, this.closedCount(nowMs));
  }

  /** How many bars have ended by `nowMs`: bars are in time order, so the closed ones are a prefix. */
  closedCount(nowMs: number): number {
    let n = this.bars.length;
    while (n > 0 && this.bars[n - 1].startMs + this.p.bar_ms > nowMs) n--;
    return n;
  }

  /**
   * Wilder ATR over the bars closed by `nowMs` (`atrWilder(closed(nowMs), atr_period)`), recomputed only
   * when that set changed: another bar closed, the oldest was trimmed, or the newest closed bar was
   * updated (a late print or a `bar_1m` line for it; only the last bar is ever changed in place).
   */
  closedAtr(nowMs: number): number | null {
    const n = this.closedCount(nowMs);
    const first = n > 0 ? this.bars[0] : null;
    const last = n > 0 ? this.bars[n - 1] : null;
    const c = this.atrCache;
    if (c !== null && c.n === n && c.first === first && c.last === last && (last === null || (c.high === last.high && c.low === last.low && c.close === last.close))) {
      return c.atr;
    }
    const atr = atrWilder(n === this.bars.length ? this.bars : this.bars.slice(0, n), this.p.atr_period);
    this.atrCache = { n, first, last, high: last?.high ?? 0, low: last?.low ?? 0, close: last?.close ?? 0, atr };
    return atr;
  }

  private fillGap(last: Bar, nextStart: number): void {
    const missing = Math.min(this.p.max_bars, Math.max(0, (nextStart - last.startMs) / this.p.bar_ms - 1));
    const c = last.close;
    for (let i = missing; i >= 1; i--) {
      this.push({ startMs: nextStart - i * this.p.bar_ms, open: c, high: c, low: c, close: c, volume: 0 });
    }
  }

  private push(b: Bar): void {
    this.bars.push(b);
    if (this.bars.length > this.p.max_bars) this.bars.splice(0, this.bars.length - this.p.max_bars);
  }
}

/** True range of `bar` after a bar closing at `prevClose`. */
export function trueRange(bar: Bar, prevClose: number): number {
  return Math.max(bar.high - bar.low, Math.abs(bar.high - prevClose), Math.abs(bar.low - prevClose));
}

/**
 * Wilder ATR(period): seed = mean TR of bars 1..period (bar 0 only supplies a previous close), then
 * ATR += (TR − ATR)/period. Null with fewer than period + 1 bars.
 */
export function atrWilder(bars: readonly Bar[], period: number = DEFAULT_BARS.atr_period): number | null {
  if (period < 1 || bars.length < period + 1) return null;
  let seed = 0;
  for (let i = 1; i <= period; i++) seed += trueRange(bars[i], bars[i - 1].close);
  let atr = seed / period;
  for (let i = period + 1; i < bars.length; i++) atr += (trueRange(bars[i], bars[i - 1].close) - atr) / period;
  return atr;
}

/** ATR in bps of mid, falling back to vol_1m_bps when ATR is unknown (§1.3). */
export function atrBps(atr: number | null, mid: number | null, volBps: number): number {
  return atr !== null && mid !== null && mid > 0 ? (atr / mid) * 1e4 : volBps;
}

/** ATR in price units for the exit engine, falling back to mid·vol_1m_bps/1e4 (§1.3). */
export function atrPrice(atr: number | null, mid: number, volBps: number): number {
  return atr !== null ? atr : (mid * volBps) / 1e4;
}
