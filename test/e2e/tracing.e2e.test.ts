// OpenTelemetry traces end to end (issue #12, point 5): the API and the worker as separate OS
// processes, configured only by the standard OTEL_* variables, export their spans over OTLP/HTTP
// (JSON) to a receiver this test runs. A PUT carrying a W3C `traceparent` must yield ONE trace, the
// caller's, holding PUT → dispatch → process → commit with the right parent links, for the queue
// lane (BullMQ producer → consumer through the job) and for an in-process lane. A run the outbox
// relay publishes later (Redis was down at the PUT) still joins the write's trace.
import { randomBytes } from 'node:crypto';
import type { Db } from '@tasklane/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource } from '../support/apiClient.ts';
import { createE2eSuite, isFinished, waitForRun, type E2eSuite, type SpawnedApi } from '../support/e2eSuite.ts';
import { SPAN_KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlpReceiver.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.ts';
import type { SpawnedService } from '../support/spawnService.ts';
import { uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

/** A caller's W3C trace context: a fresh trace id and the caller's own span id, sampled. */
function callerContext(): { traceId: string; spanId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** The trace as an indented tree, for failure messages. */
function drawTrace(spans: readonly ReceivedSpan[]): string {
  const lines: string[] = [];
  const draw = (parent: string, depth: number) => {
    for (const span of spans.filter((s) => s.parentSpanId === parent)) {
      lines.push(`${'  '.repeat(depth)}${span.name} [${span.service}, kind ${span.kind}] ${span.spanId}`);
      draw(span.spanId, depth + 1);
    }
  };
  const ids = new Set(spans.map((s) => s.spanId));
  for (const orphanParent of new Set(spans.filter((s) => !ids.has(s.parentSpanId)).map((s) => s.parentSpanId))) {
    lines.push(`(parent ${orphanParent || 'none'})`);
    draw(orphanParent, 1);
  }
  return lines.join('\n');
}

/** The one span of `spans` that `matches`; fails naming `what` and drawing the trace otherwise. */
function only(spans: readonly ReceivedSpan[], what: string, matches: (span: ReceivedSpan) => boolean): ReceivedSpan {
  const found = spans.filter(matches);
  expect(found, `exactly one ${what} span in the trace:\n${drawTrace(spans)}`).toHaveLength(1);
  return found[0]!;
}

/** Exports to `receiver` as JSON, within 100 ms of a span ending, so the tests wait little. */
const otelEnv = (receiver: OtlpReceiver) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_BSP_SCHEDULE_DELAY: '100',
});

describe('OpenTelemetry traces from the PUT through its lane to the records commit', () => {
  let receiver: OtlpReceiver;
  let suite: E2eSuite;
  let db: Db;
  let api: SpawnedApi;
  let worker: SpawnedService;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    suite = await createE2eSuite('otel', { env: otelEnv(receiver) });
    db = suite.db;
    [api, worker] = await Promise.all([suite.startApi(), suite.startWorker()]);
  });

  afterAll(async () => {
    await suite?.close();
    await receiver?.close();
  });

  /** PUTs with the caller's `traceparent` on `lane`, waits for the run to succeed and for the trace to hold `complete`. */
  async function tracedPut(lane: string, complete: (spans: ReceivedSpan[]) => boolean) {
    const caller = callerContext();
    const id = uniqueResourceId(`otel-${lane}`);
    const put = await putResource(api.url, id, { info: { Pull: { Number: '7', Merged: 'true' } } }, { headers: { traceparent: caller.traceparent, 'Tasklane-Lane': lane } });
    expect(put.status, put.text).toBe(201);
    const run = await waitForRun(db, put.json.run.id, 'to finish', isFinished);
    expect(run.status).toBe('succeeded');
    const spans = await waitFor(
      `the spans of trace ${caller.traceId} (${lane} lane)`,
      () => {
        const trace = receiver.trace(caller.traceId);
        return complete(trace) ? trace : undefined;
      },
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        describeLast: () => `${drawTrace(receiver.trace(caller.traceId))}\n${suite.output(15)}`,
      },
    );
    return { caller, spans, runId: put.json.run.id as string };
  }

  const hasCommitFrom = (service: string) => (spans: ReceivedSpan[]) =>
    spans.some((span) => span.name === 'SELECT commit_run_records' && span.service === service) && spans.some((span) => span.kind === SPAN_KIND.server);

  it('exports JSON to the receiver it is pointed at (OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces)', async () => {
    await waitFor('a first export', () => (receiver.contentTypes.length > 0 ? true : undefined), { timeoutMs: 30_000 });
    expect(receiver.contentTypes.every((type) => type.startsWith('application/json'))).toBe(true);
  });

  it('queue lane: PUT → dispatch → BullMQ producer → worker consumer → claim and commit, in the caller’s trace', async () => {
    // The consumer span ends after the commit, once BullMQ has completed the job: wait for both.
    const { caller, spans, runId } = await tracedPut(
      'queue',
      (trace) => hasCommitFrom('tasklane-worker')(trace) && trace.some((span) => span.kind === SPAN_KIND.consumer),
    );
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([caller.traceId]));

    const put = only(spans, 'HTTP server', (span) => span.kind === SPAN_KIND.server);
    expect(put).toMatchObject({ service: 'tasklane-api', name: 'PUT /resources/:id', parentSpanId: caller.spanId });
    expect(put.attributes).toMatchObject({ 'http.request.method': 'PUT', 'http.route': '/resources/:id', 'http.response.status_code': 201, 'url.scheme': 'http' });

    const upsert = only(spans, 'upsert', (span) => span.name === 'INSERT resources etl_runs');
    expect(upsert).toMatchObject({ parentSpanId: put.spanId, kind: SPAN_KIND.client });
    expect(upsert.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.operation.name': 'INSERT' });

    const dispatch = only(spans, 'dispatch', (span) => span.name === 'dispatch etl-run');
    expect(dispatch).toMatchObject({ service: 'tasklane-api', parentSpanId: put.spanId });
    expect(dispatch.attributes).toMatchObject({ 'tasklane.lane': 'queue', 'tasklane.etl_run.id': runId, 'tasklane.dispatched': true });

    const producer = only(spans, 'BullMQ producer', (span) => span.kind === SPAN_KIND.producer);
    expect(producer).toMatchObject({ service: 'tasklane-api', scope: 'bullmq', parentSpanId: dispatch.spanId });
    expect(producer.name).toMatch(/^add etl-run/);
    expect(producer.attributes).toMatchObject({ 'bullmq.job.id': runId });

    const consumer = only(spans, 'BullMQ consumer', (span) => span.kind === SPAN_KIND.consumer);
    expect(consumer).toMatchObject({ service: 'tasklane-worker', name: 'process etl-run', parentSpanId: producer.spanId });
    expect(consumer.attributes).toMatchObject({ 'bullmq.job.id': runId });

    const claim = only(spans, 'claim', (span) => span.name === 'UPDATE etl_runs');
    expect(claim).toMatchObject({ service: 'tasklane-worker', parentSpanId: consumer.spanId, kind: SPAN_KIND.client });
    const transform = only(spans, 'transform', (span) => span.name === 'transform etl-run');
    expect(transform).toMatchObject({ service: 'tasklane-worker', parentSpanId: consumer.spanId });
    const commit = only(spans, 'commit', (span) => span.name === 'SELECT commit_run_records');
    expect(commit).toMatchObject({ service: 'tasklane-worker', parentSpanId: consumer.spanId, kind: SPAN_KIND.client });
    expect(commit.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.operation.name': 'SELECT',
      'db.stored_procedure.name': 'commit_run_records',
      'db.namespace': new URL(suite.databaseUrl).pathname.slice(1),
      'tasklane.etl_run.commit': 'written',
    });
    expect(spans.every((span) => span.statusCode !== 2), drawTrace(spans)).toBe(true);
  });

  it('inline lane: PUT → dispatch → process (a child span in the API) → claim and commit, in the caller’s trace', async () => {
    const { caller, spans, runId } = await tracedPut('inline', hasCommitFrom('tasklane-api'));
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([caller.traceId]));
    expect(spans.every((span) => span.service === 'tasklane-api'), drawTrace(spans)).toBe(true);

    const put = only(spans, 'HTTP server', (span) => span.kind === SPAN_KIND.server);
    expect(put).toMatchObject({ name: 'PUT /resources/:id', parentSpanId: caller.spanId });
    const dispatch = only(spans, 'dispatch', (span) => span.name === 'dispatch etl-run');
    expect(dispatch).toMatchObject({ parentSpanId: put.spanId });
    expect(dispatch.attributes).toMatchObject({ 'tasklane.lane': 'inline', 'tasklane.etl_run.id': runId });
    const process = only(spans, 'process', (span) => span.name === 'process etl-run');
    expect(process).toMatchObject({ parentSpanId: dispatch.spanId, kind: SPAN_KIND.internal });
    expect(process.attributes).toMatchObject({ 'tasklane.etl_run.id': runId, 'tasklane.etl_run.outcome': 'succeeded' });
    expect(only(spans, 'claim', (span) => span.name === 'UPDATE etl_runs').parentSpanId).toBe(process.spanId);
    expect(only(spans, 'commit', (span) => span.name === 'SELECT commit_run_records').parentSpanId).toBe(process.spanId);
    expect(spans.some((span) => span.kind === SPAN_KIND.producer || span.kind === SPAN_KIND.consumer), drawTrace(spans)).toBe(false);
  });

  it('starts a new trace, rooted at the PUT, when the request carries no traceparent', async () => {
    const id = uniqueResourceId('otel-root');
    const put = await putResource(api.url, id, { info: { A: '1' } }, { headers: { 'Tasklane-Lane': 'inline' } });
    expect(put.status).toBe(201);
    await waitForRun(db, put.json.run.id, 'to finish', isFinished);
    const server = await waitFor(
      'the server span of a PUT without traceparent',
      () => receiver.spans.find((span) => span.kind === SPAN_KIND.server && span.attributes['url.path'] === `/resources/${id}`),
      { timeoutMs: 30_000 },
    );
    expect(server.parentSpanId).toBe('');
    const commit = await waitFor('its commit span', () =>
      receiver.trace(server.traceId).find((span) => span.name === 'SELECT commit_run_records'),
      { timeoutMs: 30_000 },
    );
    expect(commit.service).toBe('tasklane-api');
  });
});

