import { LosslessNumber, isLosslessNumber, isSafeNumber, parse, stringify } from 'lossless-json';
import { scanJson } from './scanJson.ts';

/**
 * Parses JSON text without losing numbers: a number JavaScript holds exactly becomes a `number`;
 * any other (integers beyond 2^53, `1e400`, `0.10000000000000000001`) becomes a lossless-json
 * `LosslessNumber` carrying its exact decimal text. `__proto__` keys become ordinary own
 * properties (never the prototype).
 *
 * Differs from `JSON.parse` in one documented way: an object with the same key twice and different
 * values is an error (RFC 8259 §4: names SHOULD be unique; we refuse to guess which one wins).
 *
 * Speed (issue #10): one scan ({@link scanJson}) and native `JSON.parse` when no number is unsafe
 * and the tree has as many object members as the text (no key repeated); lossless-json (a parser
 * in JavaScript) only for text with an unsafe number, a repeated key, or a syntax error (so its
 * error messages are kept).
 *
 * @throws SyntaxError on malformed JSON or a duplicate key
 */
export function parseJsonExact(text: string): unknown {
  const scan = scanJson(text);
  if (!scan.unsafeNumber) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return parseLossless(text); // throws lossless-json's SyntaxError, as before
    }
    if (countMembers(value) === scan.members) return value;
  }
  return parseLossless(text);
}

/** `JSON.rawJSON` (Node ≥ 21; not in TypeScript 5.9's lib): a value `JSON.stringify` writes verbatim. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * Serialises a value from {@link parseJsonExact} back to JSON text, numbers exactly as received:
 * native `JSON.stringify`, with each `LosslessNumber` (and `bigint`) written as its decimal text
 * through `JSON.rawJSON`. Gives the same text as lossless-json's `stringify`.
 *
 * @throws TypeError when the value cannot be represented as JSON (undefined, a function)
 */
export function stringifyJsonExact(value: unknown): string {
  const text = JSON.stringify(value, exactNumberReplacer) as string | undefined;
  if (text === undefined) throw new TypeError('value cannot be represented as JSON');
  return text;
}

function exactNumberReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && isLosslessNumber(value)) return rawJSON(value.value);
  if (typeof value === 'bigint') return rawJSON(value.toString());
  return value;
}

/** The lossless-json parse, for the texts the fast path does not take. */
export function parseLossless(text: string): unknown {
  return parse(text, null, parseNumberExact);
}

/** Object members in a parsed tree (own keys of every object), walked without recursion. */
export function countMembers(value: unknown): number {
  let members = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current !== 'object' || current === null) continue;
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) if (typeof current[i] === 'object') stack.push(current[i]);
      continue;
    }
    for (const key in current) {
      members++;
      const child = (current as Record<string, unknown>)[key];
      if (typeof child === 'object') stack.push(child);
    }
  }
  return members;
}

function parseNumberExact(text: string): number | LosslessNumber {
  return isSafeNumber(text) ? Number.parseFloat(text) : new LosslessNumber(text);
}
