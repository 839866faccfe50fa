// Issue #4, "Durable dispatch": only one outbox relay acts at a time across many API instances (a
// lock, not a hope), and a re-enqueue never duplicates a job (job id = run id). Two relays run here in
// one process, each with its own database client and Redis connection as two API instances would
// have, against a database of this file's own: the relay's advisory lock and its query span the
// whole database.
import { startOutboxRelay, type OutboxRelay } from '../../apps/api/src/lifecycle/startOutboxRelay.ts';
import { createDb, upsertResourceWithRun, type Db } from '@tasklane/db';
import { createQueues, createRedisConnection, type Queues } from '@tasklane/queue';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueFaultPrefix } from '../support/faultSuite.ts';
import { deleteKeysWithPrefix } from '../support/testQueue.ts';
import { createMigratedScratchDatabase, type MigratedScratchDatabase } from '../support/migratedScratchDatabase.ts';
import { uniqueResourceId } from '../support/testDb.ts';
import { testRedisUrl } from '../support/testQueue.ts';
import { Queue } from 'bullmq';

/**
 * The relay's advisory lock key as withOutboxRelayLock documents it: "the bytes 'tasklane' as a
 * 64-bit integer" (big-endian, signed as pg_advisory locks take it).
 */
const RELAY_LOCK_KEY = Buffer.from('tasklane', 'latin1').readBigInt64BE().toString();

const JOBS = { attempts: 3, backoffMs: 100, keepCompleted: { count: 100, ageSeconds: 3600 }, keepFailed: { count: 100, ageSeconds: 3600 } };

/** One relay as an API instance runs it: its own db client, Redis connection, queues and log. */
interface RelayInstance {
  name: string;
  db: Db;
  redis: Redis;
  queues: Queues;
  relay: OutboxRelay;
  /** Run ids this relay logged as enqueued (or replaced). */
  enqueued: string[];
  /** Every log line, parsed. */
  logs: Record<string, unknown>[];
}

