import { isLosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { parseJsonExact, stringifyJsonExact } from './parseJsonExact.ts';

describe('parseJsonExact', () => {
  it.each([
    ['12345678901234567890'],
    ['-98765432109876543210'],
    ['1e400'],
    ['0.10000000000000000000001'],
  ])('keeps %s exact through a parse/stringify round trip', (number) => {
    const text = `{"n":${number}}`;
    const value = parseJsonExact(text) as { n: unknown };
    expect(isLosslessNumber(value.n)).toBe(true);
    expect(stringifyJsonExact(value)).toBe(text);
  });

  it('returns plain numbers for numbers JavaScript holds exactly', () => {
    expect(parseJsonExact('[1, -2.5, 9007199254740991]')).toEqual([1, -2.5, 9007199254740991]);
  });

  it('makes __proto__ an own key and leaves the prototype alone', () => {
    const value = parseJsonExact('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([['{"a":'], ['{"a":1,"a":2}'], ["{'a':1}"], ['']])('throws a SyntaxError on %j', (text) => {
    expect(() => parseJsonExact(text)).toThrow(SyntaxError);
  });
});
