import { ControlsRate, OpsLimitsBody, TRADING_STATES, type TradingStateName } from '../../schema/controls.ts';
import { LimitsResponse, LimitsSetResponse, TradingStateResponse, type EffectiveLimits } from '../../schema/ops.ts';
import { EXIT_OK, UsageError } from '../errors.ts';
import { jsonLine } from '../format.ts';
import { GateRefusal } from '../http.ts';
import { expectShape } from '../replies.ts';
import { gateOf, type Command, type CommandContext } from './command.ts';

/**
 * The desk controls (docs/controls.md, controls.md §5): `trading-state`, `limits`, `set-limit`, over
 * GET/POST /ops/limits and POST /ops/trading_state.
 */

// ---------------------------------------------------------------------------------------------------
// set-limit: KEY=VALUE pairs into the POST /ops/limits body (pure, unit-tested)

/** The top-level keys POST /ops/limits accepts (the body schema's own list: one source). */
export const LIMIT_KEYS: readonly string[] = Object.keys((OpsLimitsBody as unknown as { properties: Record<string, unknown> }).properties);
/** The `rate.<key>` sub-keys. */
export const RATE_KEYS: readonly string[] = Object.keys((ControlsRate as unknown as { properties: Record<string, unknown> }).properties);

const BOOL_KEYS = new Set(['reduce_only_passes_halt']);
const LIST_KEYS = new Set(['symbols_allowed', 'symbols_blocked']);
const WINDOW_KEY = 'trading_windows_utc';
const OFF_WORDS = new Set(['null', 'off']);
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const CMD = 'set-limit';

function usage(message: string): never {
  throw new UsageError(`${CMD}: ${message}`, CMD);
}

function numberOf(key: string, raw: string): number {
  if (NUMBER.test(raw) && Number.isFinite(Number(raw))) return Number(raw);
  return usage(`${key} must be a number, or null/off to turn it off; got ${JSON.stringify(raw)}`);
}

/** `[...]` as JSON (any key whose value is a list), else null. */
function jsonList(key: string, raw: string): unknown[] | null {
  if (!raw.trimStart().startsWith('[')) return null;
  try {
    const v: unknown = JSON.parse(raw);
    if (Array.isArray(v)) return v;
  } catch {
    /* below */
  }
  return usage(`${key}: ${JSON.stringify(raw)} is not a JSON list`);
}

function valueOf(key: string, raw: string): unknown {
  const v = raw.trim();
  if (OFF_WORDS.has(v.toLowerCase())) {
    // a boolean has a default, not an "off": null gives the default back
    if (BOOL_KEYS.has(key) && v.toLowerCase() === 'off') usage(`${key} is true or false (null gives the default, true)`);
    return null;
  }
  if (BOOL_KEYS.has(key)) {
    if (v === 'true' || v === 'false') return v === 'true';
    return usage(`${key} must be true, false or null; got ${JSON.stringify(raw)}`);
  }
  if (LIST_KEYS.has(key)) {
    return (
      jsonList(key, v) ??
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    );
  }
  if (key === WINDOW_KEY) {
    const list = jsonList(key, v);
    if (list !== null) return list;
    return v.split(',').map((w) => {
      const m = /^\s*(\d\d:\d\d)\s*-\s*(\d\d:\d\d)\s*$/.exec(w);
      if (m === null) usage(`${key} takes HH:MM-HH:MM[,HH:MM-HH:MM...] (UTC), got ${JSON.stringify(w)}`);
      return [m[1], m[2]];
    });
  }
  if (key === 'rate' || key === 'max_order_qty') usage(`${key} takes dotted keys (e.g. ${key === 'rate' ? 'rate.account_per_s=10' : 'max_order_qty.BTCUSDT=5'}), or ${key}=null to turn them all off`);
  return numberOf(key, v);
}

/**
 * `KEY=VALUE` pairs into the body of POST /ops/limits (a partial controls object). Keys are the
 * controls keys; `rate.<key>` and `max_order_qty.<symbol>` are dotted (`max_order_qty.*` = every other
 * symbol). `null` or `off` turns a limit off (null gives a tuning key its default). Lists:
 * `symbols_allowed=BTCUSDT,ETHUSDT`; windows: `trading_windows_utc=08:00-16:00,20:00-22:00`; a JSON
 * list works for both. Ranges are the gate's to check (422, nothing applied).
 */
