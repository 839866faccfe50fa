import type { Lane as LaneName } from '@tasklane/config';
import type { TransformInfoJson } from '@tasklane/pipeline';
import type { InProcessExecutor } from './createInProcessExecutor.ts';
import type { Lane } from './Lane.ts';

/**
 * An in-process lane: the run executes inside this API process on the shared executor.
 * - `inline`: Elixir's `Task.start` — fire and forget; the response does not wait.
 * - `await`: `Task.async` + `Task.yield` — the route waits for `completion` up to the client's
 *   deadline, then answers 202 and lets the task carry on.
 * - `thread`: like inline, but `transform` runs in a worker-thread pool.
 * The run row names this instance as its owner, so a crash leaves it to be reaped as `lost`. The
 * owner is the instance's id at dispatch time (it changes when the instance is declared dead).
 */
export function createInProcessLane(deps: {
  name: Extract<LaneName, 'inline' | 'await' | 'thread'>;
  executor: InProcessExecutor;
  transform: TransformInfoJson;
  /** This API instance; its `id` is read at each use. */
  instance: { readonly id: string };
}): Lane {
  return {
    name: deps.name,
    get ownerId() {
      return deps.instance.id;
    },
    async dispatch(run) {
      const completion = deps.executor.submit(run.id, deps.transform);
      return { dispatched: true, completion };
    },
  };
}
