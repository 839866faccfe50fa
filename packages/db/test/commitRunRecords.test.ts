// Issue #10: a run's commit is one statement (the PL/pgSQL function commit_run_records) that writes
// only the records that changed. Rows are read back from PostgreSQL, including their physical
// identity (xmin: the transaction that wrote the row version), so a record rewritten with the same
// value is told apart from one left alone.
import { claimRun, commitRunRecords, skipStaleRun, upsertResourceWithRun, type ClaimedRun, type ContextRecordInput, type Db } from '@tasklane/db';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/waitFor.ts';
import { createTestDb, deleteResources, readContextRecords, readContextVersion, testDatabaseUrl, uniqueResourceId } from '../../../test/support/testDb.ts';

/** Each record of a resource with the id of the transaction that wrote its current row version. */
async function readRecordWriters(db: Db, resourceId: string): Promise<Map<string, string>> {
  const rows = await db.$queryRaw<{ key: string; xmin: string }[]>`
    SELECT key, xmin::text AS xmin FROM context_records WHERE resource_id = ${resourceId}`;
  return new Map(rows.map((r) => [r.key, r.xmin]));
}

describe('commitRunRecords writes only what changed', () => {
  let db: Db;
  const ids: string[] = [];

  beforeAll(() => {
    db = createTestDb();
  });
  afterAll(async () => {
    if (!db) return;
    await deleteResources(db, ids);
    await db.$disconnect();
  });

  /** Accepts a new version of `resourceId` (a queue-lane run) and claims it as a worker would. */
  async function claimNewVersion(resourceId: string): Promise<ClaimedRun> {
    const { run } = await upsertResourceWithRun(db, { id: resourceId, name: null, attributesJson: null, infoJson: '{}', lane: 'queue' });
    const claim = await claimRun(db, run.id, { lane: 'queue', leasedBy: 'worker:commit-run-records-test' });
    if (!claim.claimed) throw new Error(`could not claim ${run.id}: ${claim.reason}`);
    return claim;
  }
  function newId(label: string): string {
    const id = uniqueResourceId(label);
    ids.push(id);
    return id;
  }

  it('a version that changes k of n leaves rewrites those k rows, deletes vanished keys and leaves the rest untouched', async () => {
    const id = newId('commit-ok');
    const v1Records: ContextRecordInput[] = Array.from({ length: 40 }, (_, i) => ({ key: `k${String(i).padStart(2, '0')}`, value: i, valueType: 'integer' }));
    const v1 = await claimNewVersion(id);
    expect(await commitRunRecords(db, v1, v1Records)).toEqual({ outcome: 'written', recordCount: 40, finishedAt: expect.any(Date) });
    const before = await readRecordWriters(db, id);

    // v2: two values change, one key changes only its type, two keys vanish, one key is new.
    const v2Records: ContextRecordInput[] = v1Records
      .filter((r) => r.key !== 'k10' && r.key !== 'k11')
      .map((r) => (r.key === 'k03' ? { ...r, value: 300 } : r.key === 'k07' ? { ...r, value: 'seven', valueType: 'string' } : r.key === 'k20' ? { ...r, valueType: 'number' } : r));
    v2Records.push({ key: 'k99', value: true, valueType: 'boolean' });
    const v2 = await claimNewVersion(id);
    expect(await commitRunRecords(db, v2, v2Records)).toEqual({ outcome: 'written', recordCount: 39, finishedAt: expect.any(Date) });

    const after = await readRecordWriters(db, id);
    const rewritten = [...after].filter(([key, xmin]) => before.get(key) !== xmin).map(([key]) => key).sort();
    expect(rewritten).toEqual(['k03', 'k07', 'k20', 'k99']);
    expect([...before.keys()].filter((key) => !after.has(key)).sort()).toEqual(['k10', 'k11']);

    // A record names the version and run that last changed it; the resource's records are at v2.
    const records = await readContextRecords(db, id);
    const changedBy = (key: string) => records.find((r) => r.key === key);
    expect(changedBy('k03')).toMatchObject({ value: 300, valueType: 'integer', resourceVersion: 2, runId: v2.id });
    expect(changedBy('k07')).toMatchObject({ value: 'seven', valueType: 'string', resourceVersion: 2, runId: v2.id });
    expect(changedBy('k20')).toMatchObject({ value: 20, valueType: 'number', resourceVersion: 2, runId: v2.id });
    expect(changedBy('k99')).toMatchObject({ value: true, valueType: 'boolean', resourceVersion: 2, runId: v2.id });
    expect(changedBy('k00')).toMatchObject({ value: 0, valueType: 'integer', resourceVersion: 1, runId: v1.id });
    expect(records.map((r) => [r.key, r.value, r.valueType])).toEqual(v2Records.map((r) => [r.key, r.value, r.valueType]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1)));
    expect(await readContextVersion(db, id)).toBe(2);
  });

  it('a commit that waited on the version guard sees, and replaces, the records a concurrent commit wrote meanwhile', async () => {
    const id = newId('commit-race');
    const v1 = await claimNewVersion(id);
    const v2 = await claimNewVersion(id);
    // v1 commits inside a transaction held open by this test: its records exist but are uncommitted,
    // and it holds the row lock of the resource's version guard.
    const holder = new pg.Client({ connectionString: testDatabaseUrl(), application_name: 'commit-race-holder' });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      const v1Records = [
        { key: 'a', value: 1, valueType: 'integer' },
        { key: 'b', value: 2, valueType: 'integer' },
        { key: 'c', value: 3, valueType: 'integer' },
      ];
      const held = await holder.query<{ outcome: string }>('SELECT outcome FROM commit_run_records($1, $2, $3, $4, $5)', [v1.id, v1.lease, id, 1, JSON.stringify(v1Records)]);
      expect(held.rows).toEqual([{ outcome: 'written' }]);

      // v2 starts while v1 is uncommitted: it must wait on the guard's row lock.
      const v2Commit = commitRunRecords(db, v2, [{ key: 'a', value: 10, valueType: 'integer' }]);
      await waitFor(
        'the v2 commit to wait on the version guard',
        async () => {
          // Asked on another connection: pg_stat_activity is read once per transaction, and the holder's is open.
          const [row] = await db.$queryRaw<{ waiting: number }[]>`
            SELECT count(*)::int AS waiting FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM commit_run_records(%'`;
          return (row?.waiting ?? 0) > 0 ? true : undefined;
        },
        { timeoutMs: 10_000 },
      );
      await holder.query('COMMIT');
      expect(await v2Commit).toEqual({ outcome: 'written', recordCount: 1, finishedAt: expect.any(Date) });
    } finally {
      await holder.end();
    }
    // The records v1 wrote while v2 waited were seen by v2's statements after the wait: b and c,
    // which v2 no longer has, are gone; a carries v2's value.
    const records = await readContextRecords(db, id);
    expect(records.map((r) => [r.key, r.value, r.resourceVersion, r.runId])).toEqual([['a', 10, 2, v2.id]]);
    expect(await readContextVersion(db, id)).toBe(2);
  });

  it('the claim reports the version whose records are already written', async () => {
    const id = newId('commit-written');
    const v1 = await claimNewVersion(id);
    expect(v1.writtenVersion).toBeNull();
    const v2 = await claimNewVersion(id);
    expect(await commitRunRecords(db, v2, [{ key: 'a', value: 1, valueType: 'integer' }])).toEqual({ outcome: 'written', recordCount: 1, finishedAt: expect.any(Date) });
    const v3 = await claimNewVersion(id);
    expect(v3.writtenVersion).toBe(2);
  });

  it('the claim returns the run’s queued and started times, and the commit or the skip its finished time, as stored', async () => {
    /** The run's timestamps as PostgreSQL stored them, read back independently of the functions under test. */
    async function storedTimes(runId: string) {
      const [row] = await db.$queryRaw<{ queuedAt: Date; startedAt: Date | null; finishedAt: Date | null }[]>`
        SELECT queued_at AS "queuedAt", started_at AS "startedAt", finished_at AS "finishedAt" FROM etl_runs WHERE id = ${runId}::uuid`;
      return row!;
    }
    const id = newId('commit-times');
    const older = await claimNewVersion(id);
    const newer = await claimNewVersion(id);
    const written = await commitRunRecords(db, newer, [{ key: 'a', value: 1, valueType: 'integer' }]);
    const stale = await commitRunRecords(db, older, []);
    const thirdVersion = await claimNewVersion(id);
    const skipped = await skipStaleRun(db, thirdVersion, thirdVersion.resourceVersion + 1);

    for (const [claim, outcome] of [[newer, written], [older, stale], [thirdVersion, skipped]] as const) {
      const stored = await storedTimes(claim.id);
      expect(stored.finishedAt).not.toBeNull();
      expect({ queuedAt: claim.queuedAt, startedAt: claim.startedAt, finishedAt: 'finishedAt' in outcome ? outcome.finishedAt : undefined }).toEqual(stored);
    }
    expect([written.outcome, stale.outcome, skipped.outcome]).toEqual(['written', 'stale', 'stale']);
  });
});
