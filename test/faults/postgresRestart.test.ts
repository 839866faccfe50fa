// Issue #9, "What must hold" 6 and the test "PostgreSQL restarted (fast and smart shutdown) under
// load": the API and the worker run as real processes against a PostgreSQL cluster of this file's own
// (never the shared one), which is shut down fast and restarted, then shut down smart (new sessions
// refused with 57P03 while old ones finish) and restarted, while a steady stream of queue-lane PUTs
// and GETs arrives. Every answer is a 2xx or a JSON 503 with Retry-After; every accepted run
// finishes `succeeded`; each run's BullMQ job ends `completed`; no job used up its attempts.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource, request, resourcePath, type ApiResponse } from '../support/apiClient.ts';
import { createFaultSuite, isAlive, readAllRuns, waitForAllRunsFinished, type FaultApi, type FaultSuite } from '../support/faultSuite.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../support/privatePostgres.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { uniqueResourceId } from '../support/testDb.ts';

/** Few attempts with a short backoff: on a worker that counts outage failures, a job burns them all in an outage. */
const JOB_ATTEMPTS = 3;
const JOBS_ENV = { JOB_ATTEMPTS: String(JOB_ATTEMPTS), JOB_BACKOFF_MS: '200', JOB_KEEP_COMPLETED_COUNT: '100000', JOB_KEEP_FAILED_COUNT: '100000' };

/** One answer the load got. */
interface Answer {
  phase: string;
  what: string;
  status: number;
  contentType: string;
  retryAfter: string | null;
  body: string;
}

/** Runs `workers` loops of PUT (a new resource, queue lane) → GET resource → GET run until stopped. */
function startLoad(apiUrl: string, workers: number) {
  const answers: Answer[] = [];
  const accepted: string[] = [];
  const acceptedResources: string[] = [];
  let phase = 'warm-up';
  let stopped = false;
  const record = (what: string, response: ApiResponse) =>
    answers.push({
      phase,
      what,
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      retryAfter: response.headers.get('retry-after'),
      body: response.text.slice(0, 300),
    });
  const loop = async (n: number) => {
    for (let i = 0; !stopped; i++) {
      const id = uniqueResourceId(`pgr${n}-${i}`);
      try {
        const put = await putResource(apiUrl, id, { info: { Loop: n, Step: i, Tags: ['a', 'b'], Nested: { Deep: i } } });
        record('PUT /resources/:id', put);
        const runId = put.status < 300 ? (put.json?.run?.id as string | undefined) : undefined;
        if (runId) {
          accepted.push(runId);
          acceptedResources.push(id);
        }
        // A resource whose PUT was refused does not exist: read one that does.
        const readId = runId ? id : acceptedResources[i % Math.max(1, acceptedResources.length)];
        if (readId) record('GET /resources/:id', await request(apiUrl, 'GET', resourcePath(readId)));
        const readRunId = runId ?? accepted[i % Math.max(1, accepted.length)];
        if (readRunId) record('GET /etl-runs/:id', await request(apiUrl, 'GET', `/etl-runs/${readRunId}`));
        record('GET /etl-runs', await request(apiUrl, 'GET', '/etl-runs?limit=5'));
      } catch (error) {
        answers.push({ phase, what: 'fetch', status: 0, contentType: '', retryAfter: null, body: String(error) });
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, n) => loop(n)));
  return {
    answers,
    accepted,
    /** `count` GETs of accepted runs at once: more than the connections the pool holds open, so new sessions are needed. */
    async burst(count: number) {
      const responses = await Promise.all(
        Array.from({ length: count }, (_, i) => request(apiUrl, 'GET', `/etl-runs/${accepted[i % accepted.length]}`).catch((error: unknown) => error)),
      );
      for (const response of responses) {
        if (response instanceof Error) answers.push({ phase, what: 'fetch', status: 0, contentType: '', retryAfter: null, body: String(response) });
        else record('burst GET /etl-runs/:id', response as ApiResponse);
      }
    },
    setPhase(next: string) {
      phase = next;
    },
    async stop() {
      stopped = true;
      await done;
    },
  };
}

