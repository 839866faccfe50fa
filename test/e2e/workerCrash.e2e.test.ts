// Issue #3, SIGKILL of the worker during a queue run: the job's lock stops being renewed, BullMQ's
// stalled-job check moves it back to the queue, another worker runs it, and the records are those of
// one clean run.
import { createQueues, createRedisConnection, type Queues, type RedisClient } from '@tasklane/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, resourcePath } from '../support/apiClient.ts';
import { createE2eSuite, storedRecords, waitForRun, type E2eSuite, type SpawnedApi } from '../support/e2eSuite.ts';
import { expectedRecords } from '../support/expectedRecords.ts';
import { webhookPayload } from '../support/laneFixtures.ts';
import { countRows, uniqueResourceId } from '../support/testDb.ts';
import { testRedisSettings } from '../support/testQueue.ts';
import { waitFor } from '../support/waitFor.ts';

/** Short lock and stalled-check interval, so a dead worker's job is taken over within seconds. */
const STALL_ENV = { WORKER_LOCK_DURATION_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000' };

describe('a worker process killed with SIGKILL during a queue run', () => {
  let suite: E2eSuite;
  let api: SpawnedApi;
  let redis: RedisClient;
  let queues: Queues;

  beforeAll(async () => {
    suite = await createE2eSuite('worker_crash_e2e');
    api = await suite.startApi({ ETL_LANE: 'queue' });
    redis = createRedisConnection(testRedisSettings(), 'worker');
    queues = createQueues(redis, {
      prefix: suite.prefix,
      jobs: { attempts: 5, backoffMs: 1000, keepCompleted: { count: 100, ageSeconds: 3600 }, keepFailed: { count: 100, ageSeconds: 3600 } },
    });
  });

  afterAll(async () => {
    await queues?.close();
    await redis?.quit();
    await suite?.close();
  });

  it('the stalled job is taken over by a fresh worker, which completes the run with the records of one clean run', async () => {
    // Runs sleep 3 s before transforming: the kill surely lands mid-run.
    const doomed = await suite.startWorker({ ...STALL_ENV, ETL_TEST_ENABLE: 'true', ETL_TEST_DELAY_MS: '3000' });
    const info = webhookPayload('pull_request', 1);
    const resourceId = uniqueResourceId('worker-crash');
    const put = await request(api.url, 'PUT', resourcePath(resourceId), { body: JSON.stringify({ info }) });
    expect(put.status).toBe(201);
    expect(put.json.run).toMatchObject({ lane: 'queue', dispatched: true });
    const runId = put.json.run.id as string;
    await waitForRun(suite.db, runId, 'to be running in the first worker', (run) => run.status === 'running');

    expect(await suite.kill(doomed)).toMatchObject({ signal: 'SIGKILL' });
    expect(await waitForRun(suite.db, runId, 'to exist', () => true)).toMatchObject({ status: 'running', attempts: 1 });
    expect(await countRows(suite.db, resourceId)).toMatchObject({ records: 0 });

    await suite.startWorker(STALL_ENV);
    const run = await waitForRun(suite.db, runId, 'to succeed after the takeover', (r) => r.status === 'succeeded', { timeoutMs: 20_000 });

    // A takeover of a stalled job continues the attempt the dead worker started (claimRun's attempt
    // rule, issue #9): BullMQ did not count it as a failed attempt either.
    expect(run.attempts).toBe(1);
    expect(run.error).toBeNull();
    // The run row commits before BullMQ moves the job to completed.
    await waitFor('the job to be completed', async () => ((await queues.etlRun.getJobState(runId)) === 'completed' ? true : undefined));
    const job = await queues.etlRun.getJob(runId);
    expect(job?.stalledCounter, 'BullMQ counted the stall').toBeGreaterThanOrEqual(1);
    expect(job?.returnvalue).toEqual({ outcome: 'succeeded', recordCount: run.recordCount });

    const records = await storedRecords(suite.db, resourceId);
    expect(records).toEqual(expectedRecords(info));
    expect(await countRows(suite.db, resourceId)).toEqual({ resources: 1, runs: 1, records: records.length, contextVersions: 1 });

    // The same info on another resource, run once without any crash, gives the same records.
    const cleanId = uniqueResourceId('worker-clean');
    const clean = await request(api.url, 'PUT', resourcePath(cleanId), { body: JSON.stringify({ info }) });
    const cleanRun = await waitForRun(suite.db, clean.json.run.id, 'to succeed', (r) => r.status === 'succeeded');
    expect(cleanRun.attempts).toBe(1);
    expect(await storedRecords(suite.db, cleanId)).toEqual(records);
  });
});
