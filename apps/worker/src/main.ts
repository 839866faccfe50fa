import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { describeRedis, loadConfig } from '@tasklane/config';
import { createDb } from '@tasklane/db';
import { transformInfoJson } from '@tasklane/etl';
import { QUEUE_NAMES, createRedisConnection, isRedisAuthError } from '@tasklane/queue';
import { Queue, Worker } from 'bullmq';
import { createEtlRunProcessor } from './createEtlRunProcessor.ts';
import { deferWhileDatabaseUnavailable } from './deferWhileDatabaseUnavailable.ts';
import { createFailedJobReconciler } from './reconcileFailedJobs.ts';
import { createHttpEnricher } from '@tasklane/pipeline';
import { startTracing } from '@tasklane/tracing';
import { checkReadiness, createEtlRunMetrics, createLogger, createMetricsRegistry, observeFinishedRuns, postgresProbe, redisProbe } from '@tasklane/ops';
import { startOpsServer } from './ops/startOpsServer.ts';

const config = loadConfig();
/** Recorded as `leased_by` on the runs this process claims (issue #9: fenced run transitions). */
const workerId = `worker:${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
const logger = createLogger({ ...config.log, nodeEnv: config.env, base: { service: 'worker', hostname: hostname(), pid: process.pid, workerId } });
const closers: (() => Promise<unknown>)[] = [];

// First, so the Worker gets BullMQ's telemetry; closed last, so the spans of the drain are exported.
// Off unless an OTLP endpoint or OTEL_TRACES_EXPORTER is set: then no OpenTelemetry code is loaded.
const tracing = await startTracing(config.tracing, { defaultServiceName: 'tasklane-worker' });
closers.push(() => tracing.shutdown());

const db = createDb({ ...config.database, poolSize: Math.max(2, config.worker.concurrency + 1) });
closers.push(() => db.$disconnect());
// One node, a Cluster or through Sentinel (issue #11); BullMQ duplicates it for its blocking reads.
const connection = createRedisConnection(config.redis, 'worker');
const redisTarget = describeRedis(config.redis);
let consuming = false;
connection.on('error', (err: Error) => {
  if (isRedisAuthError(err) && !consuming) {
    // Refused credentials at start-up are a configuration error, not an outage to wait out: say so
    // and exit, instead of retrying for ever before the first job (issue #11).
    logger.fatal({ err: err.message, redis: redisTarget }, `${redisTarget} refused the credentials (check REDIS_USERNAME / REDIS_PASSWORD or the URL's); exiting`);
    process.exit(1);
  }
  logger.warn({ err: err.message }, 'redis connection error');
});
closers.push(() => connection.quit().catch(() => connection.disconnect()));

const registry = createMetricsRegistry();
const etlRunMetrics = createEtlRunMetrics(registry);
const processor = createEtlRunProcessor({
  db,
  logger,
  workerId,
  transform: transformInfoJson,
  testDelayMs: config.etlTestDelay.enabled ? config.etlTestDelay.delayMs : 0,
  enrich: config.enrichment.url ? createHttpEnricher({ url: config.enrichment.url, timeoutMs: config.enrichment.timeoutMs }) : undefined,
  // Runs this worker finished carry their timestamps (no query per run, issue #10); failed ones are loaded.
  onRunDone: (run) => etlRunMetrics.observe(run),
  onRunFailed: observeFinishedRuns({ db, metrics: etlRunMetrics, logger }),
  tracing,
});
// A PostgreSQL outage defers the job without spending an attempt (issue #9, "What must hold" 6).
const databaseRetry = { initialDelayMs: config.queue.backoffMs, maxDelayMs: config.worker.databaseRetryMaxMs };
const worker = new Worker(QUEUE_NAMES.etlRun, deferWhileDatabaseUnavailable(processor, { logger, backoff: databaseRetry }), {
  connection,
  prefix: config.queue.prefix,
  concurrency: config.worker.concurrency,
  lockDuration: config.worker.lockDurationMs,
  stalledInterval: config.worker.stalledIntervalMs,
  // A consumer span per job (`process etl-run`), child of the producer span the API's add started.
  ...(tracing.bullmq ? { telemetry: tracing.bullmq } : {}),
});
worker.on('error', (err) => logger.error({ err }, 'worker error'));
// BullMQ's job state and the run row agree once a job failed for good (see reconcileFailedJobs.ts).
const reconciler = createFailedJobReconciler({ db, logger, retry: databaseRetry });
worker.on('failed', reconciler.onFailed);
const failedJobs = new Queue(QUEUE_NAMES.etlRun, { connection, prefix: config.queue.prefix });
failedJobs.on('error', (err) => logger.warn({ err: err.message }, 'queue error'));
closers.push(() => failedJobs.close());
closers.push(async () => reconciler.stop());
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

// Up before the worker is ready (liveness answers at once, readiness says "not yet"), and closed
// last, so /readyz reports the drain instead of refusing connections.
let stopping = false;
const ops = await startOpsServer({
  ...config.worker.http,
  registry,
  metricsToken: config.metrics.token,
  logger,
  checkReadiness: () =>
    checkReadiness(
      {
        postgres: postgresProbe(db),
        redis: redisProbe(connection),
        worker: async () => {
          if (stopping || !worker.isRunning()) throw new Error(stopping ? 'shutting down' : 'not consuming yet');
        },
      },
      { logger },
    ),
}).catch((error: NodeJS.ErrnoException) => {
  // A second worker on one host (local runs, tests) finds the port taken: it still works jobs, and
  // says how to give it a port of its own. Any other error is a real start-up failure.
  if (error.code !== 'EADDRINUSE') throw error;
  logger.error(
    { port: config.worker.http.port },
    `worker ops server not started: port ${config.worker.http.port} is in use; set WORKER_HTTP_PORT (0 picks a free port)`,
  );
  return undefined;
});
if (ops) logger.info({ url: ops.url }, `worker ops server (/healthz, /readyz, /metrics) on ${ops.url}`);

await worker.waitUntilReady();
consuming = true;
logger.info(
  { queue: QUEUE_NAMES.etlRun, prefix: config.queue.prefix, concurrency: config.worker.concurrency, redis: redisTarget },
  `Tasklane worker consuming ${config.queue.prefix}:${QUEUE_NAMES.etlRun} with concurrency ${config.worker.concurrency}`,
);

// Failures left unreconciled by a process that stopped (or by PostgreSQL being down then).
reconciler.sweep(failedJobs).catch((err: unknown) => logger.warn({ err }, 'could not sweep failed jobs; the next start will'));

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Issue #9: with Redis down, closing the worker (and the connection) waits for Redis for ever, so
  // the process exits by the grace period plus SHUTDOWN_HARD_DEADLINE_MS whatever is still open. A
  // job cancelled at the end of the grace period keeps its run (recorded `queued` for a retry when
  // PostgreSQL is up) and its job in Redis, whose lock expires so another worker takes it.
  const hardDeadlineMs = config.worker.shutdownGraceMs + config.lifecycle.hardDeadlineMs;
  setTimeout(() => {
    logger.error({ afterMs: hardDeadlineMs }, 'shutdown did not finish by its hard deadline (a dependency down?); exiting now');
    process.exit(1);
  }, hardDeadlineMs).unref();
  logger.info({ signal }, 'shutting down: no new jobs, finishing active ones');
  for (const close of closers.reverse()) {
    await close().catch((err: unknown) => logger.error({ err }, 'error during shutdown'));
  }
  await ops?.close();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
