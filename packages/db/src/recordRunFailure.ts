import type { Db } from './createDb.ts';

/**
 * Records a failed attempt of a run.
 *
 * @param options.final - true when no retry will follow: the run becomes `failed` with `finishedAt`
 *   set; false when the job will be retried: the run goes back to `queued`, keeping the error text of
 *   the last attempt so operators can see why it is retrying.
 * @param options.error - the error message (truncated to 2,000 characters).
 */
export async function recordRunFailure(db: Db, runId: string, options: { error: string; final: boolean }): Promise<void> {
  const error = options.error.slice(0, 2000);
  if (options.final) {
    await db.$executeRaw`
      UPDATE etl_runs SET status = 'failed', error = ${error}, finished_at = CURRENT_TIMESTAMP
      WHERE id = ${runId}::uuid AND status IN ('queued', 'running')`;
  } else {
    await db.$executeRaw`
      UPDATE etl_runs SET status = 'queued', error = ${error}
      WHERE id = ${runId}::uuid AND status = 'running'`;
  }
}
