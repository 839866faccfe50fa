import { describe, expect, it } from 'vitest';
import { appendKeySegment } from './encodeKeySegment.ts';
import { flattenInfo } from './flattenInfo.ts';
import { measureInfo } from './measureInfo.ts';
import { parseKeyPath } from './parseKeyPath.ts';
import { toStorableText } from './toStorableText.ts';

/** Keys and values only, in output order. */
const flat = (info: unknown): [string, unknown][] => flattenInfo(info).map((leaf) => [leaf.key, leaf.value]);

/** Mulberry32: a tiny seeded PRNG, so the random inputs are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Keys chosen to collide: separators, escapes, empty, index-like, case and punctuation variants. */
const HOSTILE_KEYS = [
  'a', 'b', 'A', 'a_b', 'aB', 'a.b', 'a-b', 'A B', 'a__b', '_a', 'a_', 'fooBar', 'foo_bar', 'FOO_BAR',
  '', ' ', '.', '..', '"', '\\', '\\"', '[', ']', '[0]', '0', '1', '00', '+1', '-1', '---', '""',
  '__proto__', 'constructor', 'prototype', 'x\u0000', 'x\uFFFD', 'x\\u0000', '\uD800', 'é', 'É',
];

function randomInfo(random: () => number, depth: number): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  if (depth > 4 || random() < 0.3) return pick([1, 'x', true, null, '', 0]);
  const size = Math.floor(random() * 6);
  if (random() < 0.35) return Array.from({ length: size }, () => randomInfo(random, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = 0; i < size; i++) {
    const key = random() < 0.8 ? pick(HOSTILE_KEYS) : pick(HOSTILE_KEYS) + pick(HOSTILE_KEYS);
    // defineProperty, because assigning `__proto__` would set the prototype instead of a key.
    Object.defineProperty(object, key, {
      value: randomInfo(random, depth + 1),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return object;
}

describe('flattenInfo', () => {
  it.each<[string, string, [string, unknown][]]>([
    ['nested objects join names with dots', '{"a":{"b":1}}', [['a.b', 1]]],
    ['a key containing a dot becomes one name', '{"a.b":1}', [['a_b', 1]]],
    ['a dotted key and nested keys stay apart', '{"a.b":1,"a":{"b":2}}', [['a_b', 1], ['a.b', 2]]],
    ['array elements are bracketed indexes', '{"commits":[{"id":"x"},{"id":"y"}]}', [['commits[0].id', 'x'], ['commits[1].id', 'y']]],
    ['a top-level array starts with an index', '[1,[2]]', [['[0]', 1], ['[1][0]', 2]]],
    ['an index-like object key is not an index', '{"0":1}', [['0', 1]]],
    ['an array element is an index', '[1]', [['[0]', 1]]],
    ['a bracketed key is quoted, not an index', '{"[0]":1,"a":[2]}', [['"[0]"', 1], ['a[0]', 2]]],
    ['an empty key is quoted', '{"":1,"x":{"":2}}', [['""', 1], ['x.""', 2]]],
    ['a key without letters is quoted', '{"+1":1,"-1":2,"---":3}', [['"+1"', 1], ['"-1"', 2], ['"---"', 3]]],
    ['camelCase is normalised', '{"pullRequest":{"HTMLUrl":"u"}}', [['pull_request.html_url', 'u']]],
    ['the exact snake_case key wins a collision wherever it is', '{"fooBar":1,"foo_bar":2}', [['"fooBar"', 1], ['foo_bar', 2]]],
    ['otherwise the first colliding key wins', '{"fooBar":1,"FooBar":2,"foo-bar":3}', [['foo_bar', 1], ['"FooBar"', 2], ['"foo-bar"', 3]]],
    ['a key holding null still claims its name', '{"fooBar":1,"foo_bar":null}', [['"fooBar"', 1], ['foo_bar', null]]],
    ['quotes and backslashes in keys are escaped', '{"a\\"b":1,"a_b":2}', [['"a\\"b"', 1], ['a_b', 2]]],
    ['a quoted key may contain dots and brackets', '{"x.y[0]":1,"x_y_0":2}', [['"x.y[0]"', 1], ['x_y_0', 2]]],
    ['NUL in a key is escaped, not replaced', '{"a\\u0000":1,"a\\ufffd":2,"a":3}', [['"a\\u0000"', 1], ['"a�"', 2], ['a', 3]]],
    ['empty containers yield no leaves', '{"a":{},"b":[],"c":[{}]}', []],
    ['null and empty strings are kept for coerceValue to drop', '{"a":null,"b":""}', [['a', null], ['b', '']]],
  ])('%s', (_behaviour, json, expected) => {
    expect(flat(JSON.parse(json))).toEqual(expected);
  });

  it.each([['__proto__'], ['constructor'], ['prototype']])('treats %j as an ordinary key at any depth', (key) => {
    const info = JSON.parse(`{"${key}":{"${key}":{"polluted":true}},"x":[{"${key}":1}]}`) as unknown;
    expect(flat(info)).toEqual([
      [`${key}.${key}.polluted`, true],
      [`x[0].${key}`, 1],
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('marks leaves under a secret-looking key, at any depth below it', () => {
    const info = { user: { login: 'octo', password: 'p', credentials: { list: ['a'], note: 'n' } }, token: 't' };
    expect(flattenInfo(info).map((leaf) => [leaf.key, leaf.secret])).toEqual([
      ['user.login', false],
      ['user.password', true],
      ['user.credentials.list[0]', true],
      ['user.credentials.note', true],
      ['token', true],
    ]);
  });

  it('checks secrecy on the snake_case name even when the key is quoted after a collision', () => {
    const leaves = flattenInfo({ api_key: 'a', apiKey: 'b', safe: 'c' });
    expect(leaves.map((leaf) => [leaf.key, leaf.secret])).toEqual([
      ['api_key', true],
      ['"apiKey"', true],
      ['safe', false],
    ]);
  });

  it('uses a custom secret test when given one', () => {
    const leaves = flattenInfo({ ssn: '1', token: '2' }, { isSecretKey: (name) => name === 'ssn' });
    expect(leaves.map((leaf) => leaf.secret)).toEqual([true, false]);
  });

  it('walks 10,000 levels of nesting without recursion', () => {
    let info: unknown = { leaf: 'bottom' };
    for (let i = 0; i < 10_000; i++) info = i % 2 === 0 ? { a: info } : [info];
    const leaves = flattenInfo(info);
    expect(leaves).toHaveLength(1);
    expect(leaves[0]?.key).toBe(`${'[0].a'.repeat(5_000)}.leaf`);
    expect(leaves[0]?.value).toBe('bottom');
  });

  it.each<[string, unknown]>([
    ['a string', 'x'],
    ['a number', 1],
    ['null', null],
    ['undefined', undefined],
  ])('rejects %s at the top level', (_label, info) => {
    expect(() => flattenInfo(info)).toThrow(TypeError);
  });

  it('rejects a circular reference instead of looping', () => {
    const info: Record<string, unknown> = { a: { b: 1 } };
    (info.a as Record<string, unknown>).self = info;
    expect(() => flattenInfo(info)).toThrow('circular reference at a.self');
  });

  it('walks a value shared by two keys twice, since that is not a cycle', () => {
    const shared = { v: 1 };
    expect(flat({ x: shared, y: shared })).toEqual([['x.v', 1], ['y.v', 1]]);
  });

  it.each([[1], [2], [3], [42], [2024]])(
    'gives every leaf of random hostile input %i a distinct, parseable, storable key',
    (seed) => {
      const random = mulberry32(seed);
      for (let round = 0; round < 200; round++) {
        const info = { root: randomInfo(random, 0) };
        const leaves = flattenInfo(info);
        const keys = leaves.map((leaf) => leaf.key);
        expect(new Set(keys).size).toBe(keys.length);
        expect(leaves.length).toBe(measureInfo(info).leafCount);
        for (const key of keys) {
          expect(toStorableText(key)).toBe(key);
          expect(parseKeyPath(key).reduce(appendKeySegment, '')).toBe(key);
        }
      }
    },
  );
});
