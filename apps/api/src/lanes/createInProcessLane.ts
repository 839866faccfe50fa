import type { Lane as LaneName } from '@tasklane/config';
import type { InProcessExecutor, InProcessTransform } from './createInProcessExecutor.ts';
import type { Lane } from './Lane.ts';

/** What {@link createInProcessLane} uses. */
export interface InProcessLaneOptions {
  name: Extract<LaneName, 'inline' | 'await' | 'thread'>;
  executor: InProcessExecutor;
  transform: InProcessTransform;
  /** This API instance; its `id` is read at each use. */
  instance: { readonly id: string };
  /**
   * When the executor is full (`IN_PROCESS_QUEUE_LIMIT`): the lane that takes the write instead
   * (`IN_PROCESS_OVERFLOW=queue`). @defaultValue none: the write is refused with 503
   */
  overflow?: Lane;
  /** `Retry-After` of that 503, in seconds (`IN_PROCESS_RETRY_AFTER_SECONDS`). @defaultValue 1 */
  retryAfterSeconds?: number;
}

/**
 * An in-process lane: the run executes inside this API process on the shared executor.
 * - `inline`: Elixir's `Task.start` — fire and forget; the response does not wait.
 * - `await`: `Task.async` + `Task.yield` — the route waits for `completion` up to the client's
 *   deadline, then answers 202 and lets the task carry on.
 * - `thread`: like inline, but `transform` runs in a worker-thread pool.
 * The run row names this instance as its owner, so a crash leaves it to be reaped as `lost`. The
 * owner is the instance's id at dispatch time (it changes when the instance is declared dead).
 * Admission reserves room in the executor before the write (see `Lane.admit`).
 */
export function createInProcessLane(deps: InProcessLaneOptions): Lane {
  return {
    name: deps.name,
    get ownerId() {
      return deps.instance.id;
    },
    admit() {
      const reservation = deps.executor.tryReserve();
      if (reservation) return { admitted: true, reservation };
      return {
        admitted: false,
        reason: `the in-process lanes of this API instance are full (${deps.executor.waiting} run(s) waiting)`,
        retryAfterSeconds: deps.retryAfterSeconds ?? 1,
        ...(deps.overflow ? { overflow: deps.overflow } : {}),
      };
    },
    async dispatch(run, context) {
      const completion = deps.executor.submit(run.id, deps.transform, context.reservation);
      return { dispatched: true, completion };
    },
  };
}
