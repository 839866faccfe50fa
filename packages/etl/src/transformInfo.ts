import type { ContextRecordDraft } from './ContextRecordDraft.ts';
import { coerceValue } from './coerceValue.ts';
import type { CoerceOptions } from './coerceValue.ts';
import { flattenInfo } from './flattenInfo.ts';
import type { FlattenOptions } from './flattenInfo.ts';

/** The value stored instead of a secret. */
export const REDACTED_VALUE = '[REDACTED]';

/** Options for {@link transformInfo}: those of {@link flattenInfo} and {@link coerceValue}. */
export interface TransformOptions extends FlattenOptions, CoerceOptions {}

/**
 * Turns an `info` map (e.g. a GitHub webhook payload) into context record drafts, one per non-empty
 * scalar, with unique keys.
 *
 * Steps:
 * 1. {@link flattenInfo}: one leaf per scalar, keyed by its snake_case path (`commits[0].author.name`);
 *    colliding names are resolved there, so keys are unique.
 * 2. {@link coerceValue}: typed values; empty leaves (`null`, `""`, whitespace, and `{}`/`[]`, which
 *    have no leaves) produce no record. Strings are made storable in PostgreSQL (U+0000 and lone
 *    surrogates become U+FFFD).
 * 3. Redaction: a leaf under a secret-looking key ({@link isSecretKey}, applied to its own key and every
 *    object key above it) becomes `{ value: '[REDACTED]', valueType: 'redacted' }`, one record per
 *    non-empty leaf, so the key shape stays visible but no value or type leaks.
 * 4. Sorting by key, in UTF-16 code unit order (plain `<`): output does not depend on traversal
 *    order, and batched upserts lock rows in the same order every time.
 *
 * Pure and synchronous; nesting depth is limited by memory, not the call stack.
 *
 * @param info - The top-level object or array.
 * @param options - See {@link TransformOptions}.
 * @returns Record drafts sorted by key; `[]` when nothing is non-empty.
 * @throws TypeError when `info` is not an object or array, or contains a circular reference.
 */
export function transformInfo(info: unknown, options: TransformOptions = {}): ContextRecordDraft[] {
  const records: ContextRecordDraft[] = [];
  for (const leaf of flattenInfo(info, options)) {
    const coerced = coerceValue(leaf.value, options);
    if (coerced === undefined) continue;
    records.push(
      leaf.secret
        ? { key: leaf.key, value: REDACTED_VALUE, valueType: 'redacted' }
        : { key: leaf.key, value: coerced.value, valueType: coerced.valueType },
    );
  }
  return records.sort(byKey);
}

function byKey(a: ContextRecordDraft, b: ContextRecordDraft): number {
  if (a.key < b.key) return -1;
  return a.key > b.key ? 1 : 0;
}
