import { describe, expect, it } from 'vitest';
import { parseTimestamp } from './parseTimestamp.ts';

describe('parseTimestamp', () => {
  it.each([
    ['2019-05-15T15:20:33Z', '2019-05-15T15:20:33.000Z'],
    ['2019-05-15T08:20:33-07:00', '2019-05-15T15:20:33.000Z'],
    ['2019-05-15T17:20:33+02:00', '2019-05-15T15:20:33.000Z'],
    ['2019-05-15T15:20:33.5Z', '2019-05-15T15:20:33.500Z'],
    ['2019-05-15T15:20:33.123456789Z', '2019-05-15T15:20:33.123Z'],
    ['2019-05-15t15:20:33z', '2019-05-15T15:20:33.000Z'],
    ['2019-12-31T23:30:00-01:00', '2020-01-01T00:30:00.000Z'],
    ['2020-02-29T00:00:00Z', '2020-02-29T00:00:00.000Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
    ['0050-06-01T00:00:00Z', '0050-06-01T00:00:00.000Z'],
  ])('normalises %j to UTC %j', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  it.each([
    ['2019-02-30T00:00:00Z', 'day past the end of February'],
    ['2019-02-29T00:00:00Z', 'February 29 in a common year'],
    ['1900-02-29T00:00:00Z', 'February 29 in a century year'],
    ['2019-13-01T00:00:00Z', 'month 13'],
    ['2019-00-01T00:00:00Z', 'month 0'],
    ['2019-04-31T00:00:00Z', 'April 31'],
    ['2019-05-15T24:00:00Z', 'hour 24'],
    ['2019-05-15T23:60:00Z', 'minute 60'],
    ['2016-12-31T23:59:60Z', 'leap second'],
    ['2019-05-15T15:20:33+24:00', 'offset hour 24'],
    ['2019-05-15T15:20:33', 'no offset'],
    ['2019-05-15', 'date only'],
    ['2019-05-15 15:20:33Z', 'space instead of T'],
    ['2019-05-15T15:20:33+0200', 'offset without colon'],
    ['2019-05-15T15:20Z', 'no seconds'],
    ['2019-05-15T15:20:33.Z', 'empty fraction'],
    [' 2019-05-15T15:20:33Z', 'leading space'],
    ['2019-05-15T15:20:33Z ', 'trailing space'],
  ])('rejects %j (%s)', (text) => {
    expect(parseTimestamp(text)).toBeUndefined();
  });
});
