// The producer must not hang when Redis is unreachable (issue #2): the write commits, the run stays
// queued in the outbox, and the response says it was not dispatched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource } from '../../../test/support/apiClient.ts';
import { deleteResources, readRuns, uniqueResourceId } from '../../../test/support/testDb.ts';
import { waitFor } from '../../../test/support/waitFor.ts';
import { startApi, type TestApi } from './support/startApi.ts';

describe('the resource API when Redis is unreachable', () => {
  let api: TestApi;
  const ids: string[] = [];

  beforeAll(async () => {
    // Port 1 refuses connections: the producer connection never becomes ready. The enqueue's deadline
    // is far longer than the 2 s the PUT below may take, so only failing fast answers it in time.
    api = await startApi({ redisUrl: 'redis://127.0.0.1:1', enqueueTimeoutMs: 30_000 });
    await waitFor('the producer connection to have failed its first attempt', () => (api.redis.status === 'reconnecting' ? true : undefined), { timeoutMs: 10_000, intervalMs: 20 });
  });
  afterAll(async () => {
    if (!api) return;
    await deleteResources(api.db, ids);
    await api.close();
  });

  it('still answers a PUT promptly with 201 (no wait for a connection that never got ready), leaving the run queued in the outbox and saying why', async () => {
    const id = uniqueResourceId('redis-down');
    ids.push(id);
    const response = await putResource(api.baseUrl, id, { info: { a: 1 } }, { signal: AbortSignal.timeout(2000) });

    expect(response.status).toBe(201);
    expect(response.json.run).toMatchObject({ status: 'queued', dispatched: false, dispatchError: expect.stringMatching(/^enqueue failed: /) });
    const runs = await readRuns(api.db, id);
    expect(runs).toEqual([expect.objectContaining({ id: response.json.run.id, status: 'queued', attempts: 0 })]);
    expect(api.logs.some((line) => line.msg === 'run left queued in the outbox' && line.runId === response.json.run.id)).toBe(true);
    expect(api.logs.filter((line) => line.level >= 50)).toEqual([]);
  });
});
