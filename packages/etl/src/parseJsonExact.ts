import { LosslessNumber, isSafeNumber, parse, stringify } from 'lossless-json';

/**
 * Parses JSON text without losing numbers: a number JavaScript holds exactly becomes a `number`;
 * any other (integers beyond 2^53, `1e400`, `0.10000000000000000001`) becomes a lossless-json
 * `LosslessNumber` carrying its exact decimal text. `__proto__` keys become ordinary own
 * properties (never the prototype).
 *
 * Differs from `JSON.parse` in one documented way: an object with the same key twice and different
 * values is an error (RFC 8259 §4: names SHOULD be unique; we refuse to guess which one wins).
 *
 * @throws SyntaxError on malformed JSON or a duplicate key
 */
export function parseJsonExact(text: string): unknown {
  return parse(text, null, parseNumberExact);
}

/** Serialises a value from {@link parseJsonExact} back to JSON text, numbers exactly as received. */
export function stringifyJsonExact(value: unknown): string {
  const text = stringify(value);
  if (text === undefined) throw new TypeError('value cannot be represented as JSON');
  return text;
}

function parseNumberExact(text: string): number | LosslessNumber {
  return isSafeNumber(text) ? Number.parseFloat(text) : new LosslessNumber(text);
}
