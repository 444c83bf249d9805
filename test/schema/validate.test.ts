import { describe, expect, it } from 'vitest';
import { ALLOWED_BODY } from '../../bench/bodies.ts';
import { pretradeValidator } from '../../src/gate/pretrade.ts';

const withDeltas = (deltas: unknown[]) => ({ ...ALLOWED_BODY, market: { ...ALLOWED_BODY.market, trap_cancel_deltas: deltas } });

// TypeBox lists every error of a value eagerly: ~20-40 ms for a 10 000-element array, which any client
// could make a worker spend per 64 KiB body. The validator explains arrays from their first 32 elements.
describe('validation errors of long arrays (the 422 explains the first elements only)', () => {
  it('a short array: every bad element by its own path', () => {
    const body = withDeltas([1, 'x', 2, 'y']);
    expect(pretradeValidator.check(body)).toBe(false);
    expect(pretradeValidator.errors(body).map((e) => e.path)).toEqual(['market.trap_cancel_deltas.1', 'market.trap_cancel_deltas.3']);
  });

  it('10 000 bad elements: the first ones are named, the list is capped, nothing hangs', () => {
    const body = withDeltas(Array.from({ length: 10_000 }, () => 'x'));
    expect(pretradeValidator.check(body)).toBe(false);
    const errs = pretradeValidator.errors(body);
    expect(errs.length).toBeGreaterThan(0);
    expect(errs.length).toBeLessThanOrEqual(21);
    expect(errs[0].path).toBe('market.trap_cancel_deltas.0');
    // only elements of the explained prefix are named (the cost of listing all 10 000 was the problem)
    for (const e of errs) expect(Number(e.path.split('.')[2])).toBeLessThan(32);
  });

  it('a bad element only after the explained prefix: the array itself is named, so the 422 is never empty', () => {
    const deltas: unknown[] = Array.from({ length: 100 }, () => 1);
    deltas[70] = 'x';
    const body = withDeltas(deltas);
    expect(pretradeValidator.check(body)).toBe(false);
    expect(pretradeValidator.errors(body)).toEqual([{ path: 'market.trap_cancel_deltas', message: 'has an invalid element after the first 32' }]);
  });

  it('a long valid array with another bad field: that field is reported', () => {
    const body = { ...withDeltas(Array.from({ length: 500 }, () => 1)), fees_bps: 'lots' };
    expect(pretradeValidator.errors(body).map((e) => e.path)).toEqual(['fees_bps']);
  });
});
