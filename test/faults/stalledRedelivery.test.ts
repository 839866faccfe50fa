// Issue #9, "A stalled job redelivered while its first worker still runs: one commit, attempts
// counted once." The first worker is frozen (SIGSTOP) after it claimed the run, so it stops renewing
// its BullMQ lock; a second worker's stalled check takes the job over and runs it; then the first
// worker is let go (SIGCONT) and finishes its own execution, which must find its lease gone and write
// nothing. Commits are counted by a trigger in the suite's database, not inferred from final states.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource } from '../support/apiClient.ts';
import { waitForRun } from '../support/e2eSuite.ts';
import { essence, expectedRecords } from '../support/expectedRecords.ts';
import { createFaultSuite, type FaultApi, type FaultSuite } from '../support/faultSuite.ts';
import { countCommits, installRunAudit, readTransitions } from '../support/runAudit.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { readContextRecords, uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';
import { frozenProcesses } from '../support/freezeProcess.ts';

/** A slow job (4 s) with a short lock (1.5 s) checked twice a second, so a frozen worker's job stalls quickly. */
const WORKER_ENV = {
  ETL_TEST_ENABLE: 'true',
  ETL_TEST_DELAY_MS: '4000',
  WORKER_LOCK_DURATION_MS: '1500',
  WORKER_STALLED_INTERVAL_MS: '500',
};

async function leaseOf(suite: FaultSuite, runId: string): Promise<{ status: string; leasedBy: string | null; attempts: number }> {
  const [row] = await suite.db.$queryRaw<{ status: string; leasedBy: string | null; attempts: number }[]>`
    SELECT status::text AS status, leased_by AS "leasedBy", attempts FROM etl_runs WHERE id = ${runId}::uuid`;
  if (!row) throw new Error(`run ${runId} not found`);
  return row;
}

function workerIdOf(worker: SpawnedService): string {
  const id = worker.readyLine.workerId;
  if (typeof id !== 'string') throw new Error(`the worker's ready line has no workerId:\n${worker.readyLine.text}`);
  return id;
}

describe('a stalled job redelivered while its first worker still runs', () => {
  let suite: FaultSuite;
  let api: FaultApi;
  const frozen = frozenProcesses();

  beforeAll(async () => {
    suite = await createFaultSuite('stalled_redelivery');
    await installRunAudit(suite.db);
    api = await suite.startApi({ JOB_BACKOFF_MS: '200' });
  });

  afterAll(async () => {
    frozen.thawAll();
    await suite?.close();
  });

  it('commits once, from the worker that took the job over; the first finds its lease gone and writes nothing; attempts = 1', async () => {
    const first = await suite.startWorker(WORKER_ENV);
    const resourceId = uniqueResourceId('stalled');
    const info = { Repository: { FullName: 'octo/cat', Stars: 12 }, Commits: [{ Sha: 'abc' }] };
    const put = await putResource(api.url, resourceId, { info });
    expect(put.status).toBe(201);
    const runId = put.json.run.id as string;
    await waitFor('the first worker to claim the run', async () => ((await leaseOf(suite, runId)).leasedBy === workerIdOf(first) ? true : undefined));

    frozen.freeze(first.pid);
    const second = await suite.startWorker(WORKER_ENV);
    const taken = await waitFor(
      'the second worker to take the stalled job over',
      async () => {
        const run = await leaseOf(suite, runId);
        return run.leasedBy === workerIdOf(second) ? run : undefined;
      },
      { timeoutMs: 30_000, describeLast: () => second.output(20) },
    );
    expect(taken).toMatchObject({ status: 'running', attempts: 1 });

    frozen.thaw(first.pid);
    const leaseLost = await waitFor(
      'the first worker to log that its lease was lost',
      () => first.lines.find((line) => line.runId === runId && line.outcome === 'lease-lost'),
      { timeoutMs: 20_000, describeLast: () => first.output(20) },
    );
    expect(leaseLost.msg).toMatch(/lease lost/);
    const run = await waitForRun(suite.db, runId, 'succeeded', (r) => r.status === 'succeeded', { timeoutMs: 20_000 });

    expect(run).toMatchObject({ status: 'succeeded', attempts: 1, error: null });
    expect(await countCommits(suite.db, runId)).toBe(1);
    expect(essence(await readContextRecords(suite.db, resourceId))).toEqual(expectedRecords(info));
    // Claimed by the first worker, taken over by the second, finished once (by the second).
    expect(await readTransitions(suite.db, runId)).toEqual([
      { from: 'queued', to: 'running', leasedBy: workerIdOf(first) },
      { from: 'running', to: 'succeeded', leasedBy: null },
    ]);
    const processed = (worker: SpawnedService) =>
      worker.lines.filter((line) => line.msg === 'etl run processed' && line.runId === runId && line.outcome === 'succeeded').length;
    expect(processed(second)).toBe(1);
    expect(processed(first)).toBe(0);
    const job = await suite.queue().getJob(runId);
    expect(await job?.getState()).toBe('completed');
    expect(job?.returnvalue).toMatchObject({ outcome: 'succeeded' });
  });
});
