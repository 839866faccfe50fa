import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EtlRunJobSettings } from './etlRunQueue.ts';
import { QUEUE_NAMES, etlRunJobOptions } from './etlRunQueue.ts';

/** The queues a producer uses. */
export interface Queues {
  etlRun: Queue;
  /** Closes every queue (not the connection, which the caller owns). */
  close(): Promise<void>;
}

/**
 * Creates Tasklane's queues on one producer connection.
 *
 * @param connection - an ioredis connection from `createRedisConnection(url, 'producer')`
 * @param options.prefix - key prefix, a `{hash tag}` so a queue's keys share one Redis Cluster slot
 * @param options.jobs - retry and retention settings applied as the queue's default job options
 */
export function createQueues(connection: Redis, options: { prefix: string; jobs: EtlRunJobSettings }): Queues {
  const etlRun = new Queue(QUEUE_NAMES.etlRun, {
    connection,
    prefix: options.prefix,
    defaultJobOptions: etlRunJobOptions(options.jobs),
  });
  // A producer must not crash when Redis blinks; errors surface on add() and in readiness checks.
  etlRun.on('error', () => {});
  return {
    etlRun,
    close: async () => {
      await etlRun.close();
    },
  };
}
