// Hardening: security headers, the CORS allow-list, the per-client write rate limit (429 +
// Retry-After), request timeouts on the server, and no stack trace or SQL in any response.
import { connect } from 'node:net';
import { createDb } from '@tasklane/db';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource, request } from '../../../../test/support/apiClient.ts';
import { deleteResources, uniqueResourceId, trackedIds } from '../../../../test/support/testDb.ts';
import { listen } from '../../src/listen.ts';
import { closedPort, startOpsApp, type OpsApp } from './support/startOpsApp.ts';

const WRITER = 'writer-token-0123456789abcdef';
const OTHER_WRITER = 'second-writer-token-0123456789';

describe('security headers and CORS', () => {
  let app: OpsApp;
  beforeAll(async () => {
    app = await startOpsApp({ http: { corsOrigins: ['https://app.example.com'] }, auth: { writeTokens: [WRITER] } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('sends helmet’s security headers on API responses and errors alike', async () => {
    for (const path of ['/healthz', '/no/such/route']) {
      const { headers } = await request(app.baseUrl, 'GET', path);
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(headers.get('referrer-policy')).toBe('no-referrer');
      expect(headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(headers.get('x-powered-by')).toBeNull();
      const csp = headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self' 'unsafe-inline'");
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(csp).not.toMatch(/https:/);
    }
  });

  it('allows an origin on the list, exposing the headers a client reads', async () => {
    const { headers } = await request(app.baseUrl, 'GET', '/healthz', { headers: { Origin: 'https://app.example.com' } });
    expect(headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    expect(headers.get('access-control-allow-credentials')).toBeNull();
    expect(headers.get('vary')).toMatch(/Origin/i);
  });

  it('sends no CORS headers to an origin off the list', async () => {
    const { headers } = await request(app.baseUrl, 'GET', '/healthz', { headers: { Origin: 'https://evil.example.net' } });
    expect(headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers a preflight for a write from an allowed origin without asking for a token', async () => {
    const response = await request(app.baseUrl, 'OPTIONS', '/resources/x', {
      headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(response.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
  });
});

describe('CORS off by default', () => {
  let app: OpsApp;
  beforeAll(async () => {
    app = await startOpsApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('sends no Access-Control-Allow-Origin when CORS_ORIGINS is empty', async () => {
    const { headers } = await request(app.baseUrl, 'GET', '/healthz', { headers: { Origin: 'https://app.example.com' } });
    expect(headers.get('access-control-allow-origin')).toBeNull();
  });

  it('does not limit writes when RATE_LIMIT_WRITES_PER_MINUTE is unset', async () => {
    const ids = Array.from({ length: 5 }, () => uniqueResourceId('nolimit'));
    try {
      for (const id of ids) expect((await putResource(app.baseUrl, id, { info: {} })).status).toBe(201);
    } finally {
      await deleteResources(app.db, ids);
    }
  });
});

describe.each([
  ['in memory', false],
  ['in Redis', true],
])('per-client write rate limit, counted %s', (_label, inRedis) => {
  let app: OpsApp;
  const { ids, newId } = trackedIds();

  beforeAll(async () => {
    app = await startOpsApp({ auth: { writeTokens: [WRITER, OTHER_WRITER] }, writeLimit: { writesPerMinute: 3, inRedis } });
  });
  afterAll(async () => {
    if (!app) return;
    await deleteResources(app.db, ids);
    await app.close();
  });

  it('answers 429 with Retry-After past the limit, per token, and never limits reads', async () => {
    const headers = { Authorization: `Bearer ${WRITER}` };
    for (let i = 0; i < 3; i++) {
      const ok = await putResource(app.baseUrl, newId('rl'), { info: {} }, { headers });
      expect(ok.status).toBe(201);
      expect(ok.headers.get('ratelimit-remaining')).toBe(String(2 - i));
    }
    const limited = await putResource(app.baseUrl, newId('rl'), { info: {} }, { headers });
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('too_many_requests');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // Another client (token) has a budget of its own; reads are never limited.
    expect((await putResource(app.baseUrl, newId('rl'), { info: {} }, { headers: { Authorization: `Bearer ${OTHER_WRITER}` } })).status).toBe(201);
    expect((await request(app.baseUrl, 'GET', '/etl-runs?limit=1', { headers })).status).toBe(200);

    // Walk every SCAN page: the shared Redis may hold more keys than one page covers.
    const keys: string[] = [];
    for await (const page of app.redis.scanStream({ match: `${app.prefix}:rate-limit*`, count: 1000 })) keys.push(...(page as string[]));
    expect(keys.length > 0).toBe(inRedis);
  });
});

describe('request timeouts of the HTTP server', () => {
  it('answers 408 and closes the connection when a client is too slow to send its headers', async () => {
    const app = new Koa();
    app.use((ctx) => {
      ctx.body = 'never reached';
    });
    const server = await listen(app, { host: '127.0.0.1', port: 0, headersTimeoutMs: 300, requestTimeoutMs: 600 });
    try {
      const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
      socket.setEncoding('utf8');
      let received = '';
      socket.on('data', (chunk: string) => (received += chunk));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // headers never finished
      await closed;
      expect(received).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('no stack trace or SQL in any response', () => {
  let app: OpsApp;
  const leak = /\bat [\w.<>]+ \(|node:internal|\.ts:\d+|SELECT|INSERT|UPDATE|etl_runs|resources\b.*WHERE|ECONNREFUSED|prisma|PrismaClient|127\.0\.0\.1:\d+/i;

  beforeAll(async () => {
    // A database client on a port nothing listens on: every query fails inside the driver.
    const db = createDb({ url: `postgresql://postgres@127.0.0.1:${await closedPort()}/tasklane_test`, poolSize: 1 });
    app = await startOpsApp({ db });
  });
  afterAll(async () => {
    await app?.close();
    await app?.db.$disconnect();
  });

  it.each([
    ['GET', '/resources/leak-check'],
    ['GET', '/resources/leak-check/context'],
    ['GET', '/etl-runs'],
    ['GET', '/etl-runs/stats'],
    ['GET', '/etl-runs/0b7d6f2e-5c1a-4e8b-9f3d-2a6c8e1b4d70'],
    ['POST', '/etl-runs/0b7d6f2e-5c1a-4e8b-9f3d-2a6c8e1b4d70/retry'],
    ['PUT', '/resources/leak-check'],
  ])('%s %s with the database down answers 503 with Retry-After, no detail, and logs the cause', async (method, path) => {
    app.logs.length = 0;
    const response = await request(app.baseUrl, method, path, method === 'PUT' ? { body: JSON.stringify({ info: { a: 1 } }) } : {});
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(response.json).toEqual({ error: { code: 'service_unavailable', message: expect.stringMatching(/unavailable/) } });
    expect(response.text).not.toMatch(leak);
    // The cause is in the log, with the request id the client got.
    const logged = app.logs.find((line) => line.msg === 'request failed');
    expect(logged?.requestId).toBe(response.headers.get('x-request-id'));
  });
});
