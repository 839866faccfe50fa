// The queue lane as deployed: the API and the worker run as separate OS processes, configured only
// through their environment, talking through the real PostgreSQL and Redis. Every run is followed
// until the worker finished it, and the records it wrote are compared with the ETL computed here.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Db } from '@tasklane/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource, request, resourcePath, type ApiResponse } from '../support/apiClient.ts';
import { badPutCases } from '../support/badPutRequests.ts';
import { createE2eSuite, type E2eSuite, type SpawnedApi } from '../support/e2eSuite.ts';
import { essence, expectedRecords } from '../support/expectedRecords.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { countRows, readContextRecords, readContextVersion, readRuns, uniqueResourceId, type StoredRun } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

/** Statuses a run never leaves. */
const FINISHED = new Set(['succeeded', 'failed', 'skipped', 'lost']);
const BODY_LIMIT_BYTES = 1024 * 1024;

interface WebhookEvent {
  name: string;
  examples: Record<string, unknown>[];
}

// The suite has a database of its own: the API process relays and reaps runs across its whole
// database, which must not reach other suites' rows. Dropping it at the end is the cleanup.
describe('the queue lane with the API and the worker as separate processes', () => {
  let suite: E2eSuite;
  let db: Db;
  let api: SpawnedApi;
  let worker: SpawnedService;

  const serviceOutput = () => `--- api ---\n${api?.output(30) ?? ''}\n--- worker ---\n${worker?.output(30) ?? ''}`;

  /** Waits until the resources have `expectedRuns` runs, all finished. */
  async function waitForRuns(resourceIds: readonly string[], expectedRuns: number): Promise<StoredRun[]> {
    let last: StoredRun[] = [];
    return waitFor(
      `${expectedRuns} finished runs of ${resourceIds.length} resource(s)`,
      async () => {
        last = (await Promise.all(resourceIds.map((id) => readRuns(db, id)))).flat();
        return last.length === expectedRuns && last.every((run) => FINISHED.has(run.status)) ? last : undefined;
      },
      {
        timeoutMs: 30_000,
        intervalMs: 200,
        describeLast: () => `runs: ${JSON.stringify(last.map((r) => [r.resourceVersion, r.status, r.error]))}\n${serviceOutput()}`,
      },
    );
  }

  beforeAll(async () => {
    suite = await createE2eSuite('queue_lane');
    db = suite.db;
    const env = { ETL_LANE: 'queue', BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES), JOB_BACKOFF_MS: '200' };
    [api, worker] = await Promise.all([suite.startApi(env), suite.startWorker(env)]);
  });

  afterAll(async () => {
    await suite?.close();
  });

  it('starts both processes on the same queue prefix', () => {
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(worker.readyLine).toMatchObject({ queue: 'etl-run', prefix: suite.prefix });
  });

  it("completes a PUT's run in the worker: succeeded, its records in the database, visible through GET", async () => {
    const id = uniqueResourceId('e2e-one');
    const info = { Title: 'Hello', Owner: { Login: 'octocat', Id: 1 }, Labels: ['bug', 'ui'], Secret: 'hunter2', At: '2024-05-06T07:08:09Z' };
    const put = await putResource(api.url, id, { name: 'one', info });
    expect(put.status).toBe(201);
    expect(put.json.run).toMatchObject({ status: 'queued', dispatched: true, lane: 'queue' });

    const run = await waitFor(
      `run ${put.json.run.id} to finish`,
      async () => {
        const response = await request(api.url, 'GET', `/etl-runs/${put.json.run.id}`);
        return FINISHED.has(response.json?.status) ? response.json : undefined;
      },
      { describeLast: serviceOutput },
    );
    const expected = expectedRecords(info);
    expect(run).toMatchObject({ status: 'succeeded', attempts: 1, error: null, recordCount: expected.length });

    expect(essence(await readContextRecords(db, id))).toEqual(expected);
    const detail = await request(api.url, 'GET', resourcePath(id));
    expect(detail.json.latestRun).toMatchObject({ id: put.json.run.id, status: 'succeeded' });
    expect(detail.json.contextRecordCount).toBe(expected.length);
    expect(detail.json.contextRecordCount).toBeGreaterThan(0);
    const context = await request(api.url, 'GET', `${resourcePath(id)}/context?limit=1000`);
    expect(context.json.records.map(({ key, value, valueType }: { key: string; value: unknown; valueType: string }) => ({ key, value, valueType }))).toEqual(
      expected,
    );
    expect(context.json.records.find((r: { key: string }) => r.key === 'secret')).toEqual(
      expect.objectContaining({ value: '[REDACTED]', valueType: 'redacted' }),
    );
  });

  it('turns 20 real GitHub webhook payloads into exactly the records transformInfo computes for each', async () => {
    const events = JSON.parse(await readFile(createRequire(import.meta.url).resolve('@octokit/webhooks-examples'), 'utf8')) as WebhookEvent[];
    const payloads = events
      .filter((event) => event.examples.length > 0)
      .slice(0, 20)
      .map((event) => ({ id: uniqueResourceId(`gh-${event.name}`), info: event.examples[0]! }));
    expect(payloads).toHaveLength(20);

    const responses = await Promise.all(payloads.map(({ id, info }) => putResource(api.url, id, { info })));
    expect(responses.map((r) => r.status)).toEqual(Array<number>(20).fill(201));

    const runs = await waitForRuns(
      payloads.map((p) => p.id),
      20,
    );
    expect(runs.map((run) => [run.status, run.error])).toEqual(Array(20).fill(['succeeded', null]));
    for (const { id, info } of payloads) {
      const expected = expectedRecords(info);
      expect(expected.length, id).toBeGreaterThan(10);
      expect(essence(await readContextRecords(db, id)), id).toEqual(expected);
    }
  });

  it('settles 20 concurrent PUTs to one new id on version 20: every run finished, the newest records kept', async () => {
    const id = uniqueResourceId('e2e-race');
    const writers = Array.from({ length: 20 }, (_, writer) => ({ writer, info: { Writer: writer, Payload: { Value: `from writer ${writer}` } } }));

    const responses: ApiResponse[] = await Promise.all(writers.map(({ info }) => putResource(api.url, id, { info })));

    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(19);
    const runs = await waitForRuns([id], 20);
    expect(runs.map((run) => run.resourceVersion)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const run of runs) expect(['succeeded', 'skipped']).toContain(run.status);
    expect(runs.at(-1)).toMatchObject({ resourceVersion: 20, status: 'succeeded' });

    expect(await countRows(db, id)).toMatchObject({ resources: 1, runs: 20, contextVersions: 1 });
    const [resource] = await db.$queryRaw<{ version: number }[]>`SELECT version FROM resources WHERE id = ${id}`;
    expect(resource?.version).toBe(20);
    expect(await readContextVersion(db, id)).toBe(20);
    const newest = writers[responses.findIndex((r) => r.json.resource.version === 20)]!;
    const records = await readContextRecords(db, id);
    expect(essence(records)).toEqual(expectedRecords(newest.info));
    expect(records.every((r) => r.resourceVersion === 20 && r.runId === runs.at(-1)!.id)).toBe(true);
  });

  describe('refuses a bad PUT and writes nothing', () => {
    it.each(
      badPutCases(
        'malformed JSON',
        'a body that is an array',
        'a body one byte over the limit',
        'valid JSON sent as text/plain',
        'info nested 33 levels',
        'an id with a space',
        'U+0000 in an info value',
      ).map((c) => [c.name, c] as const),
    )('%s', async (_name, badCase) => {
      const id = badCase.id ? badCase.id(uniqueResourceId('e2e-bad')) : uniqueResourceId('e2e-bad');
      const raw = typeof badCase.body === 'function' ? badCase.body({ bodyLimitBytes: BODY_LIMIT_BYTES }) : badCase.body;
      const response = await request(api.url, 'PUT', resourcePath(id), raw);

      expect({ status: response.status, code: response.json?.error?.code }).toEqual({ status: badCase.status, code: badCase.code });
      expect(typeof response.json.error.message).toBe('string');
      expect(await countRows(db, id)).toEqual({ resources: 0, runs: 0, records: 0, contextVersions: 0 });
    });
  });

  it('logs no errors in either process, and both shut down cleanly on SIGTERM', async () => {
    expect(api.lines.filter((line) => typeof line.level === 'number' && line.level >= 50).map((l) => l.text)).toEqual([]);
    expect(worker.lines.filter((line) => typeof line.level === 'number' && line.level >= 50).map((l) => l.text)).toEqual([]);

    const [apiExit, workerExit] = await Promise.all([api.stop(), worker.stop()]);

    expect({ api: apiExit, worker: workerExit }).toEqual({ api: { code: 0, signal: null }, worker: { code: 0, signal: null } });
  });
});
