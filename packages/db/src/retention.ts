import type { Db } from './createDb.ts';

/** One bounded retention statement: what is old enough, and how many rows at most. */
export interface RetentionBatch {
  /** Rows whose age (see each function) exceeds this are taken, in ms. */
  olderThanMs: number;
  /** Most rows this statement touches. */
  limit: number;
}

/**
 * Removes the raw `info` of up to `limit` runs that `succeeded` or were `skipped` more than
 * `olderThanMs` ago (`info` set to NULL, `info_pruned_at` set), oldest first. `failed` and `lost`
 * runs keep theirs, so they can still be retried; unfinished runs are never touched (claims read
 * `info`, and only claimable runs). Issue #9: every PUT kept up to 1 MiB in `etl_runs` for good.
 *
 * One statement over rows picked with `FOR UPDATE SKIP LOCKED`: it never waits for a row a writer
 * holds, and holds its own row locks only for the statement.
 *
 * @param options.finishedAfter - skip runs finished at or before this instant (a watermark the
 *   caller keeps, so each batch need not walk past rows already pruned). @defaultValue none
 * @returns how many runs were pruned, and the latest `finished_at` among them (null when none)
 * @throws whatever the driver throws (PostgreSQL unreachable, statement timeout)
 */
export async function pruneRunInfo(
  db: Db,
  options: RetentionBatch & { finishedAfter?: Date | null },
): Promise<{ pruned: number; latestFinishedAt: Date | null }> {
  const age = `${options.olderThanMs} milliseconds`;
  const after = options.finishedAfter ?? new Date(0);
  const [row] = await db.$queryRaw<{ pruned: number; latest: Date | null }[]>`
    WITH pruned AS (
      UPDATE etl_runs SET info = NULL, info_pruned_at = CURRENT_TIMESTAMP
      WHERE id IN (
        SELECT id FROM etl_runs
        WHERE status IN ('succeeded', 'skipped') AND info IS NOT NULL
          AND finished_at < CURRENT_TIMESTAMP - ${age}::interval AND finished_at > ${after}
        ORDER BY finished_at
        LIMIT ${options.limit}
        FOR UPDATE SKIP LOCKED)
        AND status IN ('succeeded', 'skipped')
      RETURNING finished_at)
    SELECT count(*)::int AS pruned, max(finished_at) AS latest FROM pruned`;
  return { pruned: row?.pruned ?? 0, latestFinishedAt: row?.latest ?? null };
}

/**
 * Deletes up to `limit` runs that finished (`succeeded`, `skipped`, `failed`, `lost`) more than
 * `olderThanMs` ago, oldest first, always keeping the latest run of every resource (a newer version
 * must exist) and the run whose records the resource currently holds (`context_versions.run_id`).
 * Unfinished runs are never deleted. Same locking as {@link pruneRunInfo}.
 *
 * @returns how many runs were deleted
 * @throws whatever the driver throws
 */
export async function deleteOldRuns(db: Db, options: RetentionBatch): Promise<number> {
  const age = `${options.olderThanMs} milliseconds`;
  return db.$executeRaw`
    DELETE FROM etl_runs WHERE id IN (
      SELECT r.id FROM etl_runs r
      WHERE r.status IN ('succeeded', 'skipped', 'failed', 'lost')
        AND r.finished_at < CURRENT_TIMESTAMP - ${age}::interval
        AND EXISTS (SELECT 1 FROM etl_runs newer WHERE newer.resource_id = r.resource_id AND newer.resource_version > r.resource_version)
        AND NOT EXISTS (SELECT 1 FROM context_versions cv WHERE cv.resource_id = r.resource_id AND cv.run_id = r.id)
      ORDER BY r.finished_at
      LIMIT ${options.limit}
      FOR UPDATE OF r SKIP LOCKED)
    AND status IN ('succeeded', 'skipped', 'failed', 'lost')`;
}

/**
 * Deletes up to `limit` rows of API instances that stopped, were declared dead, or went silent
 * more than `olderThanMs` ago — never one that still owns a `queued` or `running` run (the reaper
 * needs its row to take them). Same locking as {@link pruneRunInfo}.
 *
 * `olderThanMs` must exceed the heartbeat's dead-after period, or a live instance could be taken
 * for a silent one (`loadConfig` enforces it).
 *
 * @returns how many rows were deleted
 * @throws whatever the driver throws
 */
export async function deleteOldApiInstances(db: Db, options: RetentionBatch): Promise<number> {
  const cutoff = `${options.olderThanMs} milliseconds`;
  return db.$executeRaw`
    DELETE FROM api_instances WHERE id IN (
      SELECT i.id FROM api_instances i
      WHERE i.heartbeat_at < CURRENT_TIMESTAMP - ${cutoff}::interval
        AND (i.stopped_at IS NULL OR i.stopped_at < CURRENT_TIMESTAMP - ${cutoff}::interval)
        AND (i.dead_at IS NULL OR i.dead_at < CURRENT_TIMESTAMP - ${cutoff}::interval)
        AND NOT EXISTS (SELECT 1 FROM etl_runs r WHERE r.owner_id = i.id AND r.status IN ('queued', 'running'))
      ORDER BY i.heartbeat_at
      LIMIT ${options.limit}
      FOR UPDATE OF i SKIP LOCKED)`;
}
