// The OpenAPI 3.1 document at /openapi.json and the docs page at /docs: every route the router
// serves is in the document (and nothing else), its example requests validate against the very zod
// schemas the routers use and succeed against a real app, real responses match the documented
// response schemas, and error bodies are documented.
import type Router from '@koa/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { request, type ApiResponse } from '../../../../test/support/apiClient.ts';
import { deleteResources } from '../../../../test/support/testDb.ts';
import { createApp } from '../../src/createApp.ts';
import { API_OPERATIONS, type ApiOperation } from '../../src/openapi/apiOperations.ts';
import { errorBodySchema } from '../../src/openapi/responseSchemas.ts';
import { startOpsApp, type OpsApp } from './support/startOpsApp.ts';

/** `GET /resources/{id}` for a router layer `/resources/:id`. */
function toOpenApiPath(routerPath: string): string {
  return routerPath.replace(/:(\w+)/g, '{$1}');
}

/** The routes the app's router serves, found in the router's own stack. */
function servedRoutes(app: ReturnType<typeof createApp>): string[] {
  const routers = app.middleware.map((mw) => (mw as { router?: Router }).router).filter((r): r is Router => r !== undefined);
  expect(routers.length).toBe(1);
  return routers[0]!.stack
    .filter((layer) => layer.methods.length > 0)
    .flatMap((layer) => layer.methods.filter((method) => method !== 'HEAD').map((method) => `${method.toLowerCase()} ${toOpenApiPath(String(layer.path))}`));
}

/** An example request as a URL path with its query string. */
function exampleUrl(operation: ApiOperation): string {
  const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(operation.example?.path?.[name] ?? ''));
  const query = new URLSearchParams(operation.example?.query ?? {}).toString();
  return query ? `${path}?${query}` : path;
}

/** The JSON schema of a documented response (zod), when the document gives one. */
function responseSchema(operation: ApiOperation, status: number): z.ZodType | undefined {
  const response = operation.responses[String(status) as keyof typeof operation.responses] as { content?: Record<string, { schema?: z.ZodType }> } | undefined;
  return response?.content?.['application/json']?.schema;
}

