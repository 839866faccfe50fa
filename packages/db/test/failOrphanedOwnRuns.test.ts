// An API instance whose run finished while PostgreSQL was down could not record the outcome; the
// reaper only takes runs of dead instances, so the live instance's own heartbeat must fail them.
import { randomUUID } from 'node:crypto';
import { failOrphanedOwnRuns, upsertResourceWithRun, type Db } from '@tasklane/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, deleteResources, readRun, uniqueResourceId } from '../../../test/support/testDb.ts';

describe('failOrphanedOwnRuns', () => {
  let db: Db;
  const ids: string[] = [];
  const instanceId = `test-instance-${randomUUID()}`;

  async function ownedRun(options: { status: 'queued' | 'running'; ageSeconds: number }): Promise<string> {
    const id = uniqueResourceId('orphan');
    ids.push(id);
    const { run } = await upsertResourceWithRun(db, { id, name: null, attributesJson: null, infoJson: '{"a":1}', lane: 'inline', ownerId: instanceId });
    await db.$executeRaw`UPDATE etl_runs SET status = ${options.status}::"EtlRunStatus",
      queued_at = CURRENT_TIMESTAMP - ${`${options.ageSeconds} seconds`}::interval WHERE id = ${run.id}::uuid`;
    return run.id;
  }

  beforeAll(() => {
    db = createTestDb();
  });
  afterAll(async () => {
    await deleteResources(db, ids);
    await db.$disconnect();
  });

  it('fails old unfinished runs of the instance that its executor no longer holds, and only those', async () => {
    const lostTrack = await ownedRun({ status: 'running', ageSeconds: 60 });
    const stillExecuting = await ownedRun({ status: 'running', ageSeconds: 60 });
    const justCommitted = await ownedRun({ status: 'queued', ageSeconds: 0 });

    const failed = await failOrphanedOwnRuns(db, { instanceId, executing: [stillExecuting], olderThanMs: 10_000 });

    expect(failed).toEqual([lostTrack]);
    expect(await readRun(db, lostTrack)).toMatchObject({ status: 'failed', error: expect.stringMatching(/could not be recorded/) });
    expect((await readRun(db, stillExecuting))?.status).toBe('running');
    expect((await readRun(db, justCommitted))?.status).toBe('queued');
  });
});
