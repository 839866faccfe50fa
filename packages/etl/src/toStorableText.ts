const REPLACEMENT_CHARACTER = '\uFFFD';

/**
 * Makes a string storable in PostgreSQL `text` and `jsonb`, which reject U+0000 and invalid UTF-16
 * (lone surrogates cannot be encoded as UTF-8). Each U+0000 and each lone surrogate code unit is
 * replaced with U+FFFD REPLACEMENT CHARACTER, the Unicode convention for an unrepresentable
 * character (the same result as `String.prototype.toWellFormed` for surrogates). Well-formed
 * surrogate pairs (emoji) are kept.
 *
 * @param text - Any JavaScript string.
 * @returns `text` itself when nothing needs replacing (no copy), otherwise a repaired copy.
 * @see https://www.postgresql.org/docs/current/datatype-json.html (U+0000 is not allowed in jsonb)
 */
export function toStorableText(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) return repair(text, i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return repair(text, i);
      i += 1;
    }
  }
  return text;
}

function repair(text: string, from: number): string {
  let result = text.slice(0, from);
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) {
      result += REPLACEMENT_CHARACTER;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        result += text.slice(i, i + 2);
        i += 1;
      } else {
        result += REPLACEMENT_CHARACTER;
      }
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      result += REPLACEMENT_CHARACTER;
    } else {
      result += text[i] ?? '';
    }
  }
  return result;
}
