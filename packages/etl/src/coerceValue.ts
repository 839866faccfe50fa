import { isLosslessNumber, isSafeNumber } from 'lossless-json';
import type { ContextRecordDraft, ContextValueType } from './ContextRecordDraft.ts';
import { parseTimestamp } from './parseTimestamp.ts';
import { toStorableText } from './toStorableText.ts';

/** A typed scalar: a record draft without its key. Never `redacted`; redaction is decided by key. */
export interface CoercedValue {
  value: ContextRecordDraft['value'];
  valueType: Exclude<ContextValueType, 'redacted'>;
}

/** Options for {@link coerceValue}. */
export interface CoerceOptions {
  /**
   * Whether strings that clearly hold a number, boolean or timestamp become that type.
   * @defaultValue true
   */
  coerceStrings?: boolean;
}

const INTEGER_TEXT = /^-?(?:0|[1-9][0-9]*)$/;
const DECIMAL_TEXT = /^-?(?:0|[1-9][0-9]*)\.[0-9]+$/;

/**
 * Turns one leaf of `info` into a typed value, or `undefined` when the leaf is empty and produces no
 * context record.
 *
 * Empty, dropped: `null`, `undefined`, `""`, whitespace-only strings (`String.prototype.trim`
 * whitespace), and what `JSON.stringify` would also not keep as a value: `NaN`, `±Infinity`, invalid
 * `Date`s, functions and symbols.
 *
 * Non-string leaves:
 * - `boolean` → `boolean`.
 * - `number` → `integer` when `Number.isSafeInteger` (`-0` becomes `0`), else `number`.
 * - `bigint` → `integer`, as a JS number when safe, else its decimal text.
 * - `LosslessNumber` (from `lossless-json`) → when its text converts to a JS number without losing
 *   digits (lossless-json's `isSafeNumber`), exactly as that JS number, so `42` gives the same record
 *   whether the parser produced `42` or `LosslessNumber('42')`. Otherwise its exact text: `integer`
 *   when the text is an integer (`12345678901234567890`), else `number` (`1.000000000000000000001`,
 *   `1e400`).
 * - `Date` → `timestamp`.
 *
 * Strings (made storable by {@link toStorableText} first) are coerced only when the text is exactly
 * the canonical form of the typed value, so coercion never changes what the text says:
 * - `integer`: optional `-`, digits without leading zeros (`42`, `-7`, `0`). Beyond 2^53 the value is
 *   the decimal text (`"12345678901234567890"`). Not `-0`, `007`, `+5`, ` 42 `, `1,000`, `0x1A`.
 * - `number`: a decimal whose text is what JavaScript prints for it (`String(Number(text)) === text`):
 *   `-3.5`, `0.25`. Not `1.0`, `1.50` (trailing zeros may be meaningful, as in versions), `.5`, `1.`,
 *   exponent forms (`1e5`), `Infinity`, `NaN`, or decimals with more digits than a double holds.
 * - `boolean`: `true` / `false`, any letter case (`TRUE`, `False`), no surrounding spaces.
 * - `timestamp`: an RFC 3339 date-time with offset, see {@link parseTimestamp}.
 * - anything else stays `string`, e.g. hex SHAs, ids with leading zeros, dates without a time.
 *
 * @param leaf - A non-container value from `info`.
 * @param options - See {@link CoerceOptions}.
 * @returns The typed value, or `undefined` for an empty leaf.
 */
export function coerceValue(leaf: unknown, options: CoerceOptions = {}): CoercedValue | undefined {
  switch (typeof leaf) {
    case 'string':
      return coerceString(leaf, options.coerceStrings ?? true);
    case 'number':
      return fromNumber(leaf);
    case 'boolean':
      return { value: leaf, valueType: 'boolean' };
    case 'bigint':
      return Number.isSafeInteger(Number(leaf))
        ? { value: Number(leaf), valueType: 'integer' }
        : { value: leaf.toString(), valueType: 'integer' };
    case 'object':
      if (leaf === null) return undefined;
      if (isLosslessNumber(leaf)) return fromNumericText(leaf.value);
      if (leaf instanceof Date) {
        return Number.isNaN(leaf.getTime()) ? undefined : { value: leaf.toISOString(), valueType: 'timestamp' };
      }
      return undefined;
    default:
      return undefined;
  }
}

function fromNumber(n: number): CoercedValue | undefined {
  if (!Number.isFinite(n)) return undefined;
  if (Number.isSafeInteger(n)) return { value: n === 0 ? 0 : n, valueType: 'integer' };
  return { value: n, valueType: 'number' };
}

function fromNumericText(text: string): CoercedValue | undefined {
  if (isSafeNumber(text)) return fromNumber(Number(text));
  return { value: text, valueType: INTEGER_TEXT.test(text) ? 'integer' : 'number' };
}

function coerceString(raw: string, coerceStrings: boolean): CoercedValue | undefined {
  if (isBlank(raw)) return undefined;
  const text = toStorableText(raw);
  if (!coerceStrings) return { value: text, valueType: 'string' };

  const first = text.charCodeAt(0);
  const startsNumeric = (first >= 48 && first <= 57) || first === 45; /* 0-9 or - */
  if (startsNumeric) {
    const typed = coerceNumericString(text) ?? coerceTimestamp(text);
    if (typed !== undefined) return typed;
  } else if (text.length === 4 || text.length === 5) {
    const lower = text.toLowerCase();
    if (lower === 'true') return { value: true, valueType: 'boolean' };
    if (lower === 'false') return { value: false, valueType: 'boolean' };
  }
  return { value: text, valueType: 'string' };
}

function coerceNumericString(text: string): CoercedValue | undefined {
  if (INTEGER_TEXT.test(text)) {
    if (text === '-0') return undefined;
    const n = Number(text);
    return { value: Number.isSafeInteger(n) ? n : text, valueType: 'integer' };
  }
  if (DECIMAL_TEXT.test(text)) {
    const n = Number(text);
    return String(n) === text ? { value: n, valueType: 'number' } : undefined;
  }
  return undefined;
}

function coerceTimestamp(text: string): CoercedValue | undefined {
  const iso = parseTimestamp(text);
  return iso === undefined ? undefined : { value: iso, valueType: 'timestamp' };
}

function isBlank(text: string): boolean {
  if (text.length === 0) return true;
  const first = text.charCodeAt(0);
  // Any whitespace-only string starts with a space/control character or a non-ASCII space.
  if (first > 32 && first < 128) return false;
  return text.trim().length === 0;
}
