// Issue #4, "Durable dispatch", and issue #9, "What must hold" 2: only one outbox relay acts at a
// time across many API instances (a leader lease, not a hope), a re-enqueue never duplicates a job
// (job id = run id), the relay publishes only runs never published, and finds a run whose job
// vanished from Redis without ever touching a job that exists, whatever its state. Two relays run here
// in one process, each with its own database client and Redis connection as two API instances would
// have, against a database of this file's own: the relay's lease and its queries span the whole
// database.
import { OUTBOX_RELAY_LEASE, startOutboxRelay, type OutboxRelay } from '../../apps/api/src/lifecycle/outboxRelay.ts';
import { createDb, upsertResourceWithRun, type Db } from '@tasklane/db';
import { createQueues, createRedisConnection, type Queues, type RedisClient } from '@tasklane/queue';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueFaultPrefix } from '../support/faultSuite.ts';
import { deleteKeysWithPrefix, testRedisSettings } from '../support/testQueue.ts';
import { createMigratedScratchDatabase, type MigratedScratchDatabase } from '../support/migratedScratchDatabase.ts';
import { uniqueResourceId } from '../support/testDb.ts';
import { Queue, Worker } from 'bullmq';
import { waitFor } from '../support/waitFor.ts';

const JOBS = { attempts: 3, backoffMs: 100, keepCompleted: { count: 100, ageSeconds: 3600 }, keepFailed: { count: 100, ageSeconds: 3600 } };

/** One relay as an API instance runs it: its own db client, Redis connection, queues and log. */
interface RelayInstance {
  name: string;
  db: Db;
  redis: RedisClient;
  queues: Queues;
  relay: OutboxRelay;
  /** How many runs each of this relay's passes published, pass by pass. */
  published: number[];
  /** Run ids this relay found with a vanished job. */
  vanished: string[];
  /** Every log line, parsed. */
  logs: Record<string, unknown>[];
}

