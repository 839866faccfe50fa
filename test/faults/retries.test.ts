// Issue #4, "Retries and dead letters": attempts and exponential backoff come from config; the optional
// enrichment step (an external HTTP service, here a server this test runs) has a timeout and its
// failures retry; a run that exhausts its attempts is `failed` with its last error, listed by
// `GET /etl-runs?status=failed` and retried by `POST /etl-runs/:id/retry` (409 when neither failed nor lost); and
// errors retrying cannot fix (invalid job payload, missing run) fail at once (UnrecoverableError).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource, request } from '../support/apiClient.ts';
import { waitForRun } from '../support/e2eSuite.ts';
import { startEnrichmentServer, withEnrichment, DEFAULT_ENRICHMENT, type EnrichmentServer } from '../support/enrichmentServer.ts';
import { essence, expectedRecords } from '../support/expectedRecords.ts';
import { createFaultSuite, type FaultApi, type FaultSuite } from '../support/faultSuite.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { readContextRecords, uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

describe('retries, dead letters and the enrichment step', () => {
  let suite: FaultSuite;
  let enricher: EnrichmentServer;
  /** Jobs of its runs get 5 attempts. */
  let api5: FaultApi;
  /** Jobs of its runs get 2 attempts. */
  let api2: FaultApi;
  let worker: SpawnedService;

  /** The job once it reached `state`, read after it got there (a job read earlier has stale fields). */
  const jobIn = (jobId: string, state: 'completed' | 'failed') =>
    waitFor(
      `job ${jobId} ${state}`,
      async () => ((await suite.queue().getJobState(jobId)) === state ? suite.queue().getJob(jobId) : undefined),
      { timeoutMs: 30_000, describeLast: () => suite.output() },
    );

  /** The errors of a run's failed attempts that were retried, as a worker logged them. */
  const attemptErrors = (runId: string, by: SpawnedService = worker): string[] =>
    by.lines
      .filter((line) => line.runId === runId && line.msg === 'etl run attempt failed; will retry')
      .map((line) => (line.err as { message: string }).message);

  beforeAll(async () => {
    enricher = await startEnrichmentServer();
    suite = await createFaultSuite('retries');
    [api5, api2, worker] = await Promise.all([
      suite.startApi({ JOB_ATTEMPTS: '5', JOB_BACKOFF_MS: '100' }),
      suite.startApi({ JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '100' }),
      // A generous timeout: on a loaded machine a cold first call may take longer than the timeout test's.
      suite.startWorker({ ENRICHMENT_URL: enricher.url, ENRICHMENT_TIMEOUT_MS: '10000' }),
    ]);
  });

  afterAll(async () => {
    await suite?.close();
    await enricher?.close();
  });

  it('retries a run whose enrichment answers 500 twice, with backoff, until it succeeds with the enrichment records', async () => {
    const id = uniqueResourceId('retry-500');
    enricher.script(id, (call) => (call <= 2 ? { status: 500 } : { status: 200, body: DEFAULT_ENRICHMENT }));
    const info = { Order: { Id: 7, Total: '12.50' } };
    const put = await putResource(api5.url, id, { info });
    const runId = put.json.run.id as string;

    const run = await waitForRun(suite.db, runId, 'succeeded', (r) => r.status === 'succeeded', { timeoutMs: 30_000 });

    expect(run).toMatchObject({ attempts: 3, error: null });
    expect(enricher.callsFor(id)).toBe(3);
    const records = essence(await readContextRecords(suite.db, id));
    expect(records).toEqual(withEnrichment(expectedRecords(info)));
    expect(records.filter((r) => r.key.startsWith('@enrichment.')).length).toBeGreaterThan(0);
    const job = await jobIn(runId, 'completed');
    expect(job.attemptsMade).toBe(3);
    expect(job.opts).toMatchObject({ attempts: 5, backoff: { type: 'exponential', delay: 100 } });
    expect(attemptErrors(runId)).toEqual(['enrichment service answered 500', 'enrichment service answered 500']);
  });

  it('fails a run that exhausts its attempts with its last error, lists it as failed, and retries it on request', async () => {
    const id = uniqueResourceId('dead-letter');
    let healthy = false;
    enricher.script(id, () => (healthy ? { status: 200, body: { Recovered: true } } : { status: 500 }));
    const info = { Dead: { Letter: true } };
    const put = await putResource(api2.url, id, { info });
    const runId = put.json.run.id as string;

    const failed = await waitForRun(suite.db, runId, 'failed', (r) => r.status === 'failed', { timeoutMs: 30_000 });
    expect(failed).toMatchObject({ attempts: 2, error: 'enrichment service answered 500', recordCount: null });
    expect(failed.finishedAt).toBeInstanceOf(Date);
    expect(enricher.callsFor(id)).toBe(2);
    const deadJob = await jobIn(runId, 'failed');
    expect(deadJob).toMatchObject({ attemptsMade: 2, failedReason: 'enrichment service answered 500' });
    expect(await readContextRecords(suite.db, id)).toEqual([]);

    const list = await request(api5.url, 'GET', '/etl-runs?status=failed');
    expect(list.status).toBe(200);
    expect(list.json.runs).toEqual([expect.objectContaining({ id: runId, status: 'failed', error: 'enrichment service answered 500' })]);

    healthy = true;
    const retry = await request(api2.url, 'POST', `/etl-runs/${runId}/retry`);
    expect(retry.status, retry.text).toBe(202);
    expect(retry.json).toMatchObject({ id: runId, status: 'queued', dispatched: true });
    expect(retry.headers.get('location')).toBe(`/etl-runs/${runId}`);

    const run = await waitForRun(suite.db, runId, 'succeeded after the retry', (r) => r.status === 'succeeded', { timeoutMs: 30_000 });
    expect(run).toMatchObject({ attempts: 3, error: null });
    expect(essence(await readContextRecords(suite.db, id))).toEqual(withEnrichment(expectedRecords(info), { Recovered: true }));
    expect((await request(api5.url, 'GET', '/etl-runs?status=failed')).json.runs).toEqual([]);

    const again = await request(api5.url, 'POST', `/etl-runs/${runId}/retry`);
    expect({ status: again.status, code: again.json?.error?.code }).toEqual({ status: 409, code: 'conflict' });
    for (const unknown of [randomUUID(), 'not-a-run-id']) {
      const missing = await request(api5.url, 'POST', `/etl-runs/${unknown}/retry`);
      expect({ status: missing.status, code: missing.json?.error?.code }, unknown).toEqual({ status: 404, code: 'not_found' });
    }
    expect((await suite.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM etl_runs WHERE resource_id = ${id}`)[0]?.n).toBe(1);
  });

  it('fails a job with an invalid payload, or for a run that does not exist, at once: one attempt of five', async () => {
    const queue = suite.queue();
    const options = { attempts: 5, backoff: { type: 'exponential', delay: 100 } };
    const invalid = await queue.add('etl-run', { runId: 'not-a-uuid' }, { ...options, jobId: `invalid-${randomUUID()}` });
    const missingRunId = randomUUID();
    const missing = await queue.add('etl-run', { runId: missingRunId }, { ...options, jobId: missingRunId });

    const invalidDone = await jobIn(invalid.id!, 'failed');
    const missingDone = await jobIn(missing.id!, 'failed');

    expect(invalidDone.attemptsMade).toBe(1);
    expect(invalidDone.failedReason).toMatch(/^invalid etl-run payload: /);
    expect(missingDone.attemptsMade).toBe(1);
    expect(missingDone.failedReason).toBe(`run ${missingRunId} does not exist`);
    expect((await suite.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM etl_runs WHERE id = ${missingRunId}::uuid`)[0]?.n).toBe(0);
  });

  it('retries an enrichment call that times out (the service never answers) with a timeout error', async () => {
    // The only worker now is one whose enrichment calls time out after 300 ms.
    expect(await worker.stop()).toEqual({ code: 0, signal: null });
    const impatient = await suite.startWorker({ ENRICHMENT_URL: enricher.url, ENRICHMENT_TIMEOUT_MS: '300' });
    const id = uniqueResourceId('retry-timeout');
    enricher.script(id, (call) => (call <= 2 ? 'never' : { status: 200, body: DEFAULT_ENRICHMENT }));
    const info = { Slow: 'service' };
    const put = await putResource(api5.url, id, { info });
    const runId = put.json.run.id as string;

    const run = await waitForRun(suite.db, runId, 'succeeded', (r) => r.status === 'succeeded', { timeoutMs: 30_000 });

    // Two calls never answered; a loaded machine may let an answered one time out too, never fewer.
    const errors = attemptErrors(runId, impatient);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(new Set(errors)).toEqual(new Set(['enrichment request failed: timed out after 300 ms']));
    expect(run.attempts).toBe(errors.length + 1);
    expect(enricher.callsFor(id)).toBe(run.attempts);
    expect((await jobIn(runId, 'completed')).attemptsMade).toBe(run.attempts);
    expect(essence(await readContextRecords(suite.db, id))).toEqual(withEnrichment(expectedRecords(info)));
  });
});
