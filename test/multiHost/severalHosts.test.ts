// Issue #11, point 3: Tasklane on several hosts. The test makes the hosts itself — one Linux network
// namespace each, with its own address on a private subnet (test/support/netnsHosts.ts): a services
// host running PostgreSQL and Redis on its own address, two API hosts and three worker hosts. The
// API and worker run as separate OS processes inside their hosts' namespaces (with the host's name
// as hostname), reach PostgreSQL and Redis over the network and bind their host's address; this
// process, the client, reaches them from the root namespace. Hosts then die: an API host crashes
// (every process SIGKILLed), an API host is cut off by a network partition and comes back, a worker
// host crashes mid-run, and another is cut off mid-run and comes back. The cases run in order on one deployment, each on the hosts the previous
// one left. Run as root (skipped otherwise, or when `ip netns` is unavailable).
import { findEtlRun } from '@tasklane/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, resourcePath } from '../support/apiClient.ts';
import { createE2eSuite, storedRecords, waitForRun, type E2eSuite, type SpawnedApi } from '../support/e2eSuite.ts';
import { expectedRecords } from '../support/expectedRecords.ts';
import { webhookPayload } from '../support/laneFixtures.ts';
import { createNetnsHosts, netnsUnavailableReason, type NetnsHost, type NetnsHosts } from '../support/netnsHosts.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../support/privatePostgres.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.ts';
import { countCommits, installRunAudit, readClaims, readTransitions } from '../support/runAudit.ts';
import type { ServiceLine, SpawnedService } from '../support/spawnService.ts';
import { countRows, uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

const unavailable = await netnsUnavailableReason();
if (unavailable) console.warn(`[severalHosts] skipped: ${unavailable}`);

/** In-process runs sleep this long before transforming: surely unfinished when their host dies. */
const API_ETL_DELAY_MS = 12_000;
/** Queue runs sleep this long: a worker host killed while runs are active surely kills some mid-run. */
const WORKER_ETL_DELAY_MS = 1_000;
/** An API silent this long is dead to the others; beats every 500 ms. */
const DEAD_AFTER_MS = 3_000;
/** The relay's leader lease: another API takes the relay over this long after its holder died. */
const RELAY_LEASE_TTL_MS = 3_000;

/**
 * An API's settings on `host`: its own address to bind (README "Running it on several machines"),
 * lease and heartbeat timings shortened so deaths are noticed within seconds, and slow test runs.
 */
function apiEnv(host: NetnsHost): Record<string, string> {
  return {
    HOST: host.address,
    PORT: '3000',
    // The relay logs its passes at debug level: the proof of which API runs it.
    LOG_LEVEL: 'debug',
    INSTANCE_HEARTBEAT_MS: '500',
    INSTANCE_DEAD_AFTER_MS: String(DEAD_AFTER_MS),
    OUTBOX_RELAY_INTERVAL_MS: '300',
    OUTBOX_RELAY_LEASE_TTL_MS: String(RELAY_LEASE_TTL_MS),
    ETL_TEST_ENABLE: 'true',
    ETL_TEST_DELAY_MS: String(API_ETL_DELAY_MS),
    SHUTDOWN_GRACE_MS: '2000',
    THREAD_POOL_SIZE: '1',
    DATABASE_POOL_SIZE: '6',
  };
}

function workerEnv(host: NetnsHost): Record<string, string> {
  return {
    WORKER_HTTP_HOST: host.address,
    WORKER_HTTP_PORT: '3001',
    WORKER_CONCURRENCY: '2',
    // A dead worker's job is stalled 2 s after its last lock renewal; the others check every second.
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    ETL_TEST_ENABLE: 'true',
    ETL_TEST_DELAY_MS: String(WORKER_ETL_DELAY_MS),
    WORKER_SHUTDOWN_GRACE_MS: '2000',
  };
}

const START = { readyTimeoutMs: 120_000 };

describe.skipIf(unavailable !== undefined)('Tasklane on several hosts (network namespaces): 2 APIs, 3 workers, PostgreSQL and Redis on a services host', () => {
  let net: NetnsHosts;
  let pg: PrivatePostgres | undefined;
  let redis: PrivateRedis | undefined;
  let suite: E2eSuite | undefined;
  /** The two live API processes: those of api-1 and api-2, until the partition case replaces the crashed one. */
  let apis: SpawnedApi[] = [];
  const workers = new Map<string, SpawnedService>();

  beforeAll(async () => {
    net = await createNetnsHosts(['services', 'api-1', 'api-2', 'worker-1', 'worker-2', 'worker-3']);
    const services = net.host('services');
    // Standard ports: each host has its own network stack, so nothing else holds them.
    // Both settle before either failure is thrown, so afterAll stops whichever started.
    const [pgStart, redisStart] = await Promise.allSettled([
      startPrivatePostgres({ host: services.address, port: 5432, wrapCommand: services.netnsCommand, settings: { max_connections: '100' } }),
      startPrivateRedis({ host: services.address, port: 6379, wrapCommand: services.netnsCommand }),
    ]);
    if (pgStart.status === 'fulfilled') pg = pgStart.value;
    if (redisStart.status === 'fulfilled') redis = redisStart.value;
    for (const start of [pgStart, redisStart]) if (start.status === 'rejected') throw start.reason;
    suite = await createE2eSuite('multihost', { databaseServerUrl: pg!.url('postgres'), redisUrl: redis!.url });
    await installRunAudit(suite.db);
    const s = suite;
    apis = await Promise.all(
      ['api-1', 'api-2'].map((name) => s.startApi(apiEnv(net.host(name)), { ...START, name, wrapCommand: net.host(name).wrapCommand })),
    );
    await Promise.all(
      ['worker-1', 'worker-2', 'worker-3'].map(async (name) => {
        workers.set(name, await s.startWorker(workerEnv(net.host(name)), { ...START, name, wrapCommand: net.host(name).wrapCommand }));
      }),
    );
  }, 300_000);

  afterAll(async () => {
    try {
      await suite?.close();
    } finally {
      await pg?.close();
      await redis?.close();
      await net?.destroy();
    }
  }, 120_000);

  /** PUTs `info` for a fresh resource id on `api` (lane: the API's default, `queue`, unless given). */
  async function put(api: SpawnedApi, label: string, info: unknown, lane?: string): Promise<{ resourceId: string; runId: string }> {
    const resourceId = uniqueResourceId(label);
    const response = await request(api.url, 'PUT', `${resourcePath(resourceId)}${lane ? `?lane=${lane}` : ''}`, { body: JSON.stringify({ info }) });
    expect(response.status, response.text).toBe(201);
    expect(response.json.run.lane).toBe(lane ?? 'queue');
    return { resourceId, runId: response.json.run.id as string };
  }

  /** The `outbox-relay` leader lease's holder, or undefined. */
  async function relayHolder(): Promise<string | undefined> {
    const [row] = await suite!.db.$queryRaw<{ holder: string }[]>`
      SELECT holder FROM leader_leases WHERE name = 'outbox-relay' AND expires_at > CURRENT_TIMESTAMP`;
    return row?.holder;
  }

  /** The relay passes `api` ran as leader among its lines from index `from` on. */
  function relayPasses(api: SpawnedApi, from = 0): ServiceLine[] {
    return api.lines.slice(from).filter((line) => line.msg === 'outbox relay pass' && line.leader === true);
  }

  /** The host name in a worker's `leased_by` (`worker:<host>:<pid>:<random>`). */
  function workerHost(leasedBy: string): string {
    return leasedBy.split(':')[1] ?? leasedBy;
  }

  /**
   * The host of the first worker seen running one of `runIds` that started less than 400 ms ago,
   * so it has most of its ${WORKER_ETL_DELAY_MS} ms still to go.
   */
  function workerRunningOneOf(runIds: readonly string[]): Promise<string> {
    return waitFor('a run of the batch to have just started on a worker', async () => {
      const rows = await suite!.db.$queryRaw<{ leased_by: string }[]>`
        SELECT leased_by FROM etl_runs WHERE id = ANY(${runIds}::uuid[]) AND status = 'running' AND leased_by LIKE 'worker:%'
          AND started_at > CURRENT_TIMESTAMP - interval '400 milliseconds' LIMIT 1`;
      return rows[0] ? workerHost(rows[0].leased_by) : undefined;
    });
  }

  /** The runs among `runIds` not `succeeded` now. */
  /**
   * Waits until PostgreSQL runs no statement from `address`: a statement the server received before
   * the host died or was cut off still completes (a commit included), and one it did not receive never
   * will, so only after this is "unfinished" final for that host.
   */
  async function settledFrom(address: string): Promise<void> {
    await waitFor(`no active statement from ${address}`, async () => {
      const [row] = await suite!.db.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE client_addr = ${address}::inet AND state = 'active'`;
      return row?.n === 0 ? true : undefined;
    }, { timeoutMs: 30_000 });
  }

  async function unfinishedNow(runIds: readonly string[]): Promise<Set<string>> {
    const rows = await suite!.db.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM etl_runs WHERE id = ANY(${[...runIds]}::uuid[]) AND status <> 'succeeded'`;
    return new Set(rows.map((row) => row.id));
  }

  async function waitForStatuses(runIds: readonly string[], status: string, timeoutMs: number): Promise<void> {
    let seen: string[] = [];
    await waitFor(
      `${runIds.length} run(s) to be ${status}`,
      async () => {
        seen = await Promise.all(runIds.map(async (id) => (await findEtlRun(suite!.db, id))?.status ?? 'missing'));
        return seen.every((s) => s === status) ? true : undefined;
      },
      { timeoutMs, intervalMs: 200, describeLast: () => `last seen: ${seen.join(', ')}\n${suite!.output(15)}` },
    );
  }

  it('every process binds its own host’s address and the client reaches each one over the network', async () => {
    for (const [index, api] of apis.entries()) {
      const host = net.host(`api-${index + 1}`);
      expect(api.url).toBe(`http://${host.address}:3000`);
      // The instance id carries the host's own name (`<hostname>:<pid>:<random>`).
      expect(api.instanceId.startsWith(`api-${index + 1}:`)).toBe(true);
      expect((await request(api.url, 'GET', '/readyz')).status).toBe(200);
    }
    for (const [name, worker] of workers) {
      const url = `http://${net.host(name).address}:3001`;
      expect(worker.lines.some((line) => line.url === url)).toBe(true);
      const ready = await request(url, 'GET', '/readyz');
      expect(ready.status, ready.text).toBe(200);
      expect(JSON.stringify(worker.readyLine)).toContain(`"hostname":"${name}"`);
    }
  });

  it('a PUT on either API is processed by some worker, and many PUTs by more than one worker', async () => {
    const info = webhookPayload('pull_request', 0);
    const puts = await Promise.all(Array.from({ length: 24 }, (_, i) => put(apis[i % 2]!, 'mh-spread', info)));
    await waitForStatuses(puts.map((p) => p.runId), 'succeeded', 90_000);

    const hosts = new Set<string>();
    for (const { runId, resourceId } of puts) {
      const claims = await readClaims(suite!.db, runId);
      expect(claims.length, `claims of ${runId}`).toBeGreaterThanOrEqual(1);
      const last = claims.at(-1)!;
      expect(last).toMatch(/^worker:worker-[123]:\d+:/);
      hosts.add(workerHost(last));
      expect(await countCommits(suite!.db, runId)).toBe(1);
      expect(await storedRecords(suite!.db, resourceId)).toEqual(expectedRecords(info));
    }
    expect(hosts.size, `runs were processed on ${[...hosts].join(', ')}`).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('the outbox relay runs on exactly one API at a time', async () => {
    const ids = apis.map((api) => api.instanceId);
    const leaderId = await waitFor('an API to hold the outbox-relay lease', async () => {
      const holder = await relayHolder();
      return holder && ids.includes(holder) ? holder : undefined;
    });
    const leader = apis.find((api) => api.instanceId === leaderId)!;
    const other = apis.find((api) => api !== leader)!;
    const marks = apis.map((api) => api.lines.length);
    // Ten passes of the leader (every 300 ms): the other API, polling the same lease, ran none.
    await waitFor(`${leader.name} to run 10 relay passes`, () => (relayPasses(leader, marks[apis.indexOf(leader)]).length >= 10 ? true : undefined), {
      timeoutMs: 30_000,
    });
    expect(relayPasses(other, marks[apis.indexOf(other)])).toEqual([]);
    expect(await relayHolder()).toBe(leaderId);
  }, 60_000);

  it('when the relay leader’s host crashes, its in-process runs are recorded lost by the other API, which takes the relay over', async () => {
    const leaderId = await relayHolder();
    const leader = apis.find((api) => api.instanceId === leaderId)!;
    const survivor = apis.find((api) => api !== leader)!;
    const leaderHost = net.host(leader.name);
    const info = webhookPayload('push', 0);
    const runs = await Promise.all(
      (['inline', 'inline', 'thread', 'thread'] as const).map((lane) => put(leader, `mh-crash-${lane}`, info, lane)),
    );
    const runIds = runs.map((r) => r.runId);
    await waitForStatuses(runIds, 'running', 30_000);

    // The host crashes: every process in its namespace, the API among them, SIGKILLed at once.
    const killed = await leaderHost.crash();
    expect(killed).toContain(leader.pid);
    expect(await leader.exited).toMatchObject({ signal: 'SIGKILL' });
    const survivorMark = survivor.lines.length;

    await waitForStatuses(runIds, 'lost', 30_000);
    for (const { runId, resourceId } of runs) {
      const run = await findEtlRun(suite!.db, runId);
      expect(run?.error).toContain(`owner API instance ${leader.instanceId} stopped heartbeating`);
      expect(await countCommits(suite!.db, runId)).toBe(0);
      expect(await countRows(suite!.db, resourceId)).toMatchObject({ runs: 1, records: 0, contextVersions: 0 });
      expect((await readTransitions(suite!.db, runId)).map((t) => t.to)).toEqual(['running', 'lost']);
    }
    const reaped = await waitFor(`${survivor.name} to log the runs it reaped`, () =>
      survivor.lines.find((line) => typeof line.msg === 'string' && line.msg.startsWith('reaped') && Array.isArray(line.runIds) && runIds.every((id) => (line.runIds as string[]).includes(id))),
    );
    expect(reaped.recovery).toBe('lost');

    // The lease expires unrenewed; the survivor takes it and runs the relay from then on.
    await waitFor('the survivor to hold the outbox-relay lease', async () => ((await relayHolder()) === survivor.instanceId ? true : undefined), {
      timeoutMs: RELAY_LEASE_TTL_MS + 20_000,
    });
    await waitFor(`${survivor.name} to run relay passes`, () => (relayPasses(survivor, survivorMark).length >= 3 ? true : undefined), { timeoutMs: 20_000 });
  }, 120_000);

  it('an API host cut off by a partition: the other API records its runs lost and takes the relay; healed, it re-registers and writes nothing for them', async () => {
    // The survivor of the crash (the relay's leader now) is cut off; the crashed host comes back first
    // with a fresh API process.
    const holderId = await relayHolder();
    const cutOff = apis.find((api) => api.instanceId === holderId)!;
    const returningHost = net.host(cutOff.name === 'api-1' ? 'api-2' : 'api-1');
    const returned = await suite!.startApi(apiEnv(returningHost), { ...START, name: `${returningHost.name}b`, wrapCommand: returningHost.wrapCommand });
    const cutOffHost = net.host(cutOff.name);

    const info = webhookPayload('push', 1);
    const runs = await Promise.all([put(cutOff, 'mh-part', info, 'inline'), put(cutOff, 'mh-part', info, 'inline')]);
    const runIds = runs.map((r) => r.runId);
    await waitForStatuses(runIds, 'running', 30_000);

    // Packets to and from the host are dropped silently; its processes keep running.
    await cutOffHost.partition();
    let healed = false;
    try {
      await waitForStatuses(runIds, 'lost', 30_000);
      for (const runId of runIds) expect((await findEtlRun(suite!.db, runId))?.error).toContain(`owner API instance ${cutOff.instanceId} stopped heartbeating`);
      await waitFor('the returned API to hold the outbox-relay lease', async () => ((await relayHolder()) === returned.instanceId ? true : undefined), {
        timeoutMs: RELAY_LEASE_TTL_MS + 20_000,
      });
      expect((await cutOffHost.pids()).includes(cutOff.pid), 'the cut-off API process is still running').toBe(true);
      const healMark = cutOff.lines.length;
      await cutOffHost.heal();
      healed = true;

      // Back on the network, it finds it was declared dead and carries on under a new id…
      const renewed = await waitFor(
        `${cutOff.name} to log that it was declared dead`,
        () => cutOff.lines.slice(healMark).find((line) => typeof line.msg === 'string' && line.msg.includes('declared dead')),
        { timeoutMs: 120_000, intervalMs: 250, describeLast: () => cutOff.output(20) },
      );
      expect(renewed.deadInstanceId).toBe(cutOff.instanceId);
      // …and when its runs end (their delay runs out), their fenced writes change nothing.
      await waitFor(
        `${cutOff.name} to give up both runs`,
        () => (runIds.every((id) => cutOff.lines.slice(healMark).some((line) => line.runId === id)) ? true : undefined),
        { timeoutMs: 120_000, intervalMs: 250, describeLast: () => cutOff.output(20) },
      );
      for (const { runId, resourceId } of runs) {
        expect((await findEtlRun(suite!.db, runId))?.status).toBe('lost');
        expect(await countCommits(suite!.db, runId)).toBe(0);
        expect(await countRows(suite!.db, resourceId)).toMatchObject({ records: 0 });
        expect((await readTransitions(suite!.db, runId)).map((t) => t.to)).toEqual(['running', 'lost']);
      }
      // One relay still: the returned API holds the lease, the healed one (under its old id) does not take it.
      expect(await relayHolder()).toBe(returned.instanceId);
      apis = [returned, cutOff];
    } finally {
      if (!healed) await cutOffHost.heal();
    }
  }, 300_000);

  it('a worker host that crashes mid-run leaves no run unfinished: the other workers finish each exactly once', async () => {
    const info = webhookPayload('pull_request', 1);
    const puts = await Promise.all(Array.from({ length: 16 }, (_, i) => put(apis[i % 2]!, 'mh-worker', info)));
    const runIds = puts.map((p) => p.runId);

    // The first worker host seen running one of them crashes.
    const victim = await workerRunningOneOf(runIds);
    const killed = await net.host(victim).crash();
    expect(killed).toContain(workers.get(victim)!.pid);
    // What the dead worker had finished before it died is its own; everything else is not.
    await settledFrom(net.host(victim).address);
    const unfinishedAtCrash = await unfinishedNow(runIds);

    await waitForStatuses(runIds, 'succeeded', 120_000);
    let takenOver = 0;
    for (const { runId, resourceId } of puts) {
      const claims = await readClaims(suite!.db, runId);
      if (unfinishedAtCrash.has(runId)) {
        expect(workerHost(claims.at(-1)!), `run ${runId} was finished by a live worker (claims: ${claims.join(', ')})`).not.toBe(victim);
        if (claims.some((claim) => workerHost(claim) === victim)) takenOver += 1;
      }
      expect((await readTransitions(suite!.db, runId)).filter((t) => t.to === 'succeeded')).toHaveLength(1);
      expect(await countCommits(suite!.db, runId)).toBe(1);
      expect(await storedRecords(suite!.db, resourceId)).toEqual(expectedRecords(info));
    }
    expect(takenOver, `runs the crashed ${victim} was running, finished by another worker`).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it('a worker host cut off mid-run: another worker takes its jobs over; healed, its late writes change nothing', async () => {
    const info = webhookPayload('pull_request', 0);
    const puts = await Promise.all(Array.from({ length: 8 }, (_, i) => put(apis[i % 2]!, 'mh-worker-part', info)));
    const runIds = puts.map((p) => p.runId);

    const victim = await workerRunningOneOf(runIds);
    const victimHost = net.host(victim);
    const victimWorker = workers.get(victim)!;
    await victimHost.partition();
    await settledFrom(victimHost.address);
    const unfinishedAtPartition = await unfinishedNow(runIds);
    let healed = false;
    try {
      // Its locks expire unrenewed; the other worker's stalled-job check takes the jobs over.
      await waitForStatuses(runIds, 'succeeded', 120_000);
      const takenOver: string[] = [];
      for (const runId of unfinishedAtPartition) {
        const claims = await readClaims(suite!.db, runId);
        expect(workerHost(claims.at(-1)!), `run ${runId} was finished by a worker on the network (claims: ${claims.join(', ')})`).not.toBe(victim);
        if (claims.some((claim) => workerHost(claim) === victim)) takenOver.push(runId);
      }
      expect(takenOver.length, `runs the cut-off ${victim} was running, finished by another worker`).toBeGreaterThanOrEqual(1);
      expect(await victimHost.pids()).toContain(victimWorker.pid);

      const healMark = victimWorker.lines.length;
      await victimHost.heal();
      healed = true;
      // Back on the network, the cut-off worker gets to each run it held (a fenced commit: lease lost,
      // or a failed attempt), and nothing it does changes the outcome.
      const mentions = (id: string) => victimWorker.lines.slice(healMark).filter((line) => line.runId === id || line.jobId === id);
      await waitFor(`${victim} to act on the runs taken from it`, () => (takenOver.every((id) => mentions(id).length > 0) ? true : undefined), {
        timeoutMs: 120_000,
        intervalMs: 250,
        describeLast: () => victimWorker.output(20),
      });
      for (const { runId, resourceId } of puts) {
        expect((await findEtlRun(suite!.db, runId))?.status).toBe('succeeded');
        expect((await readTransitions(suite!.db, runId)).filter((t) => t.to === 'succeeded')).toHaveLength(1);
        expect(await countCommits(suite!.db, runId)).toBe(1);
        expect(await storedRecords(suite!.db, resourceId)).toEqual(expectedRecords(info));
      }
    } finally {
      if (!healed) await victimHost.heal();
    }
  }, 300_000);
});