describe('the OpenAPI document', () => {
  let app: OpsApp;
  let document: any;
  const created: string[] = [];

  beforeAll(async () => {
    app = await startOpsApp();
    const response = await request(app.baseUrl, 'GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    document = response.json;
  });
  afterAll(async () => {
    if (!app) return;
    await deleteResources(app.db, created);
    await app.close();
  });

  it('is OpenAPI 3.1 with a bearer security scheme and a shared error body', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.securitySchemes.bearerAuth).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(document.components.schemas.Error.properties.error.required).toEqual(['code', 'message']);
  });

  it('documents exactly the routes the router serves', () => {
    const served = servedRoutes(
      createApp({ db: app.db, logger: app.logger, defaultLane: { name: 'queue', dispatch: async () => ({ dispatched: true }) }, http: { bodyLimitBytes: 1024, publicUrl: undefined } }),
    );
    const documented = Object.entries(document.paths as Record<string, object>).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
    expect(served.length).toBeGreaterThanOrEqual(12);
    expect([...documented].sort()).toEqual([...served].sort());
  });

  it('documents an error body for every 4xx/5xx response of every operation, and writes as needing a bearer token', () => {
    for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const [status, response] of Object.entries(operation.responses as Record<string, any>)) {
          if (Number(status) < 400 || path === '/readyz') continue;
          expect(response.content?.['application/json']?.schema?.$ref, `${method} ${path} ${status}`).toBe('#/components/schemas/Error');
        }
        const write = method === 'put' || method === 'post';
        if (write) expect(operation.security, `${method} ${path}`).toEqual([{ bearerAuth: [] }]);
        if (write) expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
      }
    }
  });

  it.each(API_OPERATIONS.filter((operation) => operation.example).map((operation) => [`${operation.method} ${operation.path}`, operation] as const))(
    'puts the example request of %s in the document, and it validates against the router’s own schemas',
    (_name, operation) => {
      const documented = document.paths[operation.path][operation.method];
      const { path = {}, query = {}, body } = operation.example!;
      // In the document: each parameter's example, and the body example.
      for (const [location, values] of [['path', path], ['query', query]] as const) {
        for (const [name, value] of Object.entries(values)) {
          const parameter = documented.parameters.find((p: { in: string; name: string }) => p.in === location && p.name === name);
          // A numeric parameter's example is its number (what the client sends as text).
          expect(String(parameter?.example), `${location} ${name}`).toBe(value);
        }
      }
      if (body !== undefined) expect(documented.requestBody.content['application/json'].examples.example.value).toEqual(body);
      // Valid by the schemas the routers import (the same objects, not copies).
      const request = operation.request ?? {};
      if (request.path) expect(request.path.safeParse(path).success).toBe(true);
      if (request.query) expect(request.query.safeParse(query).success).toBe(true);
      if (request.body) expect(request.body.safeParse(body).success).toBe(true);
    },
  );

  it('the schemas it is built from reject what the API rejects (the example body without info)', () => {
    const put = API_OPERATIONS.find((operation) => operation.operationId === 'putResource')!;
    expect(put.request!.body!.safeParse({ name: 'x' }).success).toBe(false);
    expect(put.request!.query!.safeParse({ lane: 'sidekiq' }).success).toBe(false);
  });

  it('the example requests succeed against the app, and the responses match the documented schemas', async () => {
    const byId = Object.fromEntries(API_OPERATIONS.map((operation) => [operation.operationId, operation]));
    const send = async (operation: ApiOperation): Promise<ApiResponse> =>
      request(app.baseUrl, operation.method.toUpperCase(), exampleUrl(operation), operation.example?.body === undefined ? {} : { body: JSON.stringify(operation.example.body) });
    const expectDocumented = (operation: ApiOperation, response: ApiResponse) => {
      const schema = responseSchema(operation, response.status);
      expect(schema, `${operation.operationId} ${response.status} is documented`).toBeDefined();
      const parsed = schema!.safeParse(response.json);
      expect(parsed.success ? [] : parsed.error.issues, `${operation.operationId} ${response.status}`).toEqual([]);
    };

    created.push(byId.putResource!.example!.path!.id!);
    await deleteResources(app.db, created); // a leftover of an earlier run would make this a 200
    const put = await send(byId.putResource!);
    expect(put.status).toBe(201);
    expectDocumented(byId.putResource!, put);
    const again = await send(byId.putResource!);
    expect(again.status).toBe(200);
    expectDocumented(byId.putResource!, again);

    for (const id of ['getResource', 'listContextRecords', 'listEtlRuns', 'etlRunStats', 'healthz', 'readyz']) {
      const response = await send(byId[id]!);
      expect(response.status, id).toBe(200);
      expectDocumented(byId[id]!, response);
    }
    // The example run id names no run: a documented 404 with the error body.
    for (const id of ['getEtlRun', 'retryEtlRun']) {
      const response = await send(byId[id]!);
      expect(response.status, id).toBe(404);
      expectDocumented(byId[id]!, response);
    }
    // A run that exists, read back through its documented schema.
    const run = await request(app.baseUrl, 'GET', put.json.run.href);
    expectDocumented(byId.getEtlRun!, run);
  });

  it('documents the error body the API sends (a 422 parses with the Error schema)', async () => {
    const response = await request(app.baseUrl, 'PUT', '/resources/bad%20id', { body: '{"info":{}}' });
    expect(response.status).toBe(422);
    expect(errorBodySchema.safeParse(response.json).success).toBe(true);
  });
});

describe('the docs page', () => {
  let app: OpsApp;
  beforeAll(async () => {
    app = await startOpsApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('serves a self-contained HTML page whose scripts and styles come from this origin', async () => {
    const page = await request(app.baseUrl, 'GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toEqual(['/docs/assets/swagger-ui.css', '/docs/assets/favicon-32x32.png', '/docs/assets/swagger-ui-bundle.js', '/docs/assets/tasklane-docs.js']);
    expect(page.text).toContain('data-openapi-url="/openapi.json"');
    for (const asset of assets) {
      const response = await request(app.baseUrl, 'GET', asset);
      expect(response.status, asset).toBe(200);
      expect(response.text.length, asset).toBeGreaterThan(100);
    }
  });

  it('serves nothing else of node_modules', async () => {
    for (const file of ['index.html', 'package.json', '..%2Fpackage.json', 'swagger-initializer.js']) {
      expect((await request(app.baseUrl, 'GET', `/docs/assets/${file}`)).status, file).toBe(404);
    }
  });
});
