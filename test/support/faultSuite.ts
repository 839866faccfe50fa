// What one fault-injection suite (test/faults) owns: a migrated database of its own (every API
// process runs the outbox relay, which enqueues EVERY stranded queue-lane run of its database, and
// the relay's advisory lock is per database: a shared database would let other suites' processes
// act on this suite's runs and contend for its lock), a BullMQ prefix of its own (`{f-<random>}`),
// the Redis it was given (the shared one, or a private one the suite stops and restarts), and the
// API and worker processes it starts. `close()` stops and removes all of it.
import { QUEUE_NAMES, createRedisConnection } from '@tasklane/queue';
import type { Db } from '@tasklane/db';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createMigratedScratchDatabase } from './migratedScratchDatabase.ts';
import { spawnApi, spawnWorker, type ServiceLine, type SpawnedService } from './spawnService.ts';
import { randomSuffix, type StoredRun } from './testDb.ts';
import { deleteKeysWithPrefix, testRedisUrl } from './testQueue.ts';
import { waitFor } from './waitFor.ts';

/** How a process ended. */
export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** An API process with its base URL. */
export type FaultApi = SpawnedService & { url: string };

export interface FaultSuite {
  /** A client on the suite's own database. */
  db: Db;
  /** The suite database's URL. */
  databaseUrl: string;
  /** The suite's BullMQ prefix, `{f-<random>}`. */
  prefix: string;
  /** The Redis every process of the suite uses. */
  redisUrl: string;
  /** The environment every process gets: database, Redis, queue prefix, queue lane. */
  env: Readonly<Record<string, string>>;
  /** Starts an API process with the suite's environment plus `env`. */
  startApi(env?: Record<string, string>): Promise<FaultApi>;
  /** Starts a worker process with the suite's environment plus `env`. */
  startWorker(env?: Record<string, string>): Promise<SpawnedService>;
  /** SIGKILLs a process the suite started and waits until it is gone. */
  kill(service: SpawnedService): Promise<Exit>;
  /** The `etl-run` queue under the suite's prefix, to inspect jobs (created on first use; needs Redis up). */
  queue(): Queue;
  /**
   * Every process's error-level (pino ≥ 50) lines printed after it was ready, as text (start-up
   * notices, such as the API's warning that access control is off, are not faults).
   */
  errorLines(): string[];
  /** The last lines of every process, for failure messages. */
  output(maxLines?: number): string;
  /** Stops every process (SIGTERM, then SIGKILL), deletes the prefix's keys when Redis answers, drops the database. */
  close(): Promise<void>;
}

/**
 * A BullMQ prefix no other suite uses: `{f-<random>}` (a Redis Cluster hash tag, as `QUEUE_PREFIX`
 * requires).
 */
export function uniqueFaultPrefix(): string {
  return `{f-${randomSuffix()}}`;
}

/**
 * Creates a suite's database and prefix.
 * @param label - names the scratch database (`tasklane_<label>_<random>`)
 * @param options.redisUrl - the Redis of every process. @defaultValue the shared test Redis
 */
