/**
 * Calls `task` on every item with at most `concurrency` calls in flight, and resolves with the
 * results in input order. A rejected task rejects the whole call (callers that want to keep going
 * catch inside `task`), after which no new task is started.
 *
 * @param items - the work, in order
 * @param concurrency - most tasks in flight at once; a positive integer
 * @param task - called once per item with the item and its index
 * @throws RangeError when `concurrency` is not a positive integer
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  async function drain(): Promise<void> {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index] as T, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, drain));
  return results;
}
