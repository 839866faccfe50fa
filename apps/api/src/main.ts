import { loadConfig } from '@tasklane/config';
import { abandonRuns, createDb } from '@tasklane/db';
import { transformInfoJson } from '@tasklane/etl';
import { createQueues, createRedisConnection, enqueueEtlRun } from '@tasklane/queue';
import { createHttpEnricher } from '@tasklane/pipeline';
import { createEtlRunMetrics, createMetricsRegistry, observeFinishedRuns } from '@tasklane/ops';
import { Piscina } from 'piscina';
import { pino } from 'pino';
import { checkOpenAccess } from './auth/checkOpenAccess.ts';
import { createApp } from './createApp.ts';
import { createApiInstanceIdentity } from './lifecycle/createApiInstanceIdentity.ts';
import { startInstanceHeartbeat } from './lifecycle/startInstanceHeartbeat.ts';
import { startOutboxRelay } from './lifecycle/startOutboxRelay.ts';
import { createInProcessExecutor } from './lanes/createInProcessExecutor.ts';
import { createInProcessLane } from './lanes/createInProcessLane.ts';
import { createNoneLane } from './lanes/createNoneLane.ts';
import { createQueueLane } from './lanes/createQueueLane.ts';
import type { Lane } from './lanes/Lane.ts';
import { listen } from './listen.ts';

const config = loadConfig();
// Its id changes when another instance declares this one dead (issue #9): read `instance.id` at use.
const instance = createApiInstanceIdentity();
const logger = pino({ level: config.log.level, base: { service: 'api' }, mixin: () => ({ instanceId: instance.id }) });
try {
  checkOpenAccess(config.env, config.auth, logger);
} catch (error) {
  logger.fatal((error as Error).message);
  process.exit(1);
}
/** Closed in reverse order of creation on shutdown. */
const closers: { name: string; close: () => Promise<unknown> }[] = [];

const db = createDb({ url: config.database.url, poolSize: config.database.poolSize });
closers.push({ name: 'database', close: () => db.$disconnect() });
const redis = createRedisConnection(config.redis.url, 'producer', { connectTimeoutMs: config.redis.connectTimeoutMs });
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
closers.push({ name: 'redis', close: () => redis.quit().catch(() => redis.disconnect()) });
const queues = createQueues(redis, { prefix: config.queue.prefix, jobs: config.queue });
closers.push({ name: 'queues', close: () => queues.close() });

async function requeue(runIds: readonly string[]): Promise<void> {
  for (const runId of runIds) {
    await enqueueEtlRun(queues, { runId }, { timeoutMs: config.redis.enqueueTimeoutMs }).catch((err: unknown) =>
      logger.warn({ runId, err }, 'could not enqueue a recovered run; it stays queued in the outbox'),
    );
  }
}

const testDelayMs = config.etlTestDelay.enabled ? config.etlTestDelay.delayMs : 0;
const enrich = config.enrichment.url ? createHttpEnricher({ url: config.enrichment.url, timeoutMs: config.enrichment.timeoutMs }) : undefined;
const registry = createMetricsRegistry();
const onRunFinished = observeFinishedRuns({ db, metrics: createEtlRunMetrics(registry), logger });
const executor = createInProcessExecutor({ db, logger, instance, concurrency: config.lanes.inProcessConcurrency, testDelayMs, enrich, onRunFinished });
const pool = new Piscina<string, ReturnType<typeof transformInfoJson>>({
  filename: new URL('./lanes/transformWorker.ts', import.meta.url).href,
  maxThreads: config.lanes.threadPoolSize,
  // Keep every thread alive: Piscina ends threads above minThreads as soon as they idle
  // (idleTimeout 0), and each new one reloads tsx and the ETL, so bursts churned threads and the
  // lane fell to ~16 runs/s (issue #6, measured by `npm run bench`).
  minThreads: config.lanes.threadPoolSize,
});
closers.push({ name: 'thread pool', close: () => pool.destroy() });
const inProcess = (name: 'inline' | 'await' | 'thread', transform: (json: string) => unknown) =>
  createInProcessLane({ name, executor, transform: transform as typeof transformInfoJson, instance });
