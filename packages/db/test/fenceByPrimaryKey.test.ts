// Issue #10, "how cost grows": a holder's fenced transitions of a run (the commit, the skip of a
// stale run, the record of a failure) must find the run by its primary key. Written as
// `id = $1 AND lease = $2 AND status = 'running'`, the planner took the status index instead once
// the table's statistics saw no running run (which is what ANALYZE sees between bursts) and the
// table held a few thousand runs: that scan walks every `running` index entry, one per claim since
// the last VACUUM, so every commit cost more the bigger the table. The plans are read back with
// auto_explain (LOG messages sent to the test's own connections, nested statements included), on a
// migrated database of this file's own whose statistics are made here.
import { claimRun, commitRunRecords, recordRunFailure, skipStaleRun, upsertResourceWithRun, type ClaimedRun } from '@tasklane/db';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMigratedScratchDatabase, type MigratedScratchDatabase } from '../../../test/support/migratedScratchDatabase.ts';
import { sqlPoolOf } from '../src/createDb.ts';

/** Finished runs the statistics see: enough that the status index looks cheaper than the primary key. */
const FINISHED_RUNS = 20_000;

describe('fenced run transitions find the run by its primary key', () => {
  let scratch: MigratedScratchDatabase;
  /** Plans auto_explain logged on the client's connections since the last `plans.length = 0`. */
  const plans: string[] = [];

  beforeAll(async () => {
    scratch = await createMigratedScratchDatabase('fence_by_primary_key');
    // Every session on the database explains every statement it runs, nested ones (inside
    // commit_run_records) included, and receives the plans as LOG notices; the client's pool has
    // not connected yet, so all its connections start with these settings.
    const admin = new pg.Client({ connectionString: scratch.url });
    await admin.connect();
    try {
      const database = `"${new URL(scratch.url).pathname.slice(1)}"`;
      for (const setting of ["session_preload_libraries = 'auto_explain'", 'auto_explain.log_min_duration = 0', 'auto_explain.log_nested_statements = on', 'client_min_messages = log']) {
        await admin.query(`ALTER DATABASE ${database} SET ${setting}`);
      }
    } finally {
      await admin.end();
    }
    const pool = sqlPoolOf(scratch.db);
    if (!pool) throw new Error('createDb gave no pg pool');
    pool.on('connect', (client) => {
      client.on('notice', (notice) => {
        if (notice.message?.includes('plan:')) plans.push(notice.message);
      });
    });
    await scratch.db.$executeRawUnsafe(`
      INSERT INTO resources (id) SELECT 'seed-' || g FROM generate_series(1, ${FINISHED_RUNS}) g;
      INSERT INTO etl_runs (resource_id, resource_version, lane, status, attempts, started_at, finished_at, record_count)
        SELECT 'seed-' || g, 1, 'queue', 'succeeded', 1, now(), now(), 0 FROM generate_series(1, ${FINISHED_RUNS}) g;
      ANALYZE resources, etl_runs`);
  });
  afterAll(async () => {
    await scratch?.drop();
  });
  beforeEach(() => {
    plans.length = 0;
  });

  /** Writes version `n` of `resourceId` as a queue-lane run and claims it as a worker would. */
  async function claimed(resourceId: string): Promise<ClaimedRun> {
    const { run } = await upsertResourceWithRun(scratch.db, { id: resourceId, name: null, attributesJson: null, infoJson: '{}', lane: 'queue' });
    const claim = await claimRun(scratch.db, run.id, { lane: 'queue', leasedBy: 'worker:fence-test' });
    if (!claim.claimed) throw new Error(`could not claim ${run.id}: ${claim.reason}`);
    return claim;
  }

  /** The plans logged since the test began that read `etl_runs` by a condition on its id. */
  function plansOfRunById(): string[] {
    return plans.filter((plan) => /on etl_runs\b/.test(plan) && /\bid = /.test(plan));
  }

  /** Asserts that some statement read the run by id, and every such statement used the primary key. */
  function expectPrimaryKeyOnly(what: string): void {
    const byId = plansOfRunById();
    expect(byId.length, `${what}: no plan reading etl_runs by id was logged`).toBeGreaterThan(0);
    for (const plan of byId) {
      expect(plan, what).toContain('using etl_runs_pkey on etl_runs');
      expect(plan, what).not.toContain('etl_runs_status_lane_queued_at_idx');
    }
  }

  it('the statistics say no run is running (the situation the planner got wrong)', async () => {
    const [stats] = await scratch.db.$queryRaw<{ statuses: string | null }[]>`
      SELECT most_common_vals::text AS statuses FROM pg_stats WHERE tablename = 'etl_runs' AND attname = 'status'`;
    expect(stats?.statuses).toBe('{succeeded}');
  });

  it('the commit (inside commit_run_records) locks and finishes the run by its primary key', async () => {
    const run = await claimed('fence-commit');
    plans.length = 0;
    expect(await commitRunRecords(scratch.db, run, [{ key: 'a', value: 1, valueType: 'integer' }])).toMatchObject({ outcome: 'written', recordCount: 1 });
    expect(plans.some((plan) => plan.includes('commit_run_records'))).toBe(true);
    expectPrimaryKeyOnly('commit');
  });

  it('a commit refused by the version guard marks the run skipped by its primary key', async () => {
    const newer = await claimed('fence-stale');
    const older = await claimed('fence-stale');
    await commitRunRecords(scratch.db, older.resourceVersion > newer.resourceVersion ? older : newer, []);
    const stale = older.resourceVersion > newer.resourceVersion ? newer : older;
    plans.length = 0;
    expect(await commitRunRecords(scratch.db, stale, [])).toMatchObject({ outcome: 'stale' });
    expectPrimaryKeyOnly('stale commit');
  });

  it('the skip of a run stale on arrival finds it by its primary key', async () => {
    const run = await claimed('fence-skip');
    plans.length = 0;
    expect(await skipStaleRun(scratch.db, run, run.resourceVersion + 1)).toMatchObject({ outcome: 'stale' });
    expectPrimaryKeyOnly('skipStaleRun');
  });

  it.each([true, false])('recording a failure (final: %s) finds the run by its primary key', async (final) => {
    const run = await claimed(`fence-failure-${final}`);
    plans.length = 0;
    expect(await recordRunFailure(scratch.db, run.id, { lease: run.lease, error: 'boom', final })).toBe('recorded');
    expectPrimaryKeyOnly('recordRunFailure');
  });
});
