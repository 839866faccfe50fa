// Issue #3, SIGTERM of the API: it stops accepting connections, lets in-flight requests and
// in-process runs finish within SHUTDOWN_GRACE_MS, records what is still unfinished then (lost, or
// handed to the queue lane), and exits 0.
import { findEtlRun } from '@tasklane/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, resourcePath, type ApiResponse } from '../support/apiClient.ts';
import { createE2eSuite, storedRecords, waitForRun, type E2eSuite, type SpawnedApi } from '../support/e2eSuite.ts';
import { expectedRecords } from '../support/expectedRecords.ts';
import { webhookPayload } from '../support/laneFixtures.ts';
import { countRows, uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

describe('an API process stopped with SIGTERM', () => {
  let suite: E2eSuite;

  beforeAll(async () => {
    suite = await createE2eSuite('api_drain_e2e');
  });

  afterAll(async () => {
    await suite?.close();
  });

  /** PUTs `count` inline runs of `info` and returns their run ids, in order, with their resource ids. */
  async function putInlineRuns(api: SpawnedApi, count: number, info: unknown): Promise<{ runId: string; resourceId: string }[]> {
    const resourceIds = Array.from({ length: count }, () => uniqueResourceId('drain'));
    const responses = await Promise.all(
      resourceIds.map((id) => request(api.url, 'PUT', `${resourcePath(id)}?lane=inline`, { body: JSON.stringify({ info }) })),
    );
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 201));
    return responses.map((r, i) => ({ runId: r.json.run.id as string, resourceId: resourceIds[i]! }));
  }

  /** The ids of the runs an instance owns that are still `queued` or `running`. */
  async function unfinishedRunsOf(instanceId: string): Promise<string[]> {
    const rows = await suite.db.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM etl_runs WHERE owner_id = ${instanceId} AND status IN ('queued', 'running')`;
    return rows.map((row) => row.id);
  }

  it('drains: refuses new connections, answers the in-flight request, finishes the runs, exits 0', async () => {
    const api = await suite.startApi({ ETL_TEST_ENABLE: 'true', ETL_TEST_DELAY_MS: '1500', SHUTDOWN_GRACE_MS: '10000' });
    const info = webhookPayload('push', 3);
    const runs = await putInlineRuns(api, 3, info);
    // An `await` request still waiting for its run when SIGTERM arrives.
    const awaitedId = uniqueResourceId('drain-await');
    const inFlight = request(api.url, 'PUT', `${resourcePath(awaitedId)}?lane=await`, {
      body: JSON.stringify({ info }),
      headers: { Prefer: 'wait=5' },
    });
    await waitFor('the await request to have committed its run', async () => ((await countRows(suite.db, awaitedId)).runs === 1 ? true : undefined));

    const stopped = api.stop(20_000);
    let exited = false;
    void api.exited.then(() => {
      exited = true;
    });
    // Stops accepting: a new connection is refused while the process is still draining.
    await waitFor('a new request to be refused', async () => {
      try {
        await request(api.url, 'GET', '/etl-runs/stats');
        return undefined;
      } catch (error) {
        return error;
      }
    }, { timeoutMs: 5000, intervalMs: 20 });
    expect(exited, 'the process was still draining when it refused the new request').toBe(false);

    const answered: ApiResponse = await inFlight;
    expect(answered.status).toBe(201);
    expect(answered.headers.get('preference-applied')).toBe('wait=5');
    expect(answered.json.run).toMatchObject({ lane: 'await', status: 'succeeded' });

    expect(await stopped).toEqual({ code: 0, signal: null });
    for (const { runId, resourceId } of runs) {
      expect(await findEtlRun(suite.db, runId)).toMatchObject({ status: 'succeeded', lane: 'inline' });
      expect(await storedRecords(suite.db, resourceId)).toEqual(expectedRecords(info));
    }
    // 'exit' may come before the last output is read: wait for the final line, then look at them all.
    await waitFor('the API to log that it stopped', () => (api.lines.at(-1)?.msg === 'stopped' ? true : undefined), {
      timeoutMs: 5000,
      describeLast: () => api.output(20),
    });
    expect(api.lines.filter((line) => typeof line.msg === 'string' && line.msg.includes('unfinished at shutdown'))).toEqual([]);
  });

  it('records runs unfinished when a short grace period ends as lost, with the reason, and exits 0', async () => {
    const api = await suite.startApi({
      ETL_TEST_ENABLE: 'true',
      ETL_TEST_DELAY_MS: '3000',
      SHUTDOWN_GRACE_MS: '300',
      // Two runs execute, two wait in memory: both must be recorded.
      IN_PROCESS_CONCURRENCY: '2',
    });
    const runs = await putInlineRuns(api, 4, { a: 1 });
    await waitFor('two runs running and two waiting in memory', async () => {
      const found = await Promise.all(runs.map(({ runId }) => findEtlRun(suite.db, runId)));
      return found.map((run) => run?.status).sort().join() === 'queued,queued,running,running' ? true : undefined;
    });

    expect(await api.stop(10_000)).toEqual({ code: 0, signal: null });

    for (const { runId, resourceId } of runs) {
      const run = await findEtlRun(suite.db, runId);
      expect(run).toMatchObject({ status: 'lost', lane: 'inline' });
      expect(run!.error).toBe(`API instance ${api.instanceId} stopped (SIGTERM) before the run finished within the 300 ms grace period`);
      expect(run!.finishedAt).not.toBeNull();
      expect(await countRows(suite.db, resourceId)).toMatchObject({ records: 0, contextVersions: 0 });
    }
    expect(await unfinishedRunsOf(api.instanceId)).toEqual([]);
  });

  it('answers an await request whose run outlasts the grace period: 202 with the run to poll, not a closed connection', async () => {
    const api = await suite.startApi({ ETL_TEST_ENABLE: 'true', ETL_TEST_DELAY_MS: '4000', SHUTDOWN_GRACE_MS: '1500' });
    const resourceId = uniqueResourceId('drain-await-late');
    const inFlight = request(api.url, 'PUT', `${resourcePath(resourceId)}?lane=await`, {
      body: JSON.stringify({ info: { a: 1 } }),
      headers: { Prefer: 'wait=9', 'If-None-Match': '*' },
    });
    const runId = await waitFor('the await request to have committed its run', async () => (await suite.db.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM etl_runs WHERE resource_id = ${resourceId} AND status = 'running'`)[0]?.id);

    const stopped = api.stop(20_000);
    const answered: ApiResponse = await inFlight;
    expect(answered.status).toBe(202);
    expect(answered.headers.get('location')).toBe(resourcePath(resourceId));
    expect(answered.headers.get('etag')).toBe('"1"');
    expect(answered.json.run).toMatchObject({ id: runId, lane: 'await', status: 'running' });
    expect(await stopped).toEqual({ code: 0, signal: null });
    // The write it answered for is there, and its run is recorded as the grace period left it.
    expect(await findEtlRun(suite.db, runId)).toMatchObject({ status: 'lost', lane: 'await' });
    expect(await countRows(suite.db, resourceId)).toMatchObject({ runs: 1 });
  });

  it('with LOST_RUN_RECOVERY=queue, hands runs unfinished at the end of the grace period to the queue lane, where a worker completes them', async () => {
    const [api] = await Promise.all([
      suite.startApi({ ETL_TEST_ENABLE: 'true', ETL_TEST_DELAY_MS: '3000', SHUTDOWN_GRACE_MS: '300', LOST_RUN_RECOVERY: 'queue' }),
      suite.startWorker(),
    ]);
    const info = webhookPayload('push', 4);
    const runs = await putInlineRuns(api, 2, info);
    await Promise.all(runs.map(({ runId }) => waitForRun(suite.db, runId, 'to be running', (run) => run.status === 'running')));

    expect(await api.stop(10_000)).toEqual({ code: 0, signal: null });

    for (const { runId, resourceId } of runs) {
      const run = await waitForRun(suite.db, runId, 'to succeed in the queue lane', (r) => r.status === 'succeeded');
      expect(run).toMatchObject({ lane: 'queue', ownerId: null, attempts: 2 });
      expect(await storedRecords(suite.db, resourceId)).toEqual(expectedRecords(info));
    }
  });
});
