/**
 * The API's operations as the OpenAPI document describes them. Request parameters and bodies are
 * the very zod schemas the routers validate with (imported from the routers), never copies; each
 * operation carries one example request, which `createOpenApiDocument` puts in the document and
 * the OpenAPI test validates against these same schemas and sends to a real app.
 */
import { LANES } from '@tasklane/config';
import { z } from 'zod';
import type { ZodOpenApiResponsesObject } from 'zod-openapi';
import { listQuerySchema, statsQuerySchema } from '../etlRuns/etlRunsRouter.ts';
import { putResourceBodySchema, resourceIdSchema } from '../resources/putResourceBody.ts';
import { contextQuerySchema } from '../resources/resourcesRouter.ts';
import {
  contextPageSchema,
  errorBodySchema,
  getResourceResponseSchema,
  healthSchema,
  putResourceResponseSchema,
  readinessSchema,
  retryResponseSchema,
  runPageSchema,
  runSchema,
  runStatsSchema,
} from './responseSchemas.ts';

/** An example request: parameter values as a client sends them (strings), and a JSON body. */
export interface ExampleRequest {
  path?: Record<string, string>;
  query?: Record<string, string>;
  header?: Record<string, string>;
  body?: unknown;
}

/** One operation of the document. */
export interface ApiOperation {
  method: 'get' | 'put' | 'post';
  /** OpenAPI path template, e.g. `/resources/{id}` (the router's `/resources/:id`). */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: 'Resources' | 'ETL runs' | 'Operations';
  /**
   * Who may call it: `write` needs a write token whenever tokens are configured; `read` needs a
   * token only with READS_REQUIRE_AUTH; `ops` is governed by its own rule (open, or METRICS_TOKEN).
   */
  access: 'write' | 'read' | 'ops';
  request?: { path?: z.ZodObject; query?: z.ZodObject; header?: z.ZodObject; body?: z.ZodType };
  example?: ExampleRequest;
  responses: ZodOpenApiResponsesObject;
}

const json = (schema: z.ZodType) => ({ 'application/json': { schema } });

/** An error response in the shared error body, with the statuses' usual meanings. */
const error = (description: string, headers?: Record<string, z.ZodType>) => ({
  description,
  content: json(errorBodySchema),
  ...(headers ? { headers: z.object(headers) } : {}),
});

const retryAfter = z.string().meta({ description: 'Seconds to wait before trying again.', example: '30' });
const wwwAuthenticate = z.string().meta({ description: 'The challenge (RFC 6750): `Bearer realm="tasklane"`.', example: 'Bearer realm="tasklane"' });

const E = {
  400: error('The body cannot be read: empty, malformed JSON, a duplicated key, or not a JSON object.'),
  401: error('No bearer token, or one that is not valid (when access control is on).', { 'WWW-Authenticate': wwwAuthenticate }),
  403: error('The token is valid but may only read.'),
  404: error('No such resource, run or route.'),
  409: error('The run is not failed, so it cannot be retried.'),
  413: error('The body exceeds BODY_LIMIT_BYTES.'),
  415: error('The body is not application/json in UTF-8.'),
  422: error('The request breaks a rule: schema, id format, size limits, lane not allowed; `details` lists the issues.'),
  429: error('Too many writes from this client in the last minute (RATE_LIMIT_WRITES_PER_MINUTE).', { 'Retry-After': retryAfter }),
  500: error('Unexpected failure; the message is generic (no stack, no SQL). The request id is in X-Request-Id.'),
  503: error(
    'PostgreSQL or Redis is unreachable, or (PUT) the in-process lane asked for is full (IN_PROCESS_QUEUE_LIMIT, IN_PROCESS_OVERFLOW=reject): nothing was written; retry after Retry-After seconds.',
    { 'Retry-After': retryAfter },
  ),
} as const;

