/**
 * How a context record's `value` is to be read:
 * - `string` — text, stored as given (after {@link toStorableText}).
 * - `integer` — a whole number; `value` is a JS number when it is a safe integer
 *   (`Number.isSafeInteger`), otherwise its exact decimal text (`"12345678901234567890"`).
 * - `number` — any other finite number; `value` is a JS number, or its exact decimal text when a JS
 *   number would lose digits (a `LosslessNumber` such as `"1.000000000000000000001"`).
 * - `boolean` — `true` / `false`.
 * - `timestamp` — an instant; `value` is the UTC ISO 8601 string `YYYY-MM-DDTHH:MM:SS.sssZ`.
 * - `redacted` — the value was under a secret-looking key; `value` is `"[REDACTED]"`.
 */
export type ContextValueType = 'string' | 'integer' | 'number' | 'boolean' | 'timestamp' | 'redacted';

/** One context record before it is stored: a flattened key and a typed scalar value. */
export interface ContextRecordDraft {
  /** Path of the value inside `info`, in the format described in `encodeKeySegment.ts`. */
  key: string;
  value: string | number | boolean;
  valueType: ContextValueType;
}
