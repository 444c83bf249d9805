import { SortedWindow } from './sorted-window.ts';
import { OutcomeWindow } from './outcome-window.ts';
import { SymbolTable } from './symbol-table.ts';
import { RecentKeys } from './recent-keys.ts';
// The one import from outside src/shm: the desk-controls region's layout still lives with the controls
// core while that is being optimised (issue 13); it is to move here (src/shm/state/) once it settles,
// which makes src/shm a leaf again (docs/shared-memory.md section 9).
import { ControlsState, type ControlsSizes } from '../../core/controls/state.ts';

/**
 * Every piece of mutable decision state, laid out in one buffer with fixed offsets, so the same bytes
 * can be a SharedArrayBuffer seen by all worker threads (under src/shm/lock.ts) or a plain ArrayBuffer
 * in tests (docs/shared-memory.md). Each section is a typed-array view behind a small named accessor;
 * nothing here does I/O or locking: callers serialise access (gate.md D23).
 */

/** Slots of the control block (Float64). Times are epoch seconds unless the name says ms. */
export const Ctl = {
  Armed: 0,
  CooloffUntil: 1,
  Halted: 2,
  LastNow: 3,
  GovHaltUntil: 4,
  RiskDdDayPct: 5,
  RiskMaxConcurrent: 6,
  RiskSizeScale: 7,
  LastLatencyHighEvent: 8,
  LastP95HighEvent: 9,
  /** last escalation state journaled (0 none, 1 disarmed, 2 halt, 3 cooloff) — D-9: events on change only */
  LastEscalation: 10,
  GovHaltCause: 11,
  Initialised: 12,
  LastServiceUnhealthyEvent: 13,
  /** last journal timestamp handed out, epoch µs (ts_ns = µs·1000, unique and increasing) */
  LastTsUs: 14,
  /** cooloff_until when the last escalation was journaled (a new cool-off is a new state) */
  LastEscalationUntil: 15,
  Size: 16,
} as const;

export interface StateSizes {
  latencySamples: number;
  warnSlots: number;
  trapHistory: number;
  outcomeSlots: number;
  symbolSlots: number;
  symbolMaxEntries: number;
  recentSuccessKeys: number;
  /** the desk-controls region (controls.md): capacity of its tables and arenas */
  controls: ControlsSizes;
}

/**
 * The desk-controls region of a gate started without a `controls:` section. The region always exists:
 * positions are kept from post-trade fills whatever the configuration (a verified reduce-only order
 * passes the reference's halts, controls.md §0), and POST /ops/limits can turn controls on at run time.
 * These capacities are modest (≈ 1.6 MiB instead of the 13.2 MiB of DEFAULT_CONTROLS_SIZES, which a gate
 * with a `controls:` section gets: src/config/service.ts); a desk that switches limits on live at scale
 * starts with a `controls:` section (even `controls: {}`) to get the full tables.
 */
export const MODEST_CONTROLS_SIZES: Readonly<ControlsSizes> = Object.freeze({
  accounts: 64,
  pairs: 1024,
  reservations: 1024,
  dedupeIds: 1024,
  answerBytes: 1024 * 1024,
  configBytes: 64 * 1024,
});

export const DEFAULT_SIZES: StateSizes = {
  latencySamples: 8192,
  warnSlots: 64,
  trapHistory: 240,
  outcomeSlots: 4096,
  symbolSlots: 16384,
  symbolMaxEntries: 10_000,
  recentSuccessKeys: 16_384,
  controls: MODEST_CONTROLS_SIZES,
};

interface Layout {
  bytes: number;
  f64: Record<string, [number, number]>;
  i32: Record<string, [number, number]>;
  u8: Record<string, [number, number]>;
  /** byte offset of the desk-controls region (8-aligned; ControlsState.bytesNeeded(sizes.controls) bytes) */
  controls: number;
}

function layout(s: StateSizes): Layout {
  const f64: Layout['f64'] = {};
  const i32: Layout['i32'] = {};
  const u8: Layout['u8'] = {};
  let off = 0;
  const f = (name: string, words: number) => {
    f64[name] = [off, words];
    off += words * 8;
  };
  f('ctl', Ctl.Size);
  f('latValues', s.latencySamples);
  f('latTimes', s.latencySamples);
  f('latSorted', s.latencySamples);
  f('warnValues', s.warnSlots);
  f('warnTimes', s.warnSlots);
  f('warnSorted', s.warnSlots);
  f('trapRaw', s.trapHistory);
  f('trapRawSorted', s.trapHistory);
  f('trapCancel', s.trapHistory);
  f('trapCancelSorted', s.trapHistory);
  f('outcomeTimes', s.outcomeSlots);
  f('symbols', SymbolTable.words(s.symbolSlots));
  f('recentKeys', s.recentSuccessKeys);
  const i = (name: string, words: number) => {
    i32[name] = [off, words];
    off += words * 4;
  };
  for (const name of ['latMeta', 'warnMeta', 'trapRawMeta', 'trapCancelMeta', 'outcomeMeta', 'symbolMeta', 'recentMeta']) i(name, 4);
  u8.outcomeFailed = [off, s.outcomeSlots];
  off += s.outcomeSlots;
  // the desk-controls region, cache-line aligned (its own sections are 64-byte aligned from its start)
  const controls = Math.ceil(off / 64) * 64;
  off = controls + ControlsState.bytesNeeded(s.controls);
  return { bytes: Math.ceil(off / 8) * 8, f64, i32, u8, controls };
}

