// What one end-to-end suite owns: a migrated database of its own (API processes reap the runs of
// every instance they consider dead, and stats span every run, so a shared database would let other
// suites' processes change this suite's runs), a BullMQ prefix of its own, and the API and worker
// processes it starts, all stopped and cleaned up by `close()`.
import { loadRedisSettings, type RedisSettings } from '@tasklane/config';
import { findEtlRun, type Db, type EtlRunView } from '@tasklane/db';
import { QUEUE_NAMES, createRedisConnection, type RedisClient } from '@tasklane/queue';
import { Queue } from 'bullmq';
import { essence, type RecordEssence } from './expectedRecords.ts';
import { createMigratedScratchDatabase, type MigratedScratchDatabase } from './migratedScratchDatabase.ts';
import { spawnApi, spawnWorker, type ServiceLine, type SpawnedService, type SpawnProcessOptions } from './spawnService.ts';
import { readContextRecords } from './testDb.ts';
import { deleteKeysWithPrefix, testRedisUrl, uniqueQueuePrefix } from './testQueue.ts';
import { waitFor } from './waitFor.ts';

/** How a process ended. */
export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** An API process of the suite, with its base URL and the instance id it logs and owns runs under. */
export type SpawnedApi = SpawnedService & { url: string; instanceId: string };

export interface E2eSuite {
  /** A client on the suite's database. */
  db: Db;
  /** The suite database's URL. */
  databaseUrl: string;
  /** The suite's BullMQ prefix (`{t-<random>}` unless given). */
  prefix: string;
  /** The Redis every process of the suite uses, as they load it (one node, a Cluster or Sentinel). */
  redis: RedisSettings;
  /** The `REDIS_*` variables every process of the suite gets. */
  redisEnv: Readonly<Record<string, string>>;
  /** The environment every process gets: database, Redis, queue prefix, test mode, plus the suite's own. */
  env: Readonly<Record<string, string>>;
  /** Starts an API process with the suite's environment plus `env` (`options`: its name, a wrap command such as `ip netns exec`). */
  startApi(env?: Record<string, string>, options?: SpawnProcessOptions): Promise<SpawnedApi>;
  /** Starts a worker process with the suite's environment plus `env` (health port 0: never contended). */
  startWorker(env?: Record<string, string>, options?: SpawnProcessOptions): Promise<SpawnedService>;
  /** SIGKILLs a process the suite started and waits for it to be gone. */
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

/** Options of {@link createE2eSuite}. */
export interface E2eSuiteOptions {
  /** The Redis of every process, as `REDIS_URL`. @defaultValue the shared test Redis */
  redisUrl?: string;
  /**
   * The Redis of every process as `REDIS_*` variables (a Cluster, Sentinel, TLS, an ACL user);
   * replaces `redisUrl`. @defaultValue `{ REDIS_URL: redisUrl }`
   */
  redisEnv?: Record<string, string>;
  /** The BullMQ prefix. @defaultValue a fresh `{t-<random>}` */
  prefix?: string;
  /** Extra environment for every process. @defaultValue none */
  env?: Record<string, string>;
  /** Connections of the suite's own database client. @defaultValue the scratch database's default */
  poolSize?: number;
  /** A database URL on the PostgreSQL server to create the suite's database on. @defaultValue the shared test server */
  databaseServerUrl?: string;
}

/**
 * Creates a suite's database and prefix. Processes log at `info` (their ready lines are info lines).
 * @param label - names the scratch database (`tasklane_<label>_<random>`)
 */
export async function createE2eSuite(label: string, options: E2eSuiteOptions = {}): Promise<E2eSuite> {
  const scratch: MigratedScratchDatabase = await createMigratedScratchDatabase(label, {
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
    ...(options.databaseServerUrl === undefined ? {} : { serverUrl: options.databaseServerUrl }),
  });
  const prefix = options.prefix ?? uniqueQueuePrefix();
  const redisEnv = options.redisEnv ?? { REDIS_URL: options.redisUrl ?? testRedisUrl() };
  const redis = loadRedisSettings(redisEnv);
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: scratch.url,
    // The test process's own REDIS_URL (set by globalSetup) must not add a second topology.
    REDIS_URL: '',
    ...redisEnv,
    QUEUE_PREFIX: prefix,
    ...options.env,
  };
  const started: SpawnedService[] = [];
  let inspector: { queue: Queue; connection: RedisClient } | undefined;
  return {
    db: scratch.db,
    databaseUrl: scratch.url,
    prefix,
    redis,
    redisEnv,
    env,
    async startApi(extra = {}, spawnOptions = {}) {
      const api = await spawnApi({ ...env, ...extra }, spawnOptions);
      started.push(api);
      const instanceId = api.readyLine.instanceId;
      if (typeof instanceId !== 'string') throw new Error(`the API's ready line has no instanceId:\n${api.readyLine.text}`);
      return Object.assign(api, { instanceId });
    },
    async startWorker(extra = {}, spawnOptions = {}) {
      const worker = await spawnWorker({ ...env, WORKER_HTTP_PORT: '0', ...extra }, spawnOptions);
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
        const connection = createRedisConnection(redis, 'worker');
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
      try {
        await Promise.all(started.map((service) => service.stop(5000)));
        if (inspector) {
          await inspector.queue.close().catch(() => {});
          inspector.connection.disconnect();
        }
        // A worker connection (it waits to be connected instead of refusing commands), given up
        // after 5 s: a private Redis already stopped holds nothing to clean.
        const cleaner = createRedisConnection(redis, 'worker', { connectTimeoutMs: 2000 });
        cleaner.on('error', () => {});
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            deleteKeysWithPrefix(cleaner, prefix),
            new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('Redis unreachable')), 5000))),
          ]);
        } catch {
          // Redis unreachable: see above.
        } finally {
          clearTimeout(timer);
          cleaner.disconnect();
        }
      } finally {
        await scratch.drop();
      }
    },
  };
}

/** True for a pino line at level error or fatal. */
export function isErrorLine(line: ServiceLine): boolean {
  return typeof line.level === 'number' && line.level >= 50;
}

/**
 * Polls the run until `done` accepts it, and returns it.
 * @param options.timeoutMs - @defaultValue 20_000 ms
 */
export async function waitForRun(
  db: Db,
  runId: string,
  description: string,
  done: (run: EtlRunView) => boolean,
  options: { timeoutMs?: number } = {},
): Promise<EtlRunView> {
  let last: EtlRunView | null = null;
  return waitFor(
    `run ${runId} ${description}`,
    async () => {
      last = await findEtlRun(db, runId);
      return last && done(last) ? last : undefined;
    },
    { timeoutMs: options.timeoutMs ?? 20_000, describeLast: () => `last seen: ${JSON.stringify(last)}` },
  );
}

/** True once a run reached a final status. */
export function isFinished(run: EtlRunView): boolean {
  return !['queued', 'running'].includes(run.status);
}

/** A resource's stored context records as key/value/type, in key order. */
export async function storedRecords(db: Db, resourceId: string): Promise<RecordEssence[]> {
  return essence(await readContextRecords(db, resourceId));
}
