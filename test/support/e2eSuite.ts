// What one end-to-end suite owns: a migrated database of its own (API processes reap the runs of
// every instance they consider dead, and stats span every run, so a shared database would let other
// suites' processes change this suite's runs), a BullMQ prefix of its own, and the API and worker
// processes it starts, all stopped and cleaned up by `close()`.
import { findEtlRun, type Db, type EtlRunView } from '@tasklane/db';
import { createRedisConnection } from '@tasklane/queue';
import type { Redis } from 'ioredis';
import { essence, type RecordEssence } from './expectedRecords.ts';
import { createMigratedScratchDatabase, type MigratedScratchDatabase } from './migratedScratchDatabase.ts';
import { spawnApi, spawnWorker, type SpawnedService } from './spawnService.ts';
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
  /** The suite's BullMQ prefix (`{t-<random>}`). */
  prefix: string;
  /** The environment every process gets: database, Redis, queue prefix, test mode. */
  env: Readonly<Record<string, string>>;
  /** Starts an API process with the suite's environment plus `env`. */
  startApi(env?: Record<string, string>): Promise<SpawnedApi>;
  /** Starts a worker process with the suite's environment plus `env`. */
  startWorker(env?: Record<string, string>): Promise<SpawnedService>;
  /** SIGKILLs a process the suite started and waits for it to be gone. */
  kill(service: SpawnedService): Promise<Exit>;
  /** Stops every process still running (SIGTERM, then SIGKILL), deletes the prefix's keys, drops the database. */
  close(): Promise<void>;
}

/**
 * Creates a suite's database and prefix. Processes log at `info` (their ready lines are info lines).
 * @param label - names the scratch database (`tasklane_<label>_<random>`)
 */
export async function createE2eSuite(label: string): Promise<E2eSuite> {
  const scratch: MigratedScratchDatabase = await createMigratedScratchDatabase(label);
  const prefix = uniqueQueuePrefix();
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: scratch.url,
    REDIS_URL: testRedisUrl(),
    QUEUE_PREFIX: prefix,
  };
  const started: SpawnedService[] = [];
  return {
    db: scratch.db,
    prefix,
    env,
    async startApi(extra = {}) {
      const api = await spawnApi({ ...env, ...extra });
      started.push(api);
      const instanceId = api.readyLine.instanceId;
      if (typeof instanceId !== 'string') throw new Error(`the API's ready line has no instanceId:\n${api.readyLine.text}`);
      return Object.assign(api, { instanceId });
    },
    async startWorker(extra = {}) {
      const worker = await spawnWorker({ ...env, ...extra });
      started.push(worker);
      return worker;
    },
    async kill(service) {
      if (!started.includes(service)) throw new Error(`${service.name} (pid ${service.pid}) was not started by this suite`);
      process.kill(service.pid, 'SIGKILL');
      return service.exited;
    },
    async close() {
      try {
        await Promise.all(started.map((service) => service.stop(5000)));
        // The worker role queues commands until connected; a producer connection would refuse them.
        const redis: Redis = createRedisConnection(testRedisUrl(), 'worker');
        try {
          await deleteKeysWithPrefix(redis, prefix);
        } finally {
          redis.disconnect();
        }
      } finally {
        await scratch.drop();
      }
    },
  };
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
