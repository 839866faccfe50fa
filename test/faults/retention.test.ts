// Issue #4, "Completed and failed job retention is capped so Redis memory levels off under
// sustained load": the API adds jobs with removeOnComplete/removeOnFail capped by count (and age),
// so after many runs Redis keeps only the newest few finished jobs, not one per run.
import { createRedisConnection } from '@tasklane/queue';
import type { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource } from '../support/apiClient.ts';
import { createE2eSuite, isFinished, waitForRun, type E2eSuite, type SpawnedApi } from '../support/e2eSuite.ts';
import { testRedisSettings } from '../support/testQueue.ts';
import { uniqueResourceId } from '../support/testDb.ts';

const KEEP = 5;
const RUNS = 40;

describe('job retention in Redis', () => {
  let suite: E2eSuite;
  let api: SpawnedApi;
  let redis: Redis;
  let inspector: Queue;

  beforeAll(async () => {
    suite = await createE2eSuite('f_retention');
    api = await suite.startApi({ JOB_KEEP_COMPLETED_COUNT: String(KEEP), JOB_KEEP_FAILED_COUNT: String(KEEP) });
    await suite.startWorker({ WORKER_CONCURRENCY: '4' });
    redis = createRedisConnection(testRedisSettings(), 'worker') as Redis; // one node: the shared test Redis
    inspector = new Queue('etl-run', { connection: redis, prefix: suite.prefix });
  });
  afterAll(async () => {
    await inspector?.close();
    redis?.disconnect();
    await suite?.close();
  });

  async function keyCount(): Promise<number> {
    let count = 0;
    for await (const page of redis.scanStream({ match: `${suite.prefix}:*`, count: 1000 })) count += (page as string[]).length;
    return count;
  }

  it('keeps at most JOB_KEEP_COMPLETED_COUNT completed jobs, and the key count stops growing with the runs', async () => {
    const runIds: string[] = [];
    let keysAtHalf = Number.POSITIVE_INFINITY;
    for (let i = 0; i < RUNS; i++) {
      const response = await putResource(api.url, uniqueResourceId('retention'), { info: { n: i } });
      expect(response.status).toBe(201);
      runIds.push(response.json.run.id);
      if (i === RUNS / 2 - 1) {
        for (const runId of runIds) await waitForRun(suite.db, runId, 'finished', isFinished);
        keysAtHalf = await keyCount();
      }
    }
    for (const runId of runIds) expect((await waitForRun(suite.db, runId, 'succeeded', isFinished)).status).toBe('succeeded');

    const counts = await inspector.getJobCounts('completed', 'failed', 'waiting', 'active');
    expect(counts.completed).toBeLessThanOrEqual(KEEP);
    expect(counts.completed).toBeGreaterThan(0);
    // Twice the runs, (about) the same keys: one hash per retained job plus the queue's own keys.
    expect(await keyCount()).toBeLessThanOrEqual(keysAtHalf + 2);
  });
});
