// Issue #9, "Fenced transitions": every claim takes a lease recorded on the run, and every later
// transition applies only while that lease holds (graphile-worker's `WHERE id = $1 AND locked_by = $2`).
// A holder whose lease is gone writes nothing: no records, no status. Rows are read back from PostgreSQL.
import {
  abandonRuns,
  claimRun,
  commitRunRecords,
  failOrphanedOwnRuns,
  failRunOfFailedJob,
  reapOrphanedRuns,
  recordRunFailure,
  registerApiInstance,
  retryFailedRun,
  upsertResourceWithRun,
  type ClaimedRun,
  type Db,
} from '@tasklane/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedScratchDatabase, type MigratedScratchDatabase } from '../../../test/support/migratedScratchDatabase.ts';
import { randomSuffix, readContextRecords, uniqueResourceId } from '../../../test/support/testDb.ts';

/** The lease columns and what a transition may change, straight from the row. */
interface LeaseRow {
  status: string;
  attempts: number;
  lease: string | null;
  leasedBy: string | null;
  publishedAt: Date | null;
  recordCount: number | null;
  lane: string;
  ownerId: string | null;
}

async function readLease(db: Db, runId: string): Promise<LeaseRow> {
  const [row] = await db.$queryRaw<LeaseRow[]>`
    SELECT status::text AS status, attempts, lease::text AS lease, leased_by AS "leasedBy", published_at AS "publishedAt",
           record_count AS "recordCount", lane::text AS lane, owner_id AS "ownerId"
    FROM etl_runs WHERE id = ${runId}::uuid`;
  if (!row) throw new Error(`run ${runId} not found`);
  return row;
}

