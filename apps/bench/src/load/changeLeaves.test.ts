import { describe, expect, it } from 'vitest';
import { changeLeaves, leafPaths } from './changeLeaves.ts';

describe('changeLeaves', () => {
  const info = { a: 1, b: { c: 'x', d: [true, null, 2] }, e: {} };

  it('lists every leaf, not empty containers', () => {
    expect(leafPaths(info)).toEqual([['a'], ['b', 'c'], ['b', 'd', 0], ['b', 'd', 1], ['b', 'd', 2]]);
  });

  it('changes exactly k leaves of a copy, the same ones for the same seed', () => {
    const { info: changed, changed: count } = changeLeaves(info, 2, 7);
    expect(count).toBe(2);
    const at = (root: unknown, path: (string | number)[]) => path.reduce((v, step) => (v as Record<string | number, unknown>)[step], root);
    const differing = leafPaths(info).filter((path) => at(info, path) !== at(changed, path));
    expect(differing).toHaveLength(2);
    expect(changeLeaves(info, 2, 7).info).toEqual(changed);
    expect(info).toEqual({ a: 1, b: { c: 'x', d: [true, null, 2] }, e: {} });
  });
});
