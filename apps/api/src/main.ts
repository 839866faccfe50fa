import { setTimeout as sleep } from 'node:timers/promises';
import { describeRedis, loadConfig } from '@tasklane/config';
import { abandonRuns, createDb, markRunsPublished } from '@tasklane/db';
import { transformInfoJson } from '@tasklane/etl';
import { createQueues, createRedisConnection, enqueueEtlRuns, isRedisAuthError } from '@tasklane/queue';
import { createHttpEnricher } from '@tasklane/pipeline';
import { startTracing } from '@tasklane/tracing';
import { createErrorLog, createEtlRunMetrics, createLogger, createMetricsRegistry, observeFinishedRuns, queueProbe } from '@tasklane/ops';
import { Piscina } from 'piscina';
import { checkOpenAccess } from './auth/checkOpenAccess.ts';
import { createApp } from './createApp.ts';
import { createApiInstanceIdentity } from './lifecycle/createApiInstanceIdentity.ts';
import { startInstanceHeartbeat } from './lifecycle/startInstanceHeartbeat.ts';
import { startOutboxRelay } from './lifecycle/outboxRelay.ts';
import { startRetention } from './lifecycle/retention.ts';
import { createInProcessExecutor, type InProcessTransform } from './lanes/createInProcessExecutor.ts';
import { createInProcessLane } from './lanes/createInProcessLane.ts';
import { createNoneLane } from './lanes/createNoneLane.ts';
import { createQueueLane } from './lanes/createQueueLane.ts';
import type { Lane } from './lanes/Lane.ts';
import type { PreparePutOutcome } from './resources/preparePutBody.ts';
import { listen } from './listen.ts';

const config = loadConfig();
// Its id changes when another instance declares this one dead (issue #9): read `instance.id` at use.
const instance = createApiInstanceIdentity();
const logger = createLogger({ ...config.log, nodeEnv: config.env, base: { service: 'api' }, mixin: () => ({ instanceId: instance.id }) });
try {
  checkOpenAccess(config.env, config.auth, logger);
} catch (error) {
  logger.fatal((error as Error).message);
  process.exit(1);
}
/** Closed in reverse order of creation on shutdown. */
const closers: { name: string; close: () => Promise<unknown> }[] = [];

// First, so BullMQ's queues get its telemetry; closed last, so the spans of the drain are exported.
// Off unless an OTLP endpoint or OTEL_TRACES_EXPORTER is set: then no OpenTelemetry code is loaded.
const tracing = await startTracing(config.tracing, { defaultServiceName: 'tasklane-api' });
closers.push({ name: 'tracing', close: () => tracing.shutdown() });

const db = createDb(config.database);
closers.push({ name: 'database', close: () => db.$disconnect() });
// The one producer connection of the process (issue #11): queues, outbox relay, rate limiter,
// readiness, Bull Board and metrics all use it, on one node, a Cluster or through Sentinel alike.
const redis = createRedisConnection(config.redis, 'producer');
// BullMQ re-emits the connection's errors on the queue: one rate-limited log serves both, so each
// distinct message is logged at most once per 10 s. Refused credentials are a configuration error,
// logged as such (the API keeps serving what needs no Redis; /readyz says Redis is down).
const logRedisError = createErrorLog(logger, { source: 'redis producer' });
const logRedisAuthError = createErrorLog(logger, { source: 'redis producer', level: 'error' });
const redisTarget = describeRedis(config.redis);
redis.on('error', (error: Error) =>
  isRedisAuthError(error)
    ? logRedisAuthError(new Error(`${redisTarget} refused the credentials (check REDIS_USERNAME / REDIS_PASSWORD or the URL's): ${error.message}`))
    : logRedisError(error),
);
closers.push({ name: 'redis', close: () => redis.quit().catch(() => redis.disconnect()) });
const queues = createQueues(redis, {
  prefix: config.queue.prefix,
  jobs: config.queue,
  onError: (error) => (isRedisAuthError(error) ? undefined : logRedisError(error)),
  telemetry: tracing.bullmq,
});
closers.push({ name: 'queues', close: () => queues.close() });