const lanes: Lane[] = [
  createQueueLane({ queues, enqueueTimeoutMs: config.redis.enqueueTimeoutMs, logger }),
  inProcess('inline', transformInfoJson),
  inProcess('await', transformInfoJson),
  inProcess('thread', (json) => pool.run(json)),
  createNoneLane(),
];
const defaultLane = lanes.find((lane) => lane.name === config.lanes.defaultLane)!;

const heartbeat = await startInstanceHeartbeat({
  db,
  logger,
  instance,
  heartbeatMs: config.lifecycle.heartbeatMs,
  deadAfterMs: config.lifecycle.deadAfterMs,
  recovery: config.lifecycle.lostRunRecovery,
  onRequeued: requeue,
  executing: () => executor.unfinished(),
});
closers.push({ name: 'heartbeat', close: () => heartbeat.stop() });

const relay = startOutboxRelay({
  db,
  queues,
  logger,
  intervalMs: config.outboxRelay.intervalMs,
  afterMs: config.outboxRelay.afterMs,
  batchSize: config.outboxRelay.batchSize,
  enqueueTimeoutMs: config.redis.enqueueTimeoutMs,
});
closers.push({ name: 'outbox relay', close: () => relay.stop() });

const app = createApp({
  db,
  logger,
  defaultLane,
  otherLanes: lanes.filter((lane) => lane !== defaultLane),
  allowedLanes: config.lanes.allowed,
  awaitWait: { defaultSeconds: config.lanes.awaitDefaultWaitSeconds, maxSeconds: config.lanes.awaitMaxWaitSeconds },
  http: config.http,
  auth: config.auth,
  rateLimit: config.http.rateLimitWritesPerMinute ? { writesPerMinute: config.http.rateLimitWritesPerMinute, redis } : undefined,
  redis,
  queues: [queues.etlRun],
  board: { path: config.board.path, basicAuth: config.board.basicAuth, tokens: config.board.tokens, readOnly: config.board.readOnly },
  metrics: { registry, token: config.metrics.token, strandedAfterMs: config.outboxRelay.afterMs },
});
const server = await listen(app, config.http);
logger.info(
  {
    url: server.url,
    lanes: config.lanes.allowed,
    defaultLane: config.lanes.defaultLane,
    docs: `${server.url}/docs`,
    metrics: `${server.url}/metrics`,
    board: config.board.basicAuth || config.board.tokens.length > 0 ? `${server.url}${config.board.path}` : undefined,
  },
  `Tasklane API listening on ${server.url}`,
);

let stopping = false;
/**
 * Graceful stop: refuse new connections, let in-flight requests and in-process runs finish within
 * SHUTDOWN_GRACE_MS, record runs still unfinished then (lost, or handed to the queue lane), then
 * close everything in reverse order.
 */
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  const deadline = Date.now() + config.lifecycle.shutdownGraceMs;
  logger.info({ signal, graceMs: config.lifecycle.shutdownGraceMs }, 'shutting down: draining requests and in-process runs');
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Node keeps a connection alive when a response finishes after server.close(), so a keep-alive
  // client would hold `closed` open until its own idle timeout (or the deadline): close connections
  // as soon as they go idle.
  const closeIdle = setInterval(() => server.closeIdleConnections(), 50);
  let graceTimer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((resolve) => (graceTimer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
  clearInterval(closeIdle);
  clearTimeout(graceTimer);
  server.closeAllConnections();
  const unfinished = await executor.drain(Math.max(0, deadline - Date.now()));
  if (unfinished.length > 0) {
    const recovery = config.lifecycle.lostRunRecovery;
    const reason = `API instance ${instance.id} stopped (${signal}) before the run finished within the ${config.lifecycle.shutdownGraceMs} ms grace period`;
    const abandoned = await abandonRuns(db, unfinished, { reason, recovery, ownerId: instance.id });
    logger.warn({ runIds: abandoned, recovery }, `${abandoned.length} in-process run(s) unfinished at shutdown`);
    if (recovery === 'queue') await requeue(abandoned);
  }
  for (const { name, close } of closers.reverse()) {
    await close().catch((err: unknown) => logger.error({ err, resource: name }, 'error during shutdown'));
  }
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
