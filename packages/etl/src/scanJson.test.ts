import { describe, expect, it } from 'vitest';
import { scanJson } from './scanJson.ts';

describe('scanJson', () => {
  it.each([
    // text, depth, members, unsafeNumber, suspectEscape
    ['7', 0, 0, false, false],
    ['{}', 1, 0, false, false],
    ['{"a":[1,{"b":2}]}', 3, 2, false, false],
    ['[[],[[]]]', 3, 0, false, false],
    // brackets, colons and escaped quotes inside strings are not structure
    ['{"a":"[[[[{{{{::"}', 1, 1, false, false],
    ['{"a":"\\"[[[:"}', 1, 1, false, false],
    ['{"a\\\\":"\\\\"}', 1, 1, false, false],
    // a repeated key still counts twice: the caller compares with the parsed tree
    ['{"a":1,"a":1}', 1, 2, false, false],
    // numbers: short integers, safe decimals, and the unsafe ones lossless-json keeps as text
    ['[123456789012345,-12345678901234,0.5,1e2,-0,1.0]', 1, 0, false, false],
    ['[9007199254740993]', 1, 0, true, false],
    ['[-9007199254740993]', 1, 0, true, false],
    ['[1e400]', 1, 0, true, false],
    ['[0.10000000000000000001]', 1, 0, true, false],
    ['[9007199254740992.0]', 1, 0, true, false],
    ['{"n":"9007199254740993"}', 1, 1, false, false],
    // escapes PostgreSQL jsonb refuses, in values and keys, either case
    ['{"a":"x\\u0000y"}', 1, 1, false, true],
    ['{"\\u0000":1}', 1, 1, false, true],
    ['["\\ud800"]', 1, 0, false, true],
    ['["\\uDFFF"]', 1, 0, false, true],
    ['["\\ud83d\\ude00"]', 1, 0, false, true],
    ['["\\u0041\\u00e9\\ue000"]', 1, 0, false, false],
    ['["\\\\u0000"]', 1, 0, false, false],
    // raw characters: a pair (emoji) is fine, a lone surrogate or U+0000 is suspect
    ['["😀"]', 1, 0, false, false],
    ['["\ud800x"]', 1, 0, false, true],
    ['["x\udc00"]', 1, 0, false, true],
    ['["\u0000"]', 1, 0, false, true],
  ] as const)('scans %s', (text, depth, members, unsafeNumber, suspectEscape) => {
    expect(scanJson(text)).toEqual({ depth, members, unsafeNumber, suspectEscape });
  });

  it('stops at the first nesting beyond the limit, on hostile nesting', () => {
    expect(scanJson('['.repeat(10_000) + ']'.repeat(10_000), 64).depth).toBe(65);
    expect(scanJson('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000), 64)).toEqual({ depth: 65, members: 64, unsafeNumber: false, suspectEscape: false });
  });

  it('counts exactly up to the limit', () => {
    expect(scanJson('['.repeat(64) + ']'.repeat(64), 64).depth).toBe(64);
  });

  it('does not throw on malformed text (the parser refuses it)', () => {
    for (const text of ['', '{', '"', '"\\', '["\\u00"]', '[-]', '[1e]', '}}}', '\ud800']) {
      expect(() => scanJson(text)).not.toThrow();
    }
  });
});