/** Publishes recovered runs (reaped or abandoned to the queue lane); the outbox relay retries what fails here. */
async function requeue(runIds: readonly string[]): Promise<void> {
  try {
    await enqueueEtlRuns(queues, runIds.map((runId) => ({ runId })), { timeoutMs: config.redis.enqueueTimeoutMs });
    await markRunsPublished(db, runIds);
  } catch (err) {
    logger.warn({ runIds, err: (err as Error).message }, 'could not publish recovered runs; they stay queued for the outbox relay');
  }
}

const testDelayMs = config.etlTestDelay.enabled ? config.etlTestDelay.delayMs : 0;
const enrich = config.enrichment.url ? createHttpEnricher({ url: config.enrichment.url, timeoutMs: config.enrichment.timeoutMs }) : undefined;
const registry = createMetricsRegistry();
const onRunFinished = observeFinishedRuns({ db, metrics: createEtlRunMetrics(registry), logger });
const executor = createInProcessExecutor({
  db,
  logger,
  instance,
  concurrency: config.lanes.inProcessConcurrency,
  queueLimit: config.lanes.inProcessQueueLimit,
  testDelayMs,
  enrich,
  onRunFinished,
  tracing,
});
const pool = new Piscina<string, ReturnType<typeof transformInfoJson>>({
  filename: new URL('./lanes/transformWorker.ts', import.meta.url).href,
  maxThreads: config.lanes.threadPoolSize,
  // Keep every thread alive: Piscina ends threads above minThreads as soon as they idle
  // (idleTimeout 0), and each new one reloads tsx and the ETL, so bursts churned threads and the
  // lane fell to ~16 runs/s (issue #6, measured by `npm run bench`).
  minThreads: config.lanes.threadPoolSize,
});
closers.push({ name: 'thread pool', close: () => pool.destroy() });
const queueLane = createQueueLane({ db, queues, enqueueTimeoutMs: config.redis.enqueueTimeoutMs, logger });
const inProcess = (name: 'inline' | 'await' | 'thread', transform: InProcessTransform) =>
  createInProcessLane({
    name,
    executor,
    transform,
    instance,
    retryAfterSeconds: config.lanes.inProcessRetryAfterSeconds,
    ...(config.lanes.inProcessOverflow === 'queue' ? { overflow: queueLane } : {}),
  });
const lanes: Lane[] = [
  queueLane,
  inProcess('inline', transformInfoJson),
  inProcess('await', transformInfoJson),
  // The signal cancels the thread task at shutdown (Piscina terminates the thread running it).
  inProcess('thread', (json, signal) => pool.run(json, { signal })),
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
  instanceId: instance.id,
  ...config.outboxRelay,
  redisTimeoutMs: config.redis.enqueueTimeoutMs,
  tracing,
});
closers.push({ name: 'outbox relay', close: () => relay.stop() });

const retention = startRetention({ db, logger, holder: instance.id, ...config.retention });
closers.push({ name: 'retention', close: () => retention.stop() });

