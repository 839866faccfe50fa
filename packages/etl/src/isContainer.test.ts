import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { isContainer } from './isContainer.ts';

describe('isContainer', () => {
  it.each<[string, unknown]>([
    ['an object', { a: 1 }],
    ['an empty object', {}],
    ['an array', [1]],
    ['an empty array', []],
    ['a null-prototype object', Object.create(null) as object],
    ['an object spoofing the LosslessNumber flag', { isLosslessNumber: true, value: '1' }],
  ])('walks into %s', (_label, value) => {
    expect(isContainer(value)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'x'],
    ['a number', 1],
    ['a LosslessNumber', new LosslessNumber('1')],
    ['a Date', new Date(0)],
  ])('treats %s as a leaf', (_label, value) => {
    expect(isContainer(value)).toBe(false);
  });
});
