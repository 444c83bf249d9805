import { describe, expect, it } from 'vitest';
import * as ctlReplies from '../../src/ctl/replies.ts';
import { DEFAULT_FILES } from '../../src/journal/files.ts';
import { EXCHANGE_CODES, normaliseExchangeError } from '../../src/journal/records.ts';
import { JOURNAL_FILE_SCHEMAS, OrderRecord } from '../../src/schema/journal-records.ts';
import { buildOpenApi } from '../../src/schema/openapi.ts';
import { PosttradeLogResponse } from '../../src/schema/posttrade.ts';
import { CooloffResponse, OkResponse, RiskResponse, StateResponse, Version } from '../../src/schema/replies.ts';
import { compileValidator } from '../../src/schema/validate.ts';

/** Schemas defined once and derived from their sources (no hand-kept copies). */
describe('reply schemas: one definition for the OpenAPI document and the ops CLI', () => {
  it('the CLI checks replies against the very schemas the document publishes', () => {
    expect(ctlReplies.VersionReply).toBe(Version);
    expect(ctlReplies.CooloffReply).toBe(CooloffResponse);
    expect(ctlReplies.StateReply).toBe(StateResponse);
    expect(ctlReplies.RiskReply).toBe(RiskResponse);
    expect(ctlReplies.OkReply).toBe(OkResponse);
    expect(PosttradeLogResponse).toBe(OkResponse);
  });

  it('the document refers to GuardSnapshot / RiskLimits instead of inlining them', () => {
    const schemas = (buildOpenApi('0.0.0').components as { schemas: Record<string, { properties: Record<string, unknown> }> }).schemas;
    expect(schemas.StateResponse!.properties.state).toEqual({ $ref: '#/components/schemas/GuardSnapshot' });
    expect(schemas.RiskResponse!.properties.risk).toEqual({ $ref: '#/components/schemas/RiskLimits' });
    expect(schemas.PosttradeLogResponse).toEqual(schemas.OkResponse);
  });
});

describe('journal record schemas follow the journal code', () => {
  it('every failed-order outcome the gate can write validates (codes, severities, actions from EXCHANGE_CODES)', () => {
    const v = compileValidator(OrderRecord);
    const base = {
      ts_ns: 1, run_id: 'r', cid: null, oid: null, position_id: null, lifecycle_state: null, latency_ms: null, spread_bps: null,
      vol_std_bps: null, governance_gate: null, reward_tag: null, symbol: null, side: null, qty: null, price: null,
    };
    for (const code of [...Object.keys(EXCHANGE_CODES), 'something-else', null]) {
      const [reason_code, severity, action] = normaliseExchangeError(code);
      const rec = { ...base, reason_code, reason_detail: null, reason_class: 'EXCHANGE', severity, action };
      expect(v.check(rec), `${code}: ${JSON.stringify(v.errors(rec))}`).toBe(true);
    }
    const bad = { ...base, reason_code: 'EXCHANGE_MADE_UP', reason_detail: null, reason_class: 'EXCHANGE', severity: 'WARN', action: 'ABORT' };
    expect(v.check(bad)).toBe(false);
  });

  it('one schema per session file, named as the journal names them', () => {
    expect(Object.keys(JOURNAL_FILE_SCHEMAS).sort()).toEqual(Object.values(DEFAULT_FILES).sort());
  });
});
