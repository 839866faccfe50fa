// Conditional requests on /resources/{id} (issue #12, point 3; RFC 9110 §8.8.3, §13.1, §13.2):
// a strong ETag "<version>" on GET and PUT, If-Match / If-None-Match on PUT checked inside the
// upsert's statement (412 and nothing written: no resource change, no run, no job, no record), and
// If-None-Match on GET → 304. Against the real PostgreSQL and a real BullMQ queue.
import { transformInfoJson } from '@tasklane/etl';
import { processRun } from '@tasklane/pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource, request, resourcePath, type ApiResponse } from '../../../test/support/apiClient.ts';
import { countRows, deleteResources, readContextRecords, readRuns, trackedIds } from '../../../test/support/testDb.ts';
import { startApi, type TestApi } from './support/startApi.ts';

describe('conditional requests on a resource', () => {
  let api: TestApi;
  const { ids, newId } = trackedIds();

  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => {
    if (!api) return;
    await deleteResources(api.db, ids);
    await api.close();
  });

  /** Every job the suite's queue holds, in any state: one per dispatched run. */
  const jobCount = async (): Promise<number> => Object.values(await api.queues.etlRun.getJobCounts()).reduce((sum, n) => sum + n, 0);

  /** The rows and jobs a refused write must leave exactly as they were. */
  const snapshot = async (id: string) => ({
    rows: await countRows(api.db, id),
    resource: (await api.db.$queryRaw<{ name: string | null; version: number; updated_at: Date }[]>`SELECT name, version, updated_at FROM resources WHERE id = ${id}`)[0] ?? null,
    runs: (await readRuns(api.db, id)).map((run) => run.id),
    records: await readContextRecords(api.db, id),
    jobs: await jobCount(),
  });

  const expectPreconditionFailed = (response: ApiResponse) => {
    expect({ status: response.status, code: response.json?.error?.code }).toEqual({ status: 412, code: 'precondition_failed' });
    expect(response.json.error.message).toMatch(/nothing was written|If-Match/);
  };

  /** A resource at version 1 whose run was processed, so it has context records. */
  const createProcessed = async (label: string): Promise<string> => {
    const id = newId(label);
    const created = await putResource(api.baseUrl, id, { name: 'v1', info: { colour: 'red', size: 3 } });
    expect(created.status).toBe(201);
    await processRun({ db: api.db, transform: transformInfoJson }, created.json.run.id as string, { lane: 'queue', leasedBy: 'worker:conditional-test' });
    return id;
  };

  it('sends a strong ETag "<version>" on PUT (201, 200) and GET', async () => {
    const id = newId('etag');
    const created = await putResource(api.baseUrl, id, { info: { a: 1 } });
    expect({ status: created.status, etag: created.headers.get('etag') }).toEqual({ status: 201, etag: '"1"' });
    const updated = await putResource(api.baseUrl, id, { info: { a: 2 } });
    expect({ status: updated.status, etag: updated.headers.get('etag') }).toEqual({ status: 200, etag: '"2"' });
    const read = await request(api.baseUrl, 'GET', resourcePath(id));
    expect({ status: read.status, etag: read.headers.get('etag'), version: read.json.resource.version }).toEqual({ status: 200, etag: '"2"', version: 2 });
  });

  it('PUT with the current If-Match writes; a stale one is a 412 that leaves rows, records and the queue unchanged', async () => {
    const id = await createProcessed('if-match');
    const matched = await putResource(api.baseUrl, id, { name: 'v2', info: { colour: 'blue', size: 3 } }, { headers: { 'If-Match': '"1"' } });
    expect({ status: matched.status, etag: matched.headers.get('etag'), version: matched.json.resource.version }).toEqual({ status: 200, etag: '"2"', version: 2 });

    const before = await snapshot(id);
    expect(before.rows).toMatchObject({ resources: 1, runs: 2 });
    expect(before.records.length).toBe(2);
    for (const ifMatch of ['"1"', 'W/"2"', '"1", "3"', '"abc"', '"99999999999"']) {
      const stale = await putResource(api.baseUrl, id, { name: 'lost update', info: { colour: 'green' } }, { headers: { 'If-Match': ifMatch } });
      expectPreconditionFailed(stale);
      expect(stale.headers.get('etag'), ifMatch).toBeNull();
    }
    expect(await snapshot(id)).toEqual(before);

    const listed = await putResource(api.baseUrl, id, { name: 'v3', info: { colour: 'blue' } }, { headers: { 'If-Match': '"7", "2"' } });
    expect({ status: listed.status, etag: listed.headers.get('etag') }).toEqual({ status: 200, etag: '"3"' });
  });

  it('If-Match on a resource that does not exist is a 412 and creates nothing; If-Match: * needs it to exist', async () => {
    const id = newId('if-match-absent');
    const jobs = await jobCount();
    for (const ifMatch of ['"1"', '*']) {
      expectPreconditionFailed(await putResource(api.baseUrl, id, { info: { a: 1 } }, { headers: { 'If-Match': ifMatch } }));
    }
    expect(await countRows(api.db, id)).toEqual({ resources: 0, runs: 0, records: 0, contextVersions: 0 });
    expect(await jobCount()).toBe(jobs);

    expect((await putResource(api.baseUrl, id, { info: { a: 1 } })).status).toBe(201);
    const any = await putResource(api.baseUrl, id, { info: { a: 2 } }, { headers: { 'If-Match': '*' } });
    expect({ status: any.status, etag: any.headers.get('etag') }).toEqual({ status: 200, etag: '"2"' });
  });

  it('If-None-Match: * creates only: 201 when absent, then 412 with nothing written', async () => {
    const id = newId('create-only');
    const created = await putResource(api.baseUrl, id, { name: 'first', info: { a: 1 } }, { headers: { 'If-None-Match': '*' } });
    expect({ status: created.status, etag: created.headers.get('etag') }).toEqual({ status: 201, etag: '"1"' });
    const before = await snapshot(id);
    const again = await putResource(api.baseUrl, id, { name: 'second', info: { a: 2 } }, { headers: { 'If-None-Match': '*' } });
    expectPreconditionFailed(again);
    expect(again.json.error.message).toMatch(/already exists/);
    expect(await snapshot(id)).toEqual(before);
  });

  it('If-None-Match with tags on PUT refuses the listed versions (weak comparison) and writes otherwise', async () => {
    const id = newId('if-none-match-put');
    expect((await putResource(api.baseUrl, id, { info: { a: 1 } }, { headers: { 'If-None-Match': '"1"' } })).status).toBe(201);
    const before = await snapshot(id);
    expectPreconditionFailed(await putResource(api.baseUrl, id, { info: { a: 2 } }, { headers: { 'If-None-Match': 'W/"1"' } }));
    expect(await snapshot(id)).toEqual(before);
    expect((await putResource(api.baseUrl, id, { info: { a: 2 } }, { headers: { 'If-None-Match': '"2"' } })).status).toBe(200);
    // If-Match and If-None-Match: * together can never hold.
    expectPreconditionFailed(await putResource(api.baseUrl, id, { info: { a: 3 } }, { headers: { 'If-Match': '"2"', 'If-None-Match': '*' } }));
    expect((await countRows(api.db, id)).runs).toBe(2);
  });

  it('a malformed If-Match or If-None-Match is a 400 naming the header, and nothing is written', async () => {
    const id = newId('malformed');
    const jobs = await jobCount();
    for (const [header, value] of [['If-Match', '1'], ['If-Match', '*, "1"'], ['If-None-Match', '"a b"'], ['If-None-Match', ',']] as const) {
      const response = await putResource(api.baseUrl, id, { info: { a: 1 } }, { headers: { [header]: value } });
      expect({ value, status: response.status, code: response.json?.error?.code, header: response.json?.error?.details?.header }).toEqual({ value, status: 400, code: 'bad_request', header });
      const read = await request(api.baseUrl, 'GET', resourcePath(id), { headers: { [header]: value } });
      expect({ value, status: read.status }).toEqual({ value, status: 400 });
    }
    expect(await countRows(api.db, id)).toEqual({ resources: 0, runs: 0, records: 0, contextVersions: 0 });
    expect(await jobCount()).toBe(jobs);
  });

  it('concurrent PUTs with the same If-Match: exactly one wins, the others are 412 and write nothing', async () => {
    const id = await createProcessed('race');
    const jobs = await jobCount();
    const writers = 12;
    const responses = await Promise.all(
      Array.from({ length: writers }, (_, i) => putResource(api.baseUrl, id, { name: `writer ${i}`, info: { writer: i } }, { headers: { 'If-Match': '"1"' } })),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([200, ...Array<number>(writers - 1).fill(412)]);
    const winner = responses.find((response) => response.status === 200)!;
    expect(winner.headers.get('etag')).toBe('"2"');
    const rows = await snapshot(id);
    expect(rows.rows).toMatchObject({ resources: 1, runs: 2 });
    expect(rows.resource).toMatchObject({ name: winner.json.resource.name, version: 2 });
    expect(rows.jobs).toBe(jobs + 1);
  });

  it('concurrent create-only PUTs (If-None-Match: *): exactly one creates', async () => {
    const id = newId('race-create');
    const responses = await Promise.all(Array.from({ length: 8 }, (_, i) => putResource(api.baseUrl, id, { info: { i } }, { headers: { 'If-None-Match': '*' } })));
    expect(responses.map((response) => response.status).sort()).toEqual([201, 412, 412, 412, 412, 412, 412, 412]);
    expect(await countRows(api.db, id)).toMatchObject({ resources: 1, runs: 1 });
  });

  it('GET with If-None-Match naming the current version is a 304 with the ETag and no body; If-Match that does not match is a 412', async () => {
    const id = newId('get');
    await putResource(api.baseUrl, id, { info: { a: 1 } });
    await putResource(api.baseUrl, id, { info: { a: 2 } });
    for (const ifNoneMatch of ['"2"', 'W/"2"', '"1", "2"', '*']) {
      const response = await request(api.baseUrl, 'GET', resourcePath(id), { headers: { 'If-None-Match': ifNoneMatch } });
      expect({ ifNoneMatch, status: response.status, etag: response.headers.get('etag'), body: response.text }).toEqual({ ifNoneMatch, status: 304, etag: '"2"', body: '' });
    }
    const changed = await request(api.baseUrl, 'GET', resourcePath(id), { headers: { 'If-None-Match': '"1"' } });
    expect({ status: changed.status, etag: changed.headers.get('etag'), version: changed.json.resource.version }).toEqual({ status: 200, etag: '"2"', version: 2 });

    const failed = await request(api.baseUrl, 'GET', resourcePath(id), { headers: { 'If-Match': '"1"' } });
    expectPreconditionFailed(failed);
    expect(failed.headers.get('etag')).toBe('"2"');
    expect((await request(api.baseUrl, 'GET', resourcePath(id), { headers: { 'If-Match': '"2"' } })).status).toBe(200);
    // An absent resource is a 404 whatever the preconditions say.
    expect((await request(api.baseUrl, 'GET', resourcePath(newId('get-absent')), { headers: { 'If-None-Match': '*' } })).status).toBe(404);
  });
});
