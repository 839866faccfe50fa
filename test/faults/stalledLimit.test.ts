// Issue #9, "What must hold" 6: BullMQ's job state and the run row agree at the end of every path,
// including the stalled limit. A job whose worker keeps losing its lock is failed by BullMQ itself
// ("job stalled more than allowable limit") without the processor ever seeing that delivery; the
// worker process reconciles it with its run (apps/worker/src/reconcileFailedJobs.ts):
// - the run had finished (the lost worker did the work) → the job is retried and completes as a no-op;
// - the run is unfinished → the run becomes `failed`;
// - PostgreSQL is down when the job fails → the reconciliation happens once it is back.
//
// The "worker that keeps losing its lock" is a BullMQ worker in this test process that fetches the
// job by hand (manual processing: nothing renews its lock) and runs a stalled check: twice, so that
// the job's stall count passes `maxStalledCount` (1). The worker under test is a real process.
import { claimRun, type Db } from '@tasklane/db';
import { transformInfoJson } from '@tasklane/etl';
import { processRun } from '@tasklane/pipeline';
import { QUEUE_NAMES, createRedisConnection } from '@tasklane/queue';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource } from '../support/apiClient.ts';
import { waitForRun } from '../support/e2eSuite.ts';
import { createFaultSuite, type FaultApi, type FaultSuite } from '../support/faultSuite.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../support/privatePostgres.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { readContextRecords, readRun, uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

// A short stalled interval: BullMQ runs at most one stalled check per interval per queue (its
// `stalled-check` key), across every worker, the one under test included.
const WORKER_ENV = { JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '200', WORKER_DATABASE_RETRY_MAX_MS: '1000', WORKER_STALLED_INTERVAL_MS: '200' };

/** What the lost worker did with a run before losing the job's lock. */
type LostWork = (db: Db, runId: string) => Promise<unknown>;
/** The worker that loses the job's lock, as the runs' lease holder. */
const LOST_WORKER = { lane: 'queue', leasedBy: 'worker:stalled-limit-test' } as const;
const didTheWork: LostWork = (db, runId) => processRun({ db, transform: transformInfoJson }, runId, LOST_WORKER);
const claimedOnly: LostWork = (db, runId) => claimRun(db, runId, LOST_WORKER);

