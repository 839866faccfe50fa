// Issue #9, "The reaper racing a slow-but-alive instance, with both recovery settings: exactly one
// execution commits records; `lost` never becomes `succeeded`." An API instance is frozen (SIGSTOP)
// mid-run for longer than INSTANCE_DEAD_AFTER_MS, as a blocked event loop would leave it: its
// heartbeat stalls, a second instance declares it dead and reaps its run; then it is let go (SIGCONT)
// and finishes its own execution, which must write nothing, and it re-registers under a new id.
// Commits and status changes are counted by triggers in the suite's database.
import { findEtlRun } from '@tasklane/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, resourcePath } from '../support/apiClient.ts';
import { createE2eSuite, storedRecords, waitForRun, type E2eSuite, type SpawnedApi } from '../support/e2eSuite.ts';
import { expectedRecords } from '../support/expectedRecords.ts';
import { countCommits, installRunAudit, readTransitions } from '../support/runAudit.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';
import { frozenProcesses } from '../support/freezeProcess.ts';

/** Inline runs that sleep 3 s before transforming; instances dead after 1.5 s of silence. */
const API_ENV = {
  ETL_LANE: 'inline',
  ETL_TEST_ENABLE: 'true',
  ETL_TEST_DELAY_MS: '3000',
  INSTANCE_HEARTBEAT_MS: '300',
  INSTANCE_DEAD_AFTER_MS: '1500',
};

