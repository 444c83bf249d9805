import Type from 'typebox';

/**
 * Building blocks shared by the request schemas. The reference (pydantic, lax mode) accepts numeric
 * strings and booleans where it expects numbers; the conformance vectors rely on that for strings, so
 * we accept both — but only values that convert to a finite number (D5/D7): the string patterns bound
 * the mantissa and exponent so no accepted string can overflow to Infinity.
 */
export const LIMITS = {
  maxArrayItems: 10_000,
  maxStringLength: 4096,
} as const;

const NUMERIC_STRING = '^\\s*[+-]?(\\d{1,200}(\\.\\d{0,200})?|\\.\\d{1,200})([eE][+-]?\\d{1,2})?\\s*$';
const NON_NEGATIVE_NUMERIC_STRING = '^\\s*\\+?(\\d{1,200}(\\.\\d{0,200})?|\\.\\d{1,200})([eE][+-]?\\d{1,2})?\\s*$';
const INTEGER_STRING = '^\\s*[+-]?\\d{1,15}\\s*$';

/** A finite number, a numeric string, a boolean (true = 1) or null. */
export const NumberLike = (description = 'a finite number, a numeric string, or null') =>
  Type.Union([Type.Number(), Type.String({ pattern: NUMERIC_STRING }), Type.Boolean(), Type.Null()], { description });

/** As NumberLike but never negative (quantities, D-36). */
export const NonNegativeNumberLike = (description = 'a finite number >= 0, a numeric string, or null') =>
  Type.Union(
    [Type.Number({ minimum: 0 }), Type.String({ pattern: NON_NEGATIVE_NUMERIC_STRING }), Type.Boolean(), Type.Null()],
    { description },
  );

/** A number truncated toward zero (2.7 -> 2), an integer string, a boolean or null. */
export const IntegerLike = (description = 'an integer (fractions are truncated), an integer string, or null') =>
  Type.Union([Type.Number(), Type.String({ pattern: INTEGER_STRING }), Type.Boolean(), Type.Null()], { description });

/** A list of numbers (elements as in NumberLike, without null) or null. */
export const NumberList = (description = 'a list of finite numbers, or null') =>
  Type.Union(
    [
      Type.Array(Type.Union([Type.Number(), Type.String({ pattern: NUMERIC_STRING }), Type.Boolean()]), {
        maxItems: LIMITS.maxArrayItems,
      }),
      Type.Null(),
    ],
    { description },
  );

export const OptString = (description = 'a string or null') =>
  Type.Optional(Type.Union([Type.String({ maxLength: LIMITS.maxStringLength }), Type.Null()], { description }));
