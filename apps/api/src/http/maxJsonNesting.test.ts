import { describe, expect, it } from 'vitest';
import { maxJsonNesting } from './maxJsonNesting.ts';

describe('maxJsonNesting', () => {
  it.each([
    ['7', 0],
    ['{}', 1],
    ['{"a":[1,{"b":2}]}', 3],
    ['{"a":"[[[[{{{{"}', 1],
    ['{"a":"\\"[[["}', 1],
    ['[[],[[]]]', 3],
  ])('measures %s as %i', (text, expected) => {
    expect(maxJsonNesting(text, 100)).toBe(expected);
  });

  it('stops early on hostile nesting', () => {
    expect(maxJsonNesting('['.repeat(10_000) + ']'.repeat(10_000), 64)).toBe(65);
  });
});
