// What one fault-injection suite (test/faults) owns: a migrated database of its own (every API
// process runs the outbox relay, which enqueues EVERY stranded queue-lane run of its database, and
// the relay's advisory lock is per database: a shared database would let other suites' processes
// act on this suite's runs and contend for its lock), a BullMQ prefix of its own (`{f-<random>}`),
// the Redis it was given (the shared one, or a private one the suite stops and restarts), and the
// API and worker processes it starts. `close()` stops and removes all of it.
import type { Db } from '@tasklane/db';
import { createE2eSuite, type E2eSuite, type SpawnedApi } from './e2eSuite.ts';
import type { SpawnedService } from './spawnService.ts';
import { randomSuffix, type StoredRun } from './testDb.ts';
import { waitFor } from './waitFor.ts';

export type { Exit } from './e2eSuite.ts';
export { isErrorLine } from './e2eSuite.ts';

/** A fault suite is an end-to-end suite with a `{f-…}` prefix, the queue lane by default, and optionally a private Redis. */
export type FaultSuite = E2eSuite;

/** An API process with its base URL. */
export type FaultApi = SpawnedApi;

/**
 * A BullMQ prefix no other suite uses: `{f-<random>}` (a Redis Cluster hash tag, as `QUEUE_PREFIX`
 * requires).
 */
export function uniqueFaultPrefix(): string {
  return `{f-${randomSuffix()}}`;
}

/**
 * Creates a suite's database and prefix.
 * @param label - names the scratch database (`tasklane_f_<label>_<random>`)
 * @param options.redisUrl - the Redis of every process. @defaultValue the shared test Redis
 * @param options.databaseServerUrl - a database URL on the PostgreSQL server of the suite's database
 *   (a private cluster the test restarts). @defaultValue the shared test server
 */
export async function createFaultSuite(label: string, options: { redisUrl?: string; databaseServerUrl?: string } = {}): Promise<FaultSuite> {
  return createE2eSuite(`f_${label}`, {
    prefix: uniqueFaultPrefix(),
    env: { ETL_LANE: 'queue' },
    poolSize: 8,
    ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
    ...(options.databaseServerUrl === undefined ? {} : { databaseServerUrl: options.databaseServerUrl }),
  });
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
