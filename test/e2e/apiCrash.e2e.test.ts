// Issue #3, SIGKILL of the API during in-process runs: a killed process never says goodbye, so the
// next start, or another live instance, finds its silent heartbeat and says it for it.
import { findEtlRun } from '@tasklane/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, resourcePath } from '../support/apiClient.ts';
import { createE2eSuite, storedRecords, waitForRun, type E2eSuite, type SpawnedApi } from '../support/e2eSuite.ts';
import { expectedRecords } from '../support/expectedRecords.ts';
import { webhookPayload } from '../support/laneFixtures.ts';
import { countRows, uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

/** Runs sleep 5 s before transforming, so they are surely unfinished when the API is killed. */
const CRASH_ENV = {
  ETL_LANE: 'inline',
  ETL_TEST_ENABLE: 'true',
  ETL_TEST_DELAY_MS: '5000',
  INSTANCE_HEARTBEAT_MS: '300',
  INSTANCE_DEAD_AFTER_MS: '1500',
  // Two runs execute, the third waits in memory: both kinds must be recovered.
  IN_PROCESS_CONCURRENCY: '2',
};

describe('an API process killed with SIGKILL during in-process runs', () => {
  let suite: E2eSuite;

  beforeAll(async () => {
    suite = await createE2eSuite('api_crash_e2e');
  });

  afterAll(async () => {
    await suite?.close();
  });

  /**
   * PUTs three inline runs on `api`, waits until two are `running` and one waits in memory
   * (`queued`), then SIGKILLs the API.
   */
  async function killDuringRuns(api: SpawnedApi, info: unknown): Promise<{ runIds: string[]; resourceIds: string[] }> {
    const resourceIds = [1, 2, 3].map(() => uniqueResourceId('crash'));
    const responses = await Promise.all(
      resourceIds.map((id) => request(api.url, 'PUT', resourcePath(id), { body: JSON.stringify({ info }) })),
    );
    expect(responses.map((r) => [r.status, r.json.run.lane])).toEqual(responses.map(() => [201, 'inline']));
    const runIds = responses.map((r) => r.json.run.id as string);
    await waitForStatuses(runIds, ['queued', 'running', 'running']);
    const owners = await Promise.all(runIds.map((id) => findEtlRun(suite.db, id)));
    expect(owners.map((run) => run?.ownerId)).toEqual(runIds.map(() => api.instanceId));

    const exit = await suite.kill(api);
    expect(exit.signal).toBe('SIGKILL');
    // Nobody said goodbye: the rows still claim to be running or queued.
    await expectStatuses(runIds, ['queued', 'running', 'running']);
    return { runIds, resourceIds };
  }

  /** The runs' statuses, sorted. */
  async function statuses(runIds: readonly string[]): Promise<string[]> {
    const runs = await Promise.all(runIds.map((id) => findEtlRun(suite.db, id)));
    return runs.map((run) => run?.status ?? 'missing').sort();
  }

  async function expectStatuses(runIds: readonly string[], expected: string[]): Promise<void> {
    expect(await statuses(runIds)).toEqual(expected);
  }

  async function waitForStatuses(runIds: readonly string[], expected: string[]): Promise<void> {
    let seen: string[] = [];
    await waitFor(
      `run statuses ${expected.join(', ')}`,
      async () => {
        seen = await statuses(runIds);
        return seen.join() === expected.join() ? true : undefined;
      },
      { timeoutMs: 10_000, describeLast: () => `last seen: ${seen.join(', ')}` },
    );
  }

  /** The line an API logs when it reaped the three runs (it may reach the pipe after the database change). */
  function reapLine(api: SpawnedApi) {
    return waitFor(
      `${api.name} ${api.instanceId} to log the runs it reaped`,
      () => api.lines.find((line) => typeof line.msg === 'string' && line.msg.startsWith('reaped 3 run(s) of dead API instances')),
      { timeoutMs: 5000, describeLast: () => api.output(20) },
    );
  }

  it('the next API start marks the dead instance’s runs lost, naming the instance, and writes no records', async () => {
    const env = { ...CRASH_ENV, LOST_RUN_RECOVERY: 'lost' };
    const dead = await suite.startApi(env);
    const { runIds, resourceIds } = await killDuringRuns(dead, webhookPayload('push'));

    const next = await suite.startApi(env);
    const runs = await Promise.all(
      runIds.map((id) => waitForRun(suite.db, id, 'to be recorded lost', (run) => run.status === 'lost', { timeoutMs: 10_000 })),
    );

    for (const run of runs) {
      expect(run.error).toContain(`owner API instance ${dead.instanceId} stopped heartbeating`);
      expect(run.error).toContain('process died');
      expect(run.finishedAt).not.toBeNull();
    }
    for (const id of resourceIds) expect(await countRows(suite.db, id)).toMatchObject({ runs: 1, records: 0, contextVersions: 0 });
    const reaped = await reapLine(next);
    expect(reaped.runIds, 'the new instance logged the runs it reaped').toEqual(expect.arrayContaining(runIds));
    await next.stop();
  });

  it('with LOST_RUN_RECOVERY=queue, a live instance hands the dead one’s runs to the queue lane and the worker completes them', async () => {
    const env = { ...CRASH_ENV, LOST_RUN_RECOVERY: 'queue' };
    const [doomed, survivor] = await Promise.all([suite.startApi(env), suite.startApi(env), suite.startWorker()]);
    const info = webhookPayload('push', 2);
    const { runIds, resourceIds } = await killDuringRuns(doomed, info);

    const runs = await Promise.all(
      runIds.map((id) => waitForRun(suite.db, id, 'to succeed in the queue lane', (run) => run.status === 'succeeded', { timeoutMs: 15_000 })),
    );

    for (const run of runs) expect(run).toMatchObject({ lane: 'queue', ownerId: null, error: null });
    // The two runs the dead instance had started are claimed a second time by the worker.
    expect(runs.map((run) => run.attempts).sort()).toEqual([1, 2, 2]);
    for (const id of resourceIds) expect(await storedRecords(suite.db, id)).toEqual(expectedRecords(info));
    expect(await reapLine(survivor)).toMatchObject({ recovery: 'queue', runIds: expect.arrayContaining(runIds) });
  });
});
