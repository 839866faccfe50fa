import { describe, expect, it } from 'vitest';
import { createRequestPicker } from './requestMix.ts';

const mix = { idPool: 100, hotIds: 4, hotShare: 0.25 };

describe('createRequestPicker', () => {
  it('draws the same writes from the same seed, and different ones from another seed', () => {
    const draw = (seed: number) => {
      const pick = createRequestPicker(mix, seed, 10);
      return Array.from({ length: 50 }, () => pick());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('sends about hotShare of the writes to the hot ids and the rest over the pool', () => {
    const pick = createRequestPicker(mix, 1, 10);
    const writes = Array.from({ length: 20_000 }, () => pick());
    const hot = writes.filter((w) => w.id.startsWith('h'));
    expect(hot.length / writes.length).toBeGreaterThan(0.23);
    expect(hot.length / writes.length).toBeLessThan(0.27);
    expect(new Set(hot.map((w) => w.id)).size).toBe(4);
    expect(new Set(writes.filter((w) => w.id.startsWith('k')).map((w) => w.id)).size).toBe(100);
    expect(Math.max(...writes.map((w) => w.body))).toBe(9);
  });
});
