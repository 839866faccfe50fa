// Issue #12, point 2: the generated client (@tasklane/client: openapi-typescript types from the API's
// OpenAPI document, openapi-fetch) drives the whole write path against the API and the worker as
// separate OS processes: PUT → GET run until it finished → GET resource → GET context. Expectations
// are literal (the README's ETL rules: snake_case keys, typed values, redaction), never computed by
// the code under test.
import { randomBytes } from 'node:crypto';
import { createTasklaneClient, jsonBodyText, preferWait, type EtlRun, type TasklaneClient } from '@tasklane/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createE2eSuite, type E2eSuite, type SpawnedApi } from '../support/e2eSuite.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

const FINISHED: ReadonlySet<string> = new Set(['succeeded', 'failed', 'skipped', 'lost']);

describe('the generated client against the API and the worker as separate processes', () => {
  const token = randomBytes(24).toString('base64url');
  let suite: E2eSuite;
  let api: SpawnedApi;
  let worker: SpawnedService;
  /** The client with the suite's write token. */
  let client: TasklaneClient;

  const serviceOutput = () => suite.output(30);

  /** Polls `GET /etl-runs/{id}` through the client until the run is finished. */
  async function awaitRun(runId: string): Promise<EtlRun> {
    let last: unknown;
    return waitFor(
      `run ${runId} to finish`,
      async () => {
        const { data, error } = await client.GET('/etl-runs/{id}', { params: { path: { id: runId } } });
        last = data ?? error;
        return data && FINISHED.has(data.status) ? data : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, describeLast: () => `last answer: ${JSON.stringify(last)}\n${serviceOutput()}` },
    );
  }

  beforeAll(async () => {
    suite = await createE2eSuite('typed_client');
    const env = { ETL_LANE: 'queue', API_TOKENS: token };
    [api, worker] = await Promise.all([suite.startApi(env), suite.startWorker(env)]);
    client = createTasklaneClient({ baseUrl: api.url, token });
  });

  afterAll(async () => {
    await suite?.close();
  });

  it('PUT → GET run → GET resource → GET context: the queue lane’s worker process turns the info into records', async () => {
    const id = uniqueResourceId('typed-client');
    const requestId = `typed-${randomBytes(4).toString('hex')}`;
    const put = await client.PUT('/resources/{id}', {
      params: { path: { id }, query: { lane: 'queue' }, header: { 'X-Request-Id': requestId } },
      body: {
        name: 'Typed client',
        attributes: { tier: 'gold' },
        info: { Title: 'Hello', Owner: { Login: 'octocat', Id: '7' }, Labels: ['bug'], Merged: 'true', Secret: 'hunter2' },
      },
    });
    expect(put.error, serviceOutput()).toBeUndefined();
    expect(put.response.status).toBe(201);
    expect(put.response.headers.get('location')).toBe(`/resources/${id}`);
    expect(put.response.headers.get('x-request-id')).toBe(requestId);
    expect(put.data?.resource).toMatchObject({ id, name: 'Typed client', attributes: { tier: 'gold' }, version: 1 });
    expect(put.data?.run).toMatchObject({ resourceId: id, resourceVersion: 1, lane: 'queue', status: 'queued', dispatched: true, requestId });

    const run = await awaitRun(put.data!.run.id);
    expect(run).toMatchObject({ id: put.data!.run.id, status: 'succeeded', attempts: 1, error: null, recordCount: 6, requestId });

    const detail = await client.GET('/resources/{id}', { params: { path: { id } } });
    expect(detail.response.status).toBe(200);
    expect(detail.data).toMatchObject({
      resource: { id, name: 'Typed client', attributes: { tier: 'gold' }, version: 1 },
      latestRun: { id: run.id, status: 'succeeded' },
      contextRecordCount: 6,
    });

    const context = await client.GET('/resources/{id}/context', { params: { path: { id }, query: { limit: 1000 } } });
    expect(context.data?.nextCursor).toBeNull();
    expect(context.data?.records.map(({ key, value, valueType, resourceVersion }) => ({ key, value, valueType, resourceVersion }))).toEqual([
      { key: 'labels[0]', value: 'bug', valueType: 'string', resourceVersion: 1 },
      { key: 'merged', value: true, valueType: 'boolean', resourceVersion: 1 },
      { key: 'owner.id', value: 7, valueType: 'integer', resourceVersion: 1 },
      { key: 'owner.login', value: 'octocat', valueType: 'string', resourceVersion: 1 },
      { key: 'secret', value: '[REDACTED]', valueType: 'redacted', resourceVersion: 1 },
      { key: 'title', value: 'Hello', valueType: 'string', resourceVersion: 1 },
    ]);
  });

  it('the await lane answers with the finished run when asked to wait (preferWait), and says so in Preference-Applied', async () => {
    const id = uniqueResourceId('typed-await');
    const put = await client.PUT('/resources/{id}', {
      params: { path: { id }, query: { lane: 'await' }, header: { Prefer: preferWait(20) } },
      body: { info: { Count: '3' } },
    });
    expect(put.error, serviceOutput()).toBeUndefined();
    expect(put.response.status).toBe(201);
    expect(put.response.headers.get('preference-applied')).toBe('wait=20');
    expect(put.data?.run).toMatchObject({ lane: 'await', status: 'succeeded', recordCount: 1 });
  });

  it('sends JSON text as written (jsonBodyText): an integer beyond double precision reaches the records exactly', async () => {
    const id = uniqueResourceId('typed-exact');
    const put = await client.PUT('/resources/{id}', {
      params: { path: { id }, query: { lane: 'queue' } },
      ...jsonBodyText('{"info":{"Big":123456789012345678901234567890}}'),
    });
    expect(put.response.status, JSON.stringify(put.error)).toBe(201);
    await awaitRun(put.data!.run.id);
    const context = await client.GET('/resources/{id}/context', { params: { path: { id } } });
    // JSON.stringify would have sent 1.2345678901234568e+29.
    expect(context.data?.records).toEqual([{ key: 'big', value: '123456789012345678901234567890', valueType: 'integer', resourceVersion: 1 }]);
  });

  it('resolves refusals with the typed error body: 401 without a token, 422 for a bad id, 404 for no such run', async () => {
    const anonymous = createTasklaneClient({ baseUrl: api.url });
    const unauthorized = await anonymous.PUT('/resources/{id}', { params: { path: { id: uniqueResourceId('typed-401') } }, body: { info: {} } });
    expect(unauthorized.response.status).toBe(401);
    expect(unauthorized.response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(unauthorized.error?.error.code).toEqual(expect.any(String));
    expect(unauthorized.data).toBeUndefined();

    const badId = await client.PUT('/resources/{id}', { params: { path: { id: 'has space' } }, body: { info: {} } });
    expect(badId.response.status).toBe(422);
    expect(badId.error?.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });

    const missing = await client.GET('/etl-runs/{id}', { params: { path: { id: '00000000-0000-4000-8000-000000000000' } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.error.code).toBe('not_found');
  });

  it('leaves no error lines in either process', () => {
    expect(worker.pid).toBeGreaterThan(0);
    expect(suite.errorLines()).toEqual([]);
  });
});
