/**
 * Snake_case normalisation of one object key, as used for context record key segments.
 *
 * @module
 */

type CharClass = 'upper' | 'lower' | 'digit' | 'separator';

const UPPER = /^[\p{Lu}\p{Lt}]$/u;
const WORD_CHAR = /^[\p{L}\p{M}]$/u;
const DIGIT = /^\p{N}$/u;

/**
 * Converts one object key to lower snake_case: `pullRequest` → `pull_request`, `HTMLUrl` → `html_url`,
 * `node-id` → `node_id`, `Some Key` → `some_key`.
 *
 * Rules, in order:
 * 1. A key that is already lower snake case (only `a-z`, `0-9` and `_`, at least one character) is
 *    returned unchanged, so GitHub's `_links`, `__proto__` or `foo__bar` keep their underscores.
 * 2. Otherwise the key is split into words. Letters (`\p{L}`, with combining marks `\p{M}`) and digits
 *    (`\p{N}`) form words; every other character (space, `-`, `.`, `_`, `+`, U+0000, lone surrogates,
 *    emoji, …) only separates words and is dropped. A new word also starts at an upper-case letter that
 *    follows a lower-case letter or digit (`fooBar`, `v2Api`), and at the last capital of an acronym
 *    that is followed by a lower-case letter (`HTMLUrl` → `HTML` + `Url`). Going from letters to digits
 *    does not start a word (`sha256`, `SHA256Hash` → `sha256_hash`).
 * 3. Words are lower-cased (`String.prototype.toLowerCase`, locale-independent) and joined with `_`.
 * 4. A key with no letter at all (`+1`, `-1`, `1.5`, `---`, `""`) has no name to normalise and yields
 *    `''`; the caller writes such keys verbatim (see {@link encodeKeySegment}).
 *
 * The result never contains `.`, `[`, `"`, U+0000 or a lone surrogate, which the key format relies on.
 * Normalisation is not injective (`fooBar` and `foo_bar` both give `foo_bar`); {@link flattenInfo}
 * resolves such collisions.
 *
 * @param key - Raw object key, any string.
 * @returns The snake_case name, or `''` when the key contains no letter.
 */
export function toSnakeCase(key: string): string {
  if (isLowerSnakeCase(key)) return key;

  const chars = Array.from(key);
  const classes = chars.map(classify);
  let result = '';
  let word = '';
  let sawLetter = false;
  for (let i = 0; i < chars.length; i++) {
    const cls = classes[i];
    if (cls === 'separator') {
      result = flushWord(result, word);
      word = '';
      continue;
    }
    if (cls === 'upper' && word !== '') {
      const previous = classes[i - 1];
      const acronymEnds = previous === 'upper' && classes[i + 1] === 'lower';
      if (previous === 'lower' || previous === 'digit' || acronymEnds) {
        result = flushWord(result, word);
        word = '';
      }
    }
    if (cls !== 'digit') sawLetter = true;
    word += (chars[i] ?? '').toLowerCase();
  }
  result = flushWord(result, word);
  return sawLetter ? result : '';
}

function flushWord(result: string, word: string): string {
  if (word === '') return result;
  return result === '' ? word : `${result}_${word}`;
}

/** True for a non-empty string made only of `a-z`, `0-9` and `_`, checked without a regex. */
function isLowerSnakeCase(key: string): boolean {
  if (key.length === 0) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const ok = (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95;
    if (!ok) return false;
  }
  return true;
}

function classify(char: string): CharClass {
  const c = char.charCodeAt(0);
  if (c < 128) {
    if (c >= 97 && c <= 122) return 'lower';
    if (c >= 65 && c <= 90) return 'upper';
    if (c >= 48 && c <= 57) return 'digit';
    return 'separator';
  }
  if (UPPER.test(char)) return 'upper';
  if (WORD_CHAR.test(char)) return 'lower';
  if (DIGIT.test(char)) return 'digit';
  return 'separator';
}