describe('a queue-lane run the outbox relay publishes after a Redis outage', () => {
  let receiver: OtlpReceiver;
  let redis: PrivateRedis;
  let suite: E2eSuite;
  let api: SpawnedApi;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    redis = await startPrivateRedis();
    suite = await createE2eSuite('otel_relay', { redisUrl: redis.url, env: otelEnv(receiver) });
    const fastRelay = { OUTBOX_RELAY_INTERVAL_MS: '200', OUTBOX_RELAY_AFTER_MS: '300', REDIS_CONNECT_TIMEOUT_MS: '500', ENQUEUE_TIMEOUT_MS: '500' };
    [api] = await Promise.all([suite.startApi(fastRelay), suite.startWorker({ REDIS_CONNECT_TIMEOUT_MS: '500' })]);
  });

  afterAll(async () => {
    if (redis && !redis.running) await redis.start().catch(() => {});
    await suite?.close();
    await redis?.close();
    await receiver?.close();
  });

  it('joins the trace of the write: the worker’s consumer span is a child of the PUT’s server span', async () => {
    await redis.stop();
    // Only once the API's connection has seen Redis go is the PUT's own enqueue sure to fail (one
    // written to a socket not yet known dead is retried after the reconnect, landing late in the
    // dispatch's trace instead of the relay's path this test is about).
    await waitFor('the API to report Redis down on /readyz', async () => ((await fetch(`${api.url}/readyz`)).status === 503 ? true : undefined), { timeoutMs: 30_000 });
    const caller = callerContext();
    const put = await putResource(api.url, uniqueResourceId('otel-relay'), { info: { Late: 'yes' } }, {
      headers: { traceparent: caller.traceparent, 'Tasklane-Lane': 'queue' },
    });
    expect(put.status, put.text).toBe(201);
    expect(put.json.run).toMatchObject({ dispatched: false, status: 'queued' });
    await redis.start();
    const run = await waitForRun(suite.db, put.json.run.id, 'to finish once the relay published it', isFinished, { timeoutMs: 60_000 });
    expect(run.status).toBe('succeeded');

    const spans = await waitFor(
      `the worker's spans in trace ${caller.traceId}`,
      () => {
        const trace = receiver.trace(caller.traceId);
        return trace.some((span) => span.kind === SPAN_KIND.consumer) && trace.some((span) => span.name === 'SELECT commit_run_records') ? trace : undefined;
      },
      { timeoutMs: 30_000, describeLast: () => `${drawTrace(receiver.trace(caller.traceId))}\n${suite.output(15)}` },
    );
    const server = only(spans, 'HTTP server', (span) => span.kind === SPAN_KIND.server);
    expect(server.parentSpanId).toBe(caller.spanId);
    const dispatch = only(spans, 'dispatch', (span) => span.name === 'dispatch etl-run');
    expect(dispatch.statusCode, 'the failed dispatch is marked failed').toBe(2);
    const consumer = only(spans, 'BullMQ consumer', (span) => span.kind === SPAN_KIND.consumer);
    expect(consumer).toMatchObject({ service: 'tasklane-worker', parentSpanId: server.spanId });
    const commit = only(spans, 'commit', (span) => span.name === 'SELECT commit_run_records');
    expect(commit).toMatchObject({ service: 'tasklane-worker', parentSpanId: consumer.spanId });
    // The relay's own bulk add is a producer span of another trace (a relay pass), not of this one.
    const relayAdd = receiver.spans.find((span) => span.kind === SPAN_KIND.producer && span.name.startsWith('addBulk'));
    expect(relayAdd, 'the relay added the job with addBulk').toBeDefined();
    expect(relayAdd!.traceId).not.toBe(caller.traceId);
  });
});
