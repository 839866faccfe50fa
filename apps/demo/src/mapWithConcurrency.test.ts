import { describe, expect, it } from 'vitest';
import { mapWithConcurrency } from './mapWithConcurrency.ts';

/** A promise with its resolve exposed, so a test decides when each task ends. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('mapWithConcurrency', () => {
  it('returns results in input order even when tasks finish out of order', async () => {
    const gates = [deferred(), deferred(), deferred()];
    const result = mapWithConcurrency([0, 1, 2], 3, async (item) => {
      await gates[item]!.promise;
      return item * 10;
    });
    gates[2]!.resolve();
    gates[0]!.resolve();
    gates[1]!.resolve();
    expect(await result).toEqual([0, 10, 20]);
  });

  it('never has more than `concurrency` tasks in flight', async () => {
    const gates = Array.from({ length: 7 }, () => deferred());
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    const result = mapWithConcurrency(gates, 3, async (gate, index) => {
      started.push(index);
      peak = Math.max(peak, ++inFlight);
      await gate.promise;
      inFlight--;
    });
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[1]!.resolve();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const gate of gates) gate.resolve();
    await result;
    expect(peak).toBe(3);
    expect(started).toHaveLength(7);
  });

  it('rejects with the first task error and starts no further task', async () => {
    const started: number[] = [];
    const result = mapWithConcurrency([0, 1, 2, 3], 1, async (item) => {
      started.push(item);
      if (item === 1) throw new Error('boom');
    });
    await expect(result).rejects.toThrow('boom');
    expect(started).toEqual([0, 1]);
  });

  it('handles an empty list', async () => {
    expect(await mapWithConcurrency([], 4, async () => 1)).toEqual([]);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses concurrency %s', async (concurrency) => {
    await expect(mapWithConcurrency([1], concurrency, async () => 1)).rejects.toThrow(RangeError);
  });
});
