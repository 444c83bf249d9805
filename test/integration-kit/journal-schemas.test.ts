import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_CODES } from '../../src/core/events.ts';
import { AuroraEventRecord, JOURNAL_FILE_SCHEMAS, journalSchemaTexts, OrderRecord } from '../../src/schema/journal-records.ts';
import { compileValidator } from '../../src/schema/validate.ts';
import { http, startTestGate, type TestGate } from '../helpers/gate.ts';
import { WsClient } from '../helpers/ws.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TOKEN = 'ops-token-for-integration-kit-0123456789';
const NEW_TOKEN = 'rotated-token-for-integration-kit-abcdef';

const body = (symbol: string, market: Record<string, unknown> = {}, extra: Record<string, unknown> = {}, side = 'buy') => ({
  account: { mode: 'testnet' },
  order: { symbol, side, qty: 0.5, price: 50000, base_notional: 100 },
  market: { latency_ms: 5, score: 0.5, a_bps: 5, b_bps: 10, slip_bps_est: 1, spread_bps: 3, ...market },
  ...extra,
});

describe('journal records match docs/schemas', () => {
  it('the committed schema files equal the generated ones', () => {
    for (const [name, text] of Object.entries(journalSchemaTexts())) {
      expect(readFileSync(resolve(root, 'docs/schemas', name), 'utf8'), name).toBe(text);
    }
    const ev = JSON.parse(readFileSync(resolve(root, 'docs/schemas/aurora_event.schema.json'), 'utf8'));
    expect(ev.properties.event_code.anyOf.map((x: { const: string }) => x.const).sort()).toEqual([...EVENT_CODES].sort());
    expect(ev.required).toEqual(['ts_ns', 'run_id', 'event_code', 'symbol', 'cid', 'oid', 'side', 'order_type', 'price', 'qty', 'position_id', 'details', 'src']);
    expect(ev.additionalProperties).toBe(false);
  });

  it('rejects records outside the contract', () => {
    const v = compileValidator(AuroraEventRecord);
    const ok = { ts_ns: 1, run_id: 'r', event_code: 'POLICY.DECISION', symbol: null, cid: null, oid: null, side: null, order_type: null, price: null, qty: null, position_id: null, details: {}, src: null };
    expect(v.check(ok)).toBe(true);
    expect(v.check({ ...ok, event_code: 'EXEC.DECISION' })).toBe(false); // not allow-listed
    expect(v.check({ ...ok, details: 'x' })).toBe(false);
    expect(v.check({ ...ok, extra: 1 })).toBe(false);
    const { src: _src, ...missing } = ok;
    expect(v.check(missing)).toBe(false);
    expect(compileValidator(OrderRecord).check({ ts_ns: 1 })).toBe(false);
  });

  describe('every line a real gate writes', () => {
    let gate: TestGate;
    const reasons: string[] = [];
    const statuses: number[] = [];
    beforeAll(async () => {
      gate = await startTestGate({
        OPS_TOKEN: TOKEN,
        TRAP_GUARD: 'on',
        AURORA_MIN_OPEN_INTERVAL_MS: '60000',
        AURORA_COOLDOWN_AFTER_CLOSE_MS: '60000',
      });
      const u = gate.url;
      const ops = { 'X-OPS-TOKEN': TOKEN };
      const pre = async (b: unknown) => {
        const r = await http(`${u}/pretrade/check`, 'POST', { body: b });
        statuses.push(r.status);
        if (r.status === 200) reasons.push((r.json as { reason: string }).reason);
        return r;
      };
      const post = async (b: unknown) => statuses.push((await http(`${u}/posttrade/log`, 'POST', { body: b })).status);
      const op = async (method: string, path: string, b?: unknown, headers: Record<string, string> = ops) => (await http(`${u}${path}`, method, { headers, body: b })).status;

      await pre(body('BTCUSDT')); // ok
      await pre(body('BTCUSDT')); // open_rate_limit (anti-churn)
      await pre(body('SOLUSDT', { spread_bps: 80.5 })); // spread
      await pre(body('XRPUSDT', {}, { fees_bps: 3 })); // expected return
      await pre(body('ADAUSDT', { slip_bps_est: 3.01 })); // slippage
      await pre(body('DOTUSDT', { trap_cancel_deltas: [4, 2], trap_add_deltas: [1], trap_trades_cnt: 2 })); // TRAP
      await pre({ ...body('LTCUSDT'), req_id: 'req-42', ts: 1764110000000, risk_tags: ['x'] }); // ok, with req_id
      // post-trade: success, failed -2010, pending, close, duplicate
      await post({ symbol: 'ETHUSDT', side: 'buy', status: 'filled', filled: 1, qty: 1, price: 3000, average: 3000.5, fee: 0.1, order_id: 'o-1', ts: 1764110000 });
      await post({ symbol: 'ETHUSDT', side: 'buy', status: 'filled', filled: 1, qty: 1, price: 3000, average: 3000.5, fee: 0.1, order_id: 'o-1', ts: 1764110000 });
      await post({ symbol: 'BNBUSDT', side: 'buy', qty: 2, price: 600, error: true, error_code: -2010, error_msg: 'Account has insufficient balance', order_id: 'o-2' });
      await post({ symbol: 'BNBUSDT', side: 'buy', qty: 2, error_code: '-1013', error_msg: 'Filter failure: PRICE' });
      await post({ symbol: 'AVAXUSDT', side: 'sell', status: 'new', qty: 1, order_id: 'o-3' });
      await post({ symbol: 'LINKUSDT', side: 'sell', action: 'close', status: 'filled', filled: 0.5, qty: 0.5 });
      await post({ symbol: 'ethusdt:perp', cid: 'c-1', oid: 'x', position_id: 'p', order_type: 'limit', status: 'partially_filled', filled: '0.25', side: 'buy', response: { id: 'ccxt-1' }, nested: { a: [1, { b: null }] } });
      await pre(body('LINKUSDT')); // cooldown_after_close_active
      await pre(body('ETHUSDT', {}, {}, 'sell')); // opposite_side_block (or min-hold)
      // WebSocket: a decision and a ping (ws_id lands in POLICY.DECISION)
      const ws = await WsClient.connect(u);
      const wr = await ws.request('pretrade.check', body('MATICUSDT'), 'ws-1');
      reasons.push((wr.body as { reason: string }).reason);
      await ws.request('posttrade.log', { symbol: 'MATICUSDT', side: 'buy', status: 'new' }, 2);
      await ws.request('ping', undefined, 'p');
      await ws.close();
      // invalid requests (nothing journaled)
      await pre({ account: {}, market: {} });
      statuses.push((await http(`${u}/pretrade/check`, 'POST', { raw: '{"a":NaN}' })).status);
      // ops
      statuses.push(await op('GET', '/liveness'));
      statuses.push(await op('GET', '/readiness'));
      statuses.push(await op('POST', '/ops/reset', undefined, { 'X-OPS-TOKEN': 'wrong-token' })); // 403
      statuses.push(await op('POST', '/ops/reset', undefined, {})); // 401
      statuses.push(await op('POST', '/ops/cooloff/2'));
      statuses.push(await op('POST', '/ops/reset'));
      statuses.push(await op('POST', '/aurora/disarm'));
      await pre(body('NEARUSDT')); // disarmed: AURORA.ESCALATION
      statuses.push(await op('POST', '/aurora/ARM'));
      statuses.push(await op('GET', '/risk/snapshot'));
      statuses.push(await op('POST', '/risk/set', { dd_day_pct: 50, max_concurrent: 5, size_scale: 0.5 }));
      statuses.push(await op('POST', '/risk/set', { max_concurrent: -1 })); // 422
      await pre(body('UNIUSDT', { pnl_today_pct: -60 })); // risk dd cap
      await pre(body('AAVEUSDT', { dq: { stale_book: true } })); // Governance kill-switch: AURORA.HALT
      statuses.push(await op('POST', '/ops/reset'));
      statuses.push(await op('POST', '/ops/rotate_token', { new_token: NEW_TOKEN }));
      statuses.push(await op('GET', '/liveness', undefined, { 'X-OPS-TOKEN': NEW_TOKEN }));
      await pre(body('FILUSDT'));
      // latency last: HealthGuard samples survive /ops/reset, so a high p95 would deny everything after
      await pre(body('OPUSDT', { latency_ms: 31 }));
      await pre(body('ARBUSDT', { latency_ms: 35 }));
      await pre(body('GRTUSDT', { latency_ms: 40 }));
      await pre(body('ICPUSDT'));
    }, 30_000);
    let stopped: Promise<boolean> | null = null;
    const stopOnce = () => (stopped ??= gate.stop());
    afterAll(async () => {
      if (gate !== undefined) await stopOnce();
    });

    it('exercised the deny families', () => {
      expect(statuses.filter((s) => s >= 500)).toEqual([]);
      for (const r of ['ok', 'open_rate_limit', 'spread_bps_too_wide:80.5', 'expected_return_gate', 'slippage_guard', 'trap_guard', 'cooldown_after_close_active']) {
        expect(reasons, r).toContain(r);
      }
      expect(reasons.some((r) => r === 'opposite_side_block' || r === 'position_min_hold_active')).toBe(true);
      expect(reasons, JSON.stringify(reasons)).toContain('AURORA.HALT');
      // latency_guard / latency_cooloff depending on the HealthGuard p95 (default config)
      expect(reasons.filter((r) => r.startsWith('latency_')).length, JSON.stringify(reasons)).toBeGreaterThanOrEqual(2);
    });

    it('validates every line of every .jsonl file after stop', async () => {
      expect(await stopOnce()).toBe(true);
      const dir = gate.sessionDir;
      const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
      for (const f of ['aurora_events.jsonl', 'orders_denied.jsonl', 'orders_failed.jsonl', 'orders_success.jsonl', 'orders.jsonl']) expect(files).toContain(f);
      // independent validators, compiled from the committed plain JSON Schema files
      const committed = (name: string) => {
        const c = Compile(JSON.parse(readFileSync(resolve(root, 'docs/schemas', name), 'utf8')));
        return { check: (v: unknown) => c.Check(v) };
      };
      const eventFile = committed('aurora_event.schema.json');
      const orderFile = committed('order_record.schema.json');
      const rawFile = committed('orders_raw.schema.json');
      const byFile: Record<string, { check(v: unknown): boolean }> = {
        'aurora_events.jsonl': eventFile,
        'orders_denied.jsonl': orderFile,
        'orders_failed.jsonl': orderFile,
        'orders_success.jsonl': orderFile,
        'orders.jsonl': rawFile,
      };
      const codes = new Set<string>();
      const counts: Record<string, number> = {};
      const failures: string[] = [];
      for (const f of files) {
        const specific = JOURNAL_FILE_SCHEMAS[f as keyof typeof JOURNAL_FILE_SCHEMAS];
        expect(specific, `no schema for ${f}`).toBeDefined();
        const v = compileValidator(specific);
        const lines = readFileSync(join(dir, f), 'utf8').split('\n');
        expect(lines.pop()).toBe(''); // every line ends in \n
        counts[f] = lines.length;
        for (const [i, line] of lines.entries()) {
          const rec = JSON.parse(line) as Record<string, unknown>;
          if (!v.check(rec)) failures.push(`${f}:${i + 1} ${JSON.stringify(v.errors(rec))} ${line.slice(0, 300)}`);
          if (!byFile[f].check(rec)) failures.push(`${f}:${i + 1} (committed schema) ${line.slice(0, 300)}`);
          if (f === 'aurora_events.jsonl') {
            codes.add(rec.event_code as string);
            expect(Object.keys(rec)).toEqual(['ts_ns', 'run_id', 'event_code', 'symbol', 'cid', 'oid', 'side', 'order_type', 'price', 'qty', 'position_id', 'details', 'src']);
          }
        }
      }
      expect(failures).toEqual([]);
      expect(counts['orders_denied.jsonl']).toBeGreaterThanOrEqual(9);
      expect(counts['orders_failed.jsonl']).toBe(2);
      expect(counts['orders_success.jsonl']).toBe(3); // duplicate de-duplicated; close and partial are success
      for (const c of ['POLICY.DECISION', 'POSTTRADE.LOG', 'ORDER.FILL', 'ORDER.REJECT', 'AURORA.COOL_OFF', 'OPS.RESET', 'AURORA.ARM_STATE', 'RISK.UPDATE', 'OPS.TOKEN_ROTATE', 'AURORA.STARTUP.OK', 'CONFIG.SWITCHED', 'SPREAD_GUARD_TRIP', 'AURORA.ESCALATION']) {
        expect([...codes], c).toContain(c);
      }
      expect(existsSync(join(dir, 'orders.jsonl'))).toBe(true);
    });
  });
});
