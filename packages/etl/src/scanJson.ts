import { isSafeNumber } from 'lossless-json';

/** What {@link scanJson} found in JSON text, outside and inside strings. */
export interface JsonScan {
  /**
   * Deepest nesting of arrays and objects (0 for a scalar, `{}` → 1, `{"a":[1]}` → 2), or
   * `stopAbove + 1` as soon as it exceeds `stopAbove` (the scan stops there and the other fields
   * cover only the text before that point).
   */
  depth: number;
  /** Object members: one `:` outside strings each (RFC 8259 §4). */
  members: number;
  /**
   * A number token that a JavaScript `number` does not hold exactly (lossless-json's
   * `isSafeNumber` is false: beyond 2^53, `1e400`, more digits than a double keeps).
   */
  unsafeNumber: boolean;
  /**
   * Inside a string, a `\u` escape of U+0000 or of a UTF-16 surrogate (`\ud800`–`\udfff`), a raw
   * U+0000 or a raw lone surrogate: every way a string can carry a character PostgreSQL `jsonb`
   * refuses. Paired surrogate escapes (an emoji written `\ud83d\ude00`) are reported too, the
   * caller checks exactly; raw pairs (an emoji as such) are not.
   */
  suspectEscape: boolean;
}

/** Integers of at most this many characters (sign included) are exact as doubles without asking. */
const SHORT_INTEGER = 15;

/**
 * One linear pass over JSON text that does not parse it: measures nesting, counts object members,
 * and looks for numbers a double cannot hold and for escapes of characters `jsonb` refuses. String
 * contents (with their escapes) are skipped for the structural counts. It does not check syntax:
 * on malformed text the counts are meaningless, and the caller's parser must refuse the text.
 *
 * Used to keep native `JSON.parse` on the common path: when no number is unsafe, and the parsed
 * tree has as many members as the text (no key repeated), `JSON.parse` gives exactly what
 * lossless-json would (see `parseJsonExact`).
 *
 * @param text - JSON text (any string)
 * @param stopAbove - stop once nesting exceeds this. @defaultValue no limit
 */
export function scanJson(text: string, stopAbove: number = Number.POSITIVE_INFINITY): JsonScan {
  let depth = 0;
  let deepest = 0;
  let members = 0;
  let unsafeNumber = false;
  let suspectEscape = false;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: find its end, looking only at escapes.
      for (i++; i < length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x22) break;
        if (s === 0x5c) {
          i++;
          if (text.charCodeAt(i) === 0x75 && isSuspectEscape(text, i + 1)) suspectEscape = true;
        } else if (s >= 0xd800 && s <= 0xdfff) {
          // A raw surrogate (only a string not decoded from UTF-8 has a lone one): pairs are fine.
          const low = text.charCodeAt(i + 1);
          if (s <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) i++;
          else suspectEscape = true;
        } else if (s === 0) {
          suspectEscape = true;
        }
      }
    } else if (c === 0x3a) {
      members++;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return { depth: stopAbove + 1, members, unsafeNumber, suspectEscape };
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      let plain = true; // digits only, after an optional '-'
      for (; j < length; j++) {
        const d = text.charCodeAt(j);
        if (d >= 0x30 && d <= 0x39) continue;
        if (d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) plain = false;
        else break;
      }
      if (!unsafeNumber && !(plain && j - i <= SHORT_INTEGER) && !isSafeNumber(text.slice(i, j))) unsafeNumber = true;
      i = j - 1;
    }
  }
  return { depth: deepest, members, unsafeNumber, suspectEscape };
}

/** True when the 4 hex digits at `at` are `0000` or `d800`–`dfff` (either case). */
function isSuspectEscape(text: string, at: number): boolean {
  const hex = Number.parseInt(text.slice(at, at + 4), 16);
  return hex === 0 || (hex >= 0xd800 && hex <= 0xdfff);
}