export interface RiskLimits {
  ddDayPct: number;
  maxConcurrent: number;
  sizeScale: number;
}

export class GateState {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly sizes: StateSizes;
  readonly ctl: Float64Array;
  readonly latency: SortedWindow;
  readonly warns: SortedWindow;
  readonly trapRaw: SortedWindow;
  readonly trapCancel: SortedWindow;
  readonly outcomes: OutcomeWindow;
  readonly symbols: SymbolTable;
  readonly recentSuccess: RecentKeys;
  /** the desk-controls region (controls.md: trading state, live limits, positions, reservations, ids) */
  readonly controls: ControlsState;

  /** Views over an existing buffer (e.g. a SharedArrayBuffer received by a worker). */
  constructor(buffer: ArrayBuffer | SharedArrayBuffer, sizes: StateSizes) {
    const l = layout(sizes);
    if (buffer.byteLength < l.bytes) throw new Error(`state buffer too small: ${buffer.byteLength} < ${l.bytes}`);
    this.buffer = buffer;
    this.sizes = sizes;
    const F = (n: string) => new Float64Array(buffer, l.f64[n][0], l.f64[n][1]);
    const I = (n: string) => new Int32Array(buffer, l.i32[n][0], l.i32[n][1]);
    this.ctl = F('ctl');
    this.latency = new SortedWindow(I('latMeta'), F('latValues'), F('latSorted'), F('latTimes'));
    this.warns = new SortedWindow(I('warnMeta'), F('warnValues'), F('warnSorted'), F('warnTimes'));
    this.trapRaw = new SortedWindow(I('trapRawMeta'), F('trapRaw'), F('trapRawSorted'), null);
    this.trapCancel = new SortedWindow(I('trapCancelMeta'), F('trapCancel'), F('trapCancelSorted'), null);
    this.outcomes = new OutcomeWindow(I('outcomeMeta'), F('outcomeTimes'), new Uint8Array(buffer, l.u8.outcomeFailed[0], l.u8.outcomeFailed[1]));
    this.symbols = new SymbolTable(I('symbolMeta'), F('symbols'), sizes.symbolMaxEntries);
    this.recentSuccess = new RecentKeys(I('recentMeta'), F('recentKeys'));
    this.controls = new ControlsState(buffer, l.controls, sizes.controls);
  }

  static byteLength(sizes: StateSizes): number {
    return layout(sizes).bytes;
  }

  /** A fresh state in a new buffer (shared when `shared`), initialised from the start-up risk limits. */
  static create(sizes: StateSizes, risk: RiskLimits, shared: boolean): GateState {
    const bytes = GateState.byteLength(sizes);
    const buffer = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    const state = new GateState(buffer, sizes);
    state.init(risk);
    return state;
  }

  /**
   * Start-up values. The desk-controls region is emptied with the trading state ACTIVE and no live
   * configuration published (= every control off); the gate then publishes its configuration
   * (`initControls`, src/core/controls/evaluate.ts) before any decision.
   */
  init(risk: RiskLimits): void {
    this.controls.init(0);
    this.ctl.fill(0);
    this.ctl[Ctl.Armed] = 1;
    this.ctl[Ctl.LastLatencyHighEvent] = -Infinity;
    this.ctl[Ctl.LastP95HighEvent] = -Infinity;
    this.ctl[Ctl.LastServiceUnhealthyEvent] = -Infinity;
    this.setRisk(risk);
    this.ctl[Ctl.Initialised] = 1;
  }

  get risk(): RiskLimits {
    return {
      ddDayPct: this.ctl[Ctl.RiskDdDayPct],
      maxConcurrent: this.ctl[Ctl.RiskMaxConcurrent],
      sizeScale: this.ctl[Ctl.RiskSizeScale],
    };
  }

  setRisk(r: RiskLimits): void {
    this.ctl[Ctl.RiskDdDayPct] = r.ddDayPct;
    this.ctl[Ctl.RiskMaxConcurrent] = r.maxConcurrent;
    this.ctl[Ctl.RiskSizeScale] = r.sizeScale;
  }

  /**
   * Reserves `count` unique, increasing journal timestamps at or after `nowSec`; returns the first in
   * epoch microseconds (record i gets first + i). Taken under the lock, so timestamps follow the order
   * in which decisions were applied.
   */
  reserveTsUs(nowSec: number, count: number): number {
    const first = Math.max(Math.floor(nowSec * 1e6), this.ctl[Ctl.LastTsUs] + 1);
    this.ctl[Ctl.LastTsUs] = first + count - 1;
    return first;
  }

  /** The clock's high-water mark (the `now` of the last state change), epoch seconds. */
  now(): number {
    return this.ctl[Ctl.LastNow];
  }

  /**
   * Clock used for every window: never goes backwards across calls, even when callers on different
   * threads read slightly different wall clocks (samples stay in time order).
   */
  tick(nowSec: number): number {
    const last = this.ctl[Ctl.LastNow];
    const now = nowSec > last ? nowSec : last;
    this.ctl[Ctl.LastNow] = now;
    return now;
  }
}
