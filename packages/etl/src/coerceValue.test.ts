import { LosslessNumber, parse, parseLosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { coerceValue } from './coerceValue.ts';
import type { CoercedValue } from './coerceValue.ts';

const typed = (value: CoercedValue['value'], valueType: CoercedValue['valueType']): CoercedValue => ({
  value,
  valueType,
});

describe('coerceValue', () => {
  it.each<[string, CoercedValue]>([
    ['42', typed(42, 'integer')],
    ['0', typed(0, 'integer')],
    ['-7', typed(-7, 'integer')],
    ['9007199254740991', typed(9007199254740991, 'integer')],
    ['9007199254740993', typed('9007199254740993', 'integer')],
    ['12345678901234567890', typed('12345678901234567890', 'integer')],
    ['-12345678901234567890', typed('-12345678901234567890', 'integer')],
    ['-3.5', typed(-3.5, 'number')],
    ['0.25', typed(0.25, 'number')],
    ['0.1', typed(0.1, 'number')],
    ['true', typed(true, 'boolean')],
    ['false', typed(false, 'boolean')],
    ['TRUE', typed(true, 'boolean')],
    ['False', typed(false, 'boolean')],
    ['2019-05-15T15:20:33Z', typed('2019-05-15T15:20:33.000Z', 'timestamp')],
    ['2019-05-15T08:20:33-07:00', typed('2019-05-15T15:20:33.000Z', 'timestamp')],
    ['2019-05-15T15:20:33.123+00:00', typed('2019-05-15T15:20:33.123Z', 'timestamp')],
  ])('coerces the string %j', (text, expected) => {
    expect(coerceValue(text)).toEqual(expected);
  });

  it.each([
    ['007', 'leading zeros (zip codes, ids)'],
    ['00', 'leading zeros'],
    ['-0', 'negative zero'],
    ['+5', 'explicit plus sign'],
    [' 42 ', 'surrounding spaces'],
    ['42 ', 'trailing space'],
    ['1,000', 'thousands separator'],
    ['0x1A', 'hex literal'],
    ['1e5', 'exponent form'],
    ['1E+21', 'exponent form'],
    ['Infinity', 'Infinity'],
    ['-Infinity', '-Infinity'],
    ['NaN', 'NaN'],
    ['1.0', 'trailing zero (version-like)'],
    ['1.50', 'trailing zero'],
    ['.5', 'missing integer part'],
    ['1.', 'missing fraction'],
    ['3.14159265358979323846', 'more digits than a double holds'],
    ['1.2.3', 'version'],
    ['6dcb09b5b57875f334f61aebed695e2e4193db5e', 'hex SHA'],
    ['123abc', 'digits then letters'],
    ['yes', 'yes'],
    ['truee', 'almost true'],
    [' true', 'space before true'],
    ['2019-02-30T00:00:00Z', 'invalid date'],
    ['2019-05-15', 'date without time'],
    ['2019-05-15T15:20:33', 'local time without offset'],
    ['-', 'lone minus'],
  ])('keeps %j as a string (%s)', (text) => {
    expect(coerceValue(text)).toEqual(typed(text, 'string'));
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['the empty string', ''],
    ['a space', ' '],
    ['tabs and newlines', '\t\n\r '],
    ['a non-breaking space', '\u00A0'],
    ['an ideographic space', '\u3000'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['an invalid Date', new Date(Number.NaN)],
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
  ])('drops %s', (_label, leaf) => {
    expect(coerceValue(leaf)).toBeUndefined();
  });

  it.each<[string, unknown, CoercedValue]>([
    ['true', true, typed(true, 'boolean')],
    ['false', false, typed(false, 'boolean')],
    ['a safe integer', 42, typed(42, 'integer')],
    ['negative zero', -0, typed(0, 'integer')],
    ['a fraction', 1.5, typed(1.5, 'number')],
    ['an integer beyond 2^53', 2 ** 60, typed(2 ** 60, 'number')],
    ['a safe bigint', 42n, typed(42, 'integer')],
    ['a big bigint', 12345678901234567890n, typed('12345678901234567890', 'integer')],
    ['a Date', new Date('2019-05-15T15:20:33Z'), typed('2019-05-15T15:20:33.000Z', 'timestamp')],
  ])('types %s', (_label, leaf, expected) => {
    expect(coerceValue(leaf)).toEqual(expected);
  });

  it.each<[string, CoercedValue]>([
    ['42', typed(42, 'integer')],
    ['-0', typed(0, 'integer')],
    ['1.0', typed(1, 'integer')],
    ['1.5', typed(1.5, 'number')],
    ['12345678901234567890', typed('12345678901234567890', 'integer')],
    ['-98765432109876543210', typed('-98765432109876543210', 'integer')],
    ['1.000000000000000000001', typed('1.000000000000000000001', 'number')],
    ['1e400', typed('1e400', 'number')],
    ['1e-400', typed('1e-400', 'number')],
  ])('types LosslessNumber(%j) by its exact value', (text, expected) => {
    expect(coerceValue(new LosslessNumber(text))).toEqual(expected);
  });

  it('gives a safe number the same value whether JSON.parse or lossless-json read it', () => {
    const text = '{"id": 6811672, "score": 9.8, "big": 12345678901234567890}';
    const lossless = parse(text, null, parseLosslessNumber) as Record<string, unknown>;
    const plain = JSON.parse(text) as Record<string, unknown>;
    expect(coerceValue(lossless.id)).toEqual(coerceValue(plain.id));
    expect(coerceValue(lossless.score)).toEqual(coerceValue(plain.score));
    expect(coerceValue(lossless.big)).toEqual(typed('12345678901234567890', 'integer'));
    expect(coerceValue(plain.big)).toEqual(typed(12345678901234567000, 'number'));
  });

  it('replaces U+0000 and lone surrogates in strings with U+FFFD', () => {
    expect(coerceValue('a\u0000b\uD800')).toEqual(typed('a\uFFFDb\uFFFD', 'string'));
  });

  it.each([['42'], ['true'], ['2019-05-15T15:20:33Z']])('keeps %j a string when coerceStrings is false', (text) => {
    expect(coerceValue(text, { coerceStrings: false })).toEqual(typed(text, 'string'));
  });

  it('still drops blank strings when coerceStrings is false', () => {
    expect(coerceValue('  ', { coerceStrings: false })).toBeUndefined();
  });
});
