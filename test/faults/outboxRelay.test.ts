// Issue #9, "What must hold" 2: an outbox relay that only publishes what was never published. With
// Redis up and the relay active during a load, no job is replaced and no run executes twice (the
// old relay read a run `queued`, found its job completed by a worker that had finished meanwhile,
// and replaced it: 36 of 659 runs ran twice). Behind a backlog larger than a relay page, a run
// accepted while Redis was down and a run whose job vanished in a Redis restart are both relayed
// within two passes, and the jobs of the backlog stay as they were (the old relay re-checked the
// oldest 500 runs forever).
import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource } from '../support/apiClient.ts';
import type { ServiceLine, SpawnedService } from '../support/spawnService.ts';
import { createFaultSuite, waitForAllRunsFinished, type FaultApi, type FaultSuite } from '../support/faultSuite.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.ts';
import { randomSuffix, uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

/** How many times the worker logged processing each run (`etl run processed`, one line per execution). */
function executionsPerRun(worker: SpawnedService): Map<string, ServiceLine[]> {
  const executions = new Map<string, ServiceLine[]>();
  for (const line of worker.lines) {
    if (line.msg !== 'etl run processed' || typeof line.runId !== 'string') continue;
    executions.set(line.runId, [...(executions.get(line.runId) ?? []), line]);
  }
  return executions;
}

describe('the outbox relay under load, with Redis up', () => {
  const PUTS = 2000;
  let suite: FaultSuite;
  let api: FaultApi;
  let worker: SpawnedService;

  beforeAll(async () => {
    suite = await createFaultSuite('relay_load');
    [api, worker] = await Promise.all([
      // A relay that is active during the load: it looks every 100 ms at runs older than 200 ms.
      // Completed jobs are kept (the producer sets that per job), so every job can be inspected after.
      suite.startApi({
        LOG_LEVEL: 'debug', // the relay logs each pass at debug
        OUTBOX_RELAY_INTERVAL_MS: '100',
        OUTBOX_RELAY_AFTER_MS: '200',
        OUTBOX_RELAY_VANISHED_AFTER_MS: '1000',
        JOB_KEEP_COMPLETED_COUNT: '10000',
      }),
      // A busy worker: every run takes a little while, so runs wait, and finish while the relay looks.
      suite.startWorker({ ETL_TEST_ENABLE: 'true', ETL_TEST_DELAY_MS: '5', WORKER_CONCURRENCY: '8' }),
    ]);
  });

  afterAll(async () => {
    await suite?.close();
  });

  it(`${PUTS} queue-lane PUTs: every run executes exactly once, its one job never replaced, and the relay republishes nothing`, async () => {
    const ids = Array.from({ length: PUTS }, (_, i) => uniqueResourceId(`load${i}`));
    const loadStarted = Date.now();
    const runIds: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < ids.length) {
          const id = ids[next++]!;
          const response = await putResource(api.url, id, { info: { Load: id, Items: [1, 2, 3] } });
          expect(response.status, response.text).toBe(201);
          expect(response.json.run.dispatched, response.text).toBe(true);
          runIds.push(response.json.run.id as string);
        }
      }),
    );

    const runs = await waitForAllRunsFinished(suite.db, PUTS, { timeoutMs: 150_000, describe: () => suite.output() });
    const loadEnded = Date.now();
    expect(runs.filter((run) => run.status !== 'succeeded' || run.attempts !== 1).map((run) => [run.id, run.status, run.attempts])).toEqual([]);

    // Executions counted per run, from the worker's own log: one line per processor call.
    const executions = executionsPerRun(worker);
    const twice = [...executions].filter(([, lines]) => lines.length !== 1).map(([runId, lines]) => [runId, lines.map((l) => l.outcome)]);
    expect(twice).toEqual([]);
    expect(runIds.filter((runId) => !executions.has(runId))).toEqual([]);

    // One job per run, under the run id, completed by its first and only attempt with the run's real result.
    const jobs = await suite.queue().getJobs(['completed', 'failed', 'waiting', 'active', 'delayed'], 0, PUTS * 2);
    expect(jobs.map((job) => job.id).sort()).toEqual([...runIds].sort());
    expect(jobs.filter((job) => job.attemptsStarted !== 1 || job.finishedOn === undefined).map((job) => [job.id, job.attemptsStarted])).toEqual([]);
    expect(jobs.filter((job) => (job.returnvalue as { outcome?: string })?.outcome !== 'succeeded').map((job) => [job.id, job.returnvalue])).toEqual([]);

    // The relay ran during the load (passes as its leader) and found nothing to republish.
    const passes = api.lines.filter(
      (line) => line.msg === 'outbox relay pass' && line.leader === true && (line.time as number) > loadStarted && (line.time as number) < loadEnded,
    );
    expect(passes.length).toBeGreaterThanOrEqual(10);
    expect(api.lines.filter((line) => Array.isArray(line.vanished) || Array.isArray(line.replaced)).map((line) => line.text)).toEqual([]);
    expect(suite.errorLines()).toEqual([]);
  }, 240_000);
});

