import type { Db } from './createDb.ts';
import type { EtlRunView, RawRun } from './views.ts';
import { runColumns, toRunView } from './views.ts';

/**
 * Puts a `failed` run back to `queued` (error kept until it succeeds) so its lane can take it again.
 * In-process runs get the retrying instance as their new owner.
 *
 * @returns the run, or `{ conflict: status }` when it exists but is not failed, or null when it does not exist
 */
export async function retryFailedRun(
  db: Db,
  runId: string,
  options: { ownerId: string | null },
): Promise<EtlRunView | { conflict: string } | null> {
  const [run] = await db.$queryRaw<RawRun[]>`
    UPDATE etl_runs SET status = 'queued', finished_at = NULL, owner_id = ${options.ownerId}
    WHERE id = ${runId}::uuid AND status = 'failed'
    RETURNING ${runColumns}`;
  if (run) return toRunView(run);
  const [existing] = await db.$queryRaw<{ status: string }[]>`SELECT status::text AS status FROM etl_runs WHERE id = ${runId}::uuid`;
  return existing ? { conflict: existing.status } : null;
}
