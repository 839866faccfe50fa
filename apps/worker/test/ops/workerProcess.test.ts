// The worker and the API as deployed (separate OS processes on one queue prefix): the worker serves
// /healthz, /readyz and /metrics on WORKER_HTTP_PORT and logs its URL; its ETL histograms count the
// jobs it finished; and one request id follows a write from the API's request line to the worker's
// log lines for that run and to the run row, so one grep finds them all.
import type { Db } from '@tasklane/db';
import { createRedisConnection } from '@tasklane/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource } from '../../../../test/support/apiClient.ts';
import { spawnApi, spawnWorker, type SpawnedService } from '../../../../test/support/spawnService.ts';
import { createTestDb, deleteResources, randomSuffix, readRuns, uniqueResourceId } from '../../../../test/support/testDb.ts';
import { deleteKeysWithPrefix, testRedisSettings, uniqueQueuePrefix } from '../../../../test/support/testQueue.ts';
import { waitFor } from '../../../../test/support/waitFor.ts';

describe('the worker process with its ops server, behind an API process', () => {
  const prefix = uniqueQueuePrefix();
  const ids: string[] = [];
  let db: Db;
  let api: SpawnedService & { url: string };
  let worker: SpawnedService;
  let workerUrl: string;

  beforeAll(async () => {
    db = createTestDb({ poolSize: 2 });
    const env = { QUEUE_PREFIX: prefix, LOG_LEVEL: 'info' };
    worker = await spawnWorker({ ...env, WORKER_HTTP_PORT: '0', WORKER_HTTP_HOST: '127.0.0.1' });
    const line = worker.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('worker ops server'));
    workerUrl = String(line?.url);
    api = await spawnApi({ ...env, ETL_LANE: 'queue' });
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    if (db) await deleteResources(db, ids);
    await db?.$disconnect();
    const redis = createRedisConnection(testRedisSettings(), 'worker'); // queues commands until connected
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  it('logs the URL of its ops server, and answers /healthz and /readyz there', async () => {
    expect(workerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(new URL(workerUrl).port)).not.toBe(3001);
    expect((await fetch(`${workerUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${workerUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { postgres: { status: 'up' }, redis: { status: 'up' }, worker: { status: 'up' } } });
  });

  it('follows one write by its request id from the API request to the worker’s lines and the run row', async () => {
    const id = uniqueResourceId('trace');
    ids.push(id);
    const requestId = `trace-${randomSuffix()}`;
    const put = await putResource(api.url, id, { info: { owner: { name: 'Ada' } } }, { headers: { 'X-Request-Id': requestId } });
    expect(put.status).toBe(201);
    expect(put.headers.get('x-request-id')).toBe(requestId);
    const runId = put.json.run.id as string;
    await waitFor('the run to succeed', async () => ((await readRuns(db, id))[0]?.status === 'succeeded' ? true : undefined));

    // `grep <requestId>` over both processes' output:
    const grep = (service: SpawnedService) => service.lines.filter((line) => line.text.includes(requestId));
    const apiLines = grep(api);
    const workerLines = await waitFor('the worker line', () => {
      const lines = grep(worker);
      return lines.some((line) => line.msg === 'etl run processed') ? lines : undefined;
    });
    expect(apiLines).toContainEqual(expect.objectContaining({ requestId, msg: 'request completed', method: 'PUT', route: '/resources/:id', status: 201, lane: 'queue' }));
    expect(workerLines).toContainEqual(expect.objectContaining({ requestId, runId, msg: 'etl run processed', outcome: 'succeeded' }));
    expect(workerLines.every((line) => line.requestId === requestId && line.runId === runId)).toBe(true);
    // …and the run row that produced the records carries the same id.
    const [run] = await readRuns(db, id);
    expect(run).toMatchObject({ id: runId, requestId, status: 'succeeded', recordCount: 1 });
  });

  it('exports its own ETL histograms for the jobs it finished', async () => {
    const text = await waitFor('the run observed in the worker metrics', async () => {
      const body = await (await fetch(`${workerUrl}/metrics`)).text();
      return /tasklane_etl_run_duration_seconds_count\{lane="queue",outcome="succeeded"\} [1-9]/.test(body) ? body : undefined;
    });
    expect(text).toMatch(/tasklane_etl_run_lag_seconds_count\{lane="queue",outcome="succeeded"\} 1\b/);
    expect(text).toContain('process_resident_memory_bytes');
    // The HTTP histogram belongs to the API, not the worker.
    expect(text).not.toContain('tasklane_http_request_duration_seconds');
  });

  it('still works jobs when a second worker finds WORKER_HTTP_PORT taken, and says how to fix it', async () => {
    const second = await spawnWorker({ QUEUE_PREFIX: prefix, WORKER_HTTP_PORT: new URL(workerUrl).port, WORKER_HTTP_HOST: '127.0.0.1' });
    try {
      const complaint = second.lines.find((line) => typeof line.msg === 'string' && line.msg.includes('is in use; set WORKER_HTTP_PORT'));
      expect(complaint?.level).toBe(50);
      expect(second.readyLine).toMatchObject({ queue: 'etl-run' });
    } finally {
      await second.stop();
    }
  });
});
