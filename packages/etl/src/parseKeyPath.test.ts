import { describe, expect, it } from 'vitest';
import { appendKeySegment } from './encodeKeySegment.ts';
import type { KeySegment } from './encodeKeySegment.ts';
import { parseKeyPath } from './parseKeyPath.ts';

const name = (n: string): KeySegment => ({ kind: 'name', name: n });
const raw = (r: string): KeySegment => ({ kind: 'raw', raw: r });
const index = (i: number): KeySegment => ({ kind: 'index', index: i });

describe('parseKeyPath', () => {
  it.each<[string, KeySegment[]]>([
    ['action', [name('action')]],
    ['commits[0].author.name', [name('commits'), index(0), name('author'), name('name')]],
    ['[0]', [index(0)]],
    ['[1][20]', [index(1), index(20)]],
    ['""', [raw('')]],
    ['labels."".name', [name('labels'), raw(''), name('name')]],
    ['a."b.c".d', [name('a'), raw('b.c'), name('d')]],
    ['a."q\\"[0]".b', [name('a'), raw('q"[0]'), name('b')]],
    ['a."\\\\"', [name('a'), raw('\\')]],
    ['x."\\u0000"[3]', [name('x'), raw('\u0000'), index(3)]],
  ])('reads %j as its segments', (key, expected) => {
    expect(parseKeyPath(key)).toEqual(expected);
  });

  it.each<[KeySegment[]]>([
    [[name('a'), raw('.'), raw('"'), raw('\\'), index(10), raw('[1]'), name('z')]],
    [[index(0), raw(''), raw(''), index(0)]],
    [[raw('a\u0000\uD800'), name('b')]],
  ])('inverts appendKeySegment for %j', (segments) => {
    const key = segments.reduce(appendKeySegment, '');
    expect(parseKeyPath(key)).toEqual(segments);
  });

  it.each([
    ['', 'empty key'],
    ['a..b', 'empty name'],
    ['a.', 'empty name'],
    ['.a', 'empty name'],
    ['a[01]', 'bad array index'],
    ['a[x]', 'bad array index'],
    ['a[1', 'bad array index'],
    ['a."open', 'unterminated'],
    ['a"b"', 'expected'],
    ['""b', 'expected'],
  ])('rejects %j (%s)', (key, reason) => {
    expect(() => parseKeyPath(key)).toThrow(SyntaxError);
    expect(() => parseKeyPath(key)).toThrow(reason);
  });
});
