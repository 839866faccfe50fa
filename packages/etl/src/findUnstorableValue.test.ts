import { describe, expect, it } from 'vitest';
import { findUnstorableValue } from './findUnstorableValue.ts';
import { parseJsonExact } from './parseJsonExact.ts';

describe('findUnstorableValue', () => {
  it.each([
    ['{"a":"x\\u0000y"}', '/a'],
    ['{"a":["ok","\\ud800"]}', '/a/1'],
    ['{"a\\u0000":1}', '/a\u0000'],
    ['{"a/b":{"~":"\\udc00"}}', '/a~1b/~0'],
    ['{"n":1e200000}', '/n'],
    ['{"n":1e-20000}', '/n'],
  ])('finds the problem in %s at %j', (text, pointer) => {
    expect(findUnstorableValue(parseJsonExact(text))?.pointer).toBe(pointer);
  });

  it.each([
    ['{"a":"emoji 😀","b":12345678901234567890,"c":1e400,"d":0e99999999,"e":-0}'],
    ['{"__proto__":{"constructor":{"prototype":1}}}'],
    ['[]'],
  ])('accepts %s', (text) => {
    expect(findUnstorableValue(parseJsonExact(text))).toBeUndefined();
  });
});
