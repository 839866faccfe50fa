// GET /healthz and GET /readyz: liveness always, readiness per dependency, 503 when one is down,
// and never an error text in the body.
import { createDb } from '@tasklane/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../../../test/support/apiClient.ts';
import { closedPort, startOpsApp, type OpsApp } from './support/startOpsApp.ts';

describe('health endpoints of the API', () => {
  describe('with PostgreSQL and Redis up', () => {
    let app: OpsApp;
    beforeAll(async () => {
      app = await startOpsApp();
    });
    afterAll(async () => {
      await app?.close();
    });

    it('GET /healthz answers 200 {status: ok}, not cached', async () => {
      const response = await request(app.baseUrl, 'GET', '/healthz');
      expect(response.status).toBe(200);
      expect(response.json).toEqual({ status: 'ok' });
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-request-id')).toBeTruthy();
    });

    it('GET /readyz answers 200 with PostgreSQL and Redis each up', async () => {
      const response = await request(app.baseUrl, 'GET', '/readyz');
      expect(response.status).toBe(200);
      expect(response.json).toEqual({
        status: 'ready',
        checks: {
          postgres: { status: 'up', latencyMs: expect.any(Number) },
          redis: { status: 'up', latencyMs: expect.any(Number) },
        },
      });
    });
  });

  describe('with Redis unreachable', () => {
    let app: OpsApp;
    beforeAll(async () => {
      app = await startOpsApp({ redisUrl: `redis://127.0.0.1:${await closedPort()}` });
    });
    afterAll(async () => {
      await app?.close();
    });

    it('GET /readyz answers 503 naming redis down and postgres up, with no error text', async () => {
      const response = await request(app.baseUrl, 'GET', '/readyz');
      expect(response.status).toBe(503);
      expect(response.json).toEqual({
        status: 'not_ready',
        checks: { postgres: { status: 'up', latencyMs: expect.any(Number) }, redis: { status: 'down', latencyMs: expect.any(Number) } },
      });
      expect(app.logs.some((line) => line.msg === 'readiness: redis is down' && typeof line.err === 'string')).toBe(true);
    });

    it('GET /healthz still answers 200: the process is alive', async () => {
      expect((await request(app.baseUrl, 'GET', '/healthz')).status).toBe(200);
    });
  });

  describe('with PostgreSQL unreachable', () => {
    let app: OpsApp;
    beforeAll(async () => {
      const db = createDb({ url: `postgresql://postgres@127.0.0.1:${await closedPort()}/tasklane_test`, poolSize: 1 });
      app = await startOpsApp({ db, readinessTimeoutMs: 1500 });
    });
    afterAll(async () => {
      await app?.close();
      await app?.db.$disconnect();
    });

    it('GET /readyz answers 503 naming postgres down and redis up', async () => {
      const response = await request(app.baseUrl, 'GET', '/readyz');
      expect(response.status).toBe(503);
      expect(response.json.checks).toEqual({ postgres: { status: 'down', latencyMs: expect.any(Number) }, redis: { status: 'up', latencyMs: expect.any(Number) } });
      expect(response.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|Error/);
    });
  });
});
