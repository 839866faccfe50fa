import type { Db } from './createDb.ts';
import { heldUnderLease } from './heldUnderLease.ts';

/** Whether {@link recordRunFailure} changed the run, or found its lease gone and wrote nothing. */
export type FailureRecordOutcome = 'recorded' | 'lease-lost';

/**
 * Records a failed attempt of a run, by the holder of its lease.
 *
 * Fenced: applies only while the run is `running` under `options.lease` (checked in the same
 * UPDATE, which finds the run by its primary key: see {@link heldUnderLease}); otherwise nothing is
 * written and the result is `lease-lost` (someone else took the run: the reaper, a shutdown, a
 * worker that took the job over).
 *
 * @param options.lease - the lease `claimRun` returned to this holder
 * @param options.final - true when no retry will follow: the run becomes `failed` with `finishedAt`
 *   set; false when the job will be retried: the run goes back to `queued`, keeping the error text of
 *   the last attempt so operators can see why it is retrying. Either way the lease is released.
 * @param options.error - the error message (truncated to 2,000 characters).
 */
export async function recordRunFailure(
  db: Db,
  runId: string,
  options: { lease: string; error: string; final: boolean },
): Promise<FailureRecordOutcome> {
  const error = options.error.slice(0, 2000);
  const changed = options.final
    ? await db.$executeRaw`
        UPDATE etl_runs SET status = 'failed', error = ${error}, finished_at = CURRENT_TIMESTAMP, lease = NULL, leased_by = NULL
        WHERE ${heldUnderLease(runId, options.lease)}`
    : await db.$executeRaw`
        UPDATE etl_runs SET status = 'queued', error = ${error}, lease = NULL, leased_by = NULL
        WHERE ${heldUnderLease(runId, options.lease)}`;
  return changed > 0 ? 'recorded' : 'lease-lost';
}

/**
 * Marks a queue-lane run `failed` because BullMQ failed its job without a processor that holds the
 * run (the job stalled past its limit, or was refused before its processor ran): a transition made
 * by someone other than the holder, so it clears `lease`/`leased_by` in the same statement and any
 * former holder still executing the run (a frozen worker) is fenced out. Only unfinished runs
 * (`queued`, `running`) change; a failure the processor already recorded is left as it is.
 *
 * @param options.error - BullMQ's failed reason (truncated to 2,000 characters)
 * @returns true when the run was marked failed
 */
export async function failRunOfFailedJob(db: Db, runId: string, options: { error: string }): Promise<boolean> {
  const changed = await db.$executeRaw`
    UPDATE etl_runs SET status = 'failed', error = ${options.error.slice(0, 2000)}, finished_at = CURRENT_TIMESTAMP,
      lease = NULL, leased_by = NULL
    WHERE id = ${runId}::uuid AND lane = 'queue' AND status IN ('queued', 'running')`;
  return changed > 0;
}
