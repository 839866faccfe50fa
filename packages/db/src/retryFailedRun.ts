import type { Db } from './createDb.ts';
import type { EtlRunView, RawRun } from './views.ts';
import { runColumns, toRunView } from './views.ts';

/**
 * Puts a `failed` or `lost` run back to `queued` (error kept until it succeeds) so its lane can take
 * it again. In-process runs get the retrying instance as their new owner. A transition made by
 * someone other than a holder: it clears `lease`/`leased_by` (an execution of the run still in flight
 * somewhere writes nothing afterwards) and `published_at` (its job is to be added to Redis again).
 *
 * @returns the run, or `{ conflict: status }` when it exists but is neither failed nor lost, or null
 *   when it does not exist
 */
export async function retryFailedRun(
  db: Db,
  runId: string,
  options: { ownerId: string | null },
): Promise<EtlRunView | { conflict: string } | null> {
  const [run] = await db.$queryRaw<RawRun[]>`
    UPDATE etl_runs SET status = 'queued', finished_at = NULL, owner_id = ${options.ownerId},
      lease = NULL, leased_by = NULL, published_at = NULL
    WHERE id = ${runId}::uuid AND status IN ('failed', 'lost')
    RETURNING ${runColumns}`;
  if (run) return toRunView(run);
  const [existing] = await db.$queryRaw<{ status: string }[]>`SELECT status::text AS status FROM etl_runs WHERE id = ${runId}::uuid`;
  return existing ? { conflict: existing.status } : null;
}
