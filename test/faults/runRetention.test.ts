// Issue #9, "Storage grows forever": under sustained load through a real API process, with short
// retentions, the sizes of `etl_runs` and `api_instances` level off — the count at the end is no
// larger than at mid-run plus a margin, and far below what was written — while the latest run of
// every resource survives, finished runs lose their raw `info` and a failed run keeps it. Retention
// runs in one API instance at a time (the `retention` leader lease), though two are up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource } from '../support/apiClient.ts';
import { createE2eSuite, waitForRun, type E2eSuite, type SpawnedApi } from '../support/e2eSuite.ts';
import { startEnrichmentServer, type EnrichmentServer } from '../support/enrichmentServer.ts';
import { uniqueResourceId } from '../support/testDb.ts';

const LOAD_MS = 24_000;
/** Resources written again and again (their old runs are what retention deletes). */
const RESOURCES = 40;
const CLIENTS = 4;
/** Instances that stop per second, simulated as rows (a fleet restarting), beside the real API that stops. */
const STOPPED_INSTANCES_PER_SECOND = 10;

const RETENTION_ENV = {
  // Closed-loop load: each client's write waits for its run, so no backlog of unfinished runs builds up.
  ETL_LANE: 'await',
  RUN_INFO_RETENTION_MS: '1000',
  RUN_RETENTION_MS: '3000',
  INSTANCE_HEARTBEAT_MS: '500',
  INSTANCE_DEAD_AFTER_MS: '1500',
  API_INSTANCE_RETENTION_MS: '2000',
  RETENTION_INTERVAL_MS: '500',
  RETENTION_BATCH_SIZE: '200',
};

describe('retention under sustained load', () => {
  let suite: E2eSuite;
  let enricher: EnrichmentServer;
  let api: SpawnedApi;
  let standby: SpawnedApi;

  beforeAll(async () => {
    enricher = await startEnrichmentServer();
    suite = await createE2eSuite('run_retention', { poolSize: 4 });
    const env = { ...RETENTION_ENV, ENRICHMENT_URL: enricher.url };
    [api, standby] = await Promise.all([suite.startApi(env), suite.startApi(env)]);
  });
  afterAll(async () => {
    await suite?.close();
    await enricher?.close();
  });

  const count = async (table: 'etl_runs' | 'api_instances'): Promise<number> => {
    const [row] = await suite.db.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${table}`);
    return row!.n;
  };

  it('keeps etl_runs and api_instances from growing with the writes, the latest run of every resource, and a failed run’s info', async () => {
    // A run that fails (its enrichment answers 500): written first, so it is old by the end.
    const failingId = uniqueResourceId('retention-failing');
    enricher.script(failingId, () => ({ status: 500 }));
    const failing = await putResource(api.url, failingId, { info: { Doomed: true } });
    const failedRunId = failing.json.run.id as string;
    await waitForRun(suite.db, failedRunId, 'failed', (run) => run.status === 'failed');

    const resourceIds = Array.from({ length: RESOURCES }, () => uniqueResourceId('retention'));
    let written = 0;
    let nonSuccess = 0;
    const start = Date.now();
    const until = start + LOAD_MS;
    const clients = Array.from({ length: CLIENTS }, async (_, client) => {
      for (let i = 0; Date.now() < until; i++) {
        const id = resourceIds[(client * 7919 + i) % RESOURCES]!;
        const response = await putResource(api.url, id, { info: { Client: client, Write: i, Payload: 'x'.repeat(200) } });
        if (response.status === 200 || response.status === 201) written++;
        else nonSuccess++;
      }
    });
    let simulated = 0;
    const fleet = (async () => {
      while (Date.now() < until) {
        for (let i = 0; i < STOPPED_INSTANCES_PER_SECOND; i++) {
          simulated++;
          await suite.db.$executeRaw`
            INSERT INTO api_instances (id, hostname, pid, stopped_at) VALUES (${`simulated-${simulated}-${uniqueResourceId('i')}`}, 'fleet', ${simulated}, CURRENT_TIMESTAMP)`;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    })();
    // Mid-run: the standby API stops (a real instance row to be retired too), and the sizes are taken.
    await new Promise((resolve) => setTimeout(resolve, LOAD_MS / 2));
    // One instance at a time prunes: so far, every retention pass was logged by a single process.
    const passers = [api, standby].filter((service) => service.lines.some((line) => line.msg === 'retention pass'));
    await standby.stop();
    const runsAtMid = await count('etl_runs');
    const instancesAtMid = await count('api_instances');
    const writtenAtMid = written;
    await Promise.all([...clients, fleet]);
    // Let the last writes finish and one more retention pass see them.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const runsAtEnd = await count('etl_runs');
    const instancesAtEnd = await count('api_instances');

    const statuses = await suite.db.$queryRaw<{ status: string; n: number }[]>`SELECT status::text AS status, count(*)::int AS n FROM etl_runs GROUP BY 1`;
    const figures = { written, nonSuccess, writtenAtMid, runsAtMid, runsAtEnd, simulated, instancesAtMid, instancesAtEnd, statuses };
    expect(nonSuccess, JSON.stringify(figures)).toBe(0);
    // Enough writes for growth to show: every resource written several times over (not a speed claim).
    expect(written, JSON.stringify(figures)).toBeGreaterThan(3 * RESOURCES);
    // Level off: what is left at the end is about what was left at mid-run, and far below what was written.
    expect(runsAtEnd, JSON.stringify(figures)).toBeLessThanOrEqual(runsAtMid * 1.5 + 50);
    expect(runsAtEnd, JSON.stringify(figures)).toBeLessThan(written / 3);
    expect(instancesAtEnd, JSON.stringify(figures)).toBeLessThanOrEqual(instancesAtMid + 10);
    expect(instancesAtEnd, JSON.stringify(figures)).toBeLessThan(simulated / 3);

    // The latest run of every resource survives (resources.version is the latest write's version).
    const [orphans] = await suite.db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM resources r
      WHERE NOT EXISTS (SELECT 1 FROM etl_runs e WHERE e.resource_id = r.id AND e.resource_version = r.version)`;
    expect(orphans!.n).toBe(0);
    const [resources] = await suite.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM resources`;
    expect(resources!.n).toBe(RESOURCES + 1);
    // Finished runs lost their info once past RUN_INFO_RETENTION_MS (plus a pass or two); the failed one kept it.
    const [unpruned] = await suite.db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM etl_runs
      WHERE status IN ('succeeded', 'skipped') AND info IS NOT NULL AND finished_at < CURRENT_TIMESTAMP - interval '4 seconds'`;
    expect(unpruned!.n).toBe(0);
    const [pruned] = await suite.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM etl_runs WHERE info IS NULL AND info_pruned_at IS NOT NULL`;
    expect(pruned!.n).toBeGreaterThan(0);
    const [failed] = await suite.db.$queryRaw<{ status: string; info: unknown }[]>`SELECT status::text AS status, info FROM etl_runs WHERE id = ${failedRunId}::uuid`;
    expect(failed).toEqual({ status: 'failed', info: { Doomed: true } });

    expect(passers.map((service) => service.instanceId)).toHaveLength(1);
    expect(suite.errorLines()).toEqual([]);
  });
});