describe('PostgreSQL restarted (fast and smart shutdown) under queue-lane load', () => {
  let postgres: PrivatePostgres;
  let suite: FaultSuite;
  let api: FaultApi;
  let worker: SpawnedService;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    suite = await createFaultSuite('pg_restart', { databaseServerUrl: postgres.url('postgres') });
    [api, worker] = await Promise.all([
      suite.startApi({ ...JOBS_ENV, OUTBOX_RELAY_INTERVAL_MS: '500', OUTBOX_RELAY_AFTER_MS: '2000' }),
      // A slow ETL (each run sleeps 300 ms after its claim) keeps a backlog of jobs, so the outage
      // reaches claims, commits and jobs waiting alike.
      suite.startWorker({ ...JOBS_ENV, WORKER_CONCURRENCY: '4', WORKER_DATABASE_RETRY_MAX_MS: '3000', ETL_TEST_ENABLE: 'true', ETL_TEST_DELAY_MS: '300' }),
    ]);
  });

  afterAll(async () => {
    if (postgres && !(await postgres.isRunning())) await postgres.start().catch(() => {});
    await suite?.close();
    await postgres?.close();
  });

  it('answers only 2xx or JSON 503 with Retry-After, finishes every accepted run, and leaves jobs and runs agreeing', async () => {
    const load = startLoad(api.url, 3);
    try {
      const answered = (count: number) => async () => {
        const target = load.answers.length + count;
        while (load.answers.length < target) await sleep(50);
      };
      await answered(30)();

      load.setPhase('fast shutdown');
      await postgres.stop('fast');
      await sleep(3000);
      load.setPhase('starting up');
      await postgres.start();
      load.setPhase('after fast restart');
      await answered(30)();

      // A smart shutdown refuses new sessions (57P03) and waits for the open ones to end; end it
      // with a fast one, as an operator would, and start again.
      load.setPhase('smart shutdown');
      await postgres.requestStop('smart');
      await sleep(500);
      await load.burst(20);
      await sleep(2000);
      await load.burst(20);
      load.setPhase('fast shutdown after smart');
      await postgres.stop('fast');
      await sleep(1000);
      load.setPhase('starting up again');
      await postgres.start();
      load.setPhase('after smart restart');
      await answered(30)();
    } finally {
      await load.stop();
    }

    const summary = new Map<string, number>();
    for (const a of load.answers) summary.set(`${a.phase} ${a.what} ${a.status}`, (summary.get(`${a.phase} ${a.what} ${a.status}`) ?? 0) + 1);
    const deferrals = worker.lines.filter((line) => line.msg === 'database unavailable: job deferred without spending an attempt').length;
    console.info(
      `answers by phase, request and status:\n${[...summary].map(([key, count]) => `  ${key}: ${count}`).join('\n')}\njobs deferred by the outage: ${deferrals}`,
    );

    const wrong = load.answers.filter(
      (a) =>
        !(a.status >= 200 && a.status < 300) &&
        !(a.status === 503 && /^application\/json/.test(a.contentType) && /^\d+$/.test(a.retryAfter ?? '') && /"code":"service_unavailable"/.test(a.body)),
    );
    const failures = api.lines.filter((line) => line.msg === 'request failed' && line.status !== 503).map((line) => line.text.slice(0, 1500));
    expect(wrong, `${wrong.length} of ${load.answers.length} answers were neither 2xx nor a JSON 503; the API logged:\n${failures.join('\n')}`).toEqual([]);
    expect(load.answers.filter((a) => a.status === 503).length, 'the outage was seen by the load').toBeGreaterThan(0);
    expect(worker.lines.some((line) => /database|ECONNREFUSED|57P0/i.test(line.text) && (line.level as number) >= 40), 'the outage was seen by the worker').toBe(true);

    // Every run in the database finishes `succeeded` (each PUT made a new resource: nothing to skip),
    // including any whose PUT committed but whose answer was a 503.
    const count = (await readAllRuns(suite.db)).length;
    const runs = await waitForAllRunsFinished(suite.db, count, { timeoutMs: 90_000, describe: () => suite.output(40) });
    expect(runs.filter((run) => run.status !== 'succeeded')).toEqual([]);
    const runIds = new Set(runs.map((run) => run.id));
    expect(load.accepted.filter((id) => !runIds.has(id))).toEqual([]);

    // Each run's job completed; no job failed or spent an attempt on the outage.
    const queue = suite.queue();
    const disagreeing: unknown[] = [];
    for (const run of runs) {
      const job = await queue.getJob(run.id);
      const state = job ? await job.getState() : 'missing';
      // One attempt each: the outage is the only failure here, and it spends none.
      if (state !== 'completed' || job?.attemptsMade !== 1) disagreeing.push({ runId: run.id, run: run.status, job: state, attemptsMade: job?.attemptsMade, failedReason: job?.failedReason });
    }
    expect(disagreeing).toEqual([]);
    expect(await queue.getJobCounts('failed', 'waiting', 'active', 'delayed')).toEqual({ failed: 0, waiting: 0, active: 0, delayed: 0 });
    expect([isAlive(api), isAlive(worker)]).toEqual([true, true]);
  }, 240_000);
});
