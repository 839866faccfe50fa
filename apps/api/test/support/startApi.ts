import { listenServer } from '@tasklane/ops';
// The API in this test process: `createApp(deps).callback()` on a `node:http` server on port 0, with
// a real database and a real queue lane on a prefix of its own.
import { createServer, type Server } from 'node:http';
import type { Db } from '@tasklane/db';
import { createQueues, createRedisConnection, type Queues, type RedisClient } from '@tasklane/queue';
import { pino, type Logger } from 'pino';
import { underContract } from '../../../../test/support/apiContract.ts';
import { createTestDb } from '../../../../test/support/testDb.ts';
import { deleteKeysWithPrefix, testRedisSettings, uniqueQueuePrefix } from '../../../../test/support/testQueue.ts';
import { createApp } from '../../src/createApp.ts';
import { createQueueLane } from '../../src/lanes/createQueueLane.ts';
import type { BodyThreads } from '../../src/resources/resourcesRouter.ts';

/** A pino log line as the test captured it. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A running in-process API and what it was built from. */
export interface TestApi {
  baseUrl: string;
  db: Db;
  queues: Queues;
  /** The producer connection of the lane (points at a dead port when `redisUrl` says so). */
  redis: RedisClient;
  prefix: string;
  /** Every line the API logged. */
  logs: LogLine[];
  close(): Promise<void>;
}

/** Job settings of the test queues: no retries, since no worker consumes them. */
const JOB_SETTINGS = {
  attempts: 1,
  backoffMs: 1000,
  keepCompleted: { count: 100, ageSeconds: 3600 },
  keepFailed: { count: 100, ageSeconds: 3600 },
};

/**
 * Starts the API on 127.0.0.1 and a free port.
 *
 * @param options.bodyLimitBytes - @defaultValue 1 MiB, as in production
 * @param options.redisUrl - the lane's Redis; @defaultValue the test Redis
 * @param options.enqueueTimeoutMs - @defaultValue 1000 ms, as in production
 * @param options.db - share a client instead of creating one (then `close()` leaves it open)
 * @param options.bodyThreads - validate large PUT bodies there; @defaultValue none (all on the event loop)
 */
export async function startApi(
  options: { bodyLimitBytes?: number; redisUrl?: string; enqueueTimeoutMs?: number; db?: Db; bodyThreads?: BodyThreads } = {},
): Promise<TestApi> {
  const logs: LogLine[] = [];
  const logger: Logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const db = options.db ?? createTestDb();
  const prefix = uniqueQueuePrefix();
  const redis = createRedisConnection(testRedisSettings(options.redisUrl), 'producer', { connectTimeoutMs: 1000 });
  redis.on('error', () => {}); // a dead Redis is a case under test; ioredis must not print "Unhandled error event"
  const queues = createQueues(redis, { prefix, jobs: JOB_SETTINGS, onError: () => {} }); // as for `redis` above
  const defaultLane = createQueueLane({ db, queues, enqueueTimeoutMs: options.enqueueTimeoutMs ?? 1000, logger });
  const app = createApp({
    db,
    logger,
    defaultLane,
    http: { bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024, publicUrl: undefined, bodyThreads: options.bodyThreads },
  });
  const server: Server = createServer(app.callback());
  const baseUrl = await listenServer(server, { host: '127.0.0.1', port: 0 });
  const leaveContract = underContract(baseUrl);
  return {
    baseUrl,
    db,
    queues,
    redis,
    prefix,
    logs,
    async close() {
      leaveContract();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      if (redis.status === 'ready') {
        await queues.close();
        await deleteKeysWithPrefix(redis, prefix);
        await redis.quit();
      } else {
        // Never connected (the dead-Redis case): closing the queue would wait for a connection.
        redis.disconnect();
      }
      if (!options.db) await db.$disconnect();
    },
  };
}