export function limitsBody(pairs: readonly string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) usage(`expected KEY=VALUE, got ${JSON.stringify(p)}`);
    const key = p.slice(0, eq).trim();
    const raw = p.slice(eq + 1);
    if (key === 'trading_state') usage('the trading state is not a limit: use `trading-state ACTIVE|REDUCING|HALTED`');
    const dot = key.indexOf('.');
    const head = dot < 0 ? key : key.slice(0, dot);
    if (!LIMIT_KEYS.includes(head)) usage(`unknown key ${JSON.stringify(key)} (known: ${LIMIT_KEYS.join(', ')})`);
    if (seen.has(key)) usage(`${key} given twice`);
    // `rate=null` together with `rate.x=1` (or the same for max_order_qty) is contradictory
    if (dot < 0 ? [...seen].some((k) => k.startsWith(`${head}.`)) : seen.has(head)) usage(`${head} and ${head}.<key> given together`);
    seen.add(key);
    if (dot < 0) {
      body[key] = valueOf(key, raw);
      continue;
    }
    const sub = key.slice(dot + 1);
    if (head === 'rate') {
      if (!RATE_KEYS.includes(sub)) usage(`unknown key ${JSON.stringify(key)} (rate keys: ${RATE_KEYS.map((k) => `rate.${k}`).join(', ')})`);
    } else if (head === 'max_order_qty') {
      if (sub === '') usage(`${key}: a symbol is needed after max_order_qty.`);
    } else usage(`${head} has no sub-keys (only rate.<key> and max_order_qty.<symbol> are dotted)`);
    const obj = (body[head] ??= {}) as Record<string, unknown>;
    obj[sub] = OFF_WORDS.has(raw.trim().toLowerCase()) ? null : numberOf(key, raw.trim());
  }
  return body;
}

// ---------------------------------------------------------------------------------------------------
// human output

/** A limit value in words: `off` for null, lists joined, windows as HH:MM-HH:MM. */
function show(v: unknown): string {
  if (v === null || v === undefined) return 'off';
  if (Array.isArray(v)) {
    if (v.length === 0) return '(empty)';
    return v.map((x) => (Array.isArray(x) ? x.join('-') : String(x))).join(', ');
  }
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** The effective limits, one `key value` row each (`rate.*` and `max_order_qty.<symbol>` flattened). */
export function limitRows(limits: EffectiveLimits): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(limits)) {
    if (k === 'rate' && v !== null && typeof v === 'object') for (const [rk, rv] of Object.entries(v)) rows.push([`rate.${rk}`, show(rv)]);
    else if (k === 'max_order_qty' && v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [sk, sv] of Object.entries(v)) rows.push([`max_order_qty.${sk}`, show(sv)]);
    else rows.push([k, show(v)]);
  }
  return rows;
}

const pct = (u: number | null | undefined) => (u === null || u === undefined ? '-' : `${(u * 100).toFixed(1)}%`);
const amount = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
const left = (x: number | null) => (x === null ? '-' : String(x));

/** Aligned columns (the first row is the header). */
function table(rows: string[][], indent = '  '): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

