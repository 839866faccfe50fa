import { describe, expect, it } from 'vitest';
import { parsePreferWait } from './parsePreferWait.ts';

describe('parsePreferWait', () => {
  it.each([
    ['wait=10', 10],
    ['respond-async, wait=5', 5],
    ['WAIT = 2.5', 2.5],
    ['wait="3"', 3],
    ['return=minimal', undefined],
    ['wait=-1', undefined],
    ['wait=soon', undefined],
    [undefined, undefined],
  ])('reads %j as %j', (header, expected) => {
    expect(parsePreferWait(header)).toBe(expected);
  });
});