describe('a job failed by the stalled limit', () => {
  let postgres: PrivatePostgres;
  let suite: FaultSuite;
  let api: FaultApi;
  let worker: SpawnedService | undefined;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    suite = await createFaultSuite('stalled_limit', { databaseServerUrl: postgres.url('postgres') });
    // The relay would re-publish an unfinished run whose job failed: keep it out of this test.
    api = await suite.startApi({ ...WORKER_ENV, OUTBOX_RELAY_AFTER_MS: '600000' });
  });

  afterAll(async () => {
    if (postgres && !(await postgres.isRunning())) await postgres.start().catch(() => {});
    await suite?.close();
    await postgres?.close();
  });

  /** PUTs a resource (queue lane, no worker running yet) and returns its run id and info. */
  async function putRun(label: string) {
    const info = { Label: label, Items: [1, 2, 3], Nested: { Deep: true } };
    const put = await putResource(api.url, uniqueResourceId(label), { info });
    expect(put.status).toBe(201);
    expect(put.json.run.dispatched).toBe(true);
    return { runId: put.json.run.id as string, resourceId: put.json.resource.id as string, info };
  }

  /**
   * Delivers the jobs of `runs` to a worker that loses their locks twice, doing `work` on the first
   * delivery; the jobs end `waiting` with BullMQ's deferred failure set.
   */
  async function stallTwice(runs: readonly { runId: string; work: LostWork }[]): Promise<void> {
    const connection = createRedisConnection(suite.redis, 'worker');
    const lost = new Worker(QUEUE_NAMES.etlRun, null, { connection, prefix: suite.prefix, autorun: false, lockDuration: 500, stalledInterval: 200, maxStalledCount: 1 });
    lost.on('error', () => {});
    try {
      for (const delivery of [1, 2]) {
        const taken: Job[] = [];
        for (let i = 0; i < runs.length; i++) {
          const job = (await lost.getNextJob(`lost-${delivery}-${i}`)) as Job | undefined;
          if (!job) throw new Error(`delivery ${delivery}: no job to take`);
          taken.push(job);
        }
        expect(taken.map((job) => job.id).sort()).toEqual(runs.map((run) => run.runId).sort());
        if (delivery === 1) for (const run of runs) await run.work(suite.db, run.runId);
        await lost.startStalledCheckTimer();
        for (const { runId } of runs) {
          await waitFor(`job ${runId} stalled back to waiting (delivery ${delivery})`, async () =>
            (await (await suite.queue().getJob(runId))?.getState()) === 'waiting' ? true : undefined,
          { timeoutMs: 15_000 });
        }
      }
      for (const { runId } of runs) expect((await suite.queue().getJob(runId))?.deferredFailure).toBe('job stalled more than allowable limit');
    } finally {
      await lost.close();
      connection.disconnect();
    }
  }

  it('completes (as a no-op) the job of a run that had succeeded, and fails the run of an unfinished one', async () => {
    const finished = await putRun('stall-finished');
    const unfinished = await putRun('stall-unfinished');
    await stallTwice([
      { runId: finished.runId, work: didTheWork },
      { runId: unfinished.runId, work: claimedOnly },
    ]);
    expect((await readRun(suite.db, finished.runId))?.status).toBe('succeeded');
    expect((await readRun(suite.db, unfinished.runId))?.status).toBe('running');
    const recordsBefore = await readContextRecords(suite.db, finished.resourceId);
    expect(recordsBefore.length).toBeGreaterThan(0);

    worker = await suite.startWorker(WORKER_ENV);

    await waitFor('the finished run’s job to complete', async () =>
      (await (await suite.queue().getJob(finished.runId))?.getState()) === 'completed' ? true : undefined,
    { timeoutMs: 20_000, describeLast: () => suite.output(30) });
    const job = await suite.queue().getJob(finished.runId);
    expect(job?.returnvalue).toEqual({ outcome: 'already-finished', status: 'succeeded' });
    expect(await readRun(suite.db, finished.runId)).toMatchObject({ status: 'succeeded', attempts: 1 });
    // The retried delivery wrote nothing: the records are those of the lost worker's run.
    expect(await readContextRecords(suite.db, finished.resourceId)).toEqual(recordsBefore);

    const failedRun = await waitForRun(suite.db, unfinished.runId, 'failed', (run) => run.status === 'failed');
    expect(failedRun.error).toBe('job stalled more than allowable limit');
    expect(await (await suite.queue().getJob(unfinished.runId))?.getState()).toBe('failed');
  });

  it('reconciles once PostgreSQL is back when it was down as the job failed', async () => {
    await worker?.stop();
    const finished = await putRun('stall-db-down');
    await stallTwice([{ runId: finished.runId, work: didTheWork }]);

    await postgres.stop('fast');
    worker = await suite.startWorker(WORKER_ENV);
    await waitFor('the job to fail while PostgreSQL is down', async () =>
      (await (await suite.queue().getJob(finished.runId))?.getState()) === 'failed' ? true : undefined,
    { timeoutMs: 20_000, describeLast: () => suite.output(30) });
    await waitFor('the worker to give up reconciling for now', () =>
      worker!.lines.some((line) => line.msg === 'database unavailable: failed jobs will be reconciled with their runs later') ? true : undefined,
    { timeoutMs: 10_000, describeLast: () => worker!.output(20) });

    await postgres.start();
    await waitFor('the job to complete once PostgreSQL is back', async () =>
      (await (await suite.queue().getJob(finished.runId))?.getState()) === 'completed' ? true : undefined,
    { timeoutMs: 30_000, describeLast: () => suite.output(30) });
    expect((await readRun(suite.db, finished.runId))?.status).toBe('succeeded');
  });

  it('reconciles at start-up a job failed while no worker of ours was there to see it', async () => {
    await worker?.stop();
    const finished = await putRun('failed-unseen');
    // Another process did the work, then failed the job for good: no `failed` event reaches a worker of ours.
    const connection = createRedisConnection(suite.redis, 'worker');
    const other = new Worker(QUEUE_NAMES.etlRun, null, { connection, prefix: suite.prefix, autorun: false });
    other.on('error', () => {});
    try {
      const job = (await other.getNextJob('other-1')) as Job | undefined;
      expect(job?.id).toBe(finished.runId);
      await didTheWork(suite.db, finished.runId);
      await job!.moveToFailed(new UnrecoverableError('failed elsewhere'), 'other-1');
    } finally {
      await other.close();
      connection.disconnect();
    }
    expect(await (await suite.queue().getJob(finished.runId))?.getState()).toBe('failed');
    expect((await readRun(suite.db, finished.runId))?.status).toBe('succeeded');

    worker = await suite.startWorker(WORKER_ENV);
    await waitFor('the start-up sweep to complete the job', async () =>
      (await (await suite.queue().getJob(finished.runId))?.getState()) === 'completed' ? true : undefined,
    { timeoutMs: 20_000, describeLast: () => suite.output(30) });
    expect((await readRun(suite.db, finished.runId))?.status).toBe('succeeded');
  });
});
