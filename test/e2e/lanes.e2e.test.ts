// Issue #3, lanes: the API and the worker run as separate OS processes, against the real PostgreSQL
// and Redis. Every lane runs the same ETL; they differ only in where it runs and what the request
// waits for.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { findEtlRun } from '@tasklane/db';
import { transformInfoJson } from '@tasklane/etl';
import { createQueues, createRedisConnection } from '@tasklane/queue';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../apps/api/src/createApp.ts';
import { createInProcessExecutor } from '../../apps/api/src/lanes/createInProcessExecutor.ts';
import { createInProcessLane } from '../../apps/api/src/lanes/createInProcessLane.ts';
import { createNoneLane } from '../../apps/api/src/lanes/createNoneLane.ts';
import { createQueueLane } from '../../apps/api/src/lanes/createQueueLane.ts';
import { request, resourcePath, type ApiResponse } from '../support/apiClient.ts';
import { underContract } from '../support/apiContract.ts';
import { createE2eSuite, isFinished, storedRecords, waitForRun, type E2eSuite, type SpawnedApi } from '../support/e2eSuite.ts';
import { expectedRecords } from '../support/expectedRecords.ts';
import { heavyInfo, webhookPayload } from '../support/laneFixtures.ts';
import { countRows, uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';
import { testRedisSettings } from '../support/testQueue.ts';

type LaneName = 'none' | 'inline' | 'await' | 'thread' | 'queue';
const ETL_LANES = ['inline', 'await', 'thread', 'queue'] as const;
const ALL_LANES: readonly LaneName[] = ['none', 'inline', 'await', 'thread', 'queue'];
const NO_SUCH_RUN = '/etl-runs/00000000-0000-4000-8000-000000000000';

describe('ETL lanes, with the API and the worker as separate processes', () => {
  let suite: E2eSuite;
  /** API with every lane allowed; quick ETL. */
  let api: SpawnedApi;
  /** API whose every run first waits ETL_TEST_DELAY_MS (the test-only slow step). */
  let slowApi: SpawnedApi;
  const SLOW_DELAY_MS = 2500;
  /** The slow API's IN_PROCESS_CONCURRENCY. */
  const SLOW_CONCURRENCY = 8;
  /** Every run this suite created, for the list and stats checks. */
  const created: { id: string; lane: string; resourceId: string }[] = [];

  /** `PUT /resources/:id` with `info`, choosing the lane by `?lane=` (or by headers the caller passes). */
  async function put(
    baseUrl: string,
    label: string,
    info: unknown,
    options: { lane?: string; headers?: Record<string, string>; resourceId?: string } = {},
  ): Promise<ApiResponse & { resourceId: string }> {
    const resourceId = options.resourceId ?? uniqueResourceId(label);
    const query = options.lane === undefined ? '' : `?lane=${encodeURIComponent(options.lane)}`;
    const response = await request(baseUrl, 'PUT', `${resourcePath(resourceId)}${query}`, {
      body: JSON.stringify({ info }),
      headers: options.headers,
    });
    if (response.json?.run?.id) created.push({ id: response.json.run.id, lane: response.json.run.lane, resourceId });
    return Object.assign(response, { resourceId });
  }

  beforeAll(async () => {
    suite = await createE2eSuite('lanes_e2e');
    [api, slowApi] = await Promise.all([
      suite.startApi({ ETL_LANE: 'queue', THREAD_POOL_SIZE: '2' }),
      suite.startApi({
        ETL_LANE: 'inline',
        ETL_TEST_ENABLE: 'true',
        ETL_TEST_DELAY_MS: String(SLOW_DELAY_MS),
        IN_PROCESS_CONCURRENCY: String(SLOW_CONCURRENCY),
        // One transform thread on this 2-core machine: the event loop keeps a core of its own.
        THREAD_POOL_SIZE: '1',
      }),
      suite.startWorker(),
    ]);
  });

  afterAll(async () => {
    await suite?.close();
  });

  it('inline, await, thread and queue write identical context records for the same webhook payload, those transformInfo gives', async () => {
    const info = webhookPayload('pull_request');
    const responses = await Promise.all(ETL_LANES.map((lane) => put(api.url, `same-${lane}`, info, { lane })));
    for (const [i, response] of responses.entries()) {
      expect({ lane: ETL_LANES[i], status: response.status }).toEqual({ lane: ETL_LANES[i], status: 201 });
      expect(response.json.run.lane).toBe(ETL_LANES[i]);
    }

    const runs = await Promise.all(responses.map((r) => waitForRun(suite.db, r.json.run.id, 'to finish', isFinished)));
    const records = await Promise.all(responses.map((r) => storedRecords(suite.db, r.resourceId)));

    for (const [i, run] of runs.entries()) {
      expect({ lane: run.lane, status: run.status, error: run.error }).toEqual({ lane: ETL_LANES[i], status: 'succeeded', error: null });
      expect(run.recordCount).toBe(records[i]!.length);
      // Every run records when it was queued, started and finished, in that order.
      expect(run.startedAt!.getTime()).toBeGreaterThanOrEqual(run.queuedAt.getTime());
      expect(run.finishedAt!.getTime()).toBeGreaterThanOrEqual(run.startedAt!.getTime());
    }
    expect(records[0]!.length).toBeGreaterThan(300);
    expect(new Set(records[0]!.map((r) => r.valueType))).toEqual(new Set(['string', 'integer', 'boolean', 'timestamp']));
    expect(records[0]).toEqual(expectedRecords(info));
    for (const [i, lane] of ETL_LANES.entries()) expect({ lane, records: records[i] }).toEqual({ lane, records: records[0] });
  });

  it('the none lane commits the write, records the run skipped and runs no ETL', async () => {
    const response = await put(api.url, 'none', webhookPayload('push'), { lane: 'none' });

    expect(response.status).toBe(201);
    expect(response.json.run).toMatchObject({ lane: 'none', status: 'skipped', startedAt: null });
    const run = await request(api.url, 'GET', `/etl-runs/${response.json.run.id}`);
    expect(run.json).toMatchObject({ lane: 'none', status: 'skipped', attempts: 0, recordCount: null, startedAt: null });
    expect(run.json.finishedAt).not.toBeNull();
    expect(await countRows(suite.db, response.resourceId)).toEqual({ resources: 1, runs: 1, records: 0, contextVersions: 0 });
  });

  it('the Tasklane-Lane header picks the lane, and ?lane= wins over it', async () => {
    const info = { Title: 'by header', Count: '3' };
    const byHeader = await put(api.url, 'header', info, { headers: { 'Tasklane-Lane': 'inline' } });
    const both = await put(api.url, 'header-query', info, { lane: 'thread', headers: { 'Tasklane-Lane': 'inline' } });
    const neither = await put(api.url, 'default-lane', info);

    expect([byHeader.json.run.lane, both.json.run.lane, neither.json.run.lane]).toEqual(['inline', 'thread', 'queue']);
    for (const response of [byHeader, both, neither]) {
      const run = await waitForRun(suite.db, response.json.run.id, 'to finish', isFinished);
      expect(run.status).toBe('succeeded');
      expect(await storedRecords(suite.db, response.resourceId)).toEqual(expectedRecords(info));
    }
  });

  it('a lane the API does not know is a 422 naming the allowed lanes, and nothing is written', async () => {
    const byQuery = await put(api.url, 'unknown-lane', { a: 1 }, { lane: 'carrier-pigeon' });
    const byHeader = await put(api.url, 'unknown-lane', { a: 1 }, { headers: { 'Tasklane-Lane': 'carrier-pigeon' } });

    for (const response of [byQuery, byHeader]) {
      expect(response.status).toBe(422);
      expect(response.json.error).toMatchObject({ code: 'validation_failed', details: { lane: 'carrier-pigeon' } });
      expect([...response.json.error.details.allowed].sort()).toEqual([...ALL_LANES].sort());
      expect(response.json.error.message).toContain('carrier-pigeon');
      expect(await countRows(suite.db, response.resourceId)).toEqual({ resources: 0, runs: 0, records: 0, contextVersions: 0 });
    }
  });

  it('a lane left out of ETL_LANES_ALLOWED is a 422 naming the allowed ones; an allowed one runs', async () => {
    // createApp in this process with ETL_LANES_ALLOWED=queue,inline: cheaper than a third API process.
    const logger = pino({ level: 'silent' });
    const redis = createRedisConnection(testRedisSettings(), 'producer');
    const queues = createQueues(redis, {
      prefix: suite.prefix,
      jobs: { attempts: 1, backoffMs: 1000, keepCompleted: { count: 10, ageSeconds: 60 }, keepFailed: { count: 10, ageSeconds: 60 } },
    });
    const executor = createInProcessExecutor({ db: suite.db, logger, instance: { id: 'lanes-e2e-in-process' }, concurrency: 1 });
    const inProcess = (name: 'inline' | 'await' | 'thread') =>
      createInProcessLane({ name, executor, transform: transformInfoJson, instance: { id: 'lanes-e2e-in-process' } });
    const app = createApp({
      db: suite.db,
      logger,
      defaultLane: createQueueLane({ db: suite.db, queues, enqueueTimeoutMs: 1000, logger }),
      otherLanes: [inProcess('inline'), inProcess('await'), inProcess('thread'), createNoneLane()],
      allowedLanes: ['queue', 'inline'],
      http: { bodyLimitBytes: 1024 * 1024, publicUrl: undefined },
    });
    const server: Server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    underContract(baseUrl);
    try {
      for (const lane of ['thread', 'await', 'none']) {
        const response = await put(baseUrl, `not-allowed-${lane}`, { a: 1 }, { lane });
        expect({ lane, status: response.status }).toEqual({ lane, status: 422 });
        expect(response.json.error).toMatchObject({ code: 'validation_failed', details: { lane, allowed: ['queue', 'inline'] } });
        expect(await countRows(suite.db, response.resourceId)).toMatchObject({ resources: 0, runs: 0 });
      }
      const byHeader = await put(baseUrl, 'not-allowed-header', { a: 1 }, { headers: { 'Tasklane-Lane': 'thread' } });
      expect(byHeader.status).toBe(422);
      expect(byHeader.json.error.details.allowed).toEqual(['queue', 'inline']);

      const allowed = await put(baseUrl, 'allowed-inline', { a: 1 }, { lane: 'inline' });
      expect(allowed.status).toBe(201);
      expect(allowed.json.run.lane).toBe('inline');
      await waitForRun(suite.db, allowed.json.run.id, 'to succeed', (run) => run.status === 'succeeded');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queues.close();
      await redis.quit();
    }
  });

  it('await: a run that finishes within Prefer: wait answers 201/200 with the succeeded run and Preference-Applied', async () => {
    const info = webhookPayload('push');
    const first = await put(api.url, 'await-quick', info, { lane: 'await', headers: { Prefer: 'wait=5' } });

    expect(first.status).toBe(201);
    expect(first.headers.get('preference-applied')).toBe('wait=5');
    expect(first.json.run).toMatchObject({ lane: 'await', status: 'succeeded', recordCount: expectedRecords(info).length });
    expect(first.json.run.finishedAt).not.toBeNull();
    // The records are written when the response says succeeded: no polling needed.
    expect(await storedRecords(suite.db, first.resourceId)).toEqual(expectedRecords(info));

    const second = await put(api.url, 'await-quick', { ...info, ref: 'refs/heads/other' }, { lane: 'await', resourceId: first.resourceId });
    expect(second.status).toBe(200);
    expect(second.headers.get('preference-applied')).toBeNull(); // no Prefer sent: the default wait, nothing to apply
    expect(second.json.run).toMatchObject({ status: 'succeeded', resourceVersion: 2 });
  });

  it('await: a run still going at the Prefer: wait deadline answers 202 and the run carries on to succeed', async () => {
    const info = webhookPayload('push', 1);
    const response = await put(slowApi.url, 'await-slow', info, { lane: 'await', headers: { Prefer: 'wait=0.2' } });

    expect(response.status).toBe(202);
    expect(response.headers.get('preference-applied')).toBe('wait=0.2');
    expect(response.json.run.lane).toBe('await');
    expect(['queued', 'running']).toContain(response.json.run.status);
    expect(response.json.run.finishedAt).toBeNull();

    const run = await waitForRun(suite.db, response.json.run.id, 'to finish', isFinished);
    expect(run.status).toBe('succeeded');
    expect(await storedRecords(suite.db, response.resourceId)).toEqual(expectedRecords(info));
  });

  it('in-process runs beyond IN_PROCESS_CONCURRENCY wait in memory, queued, until a slot frees up', async () => {
    const responses = await Promise.all(
      Array.from({ length: SLOW_CONCURRENCY + 2 }, (_, n) => put(slowApi.url, 'bounded', { n }, { lane: 'inline' })),
    );
    const runIds = responses.map((r) => r.json.run.id as string);
    let seen: string[] = [];
    await waitFor(
      `${SLOW_CONCURRENCY} runs running and 2 queued`,
      async () => {
        seen = (await Promise.all(runIds.map((id) => findEtlRun(suite.db, id)))).map((run) => run!.status).sort();
        return seen.filter((status) => status === 'running').length === SLOW_CONCURRENCY ? seen : undefined;
      },
      { timeoutMs: SLOW_DELAY_MS, intervalMs: 20, describeLast: () => seen.join(', ') },
    );
    expect(seen.filter((status) => status === 'queued')).toEqual(['queued', 'queued']);

    const runs = await Promise.all(runIds.map((id) => waitForRun(suite.db, id, 'to finish', isFinished)));
    expect(runs.map((run) => run.status)).toEqual(runIds.map(() => 'succeeded'));
  });

  it('heavy transforms stall the API for other requests in the inline lane, not in the thread lane', async () => {
    /**
     * On the slow API: fills every in-process slot with small "gate" runs, sends `count` heavy PUTs
     * (whose runs then wait in memory, queued), and times a cheap GET over and over until every heavy
     * run finished. The gates make the heavy runs start together when the slots free up, so in the
     * inline lane their transforms run back to back on the event loop; and the PUTs, whose JSON
     * parsing costs the same in both lanes, are answered before any heavy transform starts, so the
     * GETs time the transforms, not the request handling.
     */
    async function cheapGetLatencies(lane: 'inline' | 'thread', count: number): Promise<number[]> {
      const gates = await Promise.all(Array.from({ length: SLOW_CONCURRENCY }, () => put(slowApi.url, `gate-${lane}`, { gate: 1 }, { lane })));
      const heavy = await Promise.all(
        Array.from({ length: count }, (_, i) => put(slowApi.url, `heavy-${lane}`, heavyInfo(9_000, i), { lane })),
      );
      expect([...gates, ...heavy].map((r) => r.status)).toEqual([...gates, ...heavy].map(() => 201));
      const runIds = heavy.map((r) => r.json.run.id as string);
      // Each heavy run sleeps SLOW_DELAY_MS once claimed, so none has transformed yet: the GETs below
      // time every transform.
      const heavyRuns = await Promise.all(runIds.map((id) => request(slowApi.url, 'GET', `/etl-runs/${id}`)));
      expect(heavyRuns.map((r) => r.json.status).filter((status) => status !== 'queued' && status !== 'running')).toEqual([]);

      let settled = false;
      const allFinished = Promise.all(
        runIds.map((id) => waitForRun(suite.db, id, 'to finish', isFinished, { timeoutMs: 30_000 })),
      ).finally(() => {
        settled = true;
      });
      const latencies: number[] = [];
      while (!settled) {
        const started = performance.now();
        const response = await request(slowApi.url, 'GET', NO_SUCH_RUN);
        latencies.push(performance.now() - started);
        expect(response.status).toBe(404);
        await sleep(5);
      }
      const runs = await allFinished;
      expect(runs.map((run) => [run.lane, run.status, run.recordCount])).toEqual(runs.map(() => [lane, 'succeeded', 9_000]));
      return latencies;
    }

    // Thread first: any JIT warm-up then favours the inline lane, never the claim under test.
    const thread = await cheapGetLatencies('thread', SLOW_CONCURRENCY);
    const inline = await cheapGetLatencies('inline', SLOW_CONCURRENCY);
    const summary = (values: number[]) => ({
      count: values.length,
      p90: Math.round(percentile(values, 0.9)),
      max: Math.round(Math.max(...values)),
    });

    expect(
      Math.max(...thread),
      `cheap GET latency (ms) while heavy runs execute: thread ${JSON.stringify(summary(thread))}, inline ${JSON.stringify(summary(inline))}`,
    ).toBeLessThan(Math.max(...inline));
  });

  it('GET /etl-runs?lane=inline&status=succeeded lists the inline runs, and its cursor walks every page', async () => {
    await Promise.all([1, 2, 3].map((n) => put(api.url, 'list-inline', { n }, { lane: 'inline' })));
    const inlineRuns = created.filter((run) => run.lane === 'inline');
    await Promise.all(inlineRuns.map((run) => waitForRun(suite.db, run.id, 'to finish', isFinished)));

    const seen: string[] = [];
    let path: string | null = '/etl-runs?lane=inline&status=succeeded&limit=2';
    for (let page = 0; path !== null && page < 50; page++) {
      const response = await request(api.url, 'GET', path);
      expect(response.status).toBe(200);
      for (const run of response.json.runs) expect(run).toMatchObject({ lane: 'inline', status: 'succeeded' });
      seen.push(...response.json.runs.map((run: { id: string }) => run.id));
      path = response.json.next;
    }

    expect(path).toBeNull();
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(inlineRuns.map((run) => run.id).sort());
  });

  it('GET /etl-runs/stats has, per lane used, the run counts and numeric p50/p95/p99 of lag, duration and total', async () => {
    await Promise.all(ALL_LANES.map((lane) => put(api.url, `stats-${lane}`, { lane }, { lane })));
    await Promise.all(created.map((run) => waitForRun(suite.db, run.id, 'to finish', isFinished)));
    const response = await request(api.url, 'GET', '/etl-runs/stats?windowSeconds=3600');

    expect(response.status).toBe(200);
    const byLane = new Map<string, any>(response.json.lanes.map((entry: { lane: string }) => [entry.lane, entry]));
    expect([...byLane.keys()].sort()).toEqual([...ALL_LANES].sort());
    for (const lane of ALL_LANES) {
      const entry = byLane.get(lane);
      const ours = created.filter((run) => run.lane === lane);
      expect({ lane, total: entry.total }).toEqual({ lane, total: ours.length });
      expect(entry.byStatus).toEqual(lane === 'none' ? { skipped: ours.length } : { succeeded: ours.length });
      const measured = lane === 'none' ? ['totalMs'] : ['lagMs', 'durationMs', 'totalMs'];
      for (const figure of measured) {
        const { p50, p95, p99 } = entry[figure];
        expect({ lane, figure, types: [typeof p50, typeof p95, typeof p99] }).toEqual({ lane, figure, types: ['number', 'number', 'number'] });
        expect(p50).toBeGreaterThanOrEqual(0);
        expect(p95).toBeGreaterThanOrEqual(p50);
        expect(p99).toBeGreaterThanOrEqual(p95);
      }
    }
  });
});

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}
