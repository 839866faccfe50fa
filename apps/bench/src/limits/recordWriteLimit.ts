import type { Db } from '@tasklane/db';
import { commitRunRecords } from '@tasklane/db';
import { transformInfoJson } from '@tasklane/etl';
import { processRun } from '@tasklane/pipeline';
import type { LoopResult } from './pgLoop.ts';
import { runPool } from './pgLoop.ts';
import type { PreparedRun } from './prepareRuns.ts';

/**
 * The machine's raw rate of writing context records with no queue in between: for each prepared
 * run, `commitRunRecords` (the worker's write transaction: version guard, delete, insert the
 * records, mark the run) with the records of `transformInfo` computed beforehand, `concurrency`
 * at a time over a Prisma client like the worker's.
 */
export async function measureRecordWrites(db: Db, runs: readonly PreparedRun[], concurrency: number): Promise<LoopResult & { records: number }> {
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
  return runPool(runs, concurrency, (run) => processRun({ db, transform: transformInfoJson }, run.id));
}
