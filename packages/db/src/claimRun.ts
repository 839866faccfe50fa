import type { Db } from './createDb.ts';
import { Prisma } from './generated/prisma/client.ts';
import { queryRows } from './queryRows.ts';

/** A run handed to a processor: what it needs to run the ETL, and the lease its later writes must present. */
export interface ClaimedRun {
  id: string;
  resourceId: string;
  resourceVersion: number;
  lane: string;
  attempts: number;
  /** The fencing token this claim took (uuid): every later transition of the run requires it. */
  lease: string;
  /** The raw `info` as JSON text, exactly as stored (parse it losslessly). */
  infoJson: string;
  /**
   * The version whose context records are written for the resource (`context_versions`), read by
   * the claim statement itself; null when none are. Greater than `resourceVersion` means the run is
   * already stale: {@link skipStaleRun} it without transforming (issue #10). A newer version can
   * still be written after the claim; the commit's version guard decides then.
   */
  writtenVersion: number | null;
  /** When the run was queued (its write's transaction), as stored: for metrics without a query of their own. */
  queuedAt: Date;
  /** When the run's first claim started it (kept by later claims), as stored. */
  startedAt: Date;
}

/**
 * Who claims a run, and how.
 * - `queue`: a worker consuming the run's BullMQ job. It claims `queued`, `failed` and `lost` runs of
 *   the queue lane (a failed or lost run only comes back when someone retries its job on purpose, e.g.
 *   Bull Board's retry button), and takes over a `running` one only when `takeover` is true.
 * - `in-process`: an API instance's executor. It claims only `queued` runs it owns (`owner_id`), and
 *   never while the instance is declared dead (`api_instances.dead_at`); it never takes over.
 */
export type ClaimRunOptions =
  | {
      lane: 'queue';
      /** Recorded as `leased_by`, e.g. `worker:<hostname>:<pid>:<random>`. */
      leasedBy: string;
      /**
       * Take over a `running` run whose holder lost its job (a stalled job BullMQ redelivered, a job the
       * relay republished after it vanished from Redis): the former holder's writes are then fenced out.
       * @defaultValue false
       */
      takeover?: boolean;
    }
  | {
      lane: 'in-process';
      /** The claiming API instance's current id: must be the run's owner; recorded as `leased_by`. */
      instanceId: string;
    };

/**
 * Why {@link claimRun} handed nothing over: the run does not exist, it is in a state this claimant
 * may not claim (`finished`: succeeded, skipped, failed, lost), or it is queued/running but held by,
 * or belongs to, someone else (`held-elsewhere`).
 */
export type ClaimRefusal =
  | { claimed: false; reason: 'not-found' }
  | { claimed: false; reason: 'finished'; status: string }
  | { claimed: false; reason: 'held-elsewhere'; status: string };

/** The claimed run's `queued_at` and `started_at` (set by this or an earlier claim) in epoch ms, as RETURNING columns. */
const CLAIM_TIMES = Prisma.raw(
  '(extract(epoch FROM queued_at) * 1000)::float8 AS queued_at_ms, (extract(epoch FROM started_at) * 1000)::float8 AS started_at_ms',
);

/**
 * Claims a run: marks it `running` under a fresh lease (a random uuid in `lease`, the claimant in
 * `leased_by`) in ONE statement, and returns its `info`. Every later transition of the run —
 * {@link commitRunRecords}, `recordRunFailure` — applies only while that lease holds, so whoever
 * claimed it after us (a takeover), or took it from us (the reaper, a shutdown, a retry), fences our
 * writes out (graphile-worker's `WHERE id = $1 AND locked_by = $2`).
 *
 * Attempts count real attempts, once each: a claim from `queued`, `failed` or `lost` starts a new
 * attempt (`attempts + 1`); a takeover of a `running` run continues the attempt its former holder
 * started and does not add one (like BullMQ, which does not count a stalled job's redelivery in
 * `attemptsMade`). `started_at` is set by the first claim only. A queue-lane claim also records the
 * job as published (`published_at`, when still null): the job reached a worker, so it was in Redis.
 *
 * The same statement reads the version whose records are already written (`writtenVersion`), so a
 * run that is stale on arrival is skipped before its transform at no extra round trip (issue #10).
 *
 * A run that already finished is never claimed by a plain redelivery: a duplicate delivery of the
 * same job is a no-op, half of the exactly-once effect (the other half is commitRunRecords' version
 * guard).
 */
export async function claimRun(
  db: Db,
  runId: string,
  options: ClaimRunOptions,
): Promise<({ claimed: true } & ClaimedRun) | ClaimRefusal> {
  // Timestamps come back as epoch milliseconds (float8): pg and Prisma parse `timestamptz` differently (see queryRows).
  type Row = { id: string; resource_id: string; resource_version: number; lane: string; attempts: number; lease: string; info: string; written_version: number | null; queued_at_ms: number; started_at_ms: number };
  const rows =
    options.lane === 'queue'
      ? await queryRows<Row>(db, Prisma.sql`
          UPDATE etl_runs
          SET status = 'running',
              attempts = attempts + CASE WHEN status = 'running' THEN 0 ELSE 1 END,
              started_at = COALESCE(started_at, CURRENT_TIMESTAMP), finished_at = NULL,
              lease = gen_random_uuid(), leased_by = ${options.leasedBy},
              published_at = COALESCE(published_at, CURRENT_TIMESTAMP)
          WHERE id = ${runId}::uuid AND lane = 'queue'
            AND (status IN ('queued', 'failed', 'lost') OR (status = 'running' AND ${options.takeover ?? false}::boolean))
          RETURNING id::text AS id, resource_id, resource_version, lane::text AS lane, attempts, lease::text AS lease, info::text AS info,
            (SELECT v.resource_version FROM context_versions v WHERE v.resource_id = etl_runs.resource_id) AS written_version,
            ${CLAIM_TIMES}`)
      : await queryRows<Row>(db, Prisma.sql`
          UPDATE etl_runs
          SET status = 'running', attempts = attempts + 1,
              started_at = COALESCE(started_at, CURRENT_TIMESTAMP), finished_at = NULL,
              lease = gen_random_uuid(), leased_by = ${options.instanceId}
          WHERE id = ${runId}::uuid AND status = 'queued' AND lane <> 'queue' AND owner_id = ${options.instanceId}
            AND NOT EXISTS (SELECT 1 FROM api_instances i WHERE i.id = ${options.instanceId} AND i.dead_at IS NOT NULL)
          RETURNING id::text AS id, resource_id, resource_version, lane::text AS lane, attempts, lease::text AS lease, info::text AS info,
            (SELECT v.resource_version FROM context_versions v WHERE v.resource_id = etl_runs.resource_id) AS written_version,
            ${CLAIM_TIMES}`);
  const [row] = rows;
  if (row) {
    return {
      claimed: true,
      id: row.id,
      resourceId: row.resource_id,
      resourceVersion: row.resource_version,
      lane: row.lane,
      attempts: row.attempts,
      lease: row.lease,
      infoJson: row.info,
      writtenVersion: row.written_version,
      queuedAt: new Date(row.queued_at_ms),
      startedAt: new Date(row.started_at_ms),
    };
  }
  const [existing] = await queryRows<{ status: string }>(db, Prisma.sql`
    SELECT status::text AS status FROM etl_runs WHERE id = ${runId}::uuid`);
  if (!existing) return { claimed: false, reason: 'not-found' };
  return existing.status === 'queued' || existing.status === 'running'
    ? { claimed: false, reason: 'held-elsewhere', status: existing.status }
    : { claimed: false, reason: 'finished', status: existing.status };
}
