import { hostname } from 'node:os';
import { loadConfig } from '@tasklane/config';
import { createDb } from '@tasklane/db';
import { transformInfoJson } from '@tasklane/etl';
import { QUEUE_NAMES, createRedisConnection } from '@tasklane/queue';
import { Worker } from 'bullmq';
import { pino } from 'pino';
import { createEtlRunProcessor } from './createEtlRunProcessor.ts';
import { createHttpEnricher } from '@tasklane/pipeline';

const config = loadConfig();
const logger = pino({ level: config.log.level, base: { service: 'worker', hostname: hostname(), pid: process.pid } });
const closers: (() => Promise<unknown>)[] = [];

const db = createDb({ url: config.database.url, poolSize: Math.max(2, config.worker.concurrency + 1) });
closers.push(() => db.$disconnect());
const connection = createRedisConnection(config.redis.url, 'worker', { connectTimeoutMs: config.redis.connectTimeoutMs });
connection.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
closers.push(() => connection.quit().catch(() => connection.disconnect()));

const processor = createEtlRunProcessor({
  db,
  logger,
  transform: transformInfoJson,
  testDelayMs: config.etlTestDelay.enabled ? config.etlTestDelay.delayMs : 0,
  enrich: config.enrichment.url ? createHttpEnricher({ url: config.enrichment.url, timeoutMs: config.enrichment.timeoutMs }) : undefined,
});
const worker = new Worker(QUEUE_NAMES.etlRun, processor, {
  connection,
  prefix: config.queue.prefix,
  concurrency: config.worker.concurrency,
  lockDuration: config.worker.lockDurationMs,
  stalledInterval: config.worker.stalledIntervalMs,
});
worker.on('error', (err) => logger.error({ err }, 'worker error'));
// Graceful stop: take no new jobs and let active ones finish; past the grace period, cancel them
// (their processors see the abort signal and fail the attempt, so BullMQ schedules a retry and no
// job is left `active`).
closers.push(async () => {
  const grace = setTimeout(() => {
    logger.warn({ graceMs: config.worker.shutdownGraceMs }, 'grace period over: cancelling active jobs');
    worker.cancelAllJobs('worker shutting down: grace period over');
  }, config.worker.shutdownGraceMs);
  await worker.close();
  clearTimeout(grace);
});
await worker.waitUntilReady();
logger.info(
  { queue: QUEUE_NAMES.etlRun, prefix: config.queue.prefix, concurrency: config.worker.concurrency },
  `Tasklane worker consuming ${config.queue.prefix}:${QUEUE_NAMES.etlRun} with concurrency ${config.worker.concurrency}`,
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: no new jobs, finishing active ones');
  for (const close of closers.reverse()) {
    await close().catch((err: unknown) => logger.error({ err }, 'error during shutdown'));
  }
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
