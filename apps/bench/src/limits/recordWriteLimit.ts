import type { Db } from '@tasklane/db';
import { claimRun, commitRunRecords } from '@tasklane/db';
import { transformInfoJson } from '@tasklane/etl';
import { processRun } from '@tasklane/pipeline';
import type { LoopResult } from './pgLoop.ts';
import { runPool } from './pgLoop.ts';
import type { PreparedRun } from './prepareRuns.ts';
import { DIRECT_LOOP_OWNER } from './prepareRuns.ts';

/** A prepared run claimed for a direct commit: the lease its fenced commit presents. */
export type LeasedRun = PreparedRun & { lease: string };

/**
 * Claims prepared `inline` runs as their owner would (`claimRun`, in-process), 8 at a time, so
 * {@link measureRecordWrites} can commit them: commits are fenced by the claim's lease (issue #9).
 * @throws Error when a run cannot be claimed
 */
export async function claimPreparedRuns(db: Db, runs: readonly PreparedRun[]): Promise<LeasedRun[]> {
  const leased: LeasedRun[] = new Array(runs.length);
  let slot = 0;
  await runPool(runs.map((run) => ({ run, at: slot++ })), 8, async ({ run, at }) => {
    const claim = await claimRun(db, run.id, { lane: 'in-process', instanceId: DIRECT_LOOP_OWNER });
    if (!claim.claimed) throw new Error(`bench: could not claim prepared run ${run.id} (${claim.reason})`);
    leased[at] = { ...run, lease: claim.lease };
  });
  return leased;
}

/**
 * The machine's raw rate of writing context records with no queue in between: for each prepared
 * run, `commitRunRecords` (the worker's write transaction: version guard, delete, insert the
 * records, mark the run) with the records of `transformInfo` computed beforehand, `concurrency`
 * at a time over a Prisma client like the worker's.
 */
export async function measureRecordWrites(db: Db, runs: readonly LeasedRun[], concurrency: number): Promise<LoopResult & { records: number }> {
  const prepared = runs.map((run) => ({ run, records: transformInfoJson(run.infoJson) }));
  const records = prepared.reduce((sum, p) => sum + p.records.length, 0);
  const result = await runPool(prepared, concurrency, ({ run, records }) => commitRunRecords(db, run, records));
  return { ...result, records };
}

/**
 * The worker's whole job minus BullMQ: `processRun` (claim, transform, commit — the code the
 * worker's processor runs) called directly, `concurrency` at a time. Its gap to the worker's
 * sustained rate is what the queue costs; its gap to {@link measureRecordWrites} is claim + transform.
 */
export async function measureDirectProcessRun(db: Db, runs: readonly PreparedRun[], concurrency: number): Promise<LoopResult> {
  return runPool(runs, concurrency, (run) => processRun({ db, transform: transformInfoJson }, run.id, { lane: 'in-process', instanceId: DIRECT_LOOP_OWNER }));
}
