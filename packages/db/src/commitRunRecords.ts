import type { Db } from './createDb.ts';
import { RUN_COMMIT_TRANSACTION } from './transactionTimeouts.ts';

/** A context record ready to write (the output of `@tasklane/etl` transformInfo). */
export interface ContextRecordInput {
  key: string;
  value: string | number | boolean;
  valueType: string;
}

/** What {@link commitRunRecords} did. */
export type CommitOutcome =
  | { outcome: 'written'; recordCount: number }
  | { outcome: 'stale'; newerVersion: number }
  | { outcome: 'lease-lost' };

/**
 * Replaces a resource's context records with those of one run and marks the run `succeeded`,
 * in ONE transaction; or, when records from a newer version of the resource were already written,
 * writes nothing and marks the run `skipped`.
 *
 * The guard is `context_versions` (one row per resource holding the version its records came from):
 * an upsert that only advances when `resource_version <= $version` takes the row lock, so two runs of
 * the same resource serialise here and an older version can never overwrite a newer one, whatever
 * order workers finish in. Re-running the same version rewrites the same records (idempotent).
 *
 * Fenced: the transaction's first statement locks the run row WHERE its `lease` is still `run.lease`
 * and it is still `running`, and the version guard writes only if it found it. When it is not (the
 * reaper declared the owner dead, a shutdown abandoned the run, another worker took the job over),
 * nothing at all is written — no records, no status — and the outcome is `lease-lost`. The row lock keeps the lease from changing until the commit, since every
 * other transition of a run updates that row.
 *
 * @param run.lease - the lease {@link claimRun} returned
 */
export async function commitRunRecords(
  db: Db,
  run: { id: string; resourceId: string; resourceVersion: number; lease: string },
  records: readonly ContextRecordInput[],
): Promise<CommitOutcome> {
  return db.$transaction(async (tx) => {
    // One round trip for the lease check, its row lock and the version guard: the transaction holds
    // a pool connection, and in the inline lane every extra round trip can wait behind another run's
    // transform on the event loop.
    const advanced = await tx.$queryRaw<{ resource_version: number }[]>`
      WITH held AS (
        SELECT id FROM etl_runs WHERE id = ${run.id}::uuid AND lease = ${run.lease}::uuid AND status = 'running' FOR UPDATE
      )
      INSERT INTO context_versions (resource_id, resource_version, run_id)
      SELECT ${run.resourceId}, ${run.resourceVersion}, held.id FROM held
      ON CONFLICT (resource_id) DO UPDATE
        SET resource_version = EXCLUDED.resource_version, run_id = EXCLUDED.run_id, written_at = CURRENT_TIMESTAMP
        WHERE context_versions.resource_version <= EXCLUDED.resource_version
      RETURNING resource_version`;
    if (advanced.length === 0) {
      // Either the lease is gone (then it never comes back: a new claim takes a new uuid) or a newer
      // version's records are written (then the run row is locked by the statement above).
      const [current] = await tx.$queryRaw<{ resource_version: number | null; held: boolean }[]>`
        SELECT (SELECT resource_version FROM context_versions WHERE resource_id = ${run.resourceId}) AS resource_version,
               EXISTS (SELECT 1 FROM etl_runs WHERE id = ${run.id}::uuid AND lease = ${run.lease}::uuid AND status = 'running') AS held`;
      if (!current?.held) return { outcome: 'lease-lost' };
      const newerVersion = current?.resource_version ?? run.resourceVersion;
      await tx.$executeRaw`
        UPDATE etl_runs SET status = 'skipped', finished_at = CURRENT_TIMESTAMP, record_count = 0,
          error = ${`stale: records of version ${newerVersion} were already written`}, lease = NULL, leased_by = NULL
        WHERE id = ${run.id}::uuid AND lease = ${run.lease}::uuid`;
      return { outcome: 'stale', newerVersion };
    }
    await tx.$executeRaw`DELETE FROM context_records WHERE resource_id = ${run.resourceId}`;
    if (records.length > 0) {
      await tx.$executeRaw`
        INSERT INTO context_records (resource_id, key, value, value_type, resource_version, run_id)
        SELECT ${run.resourceId}, r.key, r.value, r."valueType"::"ContextValueType", ${run.resourceVersion}, ${run.id}::uuid
        FROM jsonb_to_recordset(${JSON.stringify(records)}::jsonb) AS r(key text, value jsonb, "valueType" text)`;
    }
    await tx.$executeRaw`
      UPDATE etl_runs SET status = 'succeeded', finished_at = CURRENT_TIMESTAMP, record_count = ${records.length}, error = NULL,
        lease = NULL, leased_by = NULL
      WHERE id = ${run.id}::uuid AND lease = ${run.lease}::uuid`;
    return { outcome: 'written', recordCount: records.length };
  }, RUN_COMMIT_TRANSACTION);
}
