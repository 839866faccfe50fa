import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { measureInfo } from './measureInfo.ts';
import type { InfoMeasure } from './measureInfo.ts';

function nest(levels: number): unknown {
  let info: unknown = 'bottom';
  for (let i = 0; i < levels; i++) info = i % 2 === 0 ? { a: info } : [info];
  return info;
}

describe('measureInfo', () => {
  it.each<[string, unknown, InfoMeasure]>([
    ['a scalar at the top', 'x', { depth: 0, leafCount: 1 }],
    ['null at the top', null, { depth: 0, leafCount: 1 }],
    ['an empty object', {}, { depth: 1, leafCount: 0 }],
    ['an empty array', [], { depth: 1, leafCount: 0 }],
    ['a flat object', { a: 1, b: 'x', c: null, d: '' }, { depth: 1, leafCount: 4 }],
    ['one nested object', { a: { b: 1 } }, { depth: 2, leafCount: 1 }],
    ['nested arrays', [[1, 2], [[3]]], { depth: 3, leafCount: 3 }],
    ['empty containers inside', { a: {}, b: [[]] }, { depth: 3, leafCount: 0 }],
    ['the deepest branch, not the last', { deep: { x: { y: 1 } }, flat: 2 }, { depth: 3, leafCount: 2 }],
    ['LosslessNumber and Date as scalars', { n: new LosslessNumber('1'), d: new Date(0) }, { depth: 1, leafCount: 2 }],
    ['__proto__ as an ordinary key', JSON.parse('{"__proto__":{"a":1}}'), { depth: 2, leafCount: 1 }],
  ])('measures %s', (_label, info, expected) => {
    expect(measureInfo(info)).toEqual(expected);
  });

  it('measures 10,000 levels of nesting without recursion', () => {
    expect(measureInfo(nest(10_000))).toEqual({ depth: 10_000, leafCount: 1 });
  });

  it('counts 100,000 keys of one object', () => {
    const info = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
    expect(measureInfo(info)).toEqual({ depth: 1, leafCount: 100_000 });
  });

  it('stops once the depth exceeds maxDepth, reporting a depth just past it', () => {
    expect(measureInfo(nest(10_000), { maxDepth: 32 })).toEqual({ depth: 33, leafCount: 0 });
  });

  it('stops once the leaf count exceeds maxLeaves, reporting a count just past it', () => {
    const info = Array.from({ length: 100_000 }, (_, i) => i);
    expect(measureInfo(info, { maxLeaves: 10_000 })).toEqual({ depth: 1, leafCount: 10_001 });
  });

  it('returns exact counts when the limits are not exceeded', () => {
    const info = { a: [1, 2, { b: 3 }] };
    expect(measureInfo(info, { maxDepth: 3, maxLeaves: 3 })).toEqual({ depth: 3, leafCount: 3 });
  });

  it('rejects a circular reference instead of looping', () => {
    const info: unknown[] = [1];
    info.push({ back: info });
    expect(() => measureInfo(info)).toThrow(TypeError);
  });
});