describe('the outbox relay across API instances', () => {
  const prefix = uniqueFaultPrefix();
  let scratch: MigratedScratchDatabase;
  let inspector: Queue;
  let inspectorRedis: Redis;
  const instances: RelayInstance[] = [];

  function startInstance(name: string): RelayInstance {
    const logs: Record<string, unknown>[] = [];
    const enqueued: string[] = [];
    const logger = pino(
      { level: 'debug', base: { instance: name } },
      {
        write(line: string) {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          for (const key of ['enqueued', 'replaced'] as const) {
            if (Array.isArray(entry[key])) enqueued.push(...(entry[key] as string[]));
          }
        },
      },
    );
    const db = createDb({ url: scratch.url, poolSize: 3 });
    const redis = createRedisConnection(testRedisUrl(), 'producer');
    redis.on('error', () => {});
    const queues = createQueues(redis, { prefix, jobs: JOBS });
    // A long interval: the timer never fires during the test, which drives every pass with runOnce().
    const relay = startOutboxRelay({ db, queues, logger, intervalMs: 600_000, afterMs: 1000, batchSize: 500, enqueueTimeoutMs: 2000 });
    const instance = { name, db, redis, queues, relay, enqueued, logs };
    instances.push(instance);
    return instance;
  }

  /** Queue-lane runs committed but never enqueued (as when the API's own enqueue failed), queued 1 min ago. */
  async function strandedRuns(db: Db, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const { run } = await upsertResourceWithRun(db, {
        id: uniqueResourceId('relay'),
        name: null,
        attributesJson: null,
        infoJson: JSON.stringify({ n: i }),
        lane: 'queue',
      });
      ids.push(run.id);
    }
    await db.$executeRaw`UPDATE etl_runs SET queued_at = queued_at - interval '1 minute' WHERE id = ANY(${ids}::uuid[])`;
    return ids;
  }

  const jobIds = async (): Promise<string[]> => (await inspector.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed'])).map((job) => job.id!).sort();

  beforeAll(async () => {
    scratch = await createMigratedScratchDatabase('f_relay_lock');
    inspectorRedis = createRedisConnection(testRedisUrl(), 'worker');
    inspector = new Queue('etl-run', { connection: inspectorRedis, prefix });
  });

  afterAll(async () => {
    for (const instance of instances) {
      await instance.relay.stop();
      await instance.queues.close();
      instance.redis.disconnect();
      await instance.db.$disconnect();
    }
    if (inspector) {
      await deleteKeysWithPrefix(inspectorRedis, prefix);
      await inspector.close();
      inspectorRedis.disconnect();
    }
    await scratch?.drop();
  });

  it('two relays passing at the same time give each stranded run exactly one job, its run id, enqueued by one of them', async () => {
    const a = startInstance('a');
    const b = startInstance('b');
    // Warm both instances' connections, so their passes really overlap (without the lock, they then
    // both find the same runs missing from Redis and both enqueue them).
    for (const instance of [a, b]) {
      await instance.queues.etlRun.waitUntilReady();
      await instance.queues.etlRun.getJobCounts();
      await instance.relay.runOnce();
    }
    const runIds = await strandedRuns(scratch.db, 20);

    await Promise.all([a.relay.runOnce(), b.relay.runOnce(), a.relay.runOnce(), b.relay.runOnce(), a.relay.runOnce(), b.relay.runOnce()]);

    expect(await jobIds()).toEqual([...runIds].sort());
    expect(await inspector.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed')).toEqual({
      waiting: 20,
      active: 0,
      delayed: 0,
      completed: 0,
      failed: 0,
    });
    for (const runId of runIds) expect((await inspector.getJob(runId))?.data).toEqual({ runId });
    // Each run was enqueued in exactly one pass of one relay; the other passes found its job present.
    expect([...a.enqueued, ...b.enqueued].sort()).toEqual([...runIds].sort());
    expect([...a.logs, ...b.logs].filter((entry) => (entry.level as number) >= 40)).toEqual([]);
  });

  it('a relay pass enqueues nothing while another session holds the relay lock, and the stranded runs once it is released', async () => {
    const [a] = instances;
    const runIds = await strandedRuns(scratch.db, 5);
    const before = await jobIds();
    const holder = new pg.Client({ connectionString: scratch.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1::bigint)', [RELAY_LOCK_KEY]);

      await a!.relay.runOnce();
      expect(await jobIds()).toEqual(before);

      await holder.query('COMMIT');
      await a!.relay.runOnce();
      expect(await jobIds()).toEqual([...before, ...runIds].sort());
      expect(a!.enqueued).toEqual(expect.arrayContaining(runIds));
    } finally {
      await holder.end();
    }
  });

  it('enqueuing a run again while its job waits adds no second job (job id = run id)', async () => {
    const [a, b] = instances;
    const [runId] = await strandedRuns(scratch.db, 1);
    await a!.relay.runOnce();
    const waiting = await inspector.getJob(runId!);
    expect(await waiting?.getState()).toBe('waiting');
    const countBefore = (await inspector.getJobCounts('waiting')).waiting;

    await Promise.all([a!.relay.runOnce(), b!.relay.runOnce()]);

    expect((await inspector.getJobCounts('waiting')).waiting).toBe(countBefore);
    expect((await inspector.getJob(runId!))?.timestamp).toBe(waiting?.timestamp);
  });

  it('re-enqueues a queue-lane run left running whose job vanished from Redis, and leaves one whose job is live', async () => {
    const [a] = instances;
    const [orphan, live] = await strandedRuns(scratch.db, 2);
    // Both claimed by a worker (running); only `live` still has its job in Redis, as after a Redis
    // restart that lost the other's job while its worker held it.
    await scratch.db.$executeRaw`UPDATE etl_runs SET status = 'running', attempts = 1, started_at = queued_at WHERE id = ANY(${[orphan, live]}::uuid[])`;
    await inspector.add('etl-run', { runId: live }, { jobId: live });
    const liveJob = await inspector.getJob(live!);

    await a!.relay.runOnce();

    expect(await (await inspector.getJob(orphan!))?.getState()).toBe('waiting');
    expect((await inspector.getJob(live!))?.timestamp).toBe(liveJob?.timestamp);
    expect(a!.enqueued).toContain(orphan);
    expect(a!.enqueued).not.toContain(live);
  });
});