describe.each(['lost', 'queue'] as const)('the reaper racing a slow-but-alive API instance (LOST_RUN_RECOVERY=%s)', (recovery) => {
  let suite: E2eSuite;
  const frozen = frozenProcesses();

  beforeAll(async () => {
    suite = await createE2eSuite(`reaper_race_${recovery}`);
    await installRunAudit(suite.db);
  });

  afterAll(async () => {
    frozen.thawAll();
    await suite?.close();
  });

  async function deadAt(instanceId: string): Promise<Date | null | undefined> {
    const [row] = await suite.db.$queryRaw<{ dead_at: Date | null }[]>`SELECT dead_at FROM api_instances WHERE id = ${instanceId}`;
    return row?.dead_at;
  }

  /** PUTs one inline run on `slow`, waits until `slow` claimed it, and freezes `slow`. */
  async function freezeDuringRun(slow: SpawnedApi, info: unknown): Promise<{ runId: string; resourceId: string }> {
    const resourceId = uniqueResourceId('race');
    const put = await request(slow.url, 'PUT', resourcePath(resourceId), { body: JSON.stringify({ info }) });
    expect(put.status).toBe(201);
    const runId = put.json.run.id as string;
    await waitForRun(suite.db, runId, `claimed by ${slow.instanceId}`, (run) => run.status === 'running' && run.ownerId === slow.instanceId, { timeoutMs: 10_000 });
    frozen.freeze(slow.pid);
    return { runId, resourceId };
  }

  /** Lets `slow` go and waits for what it must log: its lease lost on the run, and its re-registration. */
  async function thaw(slow: SpawnedApi, runId: string): Promise<{ newInstanceId: string }> {
    frozen.thaw(slow.pid);
    await waitFor(
      `${slow.instanceId} to log that its lease on ${runId} was lost`,
      () => slow.lines.find((line) => line.runId === runId && line.outcome === 'lease-lost'),
      { timeoutMs: 15_000, describeLast: () => slow.output(20) },
    );
    const renewed = await waitFor(
      `${slow.instanceId} to re-register under a new id`,
      () => slow.lines.find((line) => line.deadInstanceId === slow.instanceId && typeof line.newInstanceId === 'string'),
      { timeoutMs: 15_000, describeLast: () => slow.output(20) },
    );
    const newInstanceId = renewed.newInstanceId as string;
    expect(newInstanceId).not.toBe(slow.instanceId);
    const [registered] = await suite.db.$queryRaw<{ pid: number; dead_at: Date | null }[]>`
      SELECT pid, dead_at FROM api_instances WHERE id = ${newInstanceId}`;
    expect(registered).toEqual({ pid: slow.pid, dead_at: null });
    return { newInstanceId };
  }

  /** True when `service` logged a successful processing (committed records) of the run. */
  function committedBy(service: SpawnedService, runId: string): boolean {
    return service.lines.some((line) => line.runId === runId && line.msg === 'etl run processed' && line.outcome === 'succeeded');
  }

  it('the frozen instance’s late execution writes nothing; it re-registers under a new id and keeps working', async () => {
    const env = { ...API_ENV, LOST_RUN_RECOVERY: recovery };
    const [slow, reaper, worker] = await Promise.all([
      suite.startApi(env),
      suite.startApi(env),
      recovery === 'queue' ? suite.startWorker() : Promise.resolve(undefined),
    ]);
    const info = { Repository: { FullName: 'octo/race', Stars: 3 }, Commits: [{ Sha: 'def' }] };
    const { runId, resourceId } = await freezeDuringRun(slow, info);

    // The live instance declares the silent one dead and takes its run.
    await waitFor(`the reaper to declare ${slow.instanceId} dead`, async () => ((await deadAt(slow.instanceId)) ? true : undefined), { timeoutMs: 15_000 });
    const reaped =
      recovery === 'lost'
        ? await waitForRun(suite.db, runId, 'recorded lost', (run) => run.status === 'lost', { timeoutMs: 10_000 })
        : // With the worker running the handed-over run to completion before the frozen instance wakes up.
          await waitForRun(suite.db, runId, 'completed in the queue lane', (run) => run.status === 'succeeded', { timeoutMs: 20_000 });
    if (recovery === 'lost') expect(reaped.error).toContain(`owner API instance ${slow.instanceId} stopped heartbeating`);
    else expect(reaped).toMatchObject({ lane: 'queue', ownerId: null, attempts: 2 });
    const commitsBefore = await countCommits(suite.db, runId);
    expect(commitsBefore).toBe(recovery === 'lost' ? 0 : 1);

    const { newInstanceId } = await thaw(slow, runId);

    // Exactly one execution committed records (none at all when the run was recorded lost).
    expect(await countCommits(suite.db, runId)).toBe(commitsBefore);
    const transitions = await readTransitions(suite.db, runId);
    expect(transitions.filter((t) => t.from === 'lost')).toEqual([]);
    expect(transitions.filter((t) => t.to === 'succeeded')).toHaveLength(recovery === 'lost' ? 0 : 1);
    const run = await findEtlRun(suite.db, runId);
    if (recovery === 'lost') {
      expect(run).toMatchObject({ status: 'lost', attempts: 1 });
      expect(await storedRecords(suite.db, resourceId)).toEqual([]);
    } else {
      expect(run).toMatchObject({ status: 'succeeded', lane: 'queue', attempts: 2 });
      expect(await storedRecords(suite.db, resourceId)).toEqual(expectedRecords(info));
      expect(committedBy(worker!, runId)).toBe(true);
    }
    expect(slow.lines.some((line) => line.runId === runId && line.outcome === 'succeeded')).toBe(false);

    // The revived instance works on under its new id: a new run is owned by, and completed under, it.
    const nextId = uniqueResourceId('race-next');
    const next = await request(slow.url, 'PUT', resourcePath(nextId), { body: JSON.stringify({ info: { After: 1 } }) });
    expect(next.status).toBe(201);
    const nextRun = await waitForRun(suite.db, next.json.run.id as string, 'succeeded', (r) => r.status === 'succeeded', { timeoutMs: 15_000 });
    expect(nextRun.ownerId).toBe(newInstanceId);
    expect(await countCommits(suite.db, nextRun.id)).toBe(1);

    if (recovery === 'lost') {
      // Issue #9 (5): the lost run is exactly the one an operator wants to retry.
      const retried = await request(reaper.url, 'POST', `/etl-runs/${runId}/retry`);
      expect(retried.status, JSON.stringify(retried.json)).toBe(202);
      expect(retried.json).toMatchObject({ id: runId, status: 'queued', lane: 'inline', dispatched: true });
      const again = await waitForRun(suite.db, runId, 'succeeded after the retry', (r) => r.status === 'succeeded', { timeoutMs: 15_000 });
      expect(again).toMatchObject({ ownerId: reaper.instanceId, attempts: 2, error: null });
      expect(await storedRecords(suite.db, resourceId)).toEqual(expectedRecords(info));
      expect(await countCommits(suite.db, runId)).toBe(1);
      // Any other status is still a conflict.
      const conflict = await request(reaper.url, 'POST', `/etl-runs/${runId}/retry`);
      expect(conflict.status).toBe(409);
    }
  });
});
