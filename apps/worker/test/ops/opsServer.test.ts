// The worker's own HTTP server, in this process, with the real PostgreSQL and Redis: /healthz,
// /readyz per dependency (503 when one is down), /metrics (open or behind METRICS_TOKEN).
import type { Db } from '@tasklane/db';
import { checkReadiness, createEtlRunMetrics, createMetricsRegistry, postgresProbe, redisProbe } from '@tasklane/ops';
import { createRedisConnection, type RedisClient } from '@tasklane/queue';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itAnswersMalformedRequestsWithJson } from '../../../../test/support/malformedRequestCases.ts';
import { createTestDb } from '../../../../test/support/testDb.ts';
import { testRedisSettings } from '../../../../test/support/testQueue.ts';
import { startOpsServer, type OpsServer } from '../../src/ops/startOpsServer.ts';
import { freePort } from '../../../../test/support/freePort.ts';

const logger = pino({ level: 'silent' });

describe('the worker ops server', () => {
  let db: Db;
  let redis: RedisClient;
  let deadRedis: RedisClient;
  let healthy: OpsServer;
  let redisDown: OpsServer;
  let guarded: OpsServer;
  let consuming = true;

  beforeAll(async () => {
    db = createTestDb({ poolSize: 2 });
    redis = createRedisConnection(testRedisSettings(), 'worker');
    // The worker's connection role reconnects forever: a PING waits, and the probe's timeout ends it.
    deadRedis = createRedisConnection(testRedisSettings(`redis://127.0.0.1:${await freePort()}`), 'worker');
    deadRedis.on('error', () => {});
    const registry = createMetricsRegistry();
    createEtlRunMetrics(registry);
    const worker = async () => {
      if (!consuming) throw new Error('not consuming');
    };
    healthy = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      logger,
      checkReadiness: () => checkReadiness({ postgres: postgresProbe(db), redis: redisProbe(redis), worker }, { logger }),
    });
    redisDown = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      logger,
      checkReadiness: () => checkReadiness({ postgres: postgresProbe(db), redis: redisProbe(deadRedis) }, { logger, timeoutMs: 300 }),
    });
    guarded = await startOpsServer({ host: '127.0.0.1', port: 0, registry, logger, metricsToken: 'metrics-token-0123456789', checkReadiness: async () => ({ ready: true, checks: {} }) });
  });
  afterAll(async () => {
    await Promise.all([healthy?.close(), redisDown?.close(), guarded?.close()]);
    await redis?.quit();
    deadRedis?.disconnect();
    await db?.$disconnect();
  });

  it('binds the port it was given (0 picks a free one) on the host', () => {
    expect(healthy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(healthy.url).not.toBe(redisDown.url);
  });

  it('GET /healthz answers 200 {status: ok}', async () => {
    const response = await fetch(`${healthy.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 with PostgreSQL, Redis and the worker up', async () => {
    const response = await fetch(`${healthy.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ready',
      checks: { postgres: { status: 'up', latencyMs: expect.any(Number) }, redis: { status: 'up', latencyMs: expect.any(Number) }, worker: { status: 'up', latencyMs: expect.any(Number) } },
    });
  });

  it('GET /readyz answers 503 while the worker is not consuming (starting, or draining on SIGTERM)', async () => {
    consuming = false;
    try {
      const response = await fetch(`${healthy.url}/readyz`);
      expect(response.status).toBe(503);
      expect(((await response.json()) as { checks: Record<string, { status: string }> }).checks.worker?.status).toBe('down');
    } finally {
      consuming = true;
    }
  });

  it('GET /readyz answers 503 naming redis down when Redis does not answer in time', async () => {
    const response = await fetch(`${redisDown.url}/readyz`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as { status: string; checks: Record<string, { status: string }> };
    expect(body.status).toBe('not_ready');
    expect(body.checks.redis?.status).toBe('down');
    expect(body.checks.postgres?.status).toBe('up');
  });

  it('GET /metrics answers Prometheus text with process metrics and the ETL histograms', async () => {
    const response = await fetch(`${healthy.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE tasklane_etl_run_duration_seconds histogram');
    expect(text).toContain('# TYPE tasklane_etl_run_lag_seconds histogram');
  });

  it('GET /metrics needs the bearer token when METRICS_TOKEN is set', async () => {
    const refused = await fetch(`${guarded.url}/metrics`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await refused.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    expect((await fetch(`${guarded.url}/metrics`, { headers: { Authorization: 'Bearer metrics-token-0123456789' } })).status).toBe(200);
    // Health stays open for the orchestrator.
    expect((await fetch(`${guarded.url}/healthz`)).status).toBe(200);
  });

  it('answers unknown paths 404 and other methods 405, in the API’s error body', async () => {
    const missing = await fetch(`${healthy.url}/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const post = await fetch(`${healthy.url}/healthz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${healthy.url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  describe('requests no HTTP client would send (issue #9, "What must hold" 7)', () => {
    itAnswersMalformedRequestsWithJson(() => healthy.url);
  });
});
