import type { Db } from './createDb.ts';

/**
 * A queue-lane run still `queued` or `running` in PostgreSQL: a candidate for (re-)enqueueing. A
 * `running` one whose job vanished from Redis (Redis restarted empty while a worker held it) would
 * otherwise never finish; the relay re-enqueues only runs that have no live job.
 */
export interface StrandedRun {
  id: string;
  requestId: string | null;
}

/**
 * Runs `relay` with the outbox relay's lock held and the batch of unfinished (`queued` or
 * `running`) queue-lane runs queued more than `olderThanMs` ago, oldest first. The lock is a PostgreSQL transaction-level
 * advisory lock (`pg_try_advisory_xact_lock`), so among any number of API instances only one
 * relay acts at a time, and a relay that dies releases it with its connection.
 *
 * @param options.olderThanMs - only runs queued at least this long ago, in ms
 * @param options.limit - most runs per batch
 * @param options.timeoutMs - longest the lock is held, in ms. @defaultValue 30000
 * @returns what `relay` returned, or `{ locked: false }` when another relay holds the lock
 */
export async function withOutboxRelayLock<T>(
  db: Db,
  options: { olderThanMs: number; limit: number; timeoutMs?: number },
  relay: (runs: StrandedRun[]) => Promise<T>,
): Promise<{ locked: true; result: T } | { locked: false }> {
  const timeout = options.timeoutMs ?? 30_000;
  return db.$transaction(
    async (tx) => {
      const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${OUTBOX_RELAY_LOCK_KEY}::bigint) AS locked`;
      if (!lock?.locked) return { locked: false as const };
      const runs = await tx.$queryRaw<{ id: string; request_id: string | null }[]>`
        SELECT id::text AS id, request_id FROM etl_runs
        WHERE lane = 'queue' AND status IN ('queued', 'running')
          AND queued_at < CURRENT_TIMESTAMP - ${`${options.olderThanMs} milliseconds`}::interval
        ORDER BY queued_at
        LIMIT ${options.limit}`;
      return { locked: true as const, result: await relay(runs.map((run) => ({ id: run.id, requestId: run.request_id }))) };
    },
    { timeout, maxWait: timeout },
  );
}

/** Counts queue-lane runs waiting in the outbox longer than `olderThanMs` (for metrics and health). */
export async function countStrandedRuns(db: Db, olderThanMs: number): Promise<number> {
  const [row] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM etl_runs
    WHERE lane = 'queue' AND status = 'queued' AND queued_at < CURRENT_TIMESTAMP - ${`${olderThanMs} milliseconds`}::interval`;
  return row?.count ?? 0;
}

/** Advisory lock key of the outbox relay: the bytes "tasklane" as a 64-bit integer. */
const OUTBOX_RELAY_LOCK_KEY = '8386110886357593701';
