import { describe, expect, it } from 'vitest';
import { toStorableText } from './toStorableText.ts';

describe('toStorableText', () => {
  it.each([
    ['a\u0000b', 'a\uFFFDb'],
    ['\u0000\u0000', '\uFFFD\uFFFD'],
    ['lone high \uD83D end', 'lone high \uFFFD end'],
    ['lone low \uDE00 end', 'lone low \uFFFD end'],
    ['high at end \uD83D', 'high at end \uFFFD'],
    ['reversed \uDE00\uD83D', 'reversed \uFFFD\uFFFD'],
    ['pair then nul 😀\u0000', 'pair then nul 😀\uFFFD'],
  ])('repairs %j', (input, expected) => {
    expect(toStorableText(input)).toBe(expected);
  });

  it.each([[''], ['plain'], ['emoji 😀 pair'], ['\uFFFD already replaced']])('keeps %j as it is', (input) => {
    expect(toStorableText(input)).toBe(input);
  });
});