describe('the outbox relay behind a backlog larger than a page', () => {
  const BACKLOG = 5000;
  /** Long enough to put the backlog in place before S and V become due (checked below). */
  const AFTER_MS = 15_000;
  let redis: PrivateRedis;
  let suite: FaultSuite;
  let api: FaultApi;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    suite = await createFaultSuite('relay_backlog', { redisUrl: redis.url });
    api = await suite.startApi({
      LOG_LEVEL: 'debug',
      OUTBOX_RELAY_INTERVAL_MS: '1000',
      OUTBOX_RELAY_AFTER_MS: String(AFTER_MS),
      OUTBOX_RELAY_VANISHED_AFTER_MS: String(AFTER_MS),
      OUTBOX_RELAY_BATCH_SIZE: '500',
      REDIS_CONNECT_TIMEOUT_MS: '500',
      ENQUEUE_TIMEOUT_MS: '500',
    });
  });

  afterAll(async () => {
    if (redis && !redis.running) await redis.start().catch(() => {});
    await suite?.close();
    await redis?.close();
  });

  it(`a run accepted while Redis was down and a run whose job vanished in a Redis restart are relayed within two passes behind ${BACKLOG} waiting runs`, async () => {
    // V: published normally; its job is lost when Redis restarts empty.
    const vanishedPut = await putResource(api.url, uniqueResourceId('vanished'), { info: { Stranded: 'by a Redis restart' } });
    expect(vanishedPut.json.run.dispatched, vanishedPut.text).toBe(true);
    const vanishedId = vanishedPut.json.run.id as string;
    await waitFor('V to be recorded as published', async () => ((await publishedAt(vanishedId)) ? true : undefined));

    // S: accepted while Redis is down.
    await redis.stop();
    const strandedPut = await putResource(api.url, uniqueResourceId('stranded'), { info: { Stranded: 'accepted while Redis was down' } });
    expect(strandedPut.json.run).toMatchObject({ status: 'queued', dispatched: false });
    const strandedId = strandedPut.json.run.id as string;
    await redis.start();
    expect(await suite.queue().getJob(vanishedId)).toBeUndefined();

    // The backlog: runs older than both, published, their jobs waiting in Redis behind a paused worker
    // (none runs). Inserted directly, as thousands of PUTs would leave them: jobs first, then rows
    // (the relay finds no published run without its job meanwhile).
    const backlogIds = Array.from({ length: BACKLOG }, () => randomUUID());
    const backlogJobs: Job[] = [];
    for (let i = 0; i < BACKLOG; i += 1000) {
      const page = backlogIds.slice(i, i + 1000).map((id) => ({ name: 'etl-run', data: { runId: id }, opts: { jobId: id } }));
      backlogJobs.push(...(await suite.queue().addBulk(page)));
    }
    const tag = randomSuffix();
    const inserted = await suite.db.$executeRaw`
      WITH run AS (
        SELECT id::uuid AS id, 'backlog-' || ${tag} || '-' || n AS resource_id
        FROM unnest(${backlogIds}::text[]) WITH ORDINALITY AS u(id, n)
      ), resource AS (
        INSERT INTO resources (id, version) SELECT resource_id, 1 FROM run RETURNING id
      )
      INSERT INTO etl_runs (id, resource_id, resource_version, lane, info, queued_at, published_at)
      SELECT run.id, resource.id, 1, 'queue', jsonb_build_object('backlog', resource.id),
             CURRENT_TIMESTAMP - interval '10 minutes', CURRENT_TIMESTAMP - interval '10 minutes'
      FROM run JOIN resource ON resource.id = run.resource_id`;
    expect(inserted).toBe(BACKLOG);

    // Each becomes due for the relay at a known database time: S once it is AFTER_MS old, V once its
    // publication is AFTER_MS old.
    const [due] = await suite.db.$queryRaw<{ s: Date; v: Date; now: Date }[]>`
      SELECT (SELECT queued_at FROM etl_runs WHERE id = ${strandedId}::uuid) + ${`${AFTER_MS} milliseconds`}::interval AS s,
             (SELECT published_at FROM etl_runs WHERE id = ${vanishedId}::uuid) + ${`${AFTER_MS} milliseconds`}::interval AS v,
             CURRENT_TIMESTAMP AS now`;
    expect(due!.now.getTime(), 'the backlog must be in place before S and V are due').toBeLessThan(Math.min(due!.s.getTime(), due!.v.getTime()));
    expect(await suite.queue().count()).toBe(BACKLOG);
    const queue = suite.queue();
    const [jobS, jobV] = await waitFor(
      'the jobs of S and V in Redis',
      async () => {
        const jobs = [await queue.getJob(strandedId), await queue.getJob(vanishedId)];
        return jobs.every(Boolean) ? jobs : undefined;
      },
      { timeoutMs: AFTER_MS + 20_000, intervalMs: 100, describeLast: () => api.output(15) },
    );

    // Passes as the relay logs them (debug), each with its end time and duration. The pass that added
    // a job is the one running when BullMQ stamped it; it must be the first pass that started after
    // the run was due, or the one before (it was due by the time that pass read its page).
    const relayPasses = () =>
      api.lines
        .filter((line) => line.msg === 'outbox relay pass' && line.leader === true)
        .map((line) => ({ started: (line.time as number) - (line.ms as number), ended: line.time as number }));
    // The pass that added the later job may still be running (it logs when it ends).
    const passes = await waitFor('the pass that added the jobs to end', () => {
      const all = relayPasses();
      return all.some((pass) => pass.ended >= Math.max(jobS!.timestamp, jobV!.timestamp)) ? all : undefined;
    });
    const passesAfter = (dueAt: Date, addedAt: number) => {
      const firstDue = passes.findIndex((pass) => pass.started >= dueAt.getTime());
      const added = passes.findIndex((pass) => pass.started <= addedAt && addedAt <= pass.ended);
      return { firstDue, added, passes: added - firstDue + 1 };
    };
    const relayedS = passesAfter(due!.s, jobS!.timestamp);
    const relayedV = passesAfter(due!.v, jobV!.timestamp);
    expect(relayedS.added, `S's job was added by a pass\n${api.output(30)}`).toBeGreaterThanOrEqual(0);
    expect(relayedV.added, `V's job was added by a pass\n${api.output(30)}`).toBeGreaterThanOrEqual(0);
    expect(relayedS.passes, `passes until S was relayed: ${JSON.stringify(relayedS)}`).toBeLessThanOrEqual(2);
    expect(relayedV.passes, `passes until V was relayed: ${JSON.stringify(relayedV)}`).toBeLessThanOrEqual(2);
    // The relay logged V (and only V) as a run whose job vanished.
    expect(api.lines.filter((line) => Array.isArray(line.vanished)).map((line) => line.vanished)).toEqual([[vanishedId]]);

    // Exactly one more job each; every backlog job is the one added before, neither replaced nor doubled.
    const jobs = await queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed'], 0, BACKLOG + 100);
    expect(jobs.map((job) => job.id).sort()).toEqual([...backlogIds, strandedId, vanishedId].sort());
    const addedAt = new Map(backlogJobs.map((job) => [job.id, job.timestamp]));
    expect(jobs.filter((job) => addedAt.has(job.id!) && addedAt.get(job.id!) !== job.timestamp).map((job) => job.id)).toEqual([]);
  }, 180_000);

  async function publishedAt(runId: string): Promise<Date | null> {
    const [row] = await suite.db.$queryRaw<{ published_at: Date | null }[]>`SELECT published_at FROM etl_runs WHERE id = ${runId}::uuid`;
    return row?.published_at ?? null;
  }
});
