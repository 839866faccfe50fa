import { hostname } from 'node:os';
import { loadConfig } from '@tasklane/config';
import { createDb } from '@tasklane/db';
import { createQueues, createRedisConnection } from '@tasklane/queue';
import { pino } from 'pino';
import { createApp } from './createApp.ts';
import { createQueueLane } from './lanes/createQueueLane.ts';
import { listen } from './listen.ts';

const config = loadConfig();
const logger = pino({ level: config.log.level, base: { service: 'api', hostname: hostname(), pid: process.pid } });
const closers: (() => Promise<unknown>)[] = [];

const db = createDb({ url: config.database.url, poolSize: config.database.poolSize });
closers.push(() => db.$disconnect());
const redis = createRedisConnection(config.redis.url, 'producer', { connectTimeoutMs: config.redis.connectTimeoutMs });
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
closers.push(() => redis.quit().catch(() => redis.disconnect()));
const queues = createQueues(redis, { prefix: config.queue.prefix, jobs: config.queue });
closers.push(() => queues.close());

if (config.lanes.defaultLane !== 'queue') {
  logger.fatal({ lane: config.lanes.defaultLane }, 'ETL_LANE: only the queue lane is available in this version');
  process.exit(1);
}
const defaultLane = createQueueLane({ queues, enqueueTimeoutMs: config.redis.enqueueTimeoutMs, logger });
const app = createApp({ db, logger, defaultLane, http: config.http });
const server = await listen(app, config.http);
closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
logger.info({ url: server.url }, `Tasklane API listening on ${server.url}`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  for (const close of closers.reverse()) {
    await close().catch((err: unknown) => logger.error({ err }, 'error during shutdown'));
  }
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
