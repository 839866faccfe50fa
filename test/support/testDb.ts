// Database helpers for integration tests: unique ids, row counts, context records, and cleanup of
// exactly the rows a test created (never a TRUNCATE: other test files and engineers share the database).
import { randomBytes } from 'node:crypto';
import { createDb, type Db } from '@tasklane/db';
import { inject } from 'vitest';
import type {} from './providedContext.ts';

/** A random lowercase hex string of `bytes * 2` characters. */
export function randomSuffix(bytes = 5): string {
  return randomBytes(bytes).toString('hex');
}

/** A resource id no other test (or earlier run) uses: `<label>-<random>`. */
export function uniqueResourceId(label: string): string {
  return `${label}-${randomSuffix()}`;
}

/** The migrated test database's URL, from the integration project's globalSetup. */
export function testDatabaseUrl(): string {
  return inject('databaseUrl');
}

/**
 * A Prisma client on the test database.
 * @param options.poolSize - connections; @defaultValue 5
 */
export function createTestDb(options: { poolSize?: number } = {}): Db {
  return createDb({ url: testDatabaseUrl(), poolSize: options.poolSize ?? 5 });
}

/** How many rows a resource id has in each table. */
export interface RowCounts {
  resources: number;
  runs: number;
  records: number;
  contextVersions: number;
}

/** Counts the rows of one resource id in every table that holds its data. */
export async function countRows(db: Db, resourceId: string): Promise<RowCounts> {
  const [row] = await db.$queryRaw<RowCounts[]>`
    SELECT (SELECT count(*)::int FROM resources WHERE id = ${resourceId}) AS resources,
           (SELECT count(*)::int FROM etl_runs WHERE resource_id = ${resourceId}) AS runs,
           (SELECT count(*)::int FROM context_records WHERE resource_id = ${resourceId}) AS records,
           (SELECT count(*)::int FROM context_versions WHERE resource_id = ${resourceId}) AS "contextVersions"`;
  if (!row) throw new Error('count query returned no row');
  return row;
}

/** A stored context record with its value parsed from the jsonb text. */
export interface StoredRecord {
  key: string;
  value: unknown;
  valueType: string;
  resourceVersion: number;
  runId: string;
}

/** A resource's context records in key order (UTF-16 code unit order, as `transformInfo` sorts). */
export async function readContextRecords(db: Db, resourceId: string): Promise<StoredRecord[]> {
  const rows = await db.$queryRaw<{ key: string; value: string; value_type: string; resource_version: number; run_id: string }[]>`
    SELECT key, value::text AS value, value_type::text AS value_type, resource_version, run_id::text AS run_id
    FROM context_records WHERE resource_id = ${resourceId}`;
  return rows
    .map((r) => ({ key: r.key, value: JSON.parse(r.value) as unknown, valueType: r.value_type, resourceVersion: r.resource_version, runId: r.run_id }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** A run row as tests inspect it. */
export interface StoredRun {
  id: string;
  resourceVersion: number;
  status: string;
  attempts: number;
  error: string | null;
  recordCount: number | null;
  requestId: string | null;
  finishedAt: Date | null;
}

/** The runs of a resource, oldest version first. */
export async function readRuns(db: Db, resourceId: string): Promise<StoredRun[]> {
  return db.$queryRaw<StoredRun[]>`
    SELECT id::text AS id, resource_version AS "resourceVersion", status::text AS status, attempts, error,
           record_count AS "recordCount", request_id AS "requestId", finished_at AS "finishedAt"
    FROM etl_runs WHERE resource_id = ${resourceId} ORDER BY resource_version, queued_at`;
}

/** One run by id, or undefined. */
export async function readRun(db: Db, runId: string): Promise<StoredRun | undefined> {
  const [run] = await db.$queryRaw<StoredRun[]>`
    SELECT id::text AS id, resource_version AS "resourceVersion", status::text AS status, attempts, error,
           record_count AS "recordCount", request_id AS "requestId", finished_at AS "finishedAt"
    FROM etl_runs WHERE id = ${runId}::uuid`;
  return run;
}

/** The version recorded in `context_versions` for a resource, or null. */
export async function readContextVersion(db: Db, resourceId: string): Promise<number | null> {
  const [row] = await db.$queryRaw<{ resource_version: number }[]>`
    SELECT resource_version FROM context_versions WHERE resource_id = ${resourceId}`;
  return row?.resource_version ?? null;
}

/**
 * Deletes every row of these resource ids: `resources` (cascading to `etl_runs` and
 * `context_records`) and `context_versions`, which has no foreign key to `resources`.
 */
export async function deleteResources(db: Db, resourceIds: readonly string[]): Promise<void> {
  if (resourceIds.length === 0) return;
  const ids = [...resourceIds];
  await db.$transaction([
    db.$executeRaw`DELETE FROM context_versions WHERE resource_id = ANY(${ids}::text[])`,
    db.$executeRaw`DELETE FROM resources WHERE id = ANY(${ids}::text[])`,
  ]);
}

/** Unique resource ids that remember themselves, so a suite can delete what it wrote: `newId(label)`, then `deleteResources(db, ids)`. */
export function trackedIds(): { ids: string[]; newId: (label: string) => string } {
  const ids: string[] = [];
  return {
    ids,
    newId(label) {
      const id = uniqueResourceId(label);
      ids.push(id);
      return id;
    },
  };
}
