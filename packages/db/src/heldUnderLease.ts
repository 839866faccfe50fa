import { Prisma } from './generated/prisma/client.ts';

/**
 * The fence of a run transition made by its holder, as a WHERE condition: the run `runId` is still
 * `running` under `lease` (graphile-worker's `WHERE id = $1 AND locked_by = $2`).
 *
 * `status` is compared as text on purpose, so that only the primary key can serve the condition
 * (issue #10, "how cost grows"). Written `status::text = 'running'`, the planner estimates one row for it
 * once the statistics see no running runs (the usual case: a run is running for milliseconds) and,
 * on a table of thousands of runs or more, prefers the small `etl_runs_status_lane_queued_at_idx`
 * to the primary key. That scan walks every `running` index entry, including one per claim since
 * the last VACUUM (a claim's UPDATE changes `status`, so it is not HOT), so each transition cost
 * more the more runs the table holds and autovacuum lets accumulate. `commit_run_records` does the
 * same by locking the row by id (migration `20261202210000_commit_fence_by_run_id`).
 *
 * @param runId - the run's id (uuid text)
 * @param lease - the lease `claimRun` returned (uuid text)
 */
export function heldUnderLease(runId: string, lease: string): Prisma.Sql {
  return Prisma.sql`id = ${runId}::uuid AND lease = ${lease}::uuid AND status::text = 'running'`;
}
