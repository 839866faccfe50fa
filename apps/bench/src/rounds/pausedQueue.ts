import { createQueues, createRedisConnection } from '@tasklane/queue';
import type { BenchContext } from './BenchContext.ts';

/**
 * Runs `work` with the stack's `etl-run` queue paused (BullMQ `Queue.pause()`: workers take no job;
 * adds still land), and resumes it afterwards, whatever happens.
 */
export async function withPausedQueue<T>(ctx: BenchContext, work: () => Promise<T>): Promise<T> {
  const connection = createRedisConnection(ctx.stack.redis, 'producer');
  const queues = createQueues(connection, { prefix: ctx.stack.queuePrefix, jobs: ctx.defaults.queue });
  try {
    await queues.etlRun.waitUntilReady();
    await queues.etlRun.pause();
    return await work();
  } finally {
    await queues.etlRun.resume().catch(() => undefined);
    await queues.close();
    connection.disconnect();
  }
}