export async function createFaultSuite(label: string, options: { redisUrl?: string } = {}): Promise<FaultSuite> {
  const scratch = await createMigratedScratchDatabase(`f_${label}`, { poolSize: 8 });
  const prefix = uniqueFaultPrefix();
  const redisUrl = options.redisUrl ?? testRedisUrl();
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: scratch.url,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    ETL_LANE: 'queue',
  };
  const started: SpawnedService[] = [];
  let inspector: { queue: Queue; connection: Redis } | undefined;

  return {
    db: scratch.db,
    databaseUrl: scratch.url,
    prefix,
    redisUrl,
    env,
    async startApi(extra = {}) {
      const api = await spawnApi({ ...env, ...extra });
      started.push(api);
      return api;
    },
    async startWorker(extra = {}) {
      // Port 0: several workers of one suite never contend for a fixed health/metrics port.
      const worker = await spawnWorker({ ...env, WORKER_HTTP_PORT: '0', ...extra });
      started.push(worker);
      return worker;
    },
    async kill(service) {
      if (!started.includes(service)) throw new Error(`${service.name} (pid ${service.pid}) was not started by this suite`);
      process.kill(service.pid, 'SIGKILL');
      return service.exited;
    },
    queue() {
      if (!inspector) {
        // The worker role queues commands until connected instead of refusing them.
        const connection = createRedisConnection(redisUrl, 'worker');
        connection.on('error', () => {});
        inspector = { connection, queue: new Queue(QUEUE_NAMES.etlRun, { connection, prefix }) };
        inspector.queue.on('error', () => {});
      }
      return inspector.queue;
    },
    errorLines() {
      return started.flatMap((service) =>
        service.lines
          .slice(service.lines.indexOf(service.readyLine) + 1)
          .filter(isErrorLine)
          .map((line) => `${service.name} ${service.pid}: ${line.text}`),
      );
    },
    output(maxLines = 25) {
      return started.map((service) => `--- ${service.name} ${service.pid} ---\n${service.output(maxLines)}`).join('\n');
    },
    async close() {
      await Promise.all(started.map((service) => service.stop(5000)));
      if (inspector) {
        await inspector.queue.close().catch(() => {});
        inspector.connection.disconnect();
      }
      // Connected explicitly (a producer connection would refuse commands sent before it is ready),
      // and giving up at once when Redis is gone: a private Redis already stopped holds nothing to clean.
      const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 2000 });
      redis.on('error', () => {});
      try {
        await redis.connect();
        await deleteKeysWithPrefix(redis, prefix);
      } catch {
        // Redis unreachable: see above.
      } finally {
        redis.disconnect();
      }
      await scratch.drop();
    },
  };
}

/** True while the process runs (signal 0 probes without signalling). */
export function isAlive(service: SpawnedService): boolean {
  try {
    process.kill(service.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True for a pino line at level error or fatal. */
export function isErrorLine(line: ServiceLine): boolean {
  return typeof line.level === 'number' && line.level >= 50;
}

/** A run of the suite's database with the resource it belongs to. */
export type SuiteRun = StoredRun & { resourceId: string };

/** Every run of the suite's database, by resource then version. */
export async function readAllRuns(db: Db): Promise<SuiteRun[]> {
  return db.$queryRaw<SuiteRun[]>`
    SELECT id::text AS id, resource_id AS "resourceId", resource_version AS "resourceVersion", status::text AS status,
           attempts, error, record_count AS "recordCount", request_id AS "requestId", finished_at AS "finishedAt"
    FROM etl_runs ORDER BY resource_id, resource_version, queued_at`;
}

/** Statuses a run never leaves. */
export const FINISHED_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'skipped', 'lost']);

/**
 * Waits until the suite's database holds `count` runs and every one has finished.
 * @param options.timeoutMs - @defaultValue 30_000 ms
 */
export async function waitForAllRunsFinished(
  db: Db,
  count: number,
  options: { timeoutMs?: number; describe?: () => string } = {},
): Promise<SuiteRun[]> {
  let last: SuiteRun[] = [];
  return waitFor(
    `${count} finished runs`,
    async () => {
      last = await readAllRuns(db);
      return last.length === count && last.every((run) => FINISHED_STATUSES.has(run.status)) ? last : undefined;
    },
    {
      timeoutMs: options.timeoutMs ?? 30_000,
      intervalMs: 200,
      describeLast: () =>
        `runs: ${JSON.stringify(last.map((r) => [r.resourceId, r.resourceVersion, r.status, r.attempts, r.error]))}\n${options.describe?.() ?? ''}`,
    },
  );
}

/** The raw `info` of a run as PostgreSQL prints the stored jsonb. */
export async function readRunInfoText(db: Db, runId: string): Promise<string> {
  const [row] = await db.$queryRaw<{ info: string }[]>`SELECT info::text AS info FROM etl_runs WHERE id = ${runId}::uuid`;
  if (!row) throw new Error(`no run ${runId}`);
  return row.info;
}
