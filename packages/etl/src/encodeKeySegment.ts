/**
 * The context record key format: how a path through nested `info` becomes one string.
 *
 * A key is a sequence of segments, one per level below the top-level object or array:
 *
 * - **name** — an object key normalised by {@link toSnakeCase}: `pull_request`. A name is non-empty and
 *   never contains `.`, `[` or `"`. Names after the first segment are preceded by `.`.
 * - **index** — an array index in brackets, with no `.` before it: `commits[0]`, `[2][0]` for arrays
 *   of arrays. The index is decimal without leading zeros.
 * - **raw** — an object key written verbatim as a JSON string literal (RFC 8259 §7, produced by
 *   `JSON.stringify`), preceded by `.` like a name: `labels."".name`, `reactions."+1"`,
 *   `headers."fooBar"`. Used when the key has no snake_case name (empty, `---`, `+1`) or when another
 *   key in the same object holds that name (see {@link flattenInfo} for who wins). JSON escaping keeps
 *   `"` and `\` unambiguous and writes U+0000 and lone surrogates as `\u0000` / `\ud800`, so keys are
 *   always storable in PostgreSQL text and never lose information.
 *
 * Examples: `{"a.b": 1}` → `a_b`; `{"a": {"b": 1}}` → `a.b`; `{"0": 1}` → `0`; `[1]` → `[0]`;
 * `{"": 1}` → `""`.
 *
 * Why this is injective (no two leaves of one input share a key):
 * 1. The grammar is unambiguous: a segment starts with `[` (index), `"` (raw) or anything else (name);
 *    an index ends at `]`, a raw segment at its closing unescaped `"`, a name at the next `.` or `[`.
 *    {@link parseKeyPath} is the inverse.
 * 2. Within one container the children get distinct segments: indexes differ; a name is given to one
 *    key only; raw segments of distinct keys differ because `JSON.stringify` is injective on strings;
 *    and the three kinds cannot equal each other because their first characters differ.
 * 3. Two different leaves diverge in some container, where their segments differ by (2), so their keys
 *    differ by (1).
 *
 * @module
 */

/** One decoded key segment. `name` values are already snake_case; `raw` values are the original key. */
export type KeySegment =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'raw'; readonly raw: string }
  | { readonly kind: 'index'; readonly index: number };

/**
 * Writes one segment without its separator: `pull_request`, `"fooBar"` or `[3]`.
 *
 * @param segment - For `name`, a non-empty result of {@link toSnakeCase} (not checked, for speed);
 *   for `index`, a non-negative integer.
 * @returns The segment text.
 */
export function encodeKeySegment(segment: KeySegment): string {
  switch (segment.kind) {
    case 'name':
      return segment.name;
    case 'raw':
      return JSON.stringify(segment.raw);
    case 'index':
      return `[${segment.index}]`;
  }
}

/**
 * Appends one segment to a key, adding the `.` separator where the format needs one.
 *
 * @param path - The parent key; `''` for the top-level object or array.
 * @param segment - The child's segment, as for {@link encodeKeySegment}.
 * @returns The child's key, e.g. `appendKeySegment('commits', { kind: 'index', index: 0 })` →
 *   `commits[0]`.
 */
export function appendKeySegment(path: string, segment: KeySegment): string {
  const text = encodeKeySegment(segment);
  if (path === '' || segment.kind === 'index') return path + text;
  return `${path}.${text}`;
}
