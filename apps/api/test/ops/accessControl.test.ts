// Access control (API_TOKENS, API_READ_TOKENS, READS_REQUIRE_AUTH): writes need a write token,
// 401 with a Bearer challenge without one, 403 with a read-only one; reads open or closed by config;
// operations routes and the docs keep their own rules; no token at all leaves the API open.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource, request } from '../../../../test/support/apiClient.ts';
import { deleteResources, uniqueResourceId, trackedIds } from '../../../../test/support/testDb.ts';
import { API_OPERATIONS } from '../../src/openapi/apiOperations.ts';
import { startOpsApp, type OpsApp } from './support/startOpsApp.ts';

const WRITER = 'writer-token-0123456789abcdef';
const OTHER_WRITER = 'second-writer-token-0123456789';
const READER = 'reader-token-0123456789abcdef';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** An operation's path with its example parameters filled in (or placeholders). */
function examplePath(operation: (typeof API_OPERATIONS)[number]): string {
  return operation.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(operation.example?.path?.[name] ?? randomUUID()));
}

describe('access control with tokens configured', () => {
  let app: OpsApp;
  const { ids, newId } = trackedIds();

  beforeAll(async () => {
    app = await startOpsApp({ auth: { writeTokens: [WRITER, OTHER_WRITER], readTokens: [READER], readsRequireAuth: false } });
  });
  afterAll(async () => {
    if (!app) return;
    await deleteResources(app.db, ids);
    await app.close();
  });

  it('refuses a write without a token: 401, WWW-Authenticate: Bearer, JSON error, nothing stored', async () => {
    const id = newId('auth-none');
    const response = await putResource(app.baseUrl, id, { info: { a: 1 } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="tasklane"');
    expect(response.json).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('Bearer') } });
    expect((await request(app.baseUrl, 'GET', `/resources/${id}`)).status).toBe(404);
  });

  it('refuses an unknown token with 401 and error="invalid_token" (RFC 6750 §3.1)', async () => {
    const response = await putResource(app.baseUrl, newId('auth-bad'), { info: { a: 1 } }, { headers: bearer('not-a-configured-token-000') });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="tasklane", error="invalid_token"');
  });

  it('refuses basic auth on the API: only bearer tokens count', async () => {
    const basic = `Basic ${Buffer.from(`user:${WRITER}`).toString('base64')}`;
    expect((await putResource(app.baseUrl, newId('auth-basic'), { info: {} }, { headers: { Authorization: basic } })).status).toBe(401);
  });

  it('answers 403 to a write with a read-only token', async () => {
    const response = await putResource(app.baseUrl, newId('auth-reader'), { info: { a: 1 } }, { headers: bearer(READER) });
    expect(response.status).toBe(403);
    expect(response.json.error.code).toBe('forbidden');
  });

  it('accepts a write with any configured write token (scheme case-insensitive)', async () => {
    expect((await putResource(app.baseUrl, newId('auth-ok'), { info: { a: 1 } }, { headers: bearer(WRITER) })).status).toBe(201);
    const lower = await putResource(app.baseUrl, newId('auth-ok2'), { info: { a: 1 } }, { headers: { Authorization: `bearer ${OTHER_WRITER}` } });
    expect(lower.status).toBe(201);
  });

  it('guards every write route of the API (from the operations table), and POST retry too', async () => {
    const writes = API_OPERATIONS.filter((operation) => operation.access === 'write');
    expect(writes.map((operation) => `${operation.method} ${operation.path}`)).toEqual(['put /resources/{id}', 'post /etl-runs/{id}/retry']);
    for (const operation of writes) {
      const response = await request(app.baseUrl, operation.method.toUpperCase(), examplePath(operation), { body: JSON.stringify(operation.example?.body ?? {}) });
      expect(response.status, `${operation.method} ${operation.path}`).toBe(401);
    }
  });

  it('leaves reads open when READS_REQUIRE_AUTH is false', async () => {
    const id = newId('auth-read');
    await putResource(app.baseUrl, id, { info: { a: 1 } }, { headers: bearer(WRITER) });
    expect((await request(app.baseUrl, 'GET', `/resources/${id}`)).status).toBe(200);
    expect((await request(app.baseUrl, 'GET', '/etl-runs?limit=1')).status).toBe(200);
  });

  it('still checks a token sent on a read: an unknown one is a 401', async () => {
    expect((await request(app.baseUrl, 'GET', '/etl-runs?limit=1', { headers: bearer('not-a-configured-token-000') })).status).toBe(401);
  });

  it('keeps the operations routes and the docs open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs']) {
      expect((await request(app.baseUrl, 'GET', path)).status, path).toBe(200);
    }
  });
});

describe('access control with READS_REQUIRE_AUTH', () => {
  let app: OpsApp;

  beforeAll(async () => {
    app = await startOpsApp({ auth: { writeTokens: [WRITER], readTokens: [READER], readsRequireAuth: true } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('refuses every read route of the API without a token, and accepts read and write tokens', async () => {
    const reads = API_OPERATIONS.filter((operation) => operation.access === 'read');
    expect(reads.length).toBeGreaterThanOrEqual(5);
    for (const operation of reads) {
      const path = examplePath(operation);
      const refused = await request(app.baseUrl, 'GET', path);
      expect(refused.status, path).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer /);
      for (const token of [READER, WRITER]) {
        const allowed = await request(app.baseUrl, 'GET', path, { headers: bearer(token) });
        expect([200, 404], `${path} with a token`).toContain(allowed.status);
      }
    }
  });

  it('keeps /healthz and /readyz open for load balancers', async () => {
    expect((await request(app.baseUrl, 'GET', '/healthz')).status).toBe(200);
    expect((await request(app.baseUrl, 'GET', '/readyz')).status).toBe(200);
  });
});

describe('no tokens configured', () => {
  let app: OpsApp;
  const id = uniqueResourceId('auth-open');

  beforeAll(async () => {
    app = await startOpsApp({ auth: { writeTokens: [], readTokens: [] } });
  });
  afterAll(async () => {
    if (!app) return;
    await deleteResources(app.db, [id]);
    await app.close();
  });

  it('leaves the API open, for local use', async () => {
    expect((await putResource(app.baseUrl, id, { info: { a: 1 } })).status).toBe(201);
  });
});
