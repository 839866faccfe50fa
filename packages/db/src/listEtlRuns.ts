import { Prisma } from './generated/prisma/client.ts';
import type { Db } from './createDb.ts';
import type { EtlRunView, RawRun } from './views.ts';
import { runColumns, toRunView } from './views.ts';

/** Position after which the next page starts: the last run's `queuedAt` and id (newest first). */
export interface RunCursor {
  queuedAt: Date;
  id: string;
}

/**
 * One page of runs, newest first (keyset pagination on `(queued_at, id)`).
 *
 * @param filter.lane / filter.status - optional exact filters (already validated enum values)
 * @param filter.limit - page size 1..1000
 * @returns the runs, and the cursor of the next page or null
 */
export async function listEtlRuns(
  db: Db,
  filter: { lane?: string; status?: string; after?: RunCursor | null; limit: number },
): Promise<{ runs: EtlRunView[]; next: RunCursor | null }> {
  const conditions = [Prisma.sql`TRUE`];
  if (filter.lane) conditions.push(Prisma.sql`lane = ${filter.lane}::"EtlLane"`);
  if (filter.status) conditions.push(Prisma.sql`status = ${filter.status}::"EtlRunStatus"`);
  if (filter.after) conditions.push(Prisma.sql`(queued_at, id) < (${filter.after.queuedAt}::timestamptz, ${filter.after.id}::uuid)`);
  const rows = await db.$queryRaw<RawRun[]>`
    SELECT ${runColumns} FROM etl_runs
    WHERE ${Prisma.join(conditions, ' AND ')}
    ORDER BY queued_at DESC, id DESC
    LIMIT ${filter.limit + 1}`;
  const runs = rows.slice(0, filter.limit).map(toRunView);
  const last = runs.at(-1);
  return { runs, next: rows.length > filter.limit && last ? { queuedAt: last.queuedAt, id: last.id } : null };
}
