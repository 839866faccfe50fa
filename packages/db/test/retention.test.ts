// Issue #9, retention: the SQL that prunes finished runs' raw `info`, deletes old runs (keeping each
// resource's latest, and the run whose records the resource holds) and deletes long-gone API
// instances' rows (never one that still owns unfinished runs); bounded batches that skip rows a
// writer has locked instead of waiting. On a migrated database of this file's own: retention acts
// on every row.
import { deleteOldApiInstances, deleteOldRuns, pruneRunInfo, upsertResourceWithRun } from '@tasklane/db';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMigratedScratchDatabase, type MigratedScratchDatabase } from '../../../test/support/migratedScratchDatabase.ts';

const HOUR = 3600 * 1000;

describe('retention SQL', () => {
  let scratch: MigratedScratchDatabase;

  beforeAll(async () => {
    scratch = await createMigratedScratchDatabase('retention_sql');
  });
  afterAll(async () => {
    await scratch?.drop();
  });
  beforeEach(async () => {
    await scratch.db.$executeRaw`TRUNCATE resources, etl_runs, context_records, context_versions, api_instances`;
  });

  /** Writes a run of `resourceId` (next version) and sets its status and age (finished `hoursAgo`). */
  async function seedRun(resourceId: string, status: string, hoursAgo: number, ownerId: string | null = null): Promise<string> {
    const { run } = await upsertResourceWithRun(scratch.db, {
      id: resourceId,
      name: null,
      attributesJson: null,
      infoJson: `{"resource":"${resourceId}"}`,
      lane: 'inline',
      ownerId,
    });
    const finished = ['queued', 'running'].includes(status) ? null : new Date(Date.now() - hoursAgo * HOUR);
    await scratch.db.$executeRaw`
      UPDATE etl_runs SET status = ${status}::"EtlRunStatus", finished_at = ${finished}, queued_at = now() - ${`${hoursAgo + 1} hours`}::interval
      WHERE id = ${run.id}::uuid`;
    return run.id;
  }

  async function runRow(id: string) {
    const [row] = await scratch.db.$queryRaw<{ status: string; hasInfo: boolean; prunedAt: Date | null }[]>`
      SELECT status::text AS status, info IS NOT NULL AS "hasInfo", info_pruned_at AS "prunedAt" FROM etl_runs WHERE id = ${id}::uuid`;
    return row;
  }

  it('prunes the info of succeeded and skipped runs past the retention only; failed, lost, unfinished and young runs keep it', async () => {
    const old = {
      succeeded: await seedRun('r-succeeded', 'succeeded', 30),
      skipped: await seedRun('r-skipped', 'skipped', 30),
      failed: await seedRun('r-failed', 'failed', 30),
      lost: await seedRun('r-lost', 'lost', 30),
      queued: await seedRun('r-queued', 'queued', 30),
      running: await seedRun('r-running', 'running', 30),
    };
    const young = await seedRun('r-young', 'succeeded', 1);

    expect(await pruneRunInfo(scratch.db, { olderThanMs: 24 * HOUR, limit: 100 })).toMatchObject({ pruned: 2 });

    expect(await runRow(old.succeeded)).toMatchObject({ status: 'succeeded', hasInfo: false, prunedAt: expect.any(Date) });
    expect(await runRow(old.skipped)).toMatchObject({ status: 'skipped', hasInfo: false });
    for (const id of [old.failed, old.lost, old.queued, old.running, young]) expect(await runRow(id)).toMatchObject({ hasInfo: true, prunedAt: null });
    expect(await pruneRunInfo(scratch.db, { olderThanMs: 24 * HOUR, limit: 100 })).toEqual({ pruned: 0, latestFinishedAt: null });
  });

  it('prunes in batches of at most `limit`, oldest first, and skips runs finished before the watermark', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await seedRun(`r-batch-${i}`, 'succeeded', 50 - i));
    const first = await pruneRunInfo(scratch.db, { olderThanMs: HOUR, limit: 2 });
    expect(first.pruned).toBe(2);
    expect((await runRow(ids[0]!))!.hasInfo).toBe(false);
    expect((await runRow(ids[2]!))!.hasInfo).toBe(true);
    // A watermark past the third run's finish: only the two youngest are left to take.
    const third = await scratch.db.$queryRaw<{ f: Date }[]>`SELECT finished_at AS f FROM etl_runs WHERE id = ${ids[2]!}::uuid`;
    expect((await pruneRunInfo(scratch.db, { olderThanMs: HOUR, limit: 10, finishedAfter: third[0]!.f })).pruned).toBe(2);
    expect((await runRow(ids[2]!))!.hasInfo).toBe(true);
  });

  it('deletes old finished runs but keeps the latest run of every resource, the run whose records it holds, and unfinished runs', async () => {
    // Resource a: v1 failed, v2 succeeded (its records are current), v3 failed (latest) — all old.
    const a1 = await seedRun('a', 'failed', 400);
    const a2 = await seedRun('a', 'succeeded', 399);
    await scratch.db.$executeRaw`INSERT INTO context_versions (resource_id, resource_version, run_id) VALUES ('a', 2, ${a2}::uuid)`;
    const a3 = await seedRun('a', 'failed', 398);
    // Resource b: one old run only (its latest).
    const b1 = await seedRun('b', 'succeeded', 400);
    // Resource c: an old queued run behind an old succeeded newer one, and a young one.
    const c1 = await seedRun('c', 'running', 400);
    const c2 = await seedRun('c', 'lost', 400);
    const c3 = await seedRun('c', 'succeeded', 1);

    expect(await deleteOldRuns(scratch.db, { olderThanMs: 14 * 24 * HOUR, limit: 100 })).toBe(2);

    const left = (await scratch.db.$queryRaw<{ id: string }[]>`SELECT id::text AS id FROM etl_runs`).map((r) => r.id).sort();
    expect(left).toEqual([a2, a3, b1, c1, c3].sort());
    expect(left).not.toContain(a1);
    expect(left).not.toContain(c2);
  });

  it('deletes rows of API instances gone longer than the retention, never one that owns unfinished runs, nor a live one', async () => {
    await scratch.db.$executeRaw`
      INSERT INTO api_instances (id, hostname, pid, started_at, heartbeat_at, stopped_at, dead_at) VALUES
        ('stopped-old', 'h', 1, now() - interval '3 days', now() - interval '2 days', now() - interval '2 days', NULL),
        ('silent-old', 'h', 2, now() - interval '3 days', now() - interval '2 days', NULL, NULL),
        ('dead-old', 'h', 3, now() - interval '3 days', now() - interval '2 days', NULL, now() - interval '2 days'),
        ('stopped-recently', 'h', 4, now() - interval '3 days', now() - interval '1 hour', now() - interval '1 hour', NULL),
        ('owner-old', 'h', 5, now() - interval '3 days', now() - interval '2 days', now() - interval '2 days', NULL),
        ('live', 'h', 6, now() - interval '3 days', now(), NULL, NULL)`;
    await seedRun('owned', 'running', 1, 'owner-old');

    expect(await deleteOldApiInstances(scratch.db, { olderThanMs: 24 * HOUR, limit: 2 })).toBe(2);
    expect(await deleteOldApiInstances(scratch.db, { olderThanMs: 24 * HOUR, limit: 2 })).toBe(1);
    expect(await deleteOldApiInstances(scratch.db, { olderThanMs: 24 * HOUR, limit: 2 })).toBe(0);

    const left = (await scratch.db.$queryRaw<{ id: string }[]>`SELECT id FROM api_instances ORDER BY id`).map((r) => r.id);
    expect(left).toEqual(['live', 'owner-old', 'stopped-recently']);
  });

  it('skips rows a writer holds locked instead of waiting for them', async () => {
    const locked = await seedRun('locked', 'succeeded', 30);
    const free = await seedRun('free', 'succeeded', 30);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let lockTaken!: () => void;
    const taken = new Promise<void>((resolve) => (lockTaken = resolve));
    // A writer holding the row (as a commit or a retry would) for as long as the test says.
    const writer = scratch.db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM etl_runs WHERE id = ${locked}::uuid FOR UPDATE`;
        lockTaken();
        await held;
      },
      { timeout: 30_000 },
    );
    await taken;
    try {
      const outcome = await Promise.race([
        pruneRunInfo(scratch.db, { olderThanMs: HOUR, limit: 10 }),
        new Promise((resolve) => setTimeout(() => resolve('waited 10 s for the lock'), 10_000)),
      ]);
      expect(outcome).toMatchObject({ pruned: 1 });
      expect((await runRow(free))!.hasInfo).toBe(false);
      expect((await runRow(locked))!.hasInfo).toBe(true);
    } finally {
      release();
      await writer;
    }
  });
});
