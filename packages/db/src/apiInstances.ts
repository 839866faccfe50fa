import type { Db } from './createDb.ts';

/** Identity of one API process. */
export interface ApiInstanceIdentity {
  /** Unique per process start, e.g. `<hostname>:<pid>:<random>`. */
  id: string;
  hostname: string;
  pid: number;
}

/** Records an API process as alive now: registers it on the first call, refreshes its heartbeat after. */
export async function registerApiInstance(db: Db, instance: ApiInstanceIdentity): Promise<void> {
  await db.$executeRaw`
    INSERT INTO api_instances (id, hostname, pid) VALUES (${instance.id}, ${instance.hostname}, ${instance.pid})
    ON CONFLICT (id) DO UPDATE SET heartbeat_at = CURRENT_TIMESTAMP, stopped_at = NULL`;
}

/** Records that an API process stopped on purpose (its unfinished runs may be reaped at once). */
export async function markApiInstanceStopped(db: Db, id: string): Promise<void> {
  await db.$executeRaw`UPDATE api_instances SET stopped_at = CURRENT_TIMESTAMP WHERE id = ${id}`;
}

/** What to do with runs whose owner died: keep them `lost` (Task.start's honest outcome) or hand them to the queue lane. */
export type LostRunRecovery = 'lost' | 'queue';

/**
 * Finds unfinished (`queued`/`running`) runs owned by API instances that stopped or whose heartbeat
 * is older than `deadAfterMs`, and either marks them `lost` with the reason or moves them to the
 * `queue` lane as `queued` (the caller then enqueues the returned ids). One UPDATE, so instances
 * reaping at the same time never take the same run twice.
 *
 * @param options.deadAfterMs - an instance whose last heartbeat is older than this is dead, in ms
 * @param options.exceptInstanceId - the caller's own instance, never reaped
 * @returns the ids of the runs reaped and where they went
 */
export async function reapOrphanedRuns(
  db: Db,
  options: { deadAfterMs: number; recovery: LostRunRecovery; exceptInstanceId?: string },
): Promise<{ runIds: string[]; recovery: LostRunRecovery }> {
  const except = options.exceptInstanceId ?? '';
  const dead = `${options.deadAfterMs} milliseconds`;
  const rows =
    options.recovery === 'lost'
      ? await db.$queryRaw<{ id: string }[]>`
          UPDATE etl_runs r
          SET status = 'lost', finished_at = CURRENT_TIMESTAMP,
              error = 'owner API instance ' || i.id || CASE WHEN i.stopped_at IS NOT NULL
                THEN ' stopped at ' || to_char(i.stopped_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ' before the run finished'
                ELSE ' stopped heartbeating at ' || to_char(i.heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ' (process died)' END
          FROM api_instances i
          WHERE r.owner_id = i.id AND i.id <> ${except} AND r.status IN ('queued', 'running')
            AND (i.stopped_at IS NOT NULL OR i.heartbeat_at < CURRENT_TIMESTAMP - ${dead}::interval)
          RETURNING r.id::text AS id`
      : await db.$queryRaw<{ id: string }[]>`
          UPDATE etl_runs r
          SET status = 'queued', lane = 'queue', owner_id = NULL,
              error = 'recovered to the queue lane: owner API instance ' || i.id || ' stopped'
          FROM api_instances i
          WHERE r.owner_id = i.id AND i.id <> ${except} AND r.status IN ('queued', 'running')
            AND (i.stopped_at IS NOT NULL OR i.heartbeat_at < CURRENT_TIMESTAMP - ${dead}::interval)
          RETURNING r.id::text AS id`;
  return { runIds: rows.map((row) => row.id), recovery: options.recovery };
}

/**
 * Marks the given runs of a stopping instance `lost` (or hands them to the queue lane) right away,
 * with the reason: used at the end of a graceful stop's grace period for runs still unfinished.
 */
export async function abandonRuns(
  db: Db,
  runIds: readonly string[],
  options: { reason: string; recovery: LostRunRecovery },
): Promise<string[]> {
  if (runIds.length === 0) return [];
  const ids = JSON.stringify(runIds);
  const rows =
    options.recovery === 'lost'
      ? await db.$queryRaw<{ id: string }[]>`
          UPDATE etl_runs SET status = 'lost', finished_at = CURRENT_TIMESTAMP, error = ${options.reason}
          WHERE id IN (SELECT value::uuid FROM jsonb_array_elements_text(${ids}::jsonb)) AND status IN ('queued', 'running')
          RETURNING id::text AS id`
      : await db.$queryRaw<{ id: string }[]>`
          UPDATE etl_runs SET status = 'queued', lane = 'queue', owner_id = NULL, error = ${options.reason}
          WHERE id IN (SELECT value::uuid FROM jsonb_array_elements_text(${ids}::jsonb)) AND status IN ('queued', 'running')
          RETURNING id::text AS id`;
  return rows.map((row) => row.id);
}

/**
 * Marks `failed` the unfinished runs this instance owns but no longer executes: a run whose
 * outcome could not be recorded (PostgreSQL was down when it finished) would otherwise stay
 * `running` while its instance lives, since the reaper only takes runs of dead instances.
 *
 * @param options.executing - the run ids the instance's executor still holds (left alone)
 * @param options.olderThanMs - only runs queued at least this long ago (skips runs between their
 *   commit and their hand-over to the executor), in ms
 * @returns the ids marked failed
 */
export async function failOrphanedOwnRuns(
  db: Db,
  options: { instanceId: string; executing: readonly string[]; olderThanMs: number },
): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    UPDATE etl_runs
    SET status = 'failed', finished_at = CURRENT_TIMESTAMP,
        error = COALESCE(error || '; ', '') || 'its outcome could not be recorded when it finished (database unreachable)'
    WHERE owner_id = ${options.instanceId} AND status IN ('queued', 'running')
      AND queued_at < CURRENT_TIMESTAMP - ${`${options.olderThanMs} milliseconds`}::interval
      AND NOT (id = ANY (SELECT value::uuid FROM jsonb_array_elements_text(${JSON.stringify(options.executing)}::jsonb)))
    RETURNING id::text AS id`;
  return rows.map((row) => row.id);
}
