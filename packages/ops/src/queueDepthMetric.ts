import type { JobType, Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import { registeredMetric } from './createMetricsRegistry.ts';

/** The job states reported by `tasklane_queue_jobs` (BullMQ 6's `getJobCounts` names; a paused queue keeps its jobs in `waiting`). */
export const QUEUE_JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'waiting-children', 'completed', 'failed'] as const satisfies readonly JobType[];

/**
 * Registers `tasklane_queue_jobs{queue,state}`, read from Redis (`Queue.getJobCounts`) at scrape
 * time. When Redis does not answer within `timeoutMs` (a BullMQ queue waits for its connection
 * indefinitely), the scrape still succeeds without the series and a warning is logged, so one
 * dependency's outage does not hide every other metric.
 *
 * @param options.timeoutMs - longest wait per queue, in ms. @defaultValue 1000
 */
export function registerQueueDepthMetric(registry: Registry, queues: readonly Queue[], logger: Logger, options: { timeoutMs?: number } = {}): void {
  const timeoutMs = options.timeoutMs ?? 1000;
  registeredMetric(
    registry,
    'tasklane_queue_jobs',
    () =>
      new Gauge({
        name: 'tasklane_queue_jobs',
        help: 'Jobs in each BullMQ queue by state (completed and failed as retained), read at scrape time.',
        labelNames: ['queue', 'state'] as const,
        registers: [registry],
        async collect() {
          this.reset();
          for (const queue of queues) {
            try {
              const counts = await withTimeout(queue.getJobCounts(...QUEUE_JOB_STATES), timeoutMs);
              for (const state of QUEUE_JOB_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
            } catch (error) {
              logger.warn({ queue: queue.name, err: (error as Error).message }, 'metrics: could not read queue job counts');
            }
          }
        },
      }),
  );
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  promise.catch(() => {}); // a late rejection after the deadline is not unhandled
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