const requestIdHeader = { 'X-Request-Id': z.string().meta({ description: 'The request id (the client’s, or a new UUID); grep the logs for it.' }) };
const location = z.string().meta({ description: 'URL of the resource or run.' });

/** Headers a write may send. */
const writeHeaders = z.object({
  'Tasklane-Lane': z.enum(LANES).optional().meta({ description: 'The lane of this write (`?lane=` wins). Default: ETL_LANE.' }),
  Prefer: z.string().optional().meta({ description: '`wait=N`: in the await lane, wait up to N seconds for the run (RFC 7240).' }),
  'X-Request-Id': z.string().max(200).optional().meta({ description: 'Your id for this request; 1–200 of [A-Za-z0-9._:-], else a new UUID is used.' }),
});

const runIdPath = z.object({ id: z.string().meta({ description: 'Run id (a UUID); anything else is a 404.' }) });
const exampleRunId = '0b7d6f2e-5c1a-4e8b-9f3d-2a6c8e1b4d70';

/** Every route the API router serves, in the order of the document. */
export const API_OPERATIONS: readonly ApiOperation[] = [
  {
    method: 'put',
    path: '/resources/{id}',
    operationId: 'putResource',
    tag: 'Resources',
    access: 'write',
    summary: 'Create or replace a resource and run its ETL',
    description:
      'Upserts the resource and records an ETL run in one transaction, then hands the run to a lane (`?lane=`, the `Tasklane-Lane` header, or ETL_LANE). ' +
      'PUT replaces: omitted `name`/`attributes` are stored as null. In the `await` lane the response waits for the run (Prefer: wait=N) and is 202 when it has not finished.',
    request: {
      path: z.object({ id: resourceIdSchema }),
      query: z.object({ lane: z.enum(LANES).optional().meta({ description: 'The lane of this write.' }) }),
      header: writeHeaders,
      body: putResourceBodySchema,
    },
    example: {
      path: { id: 'printer-7' },
      query: { lane: 'queue' },
      body: { name: 'Printer 7', attributes: { site: 'lab-2' }, info: { firmware: { version: '2.1.0' }, uptimeSeconds: 86400, trays: [{ paper: 'A4' }] } },
    },
    responses: {
      200: { description: 'Updated; a new run was recorded.', headers: z.object({ Location: location, ...requestIdHeader }), content: json(putResourceResponseSchema) },
      201: { description: 'Created; a run was recorded.', headers: z.object({ Location: location, ...requestIdHeader }), content: json(putResourceResponseSchema) },
      202: { description: 'Await lane: stored, but the run did not finish within the wait.', content: json(putResourceResponseSchema) },
      400: E[400], 401: E[401], 403: E[403], 413: E[413], 415: E[415], 422: E[422], 429: E[429], 500: E[500], 503: E[503],
    },
  },
  {
    method: 'get',
    path: '/resources/{id}',
    operationId: 'getResource',
    tag: 'Resources',
    access: 'read',
    summary: 'A resource, its latest run and its number of context records',
    request: { path: z.object({ id: resourceIdSchema }) },
    example: { path: { id: 'printer-7' } },
    responses: { 200: { description: 'The resource.', content: json(getResourceResponseSchema) }, 401: E[401], 404: E[404], 422: E[422], 500: E[500] },
  },
  {
    method: 'get',
    path: '/resources/{id}/context',
    operationId: 'listContextRecords',
    tag: 'Resources',
    access: 'read',
    summary: 'A resource’s context records in key order, paginated',
    request: { path: z.object({ id: resourceIdSchema }), query: contextQuerySchema },
    example: { path: { id: 'printer-7' }, query: { limit: '50' } },
    responses: { 200: { description: 'One page of records.', content: json(contextPageSchema) }, 401: E[401], 404: E[404], 422: E[422], 500: E[500] },
  },
  {
    method: 'get',
    path: '/etl-runs',
    operationId: 'listEtlRuns',
    tag: 'ETL runs',
    access: 'read',
    summary: 'ETL runs, newest first, paginated',
    request: { query: listQuerySchema },
    example: { query: { lane: 'queue', status: 'failed', limit: '20' } },
    responses: { 200: { description: 'One page of runs.', content: json(runPageSchema) }, 401: E[401], 422: E[422], 500: E[500] },
  },
  {
    method: 'get',
    path: '/etl-runs/stats',
    operationId: 'etlRunStats',
    tag: 'ETL runs',
    access: 'read',
    summary: 'Per lane: runs by status and p50/p95/p99 of lag, duration and total (ms)',
    description: 'The window is `windowSeconds` ending at `until` (or now), or `since`..`until`; it may be at most STATS_MAX_WINDOW_SECONDS long (7 days by default), else 422.',
    request: { query: statsQuerySchema },
    example: { query: { windowSeconds: '900' } },
    responses: { 200: { description: 'Figures for the window.', content: json(runStatsSchema) }, 401: E[401], 422: E[422], 500: E[500] },
  },
  {
    method: 'get',
    path: '/etl-runs/{id}',
    operationId: 'getEtlRun',
    tag: 'ETL runs',
    access: 'read',
    summary: 'One run with its status and timestamps',
    request: { path: runIdPath },
    example: { path: { id: exampleRunId } },
    responses: { 200: { description: 'The run.', content: json(runSchema) }, 401: E[401], 404: E[404], 500: E[500] },
  },
  {
    method: 'post',
    path: '/etl-runs/{id}/retry',
    operationId: 'retryEtlRun',
    tag: 'ETL runs',
    access: 'write',
    summary: 'Put a failed or lost run back into its lane',
    description:
      'A `failed` or `lost` run goes back to `queued` in its lane (an in-process run is then owned by the instance that answers) and ' +
      'runs again; any other status is a 409. Any execution of the run still in flight loses its lease and writes nothing.',
    request: { path: runIdPath },
    example: { path: { id: exampleRunId } },
    responses: {
      202: { description: 'The run is queued again.', headers: z.object({ Location: location }), content: json(retryResponseSchema) },
      401: E[401], 403: E[403], 404: E[404], 409: E[409], 429: E[429], 500: E[500],
    },
  },
  {
    method: 'get',
    path: '/healthz',
    operationId: 'healthz',
    tag: 'Operations',
    access: 'ops',
    summary: 'Liveness: the process answers',
    responses: { 200: { description: 'Alive.', content: json(healthSchema) } },
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    tag: 'Operations',
    access: 'ops',
    summary: 'Readiness: PostgreSQL and Redis answer',
    responses: {
      200: { description: 'Every dependency is up.', content: json(readinessSchema) },
      503: { description: 'Some dependency is down (see `checks`).', content: json(readinessSchema) },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'Operations',
    access: 'ops',
    summary: 'Prometheus metrics (text exposition format)',
    description: 'Open, or behind `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set.',
    responses: {
      200: { description: 'Metrics.', content: { 'text/plain': { schema: z.string() } } },
      401: error('METRICS_TOKEN is set and the request did not present it.'),
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    tag: 'Operations',
    access: 'ops',
    summary: 'This document (OpenAPI 3.1)',
    responses: { 200: { description: 'The document.', content: { 'application/json': { schema: z.object({ openapi: z.string() }).loose() } } } },
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'docsPage',
    tag: 'Operations',
    access: 'ops',
    summary: 'Human-readable API docs (Swagger UI, served from this process)',
    responses: { 200: { description: 'An HTML page.', content: { 'text/html': { schema: z.string() } } } },
  },
  {
    method: 'get',
    path: '/docs/assets/{file}',
    operationId: 'docsAsset',
    tag: 'Operations',
    access: 'ops',
    summary: 'A static file of the docs page',
    request: { path: z.object({ file: z.string() }) },
    example: { path: { file: 'swagger-ui.css' } },
    responses: { 200: { description: 'The file.' }, 404: E[404] },
  },
];