// Aborted when the shutdown grace period is up (see shutdown): waiting `await` requests answer then.
const stopWaiting = new AbortController();
const app = createApp({
  db,
  logger,
  defaultLane,
  otherLanes: lanes.filter((lane) => lane !== defaultLane),
  allowedLanes: config.lanes.allowed,
  awaitWait: { defaultSeconds: config.lanes.awaitDefaultWaitSeconds, maxSeconds: config.lanes.awaitMaxWaitSeconds },
  stopWaiting: stopWaiting.signal,
  http: {
    ...config.http,
    // Large PUT bodies are parsed in the thread lane's pool, off the event loop (issue #10).
    bodyThreads:
      config.http.bodyThreadMinBytes > 0
        ? {
            minBytes: config.http.bodyThreadMinBytes,
            // Same pool, another export of transformWorker.ts: Piscina types one task shape per pool.
            run: (task) => (pool as unknown as Piscina<typeof task, PreparePutOutcome>).run(task, { name: 'preparePut' }),
          }
        : undefined,
  },
  auth: config.auth,
  rateLimit: config.http.rateLimitWritesPerMinute ? { writesPerMinute: config.http.rateLimitWritesPerMinute, redis } : undefined,
  redis,
  queues: [queues.etlRun],
  readinessProbes: { enqueue: queueProbe(queues.etlRun) },
  board: { path: config.board.path, basicAuth: config.board.basicAuth, tokens: config.board.tokens, readOnly: config.board.readOnly },
  metrics: { registry, token: config.metrics.token, strandedAfterMs: config.outboxRelay.afterMs },
  statsMaxWindowSeconds: config.stats.maxWindowSeconds,
  tracing,
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
if (tracing.enabled) logger.info({ exporters: config.tracing.exporters, url: config.tracing.otlp.url }, 'tracing on: spans exported by OpenTelemetry');

let stopping = false;
/**
 * Graceful stop: refuse new connections, let in-flight requests and in-process runs finish within
 * SHUTDOWN_GRACE_MS, cancel the runs still unfinished then and record them (lost, or handed to the
 * queue lane), then close everything in reverse order. Whatever is down (PostgreSQL, Redis), the
 * process exits by the grace period plus SHUTDOWN_HARD_DEADLINE_MS (issue #9); runs it could not
 * record then stay owned by this instance, whose silence lets a live instance's reaper take them.
 */
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  const deadline = Date.now() + config.lifecycle.shutdownGraceMs;
  exitByHardDeadline(config.lifecycle.shutdownGraceMs + config.lifecycle.hardDeadlineMs);
  logger.info({ signal, graceMs: config.lifecycle.shutdownGraceMs }, 'shutting down: draining requests and in-process runs');
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Node keeps a connection alive when a response finishes after server.close(), so a keep-alive
  // client would hold `closed` open until its own idle timeout (or the deadline): close connections
  // as soon as they go idle.
  const closeIdle = setInterval(() => server.closeIdleConnections(), 50);
  let graceTimer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((resolve) => (graceTimer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
  clearTimeout(graceTimer);
  // Grace is up. An `await` request still waiting for its run has committed its write: answer it
  // (202 and the run as it stands, to poll) rather than close its connection under it, and give
  // those answers a moment to go out before the remaining connections are closed.
  stopWaiting.abort();
  await Promise.race([closed, sleep(Math.min(500, config.lifecycle.hardDeadlineMs / 4))]);
  clearInterval(closeIdle);
  server.closeAllConnections();
  const unfinished = await executor.drain(Math.max(0, deadline - Date.now()), Math.min(1000, config.lifecycle.hardDeadlineMs / 4));
  if (unfinished.length > 0) {
    const recovery = config.lifecycle.lostRunRecovery;
    const reason = `API instance ${instance.id} stopped (${signal}) before the run finished within the ${config.lifecycle.shutdownGraceMs} ms grace period`;
    try {
      const abandoned = await abandonRuns(db, unfinished, { reason, recovery, ownerId: instance.id });
      logger.warn({ runIds: abandoned, recovery }, `${abandoned.length} in-process run(s) unfinished at shutdown`);
      if (recovery === 'queue') await requeue(abandoned);
    } catch (err) {
      // PostgreSQL down: the runs stay owned by this instance, which stops heartbeating now, so a
      // live instance's reaper records them once the database is back.
      logger.error({ err, runIds: unfinished }, 'could not record in-process runs unfinished at shutdown; the reaper of a live instance will');
    }
  }
  for (const { name, close } of closers.reverse()) {
    await close().catch((err: unknown) => logger.error({ err, resource: name }, 'error during shutdown'));
  }
  logger.info('stopped');
  process.exit(0);
}
/** Exits with code 1 after `ms` unless the stop finished first: a dependency that hangs cannot hold the process. */
function exitByHardDeadline(ms: number): void {
  setTimeout(() => {
    logger.error({ afterMs: ms }, 'shutdown did not finish by its hard deadline (a dependency down?); exiting now');
    process.exit(1);
  }, ms).unref();
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
