// The HTTP contract of the API, driven through `createApp(deps).callback()` on a real server, with a
// real PostgreSQL and a real BullMQ queue (no worker: runs are processed here when a test needs records).
import { randomUUID } from 'node:crypto';
import { transformInfoJson } from '@tasklane/etl';
import { processRun } from '@tasklane/pipeline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { putResource, request, resourcePath, type ApiResponse } from '../../../test/support/apiClient.ts';
import { BAD_PUT_CASES, bodyOfSize, infoNested, infoWithLeaves } from '../../../test/support/badPutRequests.ts';
import { expectedRecords } from '../../../test/support/expectedRecords.ts';
import { countRows, deleteResources, randomSuffix, readRuns, uniqueResourceId } from '../../../test/support/testDb.ts';
import { startApi, type TestApi } from './support/startApi.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Asserts the API's JSON error body and returns it. */
function expectErrorBody(response: ApiResponse, status: number, code: string): void {
  expect({ status: response.status, body: response.json }).toMatchObject({ status, body: { error: { code } } });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(typeof response.json.error.message).toBe('string');
  expect(response.json.error.message.length).toBeGreaterThan(0);
}

describe('the resource API with a real database and queue lane', () => {
  let api: TestApi;
  const ids: string[] = [];
  const newId = (label: string): string => {
    const id = uniqueResourceId(label);
    ids.push(id);
    return id;
  };

  beforeAll(async () => {
    api = await startApi();
  });
  afterEach(() => {
    // A 5xx is logged at level error by the error middleware: none may happen in this suite.
    const errors = api.logs.filter((line) => line.level >= 50);
    api.logs.length = 0;
    expect(errors).toEqual([]);
  });
  afterAll(async () => {
    if (!api) return;
    await deleteResources(api.db, ids);
    await api.close();
  });

  describe('PUT /resources/:id', () => {
    it('creates a new resource: 201, Location, the resource and its dispatched queued run', async () => {
      const id = newId('create');
      const requestId = `req-${randomSuffix()}`;
      const response = await putResource(
        api.baseUrl,
        id,
        { name: 'First', attributes: { team: 'core' }, info: { Title: 'hello', Count: 3 } },
        { headers: { 'X-Request-Id': requestId } },
      );

      expect(response.status).toBe(201);
      expect(response.headers.get('location')).toBe(`/resources/${id}`);
      expect(response.headers.get('x-request-id')).toBe(requestId);
      expect(response.json).toEqual({
        resource: {
          id,
          name: 'First',
          attributes: { team: 'core' },
          version: 1,
          createdAt: expect.stringMatching(ISO_INSTANT),
          updatedAt: expect.stringMatching(ISO_INSTANT),
          href: `/resources/${id}`,
        },
        run: expect.objectContaining({
          id: expect.stringMatching(UUID),
          resourceId: id,
          resourceVersion: 1,
          lane: 'queue',
          status: 'queued',
          requestId,
          dispatched: true,
        }),
      });
      expect(response.json.run.href).toBe(`/etl-runs/${response.json.run.id}`);
      expect(response.json.run).not.toHaveProperty('dispatchError');
      expect(await countRows(api.db, id)).toEqual({ resources: 1, runs: 1, records: 0, contextVersions: 0 });
    });

    it('updates an existing resource: 200, version 2, a second run, and replaces omitted fields with null', async () => {
      const id = newId('update');
      const first = await putResource(api.baseUrl, id, { name: 'v1', info: { a: 1 } });
      const second = await putResource(api.baseUrl, id, { info: { a: 2 } });

      expect(first.status).toBe(201);
      expect(second.status).toBe(200);
      expect(second.headers.get('location')).toBe(`/resources/${id}`);
      expect(second.json.resource).toMatchObject({ id, version: 2, name: null, attributes: null });
      expect(second.json.resource.createdAt).toBe(first.json.resource.createdAt);
      expect(second.json.run).toMatchObject({ resourceVersion: 2, status: 'queued', lane: 'queue', dispatched: true });
      expect(second.json.run.id).not.toBe(first.json.run.id);
      expect((await readRuns(api.db, id)).map((run) => [run.id, run.resourceVersion])).toEqual([
        [first.json.run.id, 1],
        [second.json.run.id, 2],
      ]);
    });

    it('adds one BullMQ job per run, with the run id as job id and { runId, requestId } as payload', async () => {
      const id = newId('job');
      const requestIds = [`req-${randomSuffix()}`, `req-${randomSuffix()}`];
      const runIds: string[] = [];
      for (const requestId of requestIds) {
        const response = await putResource(api.baseUrl, id, { info: { n: requestId } }, { headers: { 'X-Request-Id': requestId } });
        runIds.push(response.json.run.id as string);
      }

      for (const [i, runId] of runIds.entries()) {
        const job = await api.queues.etlRun.getJob(runId);
        expect(job, `job ${runId}`).toBeDefined();
        expect(job!.id).toBe(runId);
        expect(job!.name).toBe('etl-run');
        expect(job!.data).toEqual({ runId, requestId: requestIds[i] });
      }
      const waiting = await api.queues.etlRun.getJobs(['waiting', 'prioritized', 'delayed']);
      expect(waiting.map((job) => job.id).filter((jobId) => runIds.includes(jobId!)).sort()).toEqual([...runIds].sort());
    });

    it('generates an X-Request-Id when the client sends none or an unusable one, and stores it on the run', async () => {
      const id = newId('reqid');
      const none = await putResource(api.baseUrl, id, { info: { a: 1 } });
      const unusable = await putResource(api.baseUrl, id, { info: { a: 2 } }, { headers: { 'X-Request-Id': 'has spaces and $' } });

      for (const response of [none, unusable]) {
        const generated = response.headers.get('x-request-id');
        expect(generated).toMatch(UUID);
        expect(response.json.run.requestId).toBe(generated);
        expect((await api.queues.etlRun.getJob(response.json.run.id as string))?.data).toEqual({
          runId: response.json.run.id,
          requestId: generated,
        });
      }
      expect(none.headers.get('x-request-id')).not.toBe(unusable.headers.get('x-request-id'));
      // Error responses carry it too.
      const rejected = await request(api.baseUrl, 'GET', '/no-such-route', { headers: { 'X-Request-Id': 'trace-404' } });
      expect(rejected.headers.get('x-request-id')).toBe('trace-404');
    });

    it.each([
      ['info nested 32 levels', () => ({ info: infoNested(32) })],
      ['info with 10,000 leaves', () => ({ info: infoWithLeaves(10_000) })],
      ['info that is an empty object', () => ({ info: {} })],
      ['name and attributes null', () => ({ name: null, attributes: null, info: { a: 1 } })],
      ['well-formed surrogate pairs (emoji) and U+FFFD', () => ({ name: '😀', info: { 'k😀': '😀\uFFFD' } })],
    ])('accepts %s at the limit (201)', async (_name, body) => {
      const id = newId('limit');
      const response = await putResource(api.baseUrl, id, body());

      expect(response.status).toBe(201);
      expect(await countRows(api.db, id)).toMatchObject({ resources: 1, runs: 1 });
    });

    it('accepts an id of exactly 200 characters of every allowed kind', async () => {
      const id = uniqueResourceId('Ab9._:-').padEnd(200, 'z');
      ids.push(id);
      const response = await putResource(api.baseUrl, id, { info: { a: 1 } });

      expect(response.status).toBe(201);
      expect(response.json.resource.id).toBe(id);
      expect(await countRows(api.db, id)).toMatchObject({ resources: 1, runs: 1 });
    });

    it.each([['gzip'], ['br'], ['deflate, identity']])('refuses a body with Content-Encoding %s with 415 and writes nothing', async (coding) => {
      const id = newId('coding');
      const response = await request(api.baseUrl, 'PUT', resourcePath(id), {
        body: '{"info":{"a":1}}',
        headers: { 'Content-Encoding': coding },
      });

      expect(response.status).toBe(415);
      expect(response.json.error.code).toBe('unsupported_media_type');
      expect(await countRows(api.db, id)).toMatchObject({ resources: 0, runs: 0 });
    });

    it('keeps numbers beyond 2^53 exact in attributes', async () => {
      const id = newId('exact');
      const response = await request(api.baseUrl, 'PUT', resourcePath(id), {
        body: '{"attributes":{"big":12345678901234567890123,"tiny":0.10000000000000000000001},"info":{"a":1}}',
      });

      expect(response.status).toBe(201);
      expect(response.text).toContain('"big":12345678901234567890123');
      expect(response.text).toContain('"tiny":0.10000000000000000000001');
    });
  });

  describe('refuses a bad PUT with a JSON error and writes nothing', () => {
    it.each(BAD_PUT_CASES.map((c) => [c.name, c] as const))('%s', async (_name, badCase) => {
      const id = badCase.id ? badCase.id(uniqueResourceId('bad')) : newId('bad');
      const raw = typeof badCase.body === 'function' ? badCase.body({ bodyLimitBytes: 1024 * 1024 }) : badCase.body;
      const response = await request(api.baseUrl, 'PUT', resourcePath(id), raw);

      expectErrorBody(response, badCase.status, badCase.code);
      expect(await countRows(api.db, id)).toEqual({ resources: 0, runs: 0, records: 0, contextVersions: 0 });
    });
  });

  describe('with a small configured body limit', () => {
    const limit = 256;
    let small: TestApi;
    beforeAll(async () => {
      small = await startApi({ bodyLimitBytes: limit, db: api.db });
    });
    afterAll(async () => {
      await small?.close();
    });

    it('accepts a body of exactly the limit and refuses one byte more with 413', async () => {
      const atLimit = newId('small-ok');
      const overLimit = newId('small-413');
      const ok = await request(small.baseUrl, 'PUT', resourcePath(atLimit), { body: bodyOfSize(limit) });
      const tooLarge = await request(small.baseUrl, 'PUT', resourcePath(overLimit), { body: bodyOfSize(limit + 1) });

      expect(ok.status).toBe(201);
      expectErrorBody(tooLarge, 413, 'payload_too_large');
      expect(tooLarge.json.error.details).toEqual({ limitBytes: limit });
      expect(await countRows(api.db, overLimit)).toEqual({ resources: 0, runs: 0, records: 0, contextVersions: 0 });
    });

    it('refuses a large body sent chunked, without Content-Length, with 413', async () => {
      const id = newId('small-chunked');
      const bytes = new TextEncoder().encode(bodyOfSize(limit * 4));
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < bytes.length; at += 100) controller.enqueue(bytes.subarray(at, at + 100));
          controller.close();
        },
      });
      const response = await fetch(new URL(resourcePath(id), small.baseUrl), {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit);

      expect(response.status).toBe(413);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
      expect(await countRows(api.db, id)).toEqual({ resources: 0, runs: 0, records: 0, contextVersions: 0 });
    });
  });

  describe('GET /resources/:id', () => {
    it('shows the resource, its latest run and how many context records it has', async () => {
      const id = newId('get');
      const info = { Title: 'hello', Nested: { Flag: true, List: [1, 2, 3] }, Empty: null };
      await putResource(api.baseUrl, id, { info: { old: 1 } });
      const put = await putResource(api.baseUrl, id, { name: 'n', info });

      const before = await request(api.baseUrl, 'GET', resourcePath(id));
      expect(before.status).toBe(200);
      expect(before.json).toMatchObject({
        resource: { id, name: 'n', version: 2 },
        latestRun: { id: put.json.run.id, resourceVersion: 2, status: 'queued' },
        contextRecordCount: 0,
        links: { context: `/resources/${id}/context` },
      });

      const outcome = await processRun({ db: api.db, transform: transformInfoJson }, put.json.run.id as string, { lane: 'queue', leasedBy: 'worker:put-resource-test' });
      expect(outcome).toEqual({ outcome: 'succeeded', recordCount: expectedRecords(info).length });

      const after = await request(api.baseUrl, 'GET', resourcePath(id));
      expect(after.json.latestRun).toMatchObject({ id: put.json.run.id, status: 'succeeded', recordCount: expectedRecords(info).length });
      expect(after.json.latestRun.finishedAt).toMatch(ISO_INSTANT);
      expect(after.json.contextRecordCount).toBe(expectedRecords(info).length);
    });

    it('answers 404 JSON for an unknown resource and 422 for an invalid id', async () => {
      const unknown = uniqueResourceId('missing');
      expectErrorBody(await request(api.baseUrl, 'GET', resourcePath(unknown)), 404, 'not_found');
      expectErrorBody(await request(api.baseUrl, 'GET', `${resourcePath(unknown)}/context`), 404, 'not_found');
      expectErrorBody(await request(api.baseUrl, 'GET', resourcePath('a b')), 422, 'validation_failed');
    });
  });

  describe('GET /resources/:id/context', () => {
    const info = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`Field${String(i).padStart(2, '0')}`, `value ${i}`]));
    let id: string;
    beforeAll(async () => {
      id = newId('context');
      const put = await putResource(api.baseUrl, id, { info });
      await processRun({ db: api.db, transform: transformInfoJson }, put.json.run.id as string, { lane: 'queue', leasedBy: 'worker:put-resource-test' });
    });

    it('walks every record exactly once, in key order, by following the cursor', async () => {
      const pages: ApiResponse[] = [];
      let next: string | null = `${resourcePath(id)}/context?limit=10`;
      while (next !== null && pages.length < 10) {
        const page = await request(api.baseUrl, 'GET', next);
        expect(page.status).toBe(200);
        pages.push(page);
        next = page.json.next as string | null;
        if (next !== null) expect(next).toBe(`${resourcePath(id)}/context?limit=10&cursor=${page.json.nextCursor}`);
      }

      expect(pages.map((page) => page.json.records.length)).toEqual([10, 10, 5]);
      expect(pages.at(-1)!.json.nextCursor).toBeNull();
      const walked = pages.flatMap((page) => page.json.records as { key: string; value: unknown; valueType: string; resourceVersion: number }[]);
      expect(walked.map(({ key, value, valueType }) => ({ key, value, valueType }))).toEqual(expectedRecords(info));
      expect(new Set(walked.map((r) => r.resourceVersion))).toEqual(new Set([1]));
    });

    it('returns 100 records by default and accepts limit=1000', async () => {
      const all = await request(api.baseUrl, 'GET', `${resourcePath(id)}/context`);
      const max = await request(api.baseUrl, 'GET', `${resourcePath(id)}/context?limit=1000`);

      expect(all.json.records).toHaveLength(25);
      expect(all.json.nextCursor).toBeNull();
      expect(max.status).toBe(200);
      expect(max.json.records).toHaveLength(25);
    });

    it.each([
      ['a limit over 1000', 'limit=1001'],
      ['a limit of 0', 'limit=0'],
      ['a limit that is not a number', 'limit=ten'],
      ['a cursor that is not base64url', 'cursor=%21%21%21'],
      ['a cursor over 2000 characters', `cursor=${'A'.repeat(2001)}`],
      ['a cursor whose key holds U+0000', `cursor=${Buffer.from('Field\u0000').toString('base64url')}`],
    ])('refuses %s with 422', async (_name, query) => {
      expectErrorBody(await request(api.baseUrl, 'GET', `${resourcePath(id)}/context?${query}`), 422, 'validation_failed');
    });
  });

  describe('GET /etl-runs', () => {
    it('returns the run of a PUT', async () => {
      const id = newId('run');
      const put = await putResource(api.baseUrl, id, { info: { a: 1 } });
      const response = await request(api.baseUrl, 'GET', `/etl-runs/${put.json.run.id}`);

      expect(response.status).toBe(200);
      const { dispatched: _dispatched, ...runWithoutDispatch } = put.json.run;
      expect(response.json).toEqual(runWithoutDispatch);
    });

    it.each([
      ['an unknown UUID', () => randomUUID()],
      ['an id that is not a UUID', () => 'not-a-uuid'],
      ['an almost-UUID', () => `${randomUUID()}0`],
    ])('answers 404 JSON for %s', async (_name, runId) => {
      expectErrorBody(await request(api.baseUrl, 'GET', `/etl-runs/${runId()}`), 404, 'not_found');
    });

    const runCursor = (text: string) => Buffer.from(text).toString('base64url');
    it.each([
      ['a list cursor in year 0', `/etl-runs?cursor=${runCursor(`0000-01-01T00:00:00Z|${randomUUID()}`)}`],
      ['a list cursor whose id is 36 dashes', `/etl-runs?cursor=${runCursor(`2024-01-01T00:00:00Z|${'-'.repeat(36)}`)}`],
      ['a stats window starting in year 0', '/etl-runs/stats?since=0000-06-01T00:00:00Z'],
      ['a stats window reaching back into year 0', '/etl-runs/stats?until=0001-01-01T00:00:00Z&windowSeconds=86400'],
    ])('refuses %s with 422 instead of failing in PostgreSQL', async (_name, path) => {
      expectErrorBody(await request(api.baseUrl, 'GET', path), 422, 'validation_failed');
    });
  });

  describe('routing', () => {
    it.each([
      ['GET', '/no-such-route'],
      ['GET', '/'],
      ['PUT', '/resources'],
      ['GET', '/resources/a/b/c'],
    ])('answers %s %s with 404 JSON', async (method, path) => {
      expectErrorBody(await request(api.baseUrl, method, path), 404, 'not_found');
    });

    it.each([
      ['DELETE', '/resources/some-id', ['GET', 'PUT']],
      ['POST', '/resources/some-id', ['GET', 'PUT']],
      ['PUT', `/etl-runs/${randomUUID()}`, ['GET']],
    ])('answers %s %s with 405 JSON and an Allow header', async (method, path, allowed) => {
      const response = await request(api.baseUrl, method, path, method === 'GET' ? {} : { body: '{"info":{}}' });

      expectErrorBody(response, 405, 'method_not_allowed');
      const allow = (response.headers.get('allow') ?? '').split(/,\s*/);
      for (const m of allowed) expect(allow).toContain(m);
      expect(allow).not.toContain(method);
    });
  });
});
