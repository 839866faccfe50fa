// Issue #4, "Exactly-once effect on top of at-least-once delivery": a worker SIGKILLed mid-job loses
// nothing (its job stalls and another worker completes it), and a run delivered again after it
// finished (a second job for it, a re-delivery under its own job id) leaves exactly the records of one clean run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource } from '../support/apiClient.ts';
import { waitForRun } from '../support/e2eSuite.ts';
import { essence, expectedRecords } from '../support/expectedRecords.ts';
import { createFaultSuite, type FaultApi, type FaultSuite } from '../support/faultSuite.ts';
import { readContextRecords, readContextVersion, readRun, uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

/** A slow job (3 s) with a short lock (2 s) checked every second, so a dead worker's job stalls quickly. */
const WORKER_ENV = {
  ETL_TEST_ENABLE: 'true',
  ETL_TEST_DELAY_MS: '3000',
  WORKER_LOCK_DURATION_MS: '2000',
  WORKER_STALLED_INTERVAL_MS: '1000',
};

/** Everything a run leaves in PostgreSQL, to compare before and after a duplicate delivery. */
async function snapshot(suite: FaultSuite, resourceId: string, runId: string) {
  const [version] = await suite.db.$queryRaw<{ resource_version: number; run_id: string; written_at: Date }[]>`
    SELECT resource_version, run_id::text AS run_id, written_at FROM context_versions WHERE resource_id = ${resourceId}`;
  return { run: await readRun(suite.db, runId), records: await readContextRecords(suite.db, resourceId), version };
}

describe('a worker SIGKILLed mid-job, and duplicate deliveries', () => {
  let suite: FaultSuite;
  let api: FaultApi;
  const info = { Repository: { FullName: 'octo/cat', Stars: 12 }, Commits: [{ Sha: 'abc', Message: 'fix' }], Token: 'hunter2' };
  let resourceId: string;
  let runId: string;

  beforeAll(async () => {
    suite = await createFaultSuite('worker_kill');
    api = await suite.startApi({ JOB_BACKOFF_MS: '200' });
  });

  afterAll(async () => {
    await suite?.close();
  });

  it("completes the job of a worker SIGKILLed mid-job in another worker: the run succeeds with one clean run's records", async () => {
    const first = await suite.startWorker(WORKER_ENV);
    resourceId = uniqueResourceId('kill');
    const put = await putResource(api.url, resourceId, { info });
    expect(put.status).toBe(201);
    runId = put.json.run.id;
    await waitForRun(suite.db, runId, 'claimed by the first worker', (run) => run.status === 'running');

    expect(await suite.kill(first)).toEqual({ code: null, signal: 'SIGKILL' });
    // Nothing moved it: the job is still active under the dead worker's lock, the run still running.
    expect(await (await suite.queue().getJob(runId))?.getState()).toBe('active');
    expect((await readRun(suite.db, runId))?.status).toBe('running');

    const second = await suite.startWorker(WORKER_ENV);
    const run = await waitForRun(suite.db, runId, 'succeeded', (r) => r.status === 'succeeded', { timeoutMs: 30_000 });

    const expected = expectedRecords(info);
    // Taken over by the second worker: a takeover continues the dead worker's attempt (issue #9,
    // attempts count real attempts once), however many times a loaded machine stalls the job.
    expect(run).toMatchObject({ status: 'succeeded', error: null, recordCount: expected.length });
    expect(run.attempts).toBe(1);
    const records = await readContextRecords(suite.db, resourceId);
    expect(essence(records)).toEqual(expected);
    expect(records.every((r) => r.runId === runId && r.resourceVersion === 1)).toBe(true);
    expect(await readContextVersion(suite.db, resourceId)).toBe(1);
    const job = await suite.queue().getJob(runId);
    expect(await job?.getState()).toBe('completed');
    expect(job?.returnvalue).toEqual({ outcome: 'succeeded', recordCount: expected.length });
    expect(await suite.queue().getJobCounts('active', 'waiting', 'delayed', 'failed')).toEqual({ active: 0, waiting: 0, delayed: 0, failed: 0 });
    expect(second.lines.some((line) => line.msg === 'etl run processed' && line.runId === runId)).toBe(true);
  });

  it('a second job for a finished run (another job id) and a re-delivery under its own id leave the run and its records untouched', async () => {
    expect(runId, 'needs the run of the previous test').toBeDefined();
    const before = await snapshot(suite, resourceId, runId);
    expect(before.run?.status).toBe('succeeded');

    // A second delivery under another job id, as a producer bug or a manual re-add would make.
    const duplicate = await suite.queue().add('etl-run', { runId }, { jobId: `duplicate-${runId}` });
    const duplicateDone = await waitFor('the duplicate job to complete', async () =>
      (await duplicate.getState()) === 'completed' ? suite.queue().getJob(duplicate.id!) : undefined,
    );
    expect(duplicateDone?.returnvalue).toEqual({ outcome: 'already-finished', status: 'succeeded' });

    // A re-delivery under the run's own job id, as an operator removing the completed job and
    // adding it again would make (the outbox relay never replaces an existing job).
    await suite.queue().remove(runId);
    await suite.queue().add('etl-run', { runId }, { jobId: runId });
    const redelivered = await waitFor('the re-enqueued job to complete', async () =>
      (await suite.queue().getJobState(runId)) === 'completed' ? suite.queue().getJob(runId) : undefined,
    );
    expect(redelivered?.returnvalue).toEqual({ outcome: 'already-finished', status: 'succeeded' });

    expect(await snapshot(suite, resourceId, runId)).toEqual(before);
  });
});
