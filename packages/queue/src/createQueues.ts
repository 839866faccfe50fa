import type { Telemetry } from 'bullmq';
import { Queue } from 'bullmq';
import type { RedisClient } from './createRedisConnection.ts';
import type { EtlRunJobSettings } from './etlRunQueue.ts';
import { QUEUE_NAMES, etlRunJobOptions } from './etlRunQueue.ts';

/** The queues a producer uses. */
export interface Queues {
  etlRun: Queue;
  /** The producer connection every queue here shares (owned by the caller, not closed by {@link Queues.close}). */
  connection: RedisClient;
  /** Closes every queue (not the connection, which the caller owns). */
  close(): Promise<void>;
}

/** Options of {@link createQueues}. */
export interface CreateQueuesOptions {
  /**
   * Key prefix containing a Redis Cluster hash tag (`{tasklane}`, config `QUEUE_PREFIX`). Tasklane
   * tags the prefix, not each queue name: every key of every queue then lives in one slot, so
   * BullMQ's scripts that touch two queues at once (flows, a child moving its parent) work on a
   * Cluster too; the price is that one master holds all queues (spread them with one prefix per
   * queue family if ever needed).
   */
  prefix: string;
  /** Retry and retention settings applied as the queue's default job options. */
  jobs: EtlRunJobSettings;
  /**
   * Receives every `error` event of the queues (BullMQ re-emits its connection's errors there).
   * Pass a rate-limited logger (`createErrorLog` of @tasklane/ops). @defaultValue `console.error`
   */
  onError?: (error: Error) => void;
  /**
   * BullMQ's telemetry (`tracing.bullmq` of @tasklane/tracing, i.e. `bullmq-otel`): every add is a
   * producer span whose context travels in the job to the worker's consumer span. @defaultValue off
   */
  telemetry?: Telemetry | undefined;
}

/**
 * Creates Tasklane's queues on one producer connection.
 *
 * The queues skip BullMQ's Redis version check (`skipVersionCheck`). In BullMQ 6.7 a Queue's
 * connection wrapper (`RedisConnection`) runs `init()` once, in its constructor, and every later
 * call awaits that one promise (`RedisConnection.client`). The version check is the only command
 * `init()` sends (`INFO`); when its reply is slow (a Redis under load, a flapping network) the
 * producer's `commandTimeout` rejects it, the rejection stays cached, and every enqueue fails at
 * once with `Command timed out` until the process restarts (issue #9). Without it, `init()` only
 * waits for the shared connection's `ready`, which ioredis reaches again by itself after any
 * failure, so nothing can poison the queue. The cost: BullMQ assumes its minimum Redis (5.0.0)
 * and takes its Lua fallbacks for `getState` and `isJobInState`, which are correct on any Redis
 * (BullMQ recommends ≥ 6.2; docker-compose pins 7).
 *
 * @param connection - a producer connection from `createRedisConnection(config.redis, 'producer')` (one node, Sentinel or Cluster)
 */
export function createQueues(connection: RedisClient, options: CreateQueuesOptions): Queues {
  const etlRun = new Queue(QUEUE_NAMES.etlRun, {
    connection,
    prefix: options.prefix,
    skipVersionCheck: true,
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    defaultJobOptions: etlRunJobOptions(options.jobs),
  });
  // A producer must not crash when Redis blinks (an `error` event without a listener throws), and
  // must not hide it either: the caller logs it (rate-limited); calls surface it as rejections too.
  etlRun.on('error', options.onError ?? ((error) => console.error(`queue ${QUEUE_NAMES.etlRun} error: ${error.message}`)));
  return {
    etlRun,
    connection,
    close: async () => {
      await etlRun.close();
    },
  };
}
