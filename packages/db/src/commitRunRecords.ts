import type { Db } from './createDb.ts';
import { Prisma } from './generated/prisma/client.ts';
import { heldUnderLease } from './heldUnderLease.ts';
import { queryRows } from './queryRows.ts';

/** A context record ready to write (the output of `@tasklane/etl` transformInfo). */
export interface ContextRecordInput {
  key: string;
  value: string | number | boolean;
  valueType: string;
}

/**
 * What {@link commitRunRecords} did. `finishedAt` is the run's `finished_at` as stored (the commit's
 * transaction start, millisecond precision), for metrics that need no query of their own.
 */
export type CommitOutcome =
  | { outcome: 'written'; recordCount: number; finishedAt: Date }
  | { outcome: 'stale'; newerVersion: number; finishedAt: Date }
  | { outcome: 'lease-lost' };

/**
 * Makes a resource's context records those of one run and marks the run `succeeded`, in ONE
 * statement (one round trip, one transaction); or, when records from a newer version of the resource
 * were already written, writes nothing and marks the run `skipped`.
 *
 * Only what changed is written (issue #10): records whose key is new, or whose value (its exact JSON
 * text) or type differs from the stored one, are inserted or updated; records whose key the run no
 * longer has are deleted; the others are not touched. A version that changes k leaves of an n-leaf
 * `info` writes k record rows, not n. So a record's `resource_version` and `run_id` name the version
 * and run that last CHANGED it (set it to its current value), which may be older than the version
 * the records as a whole reflect; that one is `context_versions.resource_version`.
 *
 * The guard is `context_versions` (one row per resource holding the version its records came from):
 * an upsert that only advances when `resource_version <= $version` takes the row lock, so two runs of
 * the same resource serialise here and an older version can never overwrite a newer one, whatever
 * order workers finish in. Re-running the same version leaves the same records (idempotent).
 *
 * Fenced: the statement first locks the run row WHERE its `lease` is still `run.lease` and it is
 * still `running`, and goes on only if it found it. When it is not (the reaper declared the owner
 * dead, a shutdown abandoned the run, another worker took the job over), nothing at all is written —
 * no records, no status — and the outcome is `lease-lost`. The row lock keeps the lease from changing
 * until the commit, since every other transition of a run updates that row.
 *
 * The SQL is the PL/pgSQL function `commit_run_records` (migrations
 * `20261202100000_commit_run_records`, `20261202210000_commit_fence_by_run_id`: the run row is
 * locked by its id alone, so by the primary key whatever the statistics say, and its lease and
 * status are checked on the row locked): its statements run in order, each with a fresh snapshot
 * under READ COMMITTED, so the record writes, which run after the guard's row lock was granted, see
 * the records a concurrent commit of the same resource wrote before it let go of that lock. The
 * statement is bounded by the pool's `statement_timeout` (see `createDb`).
 *
 * @param run.lease - the lease {@link claimRun} returned
 * @param records - the run's records; keys must be unique (PostgreSQL refuses the statement otherwise)
 */
export async function commitRunRecords(
  db: Db,
  run: { id: string; resourceId: string; resourceVersion: number; lease: string },
  records: readonly ContextRecordInput[],
): Promise<CommitOutcome> {
  const [row] = await queryRows<{ outcome: string; newer_version: number | null; finished_at_ms: number | null }>(db, Prisma.sql`
    SELECT outcome, newer_version, (extract(epoch FROM finished_at) * 1000)::float8 AS finished_at_ms
    FROM commit_run_records(${run.id}::uuid, ${run.lease}::uuid, ${run.resourceId}, ${run.resourceVersion}::int, ${JSON.stringify(records)}::jsonb)`);
  switch (row?.outcome) {
    case 'written':
      return { outcome: 'written', recordCount: records.length, finishedAt: finishedAt(row.finished_at_ms) };
    case 'stale':
      return { outcome: 'stale', newerVersion: row.newer_version ?? run.resourceVersion, finishedAt: finishedAt(row.finished_at_ms) };
    case 'lease-lost':
      return { outcome: 'lease-lost' };
    default:
      throw new Error(`commit_run_records returned an unknown outcome: ${String(row?.outcome)}`);
  }
}

/**
 * Marks a claimed run `skipped` because records of a newer version are already written (the claim
 * saw `writtenVersion > resourceVersion`), without transforming it: versions only advance, so its
 * commit could only have been refused by the version guard. One statement, fenced like every run
 * transition: it applies only while the run is `running` under `run.lease`, else it writes nothing
 * and the outcome is `lease-lost`. The run's error text is the one {@link commitRunRecords} writes
 * for a stale run.
 *
 * @param newerVersion - the written version the claim saw (greater than `run.resourceVersion`)
 */
export async function skipStaleRun(
  db: Db,
  run: { id: string; lease: string },
  newerVersion: number,
): Promise<{ outcome: 'stale'; newerVersion: number; finishedAt: Date } | { outcome: 'lease-lost' }> {
  const [skipped] = await queryRows<{ finished_at_ms: number }>(db, Prisma.sql`
    UPDATE etl_runs SET status = 'skipped', finished_at = CURRENT_TIMESTAMP, record_count = 0,
      error = ${`stale: records of version ${newerVersion} were already written`}, lease = NULL, leased_by = NULL
    WHERE ${heldUnderLease(run.id, run.lease)}
    RETURNING (extract(epoch FROM finished_at) * 1000)::float8 AS finished_at_ms`);
  return skipped ? { outcome: 'stale', newerVersion, finishedAt: new Date(skipped.finished_at_ms) } : { outcome: 'lease-lost' };
}

/** `finished_at` in epoch ms as the function returned it; it is never null for `written` or `stale`. */
function finishedAt(ms: number | null): Date {
  if (ms === null) throw new Error('commit_run_records returned no finished_at for a finished run');
  return new Date(ms);
}
