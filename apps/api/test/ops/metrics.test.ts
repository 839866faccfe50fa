// GET /metrics: Prometheus text with default process metrics, the HTTP histogram labelled by route
// pattern (never the raw path), method, status and lane, the ETL lag/duration histograms of runs
// finished in this process, queue depth by state, and runs waiting for the outbox relay.
import { transformInfoJson } from '@tasklane/etl';
import { createEtlRunMetrics, createMetricsRegistry, observeFinishedRuns } from '@tasklane/ops';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource, request } from '../../../../test/support/apiClient.ts';
import { deleteResources, readRuns, uniqueResourceId, trackedIds } from '../../../../test/support/testDb.ts';
import { waitFor } from '../../../../test/support/waitFor.ts';
import { createInProcessExecutor } from '../../src/lanes/createInProcessExecutor.ts';
import { createInProcessLane } from '../../src/lanes/createInProcessLane.ts';
import { closedPort, startOpsApp, type OpsApp } from './support/startOpsApp.ts';
import { samplesOf, sumOf } from './support/prometheusText.ts';

const HTTP = 'tasklane_http_request_duration_seconds_count';

describe('GET /metrics', () => {
  let app: OpsApp;
  const { ids, newId } = trackedIds();
  const scrape = async () => {
    const response = await request(app.baseUrl, 'GET', '/metrics');
    expect(response.status).toBe(200);
    return response.text;
  };

  beforeAll(async () => {
    const registry = createMetricsRegistry();
    app = await startOpsApp({
      metrics: { registry },
      allowedLanes: ['queue', 'inline', 'thread'],
      lanes: ({ db, logger }) => {
        const executor = createInProcessExecutor({
          db,
          logger,
          instance: { id: 'metrics-test' },
          concurrency: 2,
          onRunFinished: observeFinishedRuns({ db, metrics: createEtlRunMetrics(registry), logger }),
        });
        return [
          createInProcessLane({ name: 'inline', executor, transform: transformInfoJson, instance: { id: 'metrics-test' } }),
          // Stands in for a lane whose ETL fails: its transform throws.
          createInProcessLane({ name: 'thread', executor, transform: () => Promise.reject(new Error('transform exploded')), instance: { id: 'metrics-test' } }),
        ];
      },
    });
  });
  afterAll(async () => {
    if (!app) return;
    await deleteResources(app.db, ids);
    await app.close();
  });

  it('answers in Prometheus text format with the default process metrics', async () => {
    const response = await request(app.baseUrl, 'GET', '/metrics');
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(samplesOf(response.text, name).length, name).toBeGreaterThan(0);
    }
  });

  it('labels HTTP durations with the route pattern, method, status and lane, never the raw path', async () => {
    const id = newId('metrics-route');
    expect((await putResource(app.baseUrl, id, { info: { a: 1 } })).status).toBe(201);
    expect((await request(app.baseUrl, 'GET', `/resources/${id}/context`)).status).toBe(200);
    expect((await request(app.baseUrl, 'GET', `/no/such/${id}`)).status).toBe(404);
    const text = await scrape();

    expect(sumOf(text, HTTP, { method: 'PUT', route: '/resources/:id', status: '201', lane: 'queue' })).toBe(1);
    expect(sumOf(text, HTTP, { method: 'GET', route: '/resources/:id/context', status: '200', lane: '' })).toBe(1);
    expect(sumOf(text, HTTP, { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(text).not.toContain(id);
  });

  it('observes ETL lag and duration of in-process runs by lane and outcome once they finish', async () => {
    const ok = newId('metrics-etl-ok');
    const bad = newId('metrics-etl-bad');
    expect((await putResource(app.baseUrl, ok, { info: { a: 1 } }, { headers: { 'Tasklane-Lane': 'inline' } })).status).toBe(201);
    expect((await putResource(app.baseUrl, bad, { info: { a: 1 } }, { headers: { 'Tasklane-Lane': 'thread' } })).status).toBe(201);
    const text = await waitFor('both runs observed', async () => {
      const t = await scrape();
      return sumOf(t, 'tasklane_etl_run_duration_seconds_count') >= 2 ? t : undefined;
    });
    for (const name of ['tasklane_etl_run_lag_seconds_count', 'tasklane_etl_run_duration_seconds_count']) {
      expect(sumOf(text, name, { lane: 'inline', outcome: 'succeeded' }), name).toBe(1);
      expect(sumOf(text, name, { lane: 'thread', outcome: 'failed' }), name).toBe(1);
    }
    expect(samplesOf(text, 'tasklane_etl_run_duration_seconds_bucket', { lane: 'inline', outcome: 'succeeded', le: '+Inf' })[0]?.value).toBe(1);
    expect((await readRuns(app.db, bad))[0]?.status).toBe('failed');
  });

  it('reports queue depth by state, read from Redis at scrape time', async () => {
    const before = sumOf(await scrape(), 'tasklane_queue_jobs', { queue: 'etl-run', state: 'waiting' });
    expect((await putResource(app.baseUrl, newId('metrics-depth'), { info: { a: 1 } })).status).toBe(201);
    const text = await scrape();
    expect(sumOf(text, 'tasklane_queue_jobs', { queue: 'etl-run', state: 'waiting' })).toBe(before + 1);
    const states = samplesOf(text, 'tasklane_queue_jobs', { queue: 'etl-run' }).map((s) => s.labels.state).sort();
    expect(states).toEqual(['active', 'completed', 'delayed', 'failed', 'prioritized', 'waiting', 'waiting-children']);
  });

  it('keeps /metrics behind METRICS_TOKEN when one is configured', async () => {
    const guarded = await startOpsApp({ metrics: { token: 'metrics-token-0123456789' } });
    try {
      const refused = await request(guarded.baseUrl, 'GET', '/metrics');
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(refused.json.error.code).toBe('unauthorized');
      expect((await request(guarded.baseUrl, 'GET', '/metrics', { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
      expect((await request(guarded.baseUrl, 'GET', '/metrics', { headers: { Authorization: 'Bearer metrics-token-0123456789' } })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

describe('GET /metrics while Redis is unreachable', () => {
  let app: OpsApp;
  const id = uniqueResourceId('metrics-stranded');

  beforeAll(async () => {
    app = await startOpsApp({ redisUrl: `redis://127.0.0.1:${await closedPort()}`, metrics: { strandedAfterMs: 0 } });
  });
  afterAll(async () => {
    if (!app) return;
    await deleteResources(app.db, [id]);
    await app.close();
  });

  it('counts the run left queued for the outbox relay, and still answers without the queue-depth series', async () => {
    const put = await putResource(app.baseUrl, id, { info: { a: 1 } });
    expect(put.status).toBe(201);
    expect(put.json.run).toMatchObject({ status: 'queued', dispatched: false });
    const text = await request(app.baseUrl, 'GET', '/metrics');
    expect(text.status).toBe(200);
    expect(sumOf(text.text, 'tasklane_outbox_stranded_runs')).toBeGreaterThanOrEqual(1);
    expect(samplesOf(text.text, 'tasklane_queue_jobs')).toEqual([]);
    expect(app.logs.some((line) => line.msg === 'metrics: could not read queue job counts')).toBe(true);
  });
});
