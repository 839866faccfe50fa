// Issue #11, Redis Sentinel: a master, a replica and one Sentinel of this file's own
// (`redis-server --sentinel`, quorum 1, down-after 1 s). The API and the worker, as separate
// processes, find the master through REDIS_SENTINELS + REDIS_SENTINEL_NAME, and keep working after
// the Sentinel promotes the replica when the master is killed.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource } from '../support/apiClient.ts';
import { createE2eSuite, storedRecords, waitForRun, type E2eSuite, type SpawnedApi } from '../support/e2eSuite.ts';
import { freePort } from '../support/freePort.ts';
import { spawnRedisServer, type RedisServerProcess } from '../support/redisServer.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

const MASTER_NAME = 'tasklane-test';

describe('API and worker through Redis Sentinel', () => {
  let dir: string;
  const servers: RedisServerProcess[] = [];
  let master: RedisServerProcess;
  let masterPort: number;
  let replicaPort: number;
  let sentinelPort: number;
  let suite: E2eSuite;
  let api: SpawnedApi;
  let worker: SpawnedService;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tasklane-sentinel-'));
    [masterPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()];
    const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    master = await spawnRedisServer(['--port', String(masterPort), ...common]);
    servers.push(master);
    servers.push(
      await spawnRedisServer(['--port', String(replicaPort), ...common, '--replicaof', '127.0.0.1', String(masterPort)], {
        ready: /MASTER <-> REPLICA sync: Finished with success/,
      }),
    );
    // A Sentinel rewrites its configuration file, so it gets one of its own.
    const config = join(dir, 'sentinel.conf');
    await writeFile(
      config,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 1`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 10000`,
        '',
      ].join('\n'),
    );
    servers.push(await spawnRedisServer([config, '--sentinel'], { ready: /\+monitor master/ }));
    suite = await createE2eSuite('redis_sentinel', {
      redisEnv: { REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: MASTER_NAME },
      env: { ETL_LANE: 'queue', OUTBOX_RELAY_INTERVAL_MS: '300', OUTBOX_RELAY_AFTER_MS: '500', OUTBOX_RELAY_VANISHED_AFTER_MS: '3000' },
    });
  });
  afterAll(async () => {
    await suite?.close();
    for (const server of servers.reverse()) await server.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function putAndWait(label: string, n: number): Promise<void> {
    const resourceId = uniqueResourceId(label);
    const put = await putResource(api.url, resourceId, { info: { sentinel: { step: String(n) } } });
    expect(put.status, put.text).toBe(201);
    await waitForRun(suite.db, put.json.run.id, 'to succeed', (r) => r.status === 'succeeded', { timeoutMs: 45_000 });
    expect(await storedRecords(suite.db, resourceId)).toEqual([{ key: 'sentinel.step', value: n, valueType: 'integer' }]);
  }

  it('runs a PUT end to end on the master the Sentinel names', async () => {
    api = await suite.startApi();
    worker = await suite.startWorker();
    await putAndWait('sentinel', 1);
    // The job went to the master, and reached the replica by replication.
    const replica = new Redis({ port: replicaPort, host: '127.0.0.1', lazyConnect: true });
    try {
      await replica.connect();
      expect(await replica.exists(`${suite.prefix}:etl-run:id`)).toBe(1);
    } finally {
      replica.disconnect();
    }
  });

  it('carries on, without a restart, after the Sentinel promotes the replica of a killed master', async () => {
    const workerPid = worker.pid;
    await master.kill();
    const sentinel = new Redis({ port: sentinelPort, host: '127.0.0.1', lazyConnect: true });
    try {
      await sentinel.connect();
      await waitFor(
        'the Sentinel to promote the replica',
        async () => {
          const [, port] = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string];
          return Number(port) === replicaPort ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
    } finally {
      sentinel.disconnect();
    }
    await putAndWait('sentinel-after', 2);
    expect(() => process.kill(workerPid, 0)).not.toThrow();
  });
});