/** GET /ops/limits as a human summary. */
export function limitsText(body: LimitsResponse): string {
  let out = `trading state  ${body.trading_state}\nreservations   ${body.reservations_open} open${body.lost_fills > 0 ? `, ${body.lost_fills} LOST FILLS (new exposure refused)` : ''}\n\nlimits\n`;
  out += table([['key', 'value'], ...limitRows(body.limits)]);
  if (body.accounts.length === 0) return `${out}\naccounts: none with control state yet\n`;
  out += '\naccounts\n';
  out += table([
    ['account', 'open_orders', 'reserved_usdt', 'gross_usdt', 'util_open', 'util_gross', 'per_s_left', 'per_min_left'],
    ...body.accounts.map((a) => [
      a.account_id,
      String(a.open_orders),
      amount(a.reserved_usdt),
      amount(a.gross_positions_usdt),
      pct(a.utilization.max_open_orders),
      pct(a.utilization.max_gross_notional_usdt),
      left(a.account_per_s_left),
      left(a.account_per_min_left),
    ]),
  ]);
  const positions = body.accounts.flatMap((a) => a.positions.map((p) => [a.account_id, p] as const));
  if (positions.length > 0) {
    out += '\npositions\n';
    out += table([
      ['account', 'symbol', 'qty', 'avg_price', 'notional_usdt', 'reserved_buy', 'reserved_sell', 'open_res', 'util'],
      ...positions.map(([acc, p]) => [
        acc,
        p.symbol,
        String(p.qty),
        p.avg_price === null ? '-' : amount(p.avg_price),
        amount(p.notional_usdt),
        amount(p.reserved_buy_usdt),
        amount(p.reserved_sell_usdt),
        String(p.open_reservations),
        pct(p.utilization),
      ]),
    ]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// commands

async function readLimits(ctx: CommandContext, what: string): Promise<LimitsResponse> {
  const reply = await gateOf(ctx).request('GET', '/ops/limits', { ops: true });
  if (reply.status !== 200) throw new GateRefusal(reply, what);
  return expectShape<LimitsResponse>(LimitsResponse, reply, what);
}

export const tradingState: Command = {
  def: {
    name: 'trading-state',
    summary: 'show the desk trading state, or set it (POST /ops/trading_state): trading-state HALTED',
    args: '[ACTIVE|REDUCING|HALTED]',
    minArgs: 0,
    maxArgs: 1,
    flags: [],
    token: 'required',
    help: [
      'ACTIVE: orders are decided as usual. REDUCING: only verified reduce-only orders pass',
      '(trading_state_reducing). HALTED: every order is refused (trading_state_halted) except verified',
      'reduce-only ones while controls.reduce_only_passes_halt is true. Case-insensitive.',
      'A change is journaled as TRADING_STATE {from, to, source: "ops"}; it lives in memory only:',
      'a restart returns to controls.trading_state. Without an argument: the current state (GET /ops/limits).',
    ],
  },
  async run(ctx) {
    const arg = ctx.args.positionals[0];
    if (arg === undefined) {
      const body = await readLimits(ctx, 'trading-state');
      if (ctx.json) ctx.io.out(jsonLine({ trading_state: body.trading_state }));
      else ctx.io.out(`trading state: ${body.trading_state}\n`);
      return EXIT_OK;
    }
    const state = arg.toUpperCase();
    if (!(TRADING_STATES as readonly string[]).includes(state)) {
      throw new UsageError(`trading-state: expected ACTIVE, REDUCING or HALTED, got ${JSON.stringify(arg)}`, 'trading-state');
    }
    const reply = await gateOf(ctx).request('POST', '/ops/trading_state', { ops: true, body: { state: state as TradingStateName } });
    if (reply.status !== 200) throw new GateRefusal(reply, 'trading-state');
    const body = expectShape<TradingStateResponse>(TradingStateResponse, reply, 'trading-state');
    if (ctx.json) ctx.io.out(jsonLine(body));
    else ctx.io.out(body.changed ? `trading state: ${body.trading_state} (was ${body.from})\n` : `trading state: ${body.trading_state} (unchanged)\n`);
    return EXIT_OK;
  },
};

export const limits: Command = {
  def: {
    name: 'limits',
    summary: 'show the desk controls (GET /ops/limits): limits, trading state, per account use',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    flags: [],
    token: 'required',
    help: [
      'Effective limits (off = not configured), the trading state, open reservations and, per account,',
      'open orders, reserved and gross notional, utilisation of the exposure limits and the tokens left',
      'in the rate buckets; then positions per (account, symbol). --json prints the gate\'s reply as is.',
    ],
  },
  async run(ctx) {
    const body = await readLimits(ctx, 'limits');
    ctx.io.out(ctx.json ? jsonLine(body) : limitsText(body));
    return EXIT_OK;
  },
};

export const setLimit: Command = {
  def: {
    name: 'set-limit',
    summary: 'change desk-control limits (POST /ops/limits): set-limit max_order_notional_usdt=2000 rate.account_per_s=10',
    args: 'KEY=VALUE ...',
    minArgs: 1,
    maxArgs: 64,
    flags: [],
    token: 'required',
    help: [
      `keys: ${LIMIT_KEYS.join(', ')};`,
      `dotted: ${RATE_KEYS.map((k) => `rate.${k}`).join(', ')}, max_order_qty.<SYMBOL> (max_order_qty.* = every other symbol).`,
      'VALUE: a number; null or off turns a limit off (null gives reservation_ttl_ms, alert_utilization and',
      'reduce_only_passes_halt their defaults); true/false for reduce_only_passes_halt;',
      'symbols_allowed=BTCUSDT,ETHUSDT; trading_windows_utc=08:00-16:00,20:00-02:00 (UTC; a JSON list also works).',
      'All or nothing: if the gate refuses any value (422, naming it) nothing changes. Each changed value is',
      'journaled as LIMIT.UPDATE. The change lives in memory only: a restart returns to the configuration.',
    ],
  },
  async run(ctx) {
    const body = limitsBody(ctx.args.positionals);
    const reply = await gateOf(ctx).request('POST', '/ops/limits', { ops: true, body });
    if (reply.status !== 200) throw new GateRefusal(reply, 'set-limit');
    const r = expectShape<LimitsSetResponse>(LimitsSetResponse, reply, 'set-limit');
    if (ctx.json) ctx.io.out(jsonLine(r));
    else if (r.changes.length === 0) ctx.io.out('no limit changed\n');
    else ctx.io.out(`changed:\n${table([['key', 'old', 'new'], ...r.changes.map((c) => [c.key, show(c.old), show(c.new)])])}`);
    return EXIT_OK;
  },
};