describe('the outbox relay across API instances', () => {
  const prefix = uniqueFaultPrefix();
  let scratch: MigratedScratchDatabase;
  let inspector: Queue;
  let inspectorRedis: RedisClient;
  const instances: RelayInstance[] = [];

  function startInstance(name: string): RelayInstance {
    const logs: Record<string, unknown>[] = [];
    const published: number[] = [];
    const vanished: string[] = [];
    const logger = pino(
      { level: 'debug', base: { instance: name } },
      {
        write(line: string) {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (entry.msg === 'outbox relay pass') published.push(entry.published as number);
          if (Array.isArray(entry.vanished)) vanished.push(...(entry.vanished as string[]));
        },
      },
    );
    const db = createDb({ url: scratch.url, poolSize: 3 });
    const redis = createRedisConnection(testRedisSettings(), 'producer');
    redis.on('error', () => {});
    const queues = createQueues(redis, { prefix, jobs: JOBS, onError: () => {} });
    // A long interval: the timer never fires during the test, which drives every pass with runOnce().
    const relay = startOutboxRelay({
      db,
      queues,
      logger,
      instanceId: `relay-test-${name}`,
      intervalMs: 600_000,
      afterMs: 1000,
      batchSize: 500,
      vanishedAfterMs: 1000,
      redisTimeoutMs: 2000,
    });
    const instance = { name, db, redis, queues, relay, published, vanished, logs };
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
  const publishedAt = async (runId: string): Promise<Date | null> =>
    (await scratch.db.$queryRaw<{ published_at: Date | null }[]>`SELECT published_at FROM etl_runs WHERE id = ${runId}::uuid`)[0]!.published_at;

  beforeAll(async () => {
    scratch = await createMigratedScratchDatabase('f_relay_lock');
    inspectorRedis = createRedisConnection(testRedisSettings(), 'worker');
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

  it('two relays passing at the same time give each stranded run exactly one job, its run id, published by one of them', async () => {
    const a = startInstance('a');
    const b = startInstance('b');
    // Warm both instances' connections, so their passes really overlap.
    for (const instance of [a, b]) {
      await instance.queues.etlRun.waitUntilReady();
      await instance.queues.etlRun.getJobCounts();
      await instance.relay.runOnce();
    }
    // Whoever took the lease first keeps it; let the two race for it from scratch.
    await scratch.db.$executeRaw`DELETE FROM leader_leases`;
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
    for (const runId of runIds) expect(await publishedAt(runId)).toBeInstanceOf(Date);
    // Published in exactly one pass of one relay (the lease holder); every other pass published nothing.
    const passes = [...a.published, ...b.published];
    expect(passes.filter((count) => count > 0)).toEqual([20]);
    expect(a.published.some((count) => count > 0) !== b.published.some((count) => count > 0)).toBe(true);
    expect([...a.logs, ...b.logs].filter((entry) => (entry.level as number) >= 40)).toEqual([]);
  });

  it('a relay pass publishes nothing while another instance holds the relay lease, and the stranded runs once it is released', async () => {
    const [a] = instances;
    await scratch.db.$executeRaw`DELETE FROM leader_leases`;
    await scratch.db.$executeRaw`
      INSERT INTO leader_leases (name, holder, expires_at) VALUES (${OUTBOX_RELAY_LEASE}, 'another-instance', CURRENT_TIMESTAMP + interval '1 minute')`;
    const runIds = await strandedRuns(scratch.db, 5);
    const before = await jobIds();

    await a!.relay.runOnce();
    expect(await jobIds()).toEqual(before);
    for (const runId of runIds) expect(await publishedAt(runId)).toBeNull();

    await scratch.db.$executeRaw`DELETE FROM leader_leases WHERE holder = 'another-instance'`;
    await a!.relay.runOnce();
    expect(await jobIds()).toEqual([...before, ...runIds].sort());
    expect(a!.published.at(-1)).toBe(5);
  });

  it('enqueuing a run again while its job waits adds no second job (job id = run id)', async () => {
    const [a, b] = instances;
    const [runId] = await strandedRuns(scratch.db, 1);
    await scratch.db.$executeRaw`DELETE FROM leader_leases`;
    await a!.relay.runOnce();
    const waiting = await inspector.getJob(runId!);
    expect(await waiting?.getState()).toBe('waiting');
    const countBefore = (await inspector.getJobCounts('waiting')).waiting;
    // As if the relay's own record of the publication had been lost: it publishes the run again.
    await scratch.db.$executeRaw`UPDATE etl_runs SET published_at = NULL WHERE id = ${runId}::uuid`;
    await scratch.db.$executeRaw`DELETE FROM leader_leases`;

    await Promise.all([a!.relay.runOnce(), b!.relay.runOnce()]);

    expect((await inspector.getJobCounts('waiting')).waiting).toBe(countBefore);
    expect((await inspector.getJob(runId!))?.timestamp).toBe(waiting?.timestamp);
  });

  it('republishes a queue-lane run left running whose job vanished from Redis, and leaves alone one whose job is live', async () => {
    const [a] = instances;
    await scratch.db.$executeRaw`DELETE FROM leader_leases`;
    const [orphan, live] = await strandedRuns(scratch.db, 2);
    // Both published a minute ago and claimed by a worker (running); only `live` still has its job in
    // Redis, as after a Redis restart that lost the other's job while its worker held it.
    await scratch.db.$executeRaw`
      UPDATE etl_runs SET status = 'running', attempts = 1, started_at = queued_at, published_at = queued_at
      WHERE id = ANY(${[orphan, live]}::uuid[])`;
    await inspector.add('etl-run', { runId: live }, { jobId: live });
    const liveJob = await inspector.getJob(live!);

    await a!.relay.runOnce();

    expect(await (await inspector.getJob(orphan!))?.getState()).toBe('waiting');
    expect((await inspector.getJob(live!))?.timestamp).toBe(liveJob?.timestamp);
    expect(a!.vanished).toEqual([orphan]);
    expect(await publishedAt(orphan!)).toBeInstanceOf(Date);
  });

  it('never replaces a job that finished while its run still reads queued: a job that exists in any state is left alone', async () => {
    const [a] = instances;
    await scratch.db.$executeRaw`DELETE FROM leader_leases`;
    const [runId] = await strandedRuns(scratch.db, 1);
    // The race of issue #9: the worker completed the job, and the relay still sees the run unfinished
    // (published long ago). The old relay removed the completed job and added it again.
    await scratch.db.$executeRaw`UPDATE etl_runs SET published_at = queued_at WHERE id = ${runId}::uuid`;
    const job = await inspector.add('etl-run', { runId }, { jobId: runId });
    // A stand-in worker completes it (and the other waiting jobs of this file) without touching the run row.
    const workerRedis = createRedisConnection(testRedisSettings(), 'worker');
    const worker = new Worker('etl-run', async () => ({ outcome: 'succeeded' }), { connection: workerRedis, prefix });
    try {
      await waitFor('the job to complete', async () => ((await inspector.getJobState(runId!)) === 'completed' ? true : undefined));
    } finally {
      await worker.close();
      workerRedis.disconnect();
    }

    await a!.relay.runOnce();
    await a!.relay.runOnce();

    expect(await inspector.getJobState(runId!)).toBe('completed');
    expect((await inspector.getJob(runId!))?.timestamp).toBe(job.timestamp);
    expect(a!.vanished).not.toContain(runId);
    expect(await publishedAt(runId!)).toBeInstanceOf(Date);
  });
});
