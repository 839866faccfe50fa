import type { Db } from './createDb.ts';
import { Prisma } from './generated/prisma/client.ts';

/** Identity of one API process. */
export interface ApiInstanceIdentity {
  /** Unique per process start, e.g. `<hostname>:<pid>:<random>`. */
  id: string;
  hostname: string;
  pid: number;
}

/**
 * Records an API process as alive now: registers it on the first call, refreshes its heartbeat after
 * — unless another instance declared it dead (`dead_at`), which the heartbeat then refuses to undo:
 * the reaper took its runs, so it must stop claiming under this id and register under a new one.
 *
 * @returns `alive`, or `declared-dead` when the id was declared dead (nothing is written then)
 */
export async function registerApiInstance(db: Db, instance: ApiInstanceIdentity): Promise<'alive' | 'declared-dead'> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    INSERT INTO api_instances (id, hostname, pid) VALUES (${instance.id}, ${instance.hostname}, ${instance.pid})
    ON CONFLICT (id) DO UPDATE SET heartbeat_at = CURRENT_TIMESTAMP, stopped_at = NULL
      WHERE api_instances.dead_at IS NULL
    RETURNING id`;
  return rows.length > 0 ? 'alive' : 'declared-dead';
}

/** Records that an API process stopped on purpose (its unfinished runs may be reaped at once). */
export async function markApiInstanceStopped(db: Db, id: string): Promise<void> {
  await db.$executeRaw`UPDATE api_instances SET stopped_at = CURRENT_TIMESTAMP WHERE id = ${id}`;
}

/** What to do with runs whose owner died: keep them `lost` (Task.start's honest outcome) or hand them to the queue lane. */
export type LostRunRecovery = 'lost' | 'queue';

/**
 * Declares dead the API instances that stopped or whose heartbeat is older than `deadAfterMs`, and
 * takes their unfinished (`queued`/`running`) runs: marks them `lost` with the reason, or moves them
 * to the `queue` lane as `queued` and unpublished (the caller then enqueues the returned ids). ONE
 * statement does both: it sets `api_instances.dead_at` on each instance it reaps (so that instance's
 * next heartbeat learns it, see {@link registerApiInstance}) and clears each run's `lease` and
 * `leased_by`, so a slow-but-alive owner still executing a run is fenced out of every later write.
 *
 * Instances are matched on the rows the statement itself locked and updated: a heartbeat that
 * commits first makes its instance alive again and none of its runs are taken; instances reaping at
 * the same time never take the same run twice.
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
  // Newly silent instances are declared dead once; stopped or already-dead ones are only touched
  // while they still own unfinished runs (e.g. a run committed just after its owner was declared dead).
  const declareDead = Prisma.sql`
    UPDATE api_instances i SET dead_at = COALESCE(i.dead_at, CURRENT_TIMESTAMP)
    WHERE i.id <> ${except}
      AND (i.stopped_at IS NOT NULL OR i.dead_at IS NOT NULL OR i.heartbeat_at < CURRENT_TIMESTAMP - ${dead}::interval)
      AND ((i.stopped_at IS NULL AND i.dead_at IS NULL)
        OR EXISTS (SELECT 1 FROM etl_runs o WHERE o.owner_id = i.id AND o.status IN ('queued', 'running')))
    RETURNING i.id, i.stopped_at, i.heartbeat_at`;
  const rows =
    options.recovery === 'lost'
      ? await db.$queryRaw<{ id: string }[]>`
          WITH dead AS (${declareDead})
          UPDATE etl_runs r
          SET status = 'lost', finished_at = CURRENT_TIMESTAMP, lease = NULL, leased_by = NULL,
              error = 'owner API instance ' || i.id || CASE WHEN i.stopped_at IS NOT NULL
                THEN ' stopped at ' || to_char(i.stopped_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ' before the run finished'
                ELSE ' stopped heartbeating at ' || to_char(i.heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ' (process died)' END
          FROM dead i
          WHERE r.owner_id = i.id AND r.status IN ('queued', 'running')
          RETURNING r.id::text AS id`
      : await db.$queryRaw<{ id: string }[]>`
          WITH dead AS (${declareDead})
          UPDATE etl_runs r
          SET status = 'queued', lane = 'queue', owner_id = NULL, lease = NULL, leased_by = NULL, published_at = NULL,
              error = 'recovered to the queue lane: owner API instance ' || i.id || ' stopped'
          FROM dead i
          WHERE r.owner_id = i.id AND r.status IN ('queued', 'running')
          RETURNING r.id::text AS id`;
  return { runIds: rows.map((row) => row.id), recovery: options.recovery };
}

/**
 * Marks the given runs of a stopping instance `lost` (or hands them to the queue lane, unpublished)
 * right away, with the reason: used at the end of a graceful stop's grace period for runs still
 * unfinished. Only runs the instance still owns change (a run the reaper already handed to the queue
 * lane and a worker now executes is left alone), and their lease is cleared in the same statement,
 * so an execution still in flight writes nothing afterwards.
 *
 * @param options.ownerId - the stopping instance's current id
 * @returns the ids of the runs changed
 */
export async function abandonRuns(
  db: Db,
  runIds: readonly string[],
  options: { reason: string; recovery: LostRunRecovery; ownerId: string },
): Promise<string[]> {
  if (runIds.length === 0) return [];
  const ids = JSON.stringify(runIds);
  const rows =
    options.recovery === 'lost'
      ? await db.$queryRaw<{ id: string }[]>`
          UPDATE etl_runs SET status = 'lost', finished_at = CURRENT_TIMESTAMP, error = ${options.reason}, lease = NULL, leased_by = NULL
          WHERE id IN (SELECT value::uuid FROM jsonb_array_elements_text(${ids}::jsonb)) AND status IN ('queued', 'running')
            AND owner_id = ${options.ownerId}
          RETURNING id::text AS id`
      : await db.$queryRaw<{ id: string }[]>`
          UPDATE etl_runs SET status = 'queued', lane = 'queue', owner_id = NULL, error = ${options.reason},
            lease = NULL, leased_by = NULL, published_at = NULL
          WHERE id IN (SELECT value::uuid FROM jsonb_array_elements_text(${ids}::jsonb)) AND status IN ('queued', 'running')
            AND owner_id = ${options.ownerId}
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
    SET status = 'failed', finished_at = CURRENT_TIMESTAMP, lease = NULL, leased_by = NULL,
        error = COALESCE(error || '; ', '') || 'its outcome could not be recorded when it finished (database unreachable)'
    WHERE owner_id = ${options.instanceId} AND status IN ('queued', 'running')
      AND queued_at < CURRENT_TIMESTAMP - ${`${options.olderThanMs} milliseconds`}::interval
      AND NOT (id = ANY (SELECT value::uuid FROM jsonb_array_elements_text(${JSON.stringify(options.executing)}::jsonb)))
    RETURNING id::text AS id`;
  return rows.map((row) => row.id);
}
