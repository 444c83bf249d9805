/**
 * Python-compatible fixed-point formatting: `pyFixed(x, d)` returns exactly what
 * CPython's `format(x, f".{d}f")` / `"%.{d}f" % x` returns for the double `x`.
 *
 * Why this is correct:
 * - ECMA-262 specifies `Number.prototype.toFixed` on the *exact* value of the
 *   double (pick n minimising |n / 10^d - x|) for |x| < 1e21, and V8 implements it
 *   exactly. Python rounds the same exact value, so the two agree everywhere
 *   except on exact ties: toFixed takes the larger magnitude, Python takes the even
 *   neighbour.
 * - An exact tie means x * 10^d = m + 1/2, i.e. x = j / 2^(d+1) with j odd (the 5^d
 *   factor must cancel because x is dyadic). Scaling by a power of two is exact in
 *   binary, so `x * 2^(d+1)` being an odd integer is an exact tie test.
 * - On a tie toFixed returned the upper neighbour; if it is odd, the even one is
 *   one unit in the last place lower. An odd last digit is 1..9, so decrementing it
 *   never borrows.
 * - For |x| >= 1e21 toFixed switches to exponent notation; such doubles are
 *   integers (>= 2^53), so BigInt prints them exactly.
 * - toFixed drops the sign of -0 (because -0 < 0 is false); Python keeps it.
 *   Negative values that round to zero already keep the "-" in toFixed.
 */

/** 2^(d+1) for d = 0..20: multiplying by it is exact and exposes exact ties. */
const TIE_SCALE: readonly number[] = Array.from({ length: 21 }, (_, d) => 2 ** (d + 1));

/** Python `format(x, f".{digits}f")` for a double `x`, `digits` an integer in 0..20. */
export function pyFixed(x: number, digits: number): string {
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) {
    throw new RangeError(`pyFixed: digits must be an integer in 0..20, got ${digits}`);
  }
  if (x !== x) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';

  if (x >= 1e21 || x <= -1e21) {
    // Always an integer here; print all digits, never an exponent.
    return BigInt(x).toString() + (digits > 0 ? '.' + '0'.repeat(digits) : '');
  }

  let s = x.toFixed(digits); // exact, ties away from zero
  const t = x * TIE_SCALE[digits]!;
  if (Number.isInteger(t) && t % 2 !== 0) {
    // Exact tie: toFixed rounded away from zero; Python wants the even neighbour.
    const last = s.charCodeAt(s.length - 1);
    if (last & 1) s = s.slice(0, -1) + String.fromCharCode(last - 1); // '1'..'9' odd <=> code odd
  }
  if (x === 0 && 1 / x < 0) s = '-' + s;
  return s;
}

/** Python `format(x, ".1f")`. */
export const fmt1 = (x: number): string => pyFixed(x, 1);

/** Python `format(x, ".2f")`. */
export const fmt2 = (x: number): string => pyFixed(x, 2);
