import { describe, expect, it } from 'vitest';
import { ratio, spreadOf } from './spread.ts';

describe('spreadOf', () => {
  it.each([
    { values: [3, 1, 2], median: 2, min: 1, max: 3, relative: 1 },
    { values: [4, 1, 3, 2], median: 2.5, min: 1, max: 4, relative: 1.2 },
    { values: [5, null, undefined, Number.NaN], median: 5, min: 5, max: 5, relative: 0 },
  ])('takes the median, min and max of $values, ignoring missing values', ({ values, median, min, max, relative }) => {
    const spread = spreadOf(values);
    expect(spread).toMatchObject({ median, min, max });
    expect(spread.relative).toBeCloseTo(relative);
  });

  it('reports nothing for no values rather than zeros', () => {
    expect(spreadOf([null])).toEqual({ median: null, min: null, max: null, relative: null, n: 0 });
  });
});

describe('ratio', () => {
  it.each([
    [10, 4, 2.5],
    [1, 0, null],
    [null, 2, null],
  ])('%s / %s is %s', (a, b, expected) => {
    expect(ratio(a, b)).toBe(expected);
  });
});
