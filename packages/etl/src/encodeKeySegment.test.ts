import { describe, expect, it } from 'vitest';
import { appendKeySegment, encodeKeySegment } from './encodeKeySegment.ts';
import type { KeySegment } from './encodeKeySegment.ts';

describe('encodeKeySegment', () => {
  it.each<[KeySegment, string]>([
    [{ kind: 'name', name: 'pull_request' }, 'pull_request'],
    [{ kind: 'index', index: 0 }, '[0]'],
    [{ kind: 'index', index: 42 }, '[42]'],
    [{ kind: 'raw', raw: '' }, '""'],
    [{ kind: 'raw', raw: 'fooBar' }, '"fooBar"'],
    [{ kind: 'raw', raw: 'a.b' }, '"a.b"'],
    [{ kind: 'raw', raw: 'say "hi"' }, '"say \\"hi\\""'],
    [{ kind: 'raw', raw: 'back\\slash' }, '"back\\\\slash"'],
    [{ kind: 'raw', raw: 'nul\u0000' }, '"nul\\u0000"'],
    [{ kind: 'raw', raw: 'lone\uD800' }, '"lone\\ud800"'],
  ])('writes %j as %s', (segment, expected) => {
    expect(encodeKeySegment(segment)).toBe(expected);
  });

  it('keeps distinct raw keys distinct even when they differ only in escaped characters', () => {
    const raws = ['a\u0000', 'a\uFFFD', 'a\\u0000', 'a\uD800', 'a\\ud800', 'a"', 'a\\"'];
    const encoded = new Set(raws.map((raw) => encodeKeySegment({ kind: 'raw', raw })));
    expect(encoded.size).toBe(raws.length);
  });
});

describe('appendKeySegment', () => {
  it.each<[string, KeySegment, string]>([
    ['', { kind: 'name', name: 'action' }, 'action'],
    ['', { kind: 'index', index: 0 }, '[0]'],
    ['', { kind: 'raw', raw: '' }, '""'],
    ['commits', { kind: 'index', index: 0 }, 'commits[0]'],
    ['commits[0]', { kind: 'name', name: 'author' }, 'commits[0].author'],
    ['matrix[1]', { kind: 'index', index: 2 }, 'matrix[1][2]'],
    ['reactions', { kind: 'raw', raw: '+1' }, 'reactions."+1"'],
  ])('appends to %j the segment %j as %j', (path, segment, expected) => {
    expect(appendKeySegment(path, segment)).toBe(expected);
  });
});
