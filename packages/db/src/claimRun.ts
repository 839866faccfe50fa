import type { Db } from './createDb.ts';

/** A run handed to a processor: what it needs to run the ETL. */
export interface ClaimedRun {
  id: string;
  resourceId: string;
  resourceVersion: number;
  lane: string;
  attempts: number;
  /** The raw `info` as JSON text, exactly as stored (parse it losslessly). */
  infoJson: string;
}

/** Why {@link claimRun} handed nothing over. */
export type ClaimRefusal = { claimed: false; reason: 'not-found' } | { claimed: false; reason: 'finished'; status: string };

/**
 * Marks a run `running` (attempts + 1, `startedAt` set on the first attempt) and returns its `info`.
 *
 * A run that already finished (`succeeded`, `skipped`, `lost`) is not claimed again: a duplicate
 * delivery of the same job is then a no-op, which is half of the exactly-once effect (the other half
 * is {@link commitRunRecords}' version guard). A `failed` run is claimable: its job only comes back
 * when someone retries it on purpose (the retry endpoint, or Bull Board's retry button).
 */
export async function claimRun(db: Db, runId: string): Promise<({ claimed: true } & ClaimedRun) | ClaimRefusal> {
  const [row] = await db.$queryRaw<
    { id: string; resource_id: string; resource_version: number; lane: string; attempts: number; info: string }[]
  >`
    UPDATE etl_runs
    SET status = 'running', attempts = attempts + 1, started_at = COALESCE(started_at, CURRENT_TIMESTAMP), finished_at = NULL
    WHERE id = ${runId}::uuid AND status IN ('queued', 'running', 'failed')
    RETURNING id::text AS id, resource_id, resource_version, lane::text AS lane, attempts, info::text AS info`;
  if (row) {
    return {
      claimed: true,
      id: row.id,
      resourceId: row.resource_id,
      resourceVersion: row.resource_version,
      lane: row.lane,
      attempts: row.attempts,
      infoJson: row.info,
    };
  }
  const [existing] = await db.$queryRaw<{ status: string }[]>`
    SELECT status::text AS status FROM etl_runs WHERE id = ${runId}::uuid`;
  return existing ? { claimed: false, reason: 'finished', status: existing.status } : { claimed: false, reason: 'not-found' };
}
