import { listenServer } from '@tasklane/ops';
// The API of the operations tests: `createApp(deps).callback()` on a real server (port 0), with the
// real PostgreSQL and Redis, a queue lane on a prefix of its own, and whichever issue-#5 options
// (access control, board, metrics, CORS, rate limit) the test turns on.
import { createServer, type Server } from 'node:http';
import type { Db } from '@tasklane/db';
import { createMetricsRegistry } from '@tasklane/ops';
import { createQueues, createRedisConnection, type Queues } from '@tasklane/queue';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { underContract } from '../../../../../test/support/apiContract.ts';
import { createTestDb } from '../../../../../test/support/testDb.ts';
import { deleteKeysWithPrefix, testRedisSettings, uniqueQueuePrefix } from '../../../../../test/support/testQueue.ts';
import { createApp, type AppDeps } from '../../../src/createApp.ts';
import type { Lane } from '../../../src/lanes/Lane.ts';
import { createQueueLane } from '../../../src/lanes/createQueueLane.ts';

/** A pino line as captured. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A running app and what it was built from. */
export interface OpsApp {
  baseUrl: string;
  db: Db;
  redis: Redis;
  queues: Queues;
  prefix: string;
  registry: Registry;
  logger: Logger;
  logs: LogLine[];
  close(): Promise<void>;
}

/** What a test may set: any optional dependency of `createApp`, plus where PostgreSQL and Redis are. */
export interface OpsAppOptions extends Partial<Omit<AppDeps, 'db' | 'logger' | 'defaultLane' | 'http'>> {
  http?: Partial<AppDeps['http']>;
  /** Share a client; `close()` then leaves it open. @defaultValue a new client on the test database */
  db?: Db;
  /** Redis of the queue lane and of `/readyz`. @defaultValue the test Redis */
  redisUrl?: string;
  /** Lanes besides the queue lane, which is the default lane. */
  lanes?: (deps: { db: Db; logger: Logger }) => Lane[];
  /** Turns on the write rate limit, counted in this app's Redis (under a key prefix of its own) or in memory. */
  writeLimit?: { writesPerMinute: number; inRedis: boolean };
}

const JOB_SETTINGS = { attempts: 1, backoffMs: 1000, keepCompleted: { count: 100, ageSeconds: 3600 }, keepFailed: { count: 100, ageSeconds: 3600 } };

/** Starts the app on 127.0.0.1 and a free port. */
export async function startOpsApp(options: OpsAppOptions = {}): Promise<OpsApp> {
  const logs: LogLine[] = [];
  const logger: Logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const db = options.db ?? createTestDb();
  const prefix = uniqueQueuePrefix();
  const redis = createRedisConnection(testRedisSettings(options.redisUrl), 'producer', { connectTimeoutMs: 500 }) as Redis; // one node, from a URL
  redis.on('error', () => {}); // a dead Redis is a case under test
  // The producer connection has no offline queue: wait until it is up (or has failed) so a test's
  // first request does not race the connect.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    redis.once('ready', () => (clearTimeout(timer), resolve()));
    redis.once('error', () => (clearTimeout(timer), resolve()));
  });
  const queues = createQueues(redis, { prefix, jobs: JOB_SETTINGS, onError: () => {} }); // as for `redis` above
  const registry = options.metrics?.registry ?? createMetricsRegistry();
  const defaultLane = createQueueLane({ db, queues, enqueueTimeoutMs: 1000, logger });
  const { http, db: _db, redisUrl: _redisUrl, lanes, writeLimit, ...rest } = options;
  const app = createApp({
    redis,
    queues: [queues.etlRun],
    ...rest,
    db,
    logger,
    defaultLane,
    otherLanes: lanes?.({ db, logger }) ?? [],
    metrics: { ...options.metrics, registry },
    ...(writeLimit
      ? { rateLimit: { writesPerMinute: writeLimit.writesPerMinute, ...(writeLimit.inRedis ? { redis, keyPrefix: `${prefix}:rate-limit` } : {}) } }
      : {}),
    http: { bodyLimitBytes: 1024 * 1024, publicUrl: undefined, ...http },
  });
  const server: Server = createServer(app.callback());
  const baseUrl = await listenServer(server, { host: '127.0.0.1', port: 0 });
  const leaveContract = underContract(baseUrl);
  return {
    baseUrl,
    db,
    redis,
    queues,
    prefix,
    registry,
    logger,
    logs,
    async close() {
      leaveContract();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      // A queue on a dead or closed connection would wait for it: close only a live one.
      if (redis.status === 'ready') await queues.close().catch(() => {});
      redis.disconnect();
      if (!options.redisUrl) {
        // Clean up on a connection of its own: the app's may be the one a test broke.
        const cleanup = createRedisConnection(testRedisSettings(), 'worker');
        await deleteKeysWithPrefix(cleanup, prefix);
        await cleanup.quit();
      }
      if (!options.db) await db.$disconnect();
    },
  };
}

/** A TCP port on 127.0.0.1 nothing listens on: connections to it are refused. */
export { freePort as closedPort } from '../../../../../test/support/freePort.ts';
