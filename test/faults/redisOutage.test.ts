// Issue #4, "Durable dispatch": Redis stops while PUTs arrive. The run row committed with the resource
// is the source of truth (the transactional outbox); the API answers at once and leaves the runs
// `queued`; once Redis is back on the same port, the API's outbox relay enqueues them and the same
// worker process (never restarted) completes every one. The Redis here is the test's own, started on a
// free port: stopping it touches no other suite.
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource, type ApiResponse } from '../support/apiClient.ts';
import { waitForRun } from '../support/e2eSuite.ts';
import { essence, expectedRecords } from '../support/expectedRecords.ts';
import { createFaultSuite, isAlive, readAllRuns, waitForAllRunsFinished, type FaultApi, type FaultSuite } from '../support/faultSuite.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { readContextRecords, readContextVersion, uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

/** The bound on a PUT while Redis is down. */
const PUT_BOUND_MS = 2000;

describe('a Redis outage while PUTs arrive', () => {
  let redis: PrivateRedis;
  let suite: FaultSuite;
  let api: FaultApi;
  let worker: SpawnedService;
  const describeState = () => suite.output();

  beforeAll(async () => {
    redis = await startPrivateRedis();
    suite = await createFaultSuite('redis_outage', { redisUrl: redis.url });
    [api, worker] = await Promise.all([
      suite.startApi({
        OUTBOX_RELAY_INTERVAL_MS: '300',
        OUTBOX_RELAY_AFTER_MS: '1000',
        // Checks for vanished jobs early: the runs whose jobs the restart lost had finished, so none is republished.
        OUTBOX_RELAY_VANISHED_AFTER_MS: '1000',
        REDIS_CONNECT_TIMEOUT_MS: '500',
        ENQUEUE_TIMEOUT_MS: '500',
      }),
      suite.startWorker({ REDIS_CONNECT_TIMEOUT_MS: '500' }),
    ]);
  });

  afterAll(async () => {
    if (redis && !redis.running) await redis.start().catch(() => {});
    await suite?.close();
    await redis?.close();
  });

  it('answers every PUT within 2 s with its run queued, and completes every run once Redis is back, restarting nothing', async () => {
    // Three resources created while Redis is up, so the outage brings updates (200) as well as creates (201).
    const before = Array.from({ length: 3 }, (_, i) => ({ id: uniqueResourceId(`outage-old${i}`), info: { Phase: 'before', N: i } }));
    for (const { id, info } of before) expect((await putResource(api.url, id, { info })).json.run.dispatched).toBe(true);
    await waitForAllRunsFinished(suite.db, 3, { describe: describeState });
    // The worker records a job completed in Redis just after the run in PostgreSQL: wait for that too,
    // or the kill below interrupts it and the worker reports the job's key missing after the restart.
    await waitFor('the three jobs completed in Redis', async () => ((await suite.queue().getJobCounts('completed')).completed === 3 ? true : undefined));

    await redis.stop();
    const writes = [
      ...before.map(({ id }, i) => ({ id, info: { Phase: 'during outage', Update: i, Tags: ['a', 'b'] } })),
      ...Array.from({ length: 7 }, (_, i) => ({ id: uniqueResourceId(`outage-new${i}`), info: { Phase: 'during outage', New: i, Nested: { Deep: [i, `${i}`] } } })),
    ];
    const answers: { response: ApiResponse; elapsedMs: number }[] = [];
    for (const { id, info } of writes) {
      const started = performance.now();
      const response = await putResource(api.url, id, { name: 'outage', info });
      answers.push({ response, elapsedMs: performance.now() - started });
    }

    for (const [i, { response, elapsedMs }] of answers.entries()) {
      expect(response.status, `PUT ${i}: ${response.text}`).toBe(i < before.length ? 200 : 201);
      expect(elapsedMs, `PUT ${i} took ${Math.round(elapsedMs)} ms`).toBeLessThan(PUT_BOUND_MS);
      expect(response.json.run).toMatchObject({ status: 'queued', dispatched: false, lane: 'queue' });
      expect(response.json.run.dispatchError).toMatch(/^enqueue failed: /);
    }
    const outageRunIds = answers.map(({ response }) => response.json.run.id as string);

    // The relay keeps trying during the outage (and failing); the runs wait in the outbox meanwhile.
    await waitFor('the outbox relay to fail a pass while Redis is down', () =>
      api.lines.some((line) => line.msg === 'outbox relay pass failed; runs stay queued for the next pass') ? true : undefined,
    );
    const waiting = (await readAllRuns(suite.db)).filter((run) => outageRunIds.includes(run.id));
    expect(waiting.map((run) => [run.status, run.attempts])).toEqual(Array(10).fill(['queued', 0]));
    const unpublished = await suite.db.$queryRaw<{ count: number }[]>`
      SELECT count(*)::int AS count FROM etl_runs WHERE id = ANY(${outageRunIds}::uuid[]) AND published_at IS NULL`;
    expect(unpublished[0]?.count).toBe(10);

    await redis.start();
    const runs = await waitForAllRunsFinished(suite.db, 13, { timeoutMs: 45_000, describe: describeState });

    expect(runs.map((run) => [run.resourceId, run.resourceVersion, run.status])).toEqual(
      runs.map((run) => [run.resourceId, run.resourceVersion, 'succeeded']),
    );
    // Processed once each: one claim per run, the records of exactly that run and version.
    for (const { id, info } of writes) {
      const run = runs.find((r) => r.id === outageRunIds[writes.findIndex((w) => w.id === id)])!;
      expect(run.attempts, `${id} attempts`).toBe(1);
      const records = await readContextRecords(suite.db, id);
      expect(essence(records), id).toEqual(expectedRecords(info));
      expect(new Set(records.map((r) => `${r.runId}@${r.resourceVersion}`)), id).toEqual(new Set([`${run.id}@${run.resourceVersion}`]));
      expect(await readContextVersion(suite.db, id), id).toBe(run.resourceVersion);
    }
    // The relay published the ten (recorded on the rows), and republished nothing: the three runs whose
    // jobs Redis lost had finished.
    const published = await suite.db.$queryRaw<{ count: number }[]>`
      SELECT count(*)::int AS count FROM etl_runs WHERE id = ANY(${outageRunIds}::uuid[]) AND published_at IS NOT NULL`;
    expect(published[0]?.count).toBe(10);
    expect(api.lines.filter((line) => line.msg?.toString().startsWith('outbox relay published')).reduce((sum, line) => sum + (line.published as number), 0)).toBe(10);
    expect(api.lines.filter((line) => Array.isArray(line.vanished))).toEqual([]);
    // Each run has exactly one job, under its run id, completed; none failed or left behind.
    const queue = suite.queue();
    for (const runId of outageRunIds) expect(await (await queue.getJob(runId))?.getState(), runId).toBe('completed');
    expect(await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
      failed: 0,
      completed: 10, // the three before the outage were lost with Redis's memory; their runs had finished
    });
    expect([isAlive(api), isAlive(worker)]).toEqual([true, true]);
    // The worker reports the reset and its refused reconnects while Redis is down; nothing else may be an error.
    expect(suite.errorLines().filter((line) => !/"msg":"worker error"/.test(line) || !/ECONNREFUSED|ECONNRESET|Connection is closed/.test(line))).toEqual([]);
  });

  it('an idle worker picks up a new job after Redis restarts under it, without being restarted', async () => {
    await waitFor('the queue to be idle', async () => {
      const counts = await suite.queue().getJobCounts('waiting', 'active', 'delayed');
      return Object.values(counts).every((count) => count === 0) ? true : undefined;
    });
    await redis.stop();
    await redis.start();

    // Until the API's producer connection is back a PUT is left in the outbox (dispatched: false); the
    // first one it dispatches itself proves the path that needs the worker's blocking connection.
    const info = { After: 'restart', Value: 42 };
    const put = await waitFor(
      'a PUT whose run the API enqueues itself after the restart',
      async () => {
        const response = await putResource(api.url, uniqueResourceId('outage-after'), { info });
        expect(response.status).toBe(201);
        return response.json.run.dispatched === true ? response : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 300 },
    );
    const runId = put.json.run.id as string;

    // The relay leaves a run alone while its job waits in Redis, so only the worker can finish it.
    const run = await waitForRun(suite.db, runId, 'succeeded', (r) => r.status === 'succeeded', { timeoutMs: 30_000 });
    expect(run.attempts).toBe(1);
    expect(essence(await readContextRecords(suite.db, put.json.resource.id))).toEqual(expectedRecords(info));
    expect(await (await suite.queue().getJob(runId))?.getState()).toBe('completed');
    expect([isAlive(api), isAlive(worker)]).toEqual([true, true]);
  });
});
