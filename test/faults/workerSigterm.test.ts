// Issue #4, "Connections and shutdown": on SIGTERM the worker stops taking jobs, lets active ones
// finish within a grace period, and never leaves a job stuck `active`. Here the job in flight then
// fails: once by its own error inside the grace period (the enrichment service answers 500), once
// by being cancelled when the grace period ends. Either way the worker exits 0, the failed attempt
// is recorded (run back to `queued` with the error, a retry pending), and a new worker finishes it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource } from '../support/apiClient.ts';
import { waitForRun } from '../support/e2eSuite.ts';
import { deferred, startEnrichmentServer, withEnrichment, type EnrichmentServer } from '../support/enrichmentServer.ts';
import { essence, expectedRecords } from '../support/expectedRecords.ts';
import { createFaultSuite, type Exit, type FaultApi, type FaultSuite } from '../support/faultSuite.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { readContextRecords, readRun, uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

const SHUTTING_DOWN = 'shutting down: no new jobs, finishing active ones';

describe('a worker SIGTERMed mid-job whose processor then fails', () => {
  let suite: FaultSuite;
  let api: FaultApi;
  let enricher: EnrichmentServer;

  /** Sends SIGTERM and waits (bounded) until the worker logged that it is shutting down. */
  async function sigterm(worker: SpawnedService): Promise<void> {
    process.kill(worker.pid, 'SIGTERM');
    await waitFor(`worker ${worker.pid} to start shutting down`, () => (worker.lines.some((l) => l.msg === SHUTTING_DOWN) ? true : undefined));
  }

  /** Waits (bounded, generously) for a process to exit. */
  async function exitOf(worker: SpawnedService): Promise<Exit> {
    let exit: Exit | undefined;
    void worker.exited.then((e) => (exit = e));
    return waitFor(`worker ${worker.pid} to exit`, () => exit, { timeoutMs: 30_000, describeLast: () => worker.output() });
  }

  /** The job of a run is no longer active: it waits for its retry (delayed by the backoff, or waiting). */
  async function expectRetryPending(runId: string, reason: RegExp): Promise<void> {
    const job = await suite.queue().getJob(runId);
    expect(['delayed', 'waiting']).toContain(await job?.getState());
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(reason);
    expect((await suite.queue().getJobCounts('active')).active).toBe(0);
  }

  beforeAll(async () => {
    enricher = await startEnrichmentServer();
    suite = await createFaultSuite('worker_sigterm');
    api = await suite.startApi({ JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '300' });
  });

  afterAll(async () => {
    await suite?.close();
    await enricher?.close();
  });

  it('fails within the grace period (enrichment answers 500): exit 0, run queued with the error, no job active, a new worker finishes it', async () => {
    const release = deferred();
    const id = uniqueResourceId('sigterm-500');
    enricher.script(id, async (call) => {
      if (call > 1) return { status: 200, body: { Checked: true } };
      await release.promise;
      return { status: 500 };
    });
    // The call is held until the test lets it go: a timeout far above that keeps its failure a 500.
    const worker = await suite.startWorker({ ENRICHMENT_URL: enricher.url, ENRICHMENT_TIMEOUT_MS: '60000', WORKER_SHUTDOWN_GRACE_MS: '30000' });
    const info = { Kind: 'sigterm', Items: [1, 2, 3] };
    const put = await putResource(api.url, id, { info });
    const runId = put.json.run.id as string;
    await waitFor('the enrichment call of the first attempt', () => (enricher.callsFor(id) === 1 ? true : undefined));

    await sigterm(worker);
    // Taken by nobody while the worker drains: it takes no new job after SIGTERM.
    const laterId = uniqueResourceId('sigterm-later');
    const later = await putResource(api.url, laterId, { info: { Later: true } });
    expect(later.json.run.dispatched).toBe(true);
    release.resolve();

    expect(await exitOf(worker)).toEqual({ code: 0, signal: null });
    expect(await readRun(suite.db, runId)).toMatchObject({ status: 'queued', attempts: 1, error: 'enrichment service answered 500' });
    await expectRetryPending(runId, /^enrichment service answered 500$/);
    expect(await readRun(suite.db, later.json.run.id)).toMatchObject({ status: 'queued', attempts: 0 });
    expect(await (await suite.queue().getJob(later.json.run.id))?.getState()).toBe('waiting');

    const next = await suite.startWorker({ ENRICHMENT_URL: enricher.url, ENRICHMENT_TIMEOUT_MS: '10000' });
    const run = await waitForRun(suite.db, runId, 'succeeded', (r) => r.status === 'succeeded', { timeoutMs: 30_000 });
    expect(run).toMatchObject({ attempts: 2, error: null });
    expect(essence(await readContextRecords(suite.db, id))).toEqual(withEnrichment(expectedRecords(info), { Checked: true }));
    await waitForRun(suite.db, later.json.run.id, 'succeeded', (r) => r.status === 'succeeded');
    // The run row commits before BullMQ moves its job to completed: wait for the queue to settle, then
    // nothing may be left active, waiting, delayed or failed.
    const settled = { active: 0, waiting: 0, delayed: 0, failed: 0 };
    let counts: Record<string, number> = {};
    await waitFor('every job of the queue completed', async () => {
      counts = await suite.queue().getJobCounts('active', 'waiting', 'delayed', 'failed');
      return Object.values(counts).every((n) => n === 0) ? true : undefined;
    }, { timeoutMs: 10_000, describeLast: () => JSON.stringify(counts) });
    expect(counts).toEqual(settled);

    // The worker that finished it shuts down cleanly too, leaving the next test the only worker.
    await sigterm(next);
    expect(await exitOf(next)).toEqual({ code: 0, signal: null });
  });

  it('is cancelled when the grace period ends: exit 0, run queued with the cancellation, no job active, a new worker finishes it', async () => {
    const worker = await suite.startWorker({ ETL_TEST_ENABLE: 'true', ETL_TEST_DELAY_MS: '120000', WORKER_SHUTDOWN_GRACE_MS: '300' });
    const id = uniqueResourceId('sigterm-grace');
    const info = { Kind: 'grace', Long: { Running: 'job' } };
    const put = await putResource(api.url, id, { info });
    const runId = put.json.run.id as string;
    await waitForRun(suite.db, runId, 'claimed', (run) => run.status === 'running');

    await sigterm(worker);

    expect(await exitOf(worker)).toEqual({ code: 0, signal: null });
    expect(worker.lines.some((l) => l.msg === 'grace period over: cancelling active jobs')).toBe(true);
    expect(await readRun(suite.db, runId)).toMatchObject({ status: 'queued', attempts: 1, error: expect.stringMatching(/grace period over/) });
    await expectRetryPending(runId, /grace period over/);

    await suite.startWorker();
    const run = await waitForRun(suite.db, runId, 'succeeded', (r) => r.status === 'succeeded', { timeoutMs: 30_000 });
    expect(run).toMatchObject({ attempts: 2, error: null });
    expect(essence(await readContextRecords(suite.db, id))).toEqual(expectedRecords(info));
    expect(suite.errorLines()).toEqual([]);
  });
});