const RECORDS = [{ key: 'a', value: 1, valueType: 'integer' }] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('fenced run transitions', () => {
  // A database of its own: the reaper takes the runs of every dead instance it sees.
  let scratch: MigratedScratchDatabase;
  let db: Db;

  beforeAll(async () => {
    scratch = await createMigratedScratchDatabase('fenced_transitions');
    db = scratch.db;
  });
  afterAll(async () => {
    await scratch?.drop();
  });

  async function queueRun(info: unknown = { a: 1 }): Promise<{ runId: string; resourceId: string }> {
    const resourceId = uniqueResourceId('fence');
    const { run } = await upsertResourceWithRun(db, { id: resourceId, name: null, attributesJson: null, infoJson: JSON.stringify(info), lane: 'queue' });
    return { runId: run.id, resourceId };
  }

  async function inlineRun(ownerId: string): Promise<{ runId: string; resourceId: string }> {
    const resourceId = uniqueResourceId('fence');
    const { run } = await upsertResourceWithRun(db, { id: resourceId, name: null, attributesJson: null, infoJson: '{"a":1}', lane: 'inline', ownerId });
    return { runId: run.id, resourceId };
  }

  async function claimAsWorker(runId: string, worker: string, takeover = false): Promise<ClaimedRun> {
    const claim = await claimRun(db, runId, { lane: 'queue', leasedBy: worker, takeover });
    if (!claim.claimed) throw new Error(`expected a claim of ${runId}, got ${JSON.stringify(claim)}`);
    return claim;
  }

  it('a claim takes a fresh lease, records the claimant and marks a queue-lane run published', async () => {
    const { runId } = await queueRun();
    expect(await readLease(db, runId)).toMatchObject({ status: 'queued', attempts: 0, lease: null, leasedBy: null, publishedAt: null });

    const claim = await claimAsWorker(runId, 'worker:a');

    expect(claim.lease).toMatch(UUID);
    const row = await readLease(db, runId);
    expect(row).toMatchObject({ status: 'running', attempts: 1, lease: claim.lease, leasedBy: 'worker:a' });
    expect(row.publishedAt).toBeInstanceOf(Date);
  });

  it('a running run is not claimed again without takeover; a takeover gets a new lease and adds no attempt', async () => {
    const { runId } = await queueRun();
    const first = await claimAsWorker(runId, 'worker:a');

    expect(await claimRun(db, runId, { lane: 'queue', leasedBy: 'worker:b' })).toEqual({ claimed: false, reason: 'held-elsewhere', status: 'running' });
    expect(await readLease(db, runId)).toMatchObject({ lease: first.lease, leasedBy: 'worker:a', attempts: 1 });

    const second = await claimAsWorker(runId, 'worker:b', true);
    expect(second.lease).not.toBe(first.lease);
    expect(second.attempts).toBe(1);
    expect(await readLease(db, runId)).toMatchObject({ status: 'running', attempts: 1, lease: second.lease, leasedBy: 'worker:b' });
  });

  it('a holder whose lease was taken over commits nothing: no records, no status change', async () => {
    const { runId, resourceId } = await queueRun();
    const stale = await claimAsWorker(runId, 'worker:a');
    const current = await claimAsWorker(runId, 'worker:b', true);

    expect(await commitRunRecords(db, stale, RECORDS)).toEqual({ outcome: 'lease-lost' });
    expect(await readContextRecords(db, resourceId)).toEqual([]);
    expect(await readLease(db, runId)).toMatchObject({ status: 'running', lease: current.lease, recordCount: null });

    expect(await commitRunRecords(db, current, RECORDS)).toEqual({ outcome: 'written', recordCount: 1, finishedAt: expect.any(Date) });
    expect(await readLease(db, runId)).toMatchObject({ status: 'succeeded', lease: null, leasedBy: null, recordCount: 1 });
    // Its lease released with the run, the former holder still cannot write.
    expect(await commitRunRecords(db, stale, [{ key: 'b', value: 2, valueType: 'integer' }])).toEqual({ outcome: 'lease-lost' });
    expect((await readContextRecords(db, resourceId)).map((r) => r.key)).toEqual(['a']);
  });

  it('a stale holder records neither a failure nor a retry, and cannot mark a run skipped', async () => {
    const { runId, resourceId } = await queueRun();
    const stale = await claimAsWorker(runId, 'worker:a');
    const current = await claimAsWorker(runId, 'worker:b', true);

    expect(await recordRunFailure(db, runId, { lease: stale.lease, error: 'boom', final: true })).toBe('lease-lost');
    expect(await recordRunFailure(db, runId, { lease: stale.lease, error: 'boom', final: false })).toBe('lease-lost');
    expect(await readLease(db, runId)).toMatchObject({ status: 'running', lease: current.lease });

    // A newer version's records exist: the stale holder's commit would be a skip, and is not even that.
    await db.$executeRaw`INSERT INTO context_versions (resource_id, resource_version, run_id) VALUES (${resourceId}, 99, ${runId}::uuid)`;
    expect(await commitRunRecords(db, stale, RECORDS)).toEqual({ outcome: 'lease-lost' });
    expect(await readLease(db, runId)).toMatchObject({ status: 'running', lease: current.lease });
    expect(await commitRunRecords(db, current, RECORDS)).toEqual({ outcome: 'stale', newerVersion: 99, finishedAt: expect.any(Date) });
    expect(await readLease(db, runId)).toMatchObject({ status: 'skipped', lease: null });
  });

  it('the holder records its own failure: back to queued (lease released), then failed; a retry is a new attempt', async () => {
    const { runId } = await queueRun();
    const first = await claimAsWorker(runId, 'worker:a');
    expect(await recordRunFailure(db, runId, { lease: first.lease, error: 'transient', final: false })).toBe('recorded');
    expect(await readLease(db, runId)).toMatchObject({ status: 'queued', attempts: 1, lease: null, leasedBy: null });

    const second = await claimAsWorker(runId, 'worker:b');
    expect(second.attempts).toBe(2);
    expect(await recordRunFailure(db, runId, { lease: second.lease, error: 'again', final: true })).toBe('recorded');
    expect(await readLease(db, runId)).toMatchObject({ status: 'failed', attempts: 2, lease: null });

    // Bull Board's retry of the failed job: the claim takes failed (and lost) runs, as a new attempt.
    const third = await claimAsWorker(runId, 'worker:c');
    expect(third.attempts).toBe(3);
  });

  it('attempts count each real attempt once, whatever the number of takeovers', async () => {
    const { runId } = await queueRun();
    await claimAsWorker(runId, 'worker:a');
    await claimAsWorker(runId, 'worker:b', true);
    const last = await claimAsWorker(runId, 'worker:c', true);
    expect(await commitRunRecords(db, last, RECORDS)).toMatchObject({ outcome: 'written' });
    expect(await readLease(db, runId)).toMatchObject({ status: 'succeeded', attempts: 1 });
    // A finished run is never claimed again, even as a takeover.
    expect(await claimRun(db, runId, { lane: 'queue', leasedBy: 'worker:d', takeover: true })).toEqual({ claimed: false, reason: 'finished', status: 'succeeded' });
  });

  it('an in-process claim takes only a queued run its instance owns, never a takeover, never a lost run', async () => {
    const owner = `api-${randomSuffix()}`;
    const { runId } = await inlineRun(owner);

    expect(await claimRun(db, runId, { lane: 'in-process', instanceId: 'someone-else' })).toEqual({ claimed: false, reason: 'held-elsewhere', status: 'queued' });
    // A worker never claims an in-process run.
    expect(await claimRun(db, runId, { lane: 'queue', leasedBy: 'worker:a', takeover: true })).toEqual({ claimed: false, reason: 'held-elsewhere', status: 'queued' });
    const claim = await claimRun(db, runId, { lane: 'in-process', instanceId: owner });
    expect(claim).toMatchObject({ claimed: true, attempts: 1 });
    expect(await readLease(db, runId)).toMatchObject({ status: 'running', leasedBy: owner, publishedAt: null });
    expect(await claimRun(db, runId, { lane: 'in-process', instanceId: owner })).toEqual({ claimed: false, reason: 'held-elsewhere', status: 'running' });

    await db.$executeRaw`UPDATE etl_runs SET status = 'lost', lease = NULL, leased_by = NULL WHERE id = ${runId}::uuid`;
    expect(await claimRun(db, runId, { lane: 'in-process', instanceId: owner })).toEqual({ claimed: false, reason: 'finished', status: 'lost' });
  });

  it('an instance declared dead claims nothing more under its id, and its heartbeat is refused', async () => {
    const instance = { id: `api-${randomSuffix()}`, hostname: 'h', pid: 1 };
    expect(await registerApiInstance(db, instance)).toBe('alive');
    const { runId } = await inlineRun(instance.id);
    await db.$executeRaw`UPDATE api_instances SET dead_at = CURRENT_TIMESTAMP WHERE id = ${instance.id}`;

    expect(await claimRun(db, runId, { lane: 'in-process', instanceId: instance.id })).toEqual({ claimed: false, reason: 'held-elsewhere', status: 'queued' });
    expect(await registerApiInstance(db, instance)).toBe('declared-dead');
    const [row] = await db.$queryRaw<{ dead: boolean }[]>`SELECT dead_at IS NOT NULL AS dead FROM api_instances WHERE id = ${instance.id}`;
    expect(row?.dead).toBe(true);
  });

  it('the reaper declares a silent instance dead in the statement that takes its runs, and fences out its holder', async () => {
    for (const recovery of ['lost', 'queue'] as const) {
      const silent = { id: `api-${randomSuffix()}`, hostname: 'h', pid: 1 };
      await registerApiInstance(db, silent);
      const { runId, resourceId } = await inlineRun(silent.id);
      const claim = await claimRun(db, runId, { lane: 'in-process', instanceId: silent.id });
      if (!claim.claimed) throw new Error('not claimed');
      await db.$executeRaw`UPDATE api_instances SET heartbeat_at = CURRENT_TIMESTAMP - interval '1 minute' WHERE id = ${silent.id}`;

      const reaped = await reapOrphanedRuns(db, { deadAfterMs: 10_000, recovery, exceptInstanceId: 'the-reaper' });

      expect(reaped.runIds).toContain(runId);
      const [instance] = await db.$queryRaw<{ dead: boolean }[]>`SELECT dead_at IS NOT NULL AS dead FROM api_instances WHERE id = ${silent.id}`;
      expect(instance?.dead, recovery).toBe(true);
      expect(await readLease(db, runId)).toMatchObject(
        recovery === 'lost'
          ? { status: 'lost', lease: null, leasedBy: null }
          : { status: 'queued', lane: 'queue', ownerId: null, lease: null, leasedBy: null, publishedAt: null },
      );
      // The slow-but-alive owner finishes later: it writes nothing, and `lost` stays `lost`.
      expect(await commitRunRecords(db, claim, RECORDS)).toEqual({ outcome: 'lease-lost' });
      expect(await recordRunFailure(db, runId, { lease: claim.lease, error: 'late', final: true })).toBe('lease-lost');
      expect(await readContextRecords(db, resourceId)).toEqual([]);
      expect((await readLease(db, runId)).status).toBe(recovery === 'lost' ? 'lost' : 'queued');
      expect(await registerApiInstance(db, silent)).toBe('declared-dead');
    }
  });

  it('a run committed under an instance already declared dead is reaped on the next pass, never claimed by it', async () => {
    const gone = { id: `api-${randomSuffix()}`, hostname: 'h', pid: 1 };
    await registerApiInstance(db, gone);
    await db.$executeRaw`UPDATE api_instances SET heartbeat_at = CURRENT_TIMESTAMP - interval '1 minute' WHERE id = ${gone.id}`;
    await reapOrphanedRuns(db, { deadAfterMs: 10_000, recovery: 'lost', exceptInstanceId: 'the-reaper' });
    // The frozen instance wakes up and accepts a PUT before its next heartbeat tells it it is dead.
    const { runId } = await inlineRun(gone.id);
    expect(await claimRun(db, runId, { lane: 'in-process', instanceId: gone.id })).toMatchObject({ claimed: false, reason: 'held-elsewhere' });

    const reaped = await reapOrphanedRuns(db, { deadAfterMs: 10_000, recovery: 'queue', exceptInstanceId: 'the-reaper' });

    expect(reaped.runIds).toContain(runId);
    expect(await readLease(db, runId)).toMatchObject({ status: 'queued', lane: 'queue', ownerId: null });
  });

  it('a heartbeat that commits before the reaper keeps its instance alive and its runs untouched', async () => {
    const alive = { id: `api-${randomSuffix()}`, hostname: 'h', pid: 1 };
    await registerApiInstance(db, alive);
    const { runId } = await inlineRun(alive.id);
    await db.$executeRaw`UPDATE api_instances SET heartbeat_at = CURRENT_TIMESTAMP - interval '1 minute' WHERE id = ${alive.id}`;
    expect(await registerApiInstance(db, alive)).toBe('alive');

    const reaped = await reapOrphanedRuns(db, { deadAfterMs: 10_000, recovery: 'lost', exceptInstanceId: 'the-reaper' });

    expect(reaped.runIds).not.toContain(runId);
    expect((await readLease(db, runId)).status).toBe('queued');
  });

  it('abandoning runs at shutdown fences out their executions and leaves runs the instance no longer owns alone', async () => {
    const owner = `api-${randomSuffix()}`;
    const { runId: mine } = await inlineRun(owner);
    const { runId: handedOver } = await inlineRun(owner);
    const claim = await claimRun(db, mine, { lane: 'in-process', instanceId: owner });
    if (!claim.claimed) throw new Error('not claimed');
    // The reaper handed the second run to the queue lane and a worker holds it now.
    await db.$executeRaw`UPDATE etl_runs SET lane = 'queue', owner_id = NULL WHERE id = ${handedOver}::uuid`;
    const worker = await claimAsWorker(handedOver, 'worker:a');

    const abandoned = await abandonRuns(db, [mine, handedOver], { reason: 'stopped', recovery: 'lost', ownerId: owner });

    expect(abandoned).toEqual([mine]);
    expect(await readLease(db, mine)).toMatchObject({ status: 'lost', lease: null });
    expect(await commitRunRecords(db, claim, RECORDS)).toEqual({ outcome: 'lease-lost' });
    expect(await readLease(db, handedOver)).toMatchObject({ status: 'running', lease: worker.lease, leasedBy: 'worker:a' });
  });

  it('failOrphanedOwnRuns and a failed job’s run failure clear the lease they take', async () => {
    const owner = `api-${randomSuffix()}`;
    const { runId } = await inlineRun(owner);
    const claim = await claimRun(db, runId, { lane: 'in-process', instanceId: owner });
    if (!claim.claimed) throw new Error('not claimed');
    await db.$executeRaw`UPDATE etl_runs SET queued_at = CURRENT_TIMESTAMP - interval '1 minute' WHERE id = ${runId}::uuid`;
    expect(await failOrphanedOwnRuns(db, { instanceId: owner, executing: [], olderThanMs: 10_000 })).toEqual([runId]);
    expect(await readLease(db, runId)).toMatchObject({ status: 'failed', lease: null });
    expect(await commitRunRecords(db, claim, RECORDS)).toEqual({ outcome: 'lease-lost' });

    const { runId: jobRun } = await queueRun();
    const frozen = await claimAsWorker(jobRun, 'worker:frozen');
    expect(await failRunOfFailedJob(db, jobRun, { error: 'job stalled more than allowable limit' })).toBe(true);
    expect(await readLease(db, jobRun)).toMatchObject({ status: 'failed', lease: null });
    expect(await commitRunRecords(db, frozen, RECORDS)).toEqual({ outcome: 'lease-lost' });
    expect((await readLease(db, jobRun)).status).toBe('failed');
  });

  it('a retry takes failed and lost runs (clearing lease and publication), and refuses any other status', async () => {
    const { runId } = await queueRun();
    const stale = await claimAsWorker(runId, 'worker:a');
    await db.$executeRaw`UPDATE etl_runs SET status = 'lost' WHERE id = ${runId}::uuid`;

    const retried = await retryFailedRun(db, runId, { ownerId: null });

    expect(retried).toMatchObject({ id: runId, status: 'queued' });
    expect(await readLease(db, runId)).toMatchObject({ status: 'queued', lease: null, leasedBy: null, publishedAt: null });
    expect(await commitRunRecords(db, stale, RECORDS)).toEqual({ outcome: 'lease-lost' });
    expect(await retryFailedRun(db, runId, { ownerId: null })).toEqual({ conflict: 'queued' });
  });
});
