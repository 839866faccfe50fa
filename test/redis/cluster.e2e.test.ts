// Issue #11, "A real Redis Cluster in the tests": the API and the worker, as separate processes,
// on a 6-node Redis Cluster of this file's own (3 masters, 3 replicas, cluster-node-timeout 1 s):
// the outbox relay after the cluster was unreachable, the end-to-end path, Bull Board, and a
// failover under load (the master holding the queue's slot SIGKILLed while PUTs arrive).
//
// The tests share one cluster and run in order: the first starts the cluster (after the API was
// started against its seeds), the last kills one of its masters.
import type { Db } from '@tasklane/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource, request } from '../support/apiClient.ts';
import { createE2eSuite, storedRecords, type E2eSuite, type SpawnedApi } from '../support/e2eSuite.ts';
import { findClusterPorts, startRedisCluster, type RedisCluster } from '../support/redisCluster.ts';
import { countCommits, installRunAudit, readTransitions } from '../support/runAudit.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

const BOARD_USER = 'board-admin';
const BOARD_PASSWORD = 'cluster-board-password';

/** A small `info` and, written out by hand, the records the ETL must make of it. */
const info = (n: number) => ({ cluster: { node: `n${n}`, attempt: String(n), merged: 'true' } });
const recordsOf = (n: number) => [
  { key: 'cluster.attempt', value: n, valueType: 'integer' },
  { key: 'cluster.merged', value: true, valueType: 'boolean' },
  { key: 'cluster.node', value: `n${n}`, valueType: 'string' },
];

interface Accepted {
  runId: string;
  resourceId: string;
  n: number;
  dispatched: boolean;
  at: number;
}

async function put(api: SpawnedApi, n: number): Promise<Accepted> {
  const resourceId = uniqueResourceId('cluster');
  const response = await putResource(api.url, resourceId, { info: info(n) });
  if (response.status !== 201) throw new Error(`PUT ${resourceId}: ${response.status} ${response.text}`);
  return { runId: response.json.run.id, resourceId, n, dispatched: response.json.run.dispatched, at: Date.now() };
}

/** Status and publication of the runs, straight from PostgreSQL. */
async function readRunRows(db: Db, runIds: readonly string[]): Promise<{ id: string; status: string; published: boolean }[]> {
  return db.$queryRaw`
    SELECT id::text AS id, status::text AS status, published_at IS NOT NULL AS published
    FROM etl_runs WHERE id = ANY(${runIds}::uuid[]) ORDER BY queued_at`;
}

async function waitAllSucceeded(db: Db, runs: readonly Accepted[], timeoutMs: number, describe: () => string): Promise<void> {
  let last: { id: string; status: string }[] = [];
  await waitFor(
    `${runs.length} runs to succeed`,
    async () => {
      last = await readRunRows(db, runs.map((run) => run.runId));
      return last.length === runs.length && last.every((row) => row.status === 'succeeded') ? true : undefined;
    },
    { timeoutMs, intervalMs: 250, describeLast: () => `not succeeded: ${JSON.stringify(last.filter((row) => row.status !== 'succeeded'))}\n${describe()}` },
  );
}

