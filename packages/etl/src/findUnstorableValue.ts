import { isLosslessNumber } from 'lossless-json';
import { isContainer } from './isContainer.ts';
import { toStorableText } from './toStorableText.ts';

/** Where and why a value cannot be stored as PostgreSQL `jsonb` exactly as received. */
export interface UnstorableValue {
  /** JSON Pointer (RFC 6901) of the offending key or value, e.g. `/commits/0/message`. */
  pointer: string;
  reason: string;
}

/**
 * PostgreSQL `numeric` (which `jsonb` numbers are) holds at most 131,072 digits before the decimal
 * point and 16,383 after it (PostgreSQL docs, "Numeric Types"); its input parser refuses an exponent of
 * 2^30 - 1 or more, even on zero (`set_var_from_str` in src/backend/utils/adt/numeric.c; checked
 * against PostgreSQL 15).
 */
const PG_NUMERIC = { maxIntegerDigits: 131_072, maxFractionDigits: 16_383, maxExponent: 1_073_741_822 } as const;

/**
 * Finds the first key or value that PostgreSQL `jsonb` cannot store faithfully, so the API can
 * refuse it with a 422 instead of failing inside the database:
 * - a key or string containing U+0000 or an unpaired UTF-16 surrogate (`jsonb` rejects both:
 *   PostgreSQL docs, "JSON Types");
 * - a number outside PostgreSQL `numeric`'s range (e.g. `1e200000`).
 * Walks iteratively (no recursion), in document order.
 *
 * @param value - a value from `parseJsonExact` (numbers beyond JavaScript's range are `LosslessNumber`s)
 * @returns the first problem found, or undefined when everything is storable
 */
export function findUnstorableValue(value: unknown): UnstorableValue | undefined {
  const stack: { value: unknown; pointer: string }[] = [{ value, pointer: '' }];
  while (stack.length > 0) {
    const { value: current, pointer } = stack.pop()!;
    if (typeof current === 'string') {
      if (toStorableText(current) !== current) return { pointer, reason: 'string contains U+0000 or an unpaired surrogate' };
    } else if (isLosslessNumber(current)) {
      const reason = numericRangeProblem(current.value);
      if (reason) return { pointer, reason };
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], pointer: `${pointer}/${i}` });
    } else if (isContainer(current)) {
      const keys = Object.keys(current);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        const child = `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
        if (toStorableText(key) !== key) return { pointer: child, reason: 'key contains U+0000 or an unpaired surrogate' };
        stack.push({ value: (current as Record<string, unknown>)[key], pointer: child });
      }
    }
  }
  return undefined;
}

function numericRangeProblem(text: string): string | undefined {
  const match = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return 'not a JSON number';
  const integer = match[1]!.replace(/^0+/, '');
  const writtenFraction = match[2] ?? '';
  const fraction = writtenFraction.replace(/0+$/, '');
  const exponent = Number(match[3] ?? 0);
  // numeric keeps the scale as written, trailing zeros included (`1.10` stays `1.10`), so those count
  // against its fraction digits; its input refuses huge exponents outright.
  const scale = writtenFraction.length - exponent;
  if (Math.abs(exponent) > PG_NUMERIC.maxExponent || scale > PG_NUMERIC.maxFractionDigits) {
    return 'number outside the range PostgreSQL numeric can store';
  }
  if (integer === '' && fraction === '') return undefined; // zero has no integer digits to count
  const integerDigits = integer.length + exponent;
  if (integerDigits > PG_NUMERIC.maxIntegerDigits) return 'number outside the range PostgreSQL numeric can store';
  return undefined;
}