describe('API and worker on a Redis Cluster (3 masters, 3 replicas)', () => {
  let firstPort: number;
  let cluster: RedisCluster | undefined;
  let suite: E2eSuite;
  let api: SpawnedApi;
  let worker: SpawnedService;

  beforeAll(async () => {
    firstPort = await findClusterPorts();
    const seeds = Array.from({ length: 6 }, (_, i) => `127.0.0.1:${firstPort + i}`).join(',');
    suite = await createE2eSuite('redis_cluster', {
      redisEnv: { REDIS_CLUSTER_NODES: seeds },
      env: {
        ETL_LANE: 'queue',
        OUTBOX_RELAY_INTERVAL_MS: '300',
        OUTBOX_RELAY_AFTER_MS: '500',
        // A job the killed master had not yet passed to its replica vanishes with it: the relay
        // looks for such jobs after this long and publishes their runs again.
        OUTBOX_RELAY_VANISHED_AFTER_MS: '3000',
        WORKER_LOCK_DURATION_MS: '5000',
        WORKER_STALLED_INTERVAL_MS: '2000',
        JOB_BACKOFF_MS: '200',
        BOARD_USERNAME: BOARD_USER,
        BOARD_PASSWORD: BOARD_PASSWORD,
      },
    });
    await installRunAudit(suite.db);
  });
  afterAll(async () => {
    await suite?.close();
    await cluster?.stop();
  });

  /** The cluster, started now if an earlier test did not (running one test alone). */
  async function ensureCluster(): Promise<RedisCluster> {
    cluster ??= await startRedisCluster({ firstPort, nodeTimeoutMs: 1000 });
    return cluster;
  }
  async function ensureProcesses(): Promise<void> {
    api ??= await suite.startApi();
    await ensureCluster();
    worker ??= await suite.startWorker({ WORKER_CONCURRENCY: '4' });
  }

  it('accepts writes while the cluster is unreachable, and the outbox relay publishes them once it answers', async () => {
    // The API starts against seeds where nothing listens yet.
    api = await suite.startApi();
    const accepted: Accepted[] = [];
    for (let n = 1; n <= 5; n++) accepted.push(await put(api, n));
    expect(accepted.map((run) => run.dispatched)).toEqual([false, false, false, false, false]);
    expect((await readRunRows(suite.db, accepted.map((run) => run.runId))).map((row) => [row.status, row.published])).toEqual(
      Array.from({ length: 5 }, () => ['queued', false]),
    );

    await ensureCluster();
    worker = await suite.startWorker({ WORKER_CONCURRENCY: '4' });
    await waitAllSucceeded(suite.db, accepted, 60_000, () => suite.output());
    const rows = await readRunRows(suite.db, accepted.map((run) => run.runId));
    expect(rows.every((row) => row.published)).toBe(true);
    for (const run of accepted) expect(await storedRecords(suite.db, run.resourceId)).toEqual(recordsOf(run.n));
  });

  it('runs a PUT on the queue lane end to end: job in the cluster, worker, records in PostgreSQL', async () => {
    await ensureProcesses();
    const run = await put(api, 42);
    expect(run.dispatched).toBe(true);
    await waitAllSucceeded(suite.db, [run], 30_000, () => suite.output());
    expect(await storedRecords(suite.db, run.resourceId)).toEqual(recordsOf(42));
    expect(await countCommits(suite.db, run.runId)).toBe(1);
    // The queue's keys are in the slot of the prefix's hash tag, on one master of the cluster.
    expect((cluster as RedisCluster).ports).toContain(await (cluster as RedisCluster).masterOf(`${suite.prefix}:etl-run:id`));
  });

  it("lists the queue in Bull Board (the API's /admin/queues) with the cluster's job counts", async () => {
    await ensureProcesses();
    const auth = { Authorization: `Basic ${Buffer.from(`${BOARD_USER}:${BOARD_PASSWORD}`).toString('base64')}` };
    const response = await request(api.url, 'GET', '/admin/queues/api/queues', { headers: auth });
    expect(response.status, response.text).toBe(200);
    const queue = response.json.queues.find((q: { name: string }) => q.name === 'etl-run');
    expect(queue).toMatchObject({ name: 'etl-run', type: 'bullmq' });
    // Completed jobs of the tests above are kept (JOB_KEEP_COMPLETED_COUNT 1000).
    expect(queue.counts.completed).toBeGreaterThanOrEqual(1);
  });

  it('loses no accepted run and runs none twice when the master of the queue slot is killed under load; the worker carries on', async () => {
    await ensureProcesses();
    const c = cluster as RedisCluster;
    const queueKey = `${suite.prefix}:etl-run:wait`;
    const victim = await c.masterOf(queueKey);
    const workerPid = worker.pid;

    const accepted: Accepted[] = [];
    let n = 1000;
    let loading = true;
    // Two clients PUT back to back until told to stop.
    const load = Promise.all(
      [0, 1].map(async () => {
        while (loading) accepted.push(await put(api, n++));
      }),
    );
    try {
      await waitFor('runs to be processed before the kill', async () => {
        const rows = await readRunRows(suite.db, accepted.map((run) => run.runId));
        return rows.filter((row) => row.status === 'succeeded').length >= 5 ? true : undefined;
      }, { timeoutMs: 30_000 });
      const killedAt = Date.now();
      await c.kill(victim);
      let promoted = victim;
      await waitFor(
        `a replica to take over the queue slot from ${victim}`,
        async () => {
          promoted = await c.masterOf(queueKey).catch(() => victim);
          return promoted !== victim ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      // Keep writing for a while on the new master.
      const failoverMs = Date.now() - killedAt;
      const afterFailover = accepted.length;
      await waitFor('PUTs after the failover', async () => (accepted.length >= afterFailover + 10 ? true : undefined), { timeoutMs: 30_000 });
      loading = false;
      await load;

      const duringOrAfter = accepted.filter((run) => run.at >= killedAt);
      expect(duringOrAfter.length).toBeGreaterThanOrEqual(10);
      await waitAllSucceeded(suite.db, accepted, 90_000, () => suite.output(40));
      const published = await readRunRows(suite.db, accepted.map((run) => run.runId));
      console.info(
        `cluster failover: master ${victim} killed, replica ${promoted} serving the queue slot after ${failoverMs} ms; ` +
          `${accepted.length} PUTs accepted (${duringOrAfter.length} from the kill on), ${accepted.filter((run) => !run.dispatched).length} left to the outbox relay, ` +
          `all ${published.length} succeeded in ${Date.now() - killedAt} ms from the kill`,
      );
      for (const run of accepted) {
        expect(await countCommits(suite.db, run.runId), `records of run ${run.runId} committed once`).toBe(1);
        const succeeded = (await readTransitions(suite.db, run.runId)).filter((t) => t.to === 'succeeded');
        expect(succeeded, `run ${run.runId} succeeded once`).toHaveLength(1);
      }
      for (const run of accepted.slice(-5)) expect(await storedRecords(suite.db, run.resourceId)).toEqual(recordsOf(run.n));
      // The same worker process, never restarted, ran the runs accepted after the failover.
      expect(worker.pid).toBe(workerPid);
      expect(() => process.kill(workerPid, 0)).not.toThrow();
      const lastRuns = accepted.slice(-5);
      for (const run of lastRuns) {
        const leasedBy = (await readTransitions(suite.db, run.runId)).filter((t) => t.to === 'running').at(-1)?.leasedBy;
        expect(leasedBy).toContain(`:${workerPid}:`);
      }
    } finally {
      loading = false;
      await load.catch(() => {});
    }
  });
});
