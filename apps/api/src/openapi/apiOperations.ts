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

const requestId = z.string().meta({ description: 'The request id: the client’s `X-Request-Id` when it is 1–200 of [A-Za-z0-9._:-], else a new UUID. In every log line of the request (and of its run).', example: '0b7d6f2e-5c1a-4e8b-9f3d-2a6c8e1b4d70' });
const retryAfter = z.string().regex(/^\d+$/).meta({ description: 'Seconds to wait before trying again (RFC 9110 §10.2.3).', example: '30' });
const wwwAuthenticate = z.string().meta({ description: 'The challenge (RFC 6750): `Bearer realm="tasklane"`, with `error="invalid_token"` when a token was sent but is not valid.', example: 'Bearer realm="tasklane"' });
const rateLimitHeaders = {
  'RateLimit-Limit': z.string().regex(/^\d+$/).optional().meta({ description: 'Writes allowed per client per 60 s (RATE_LIMIT_WRITES_PER_MINUTE); sent on writes when the limit is on.', example: '600' }),
  'RateLimit-Remaining': z.string().regex(/^\d+$/).optional().meta({ description: 'Writes this client has left in the current 60 s window; sent on writes when the limit is on.', example: '599' }),
};
/** `"<version>"`: RFC 9110 §8.8.3 strong entity tag; `http/conditionalRequests.ts`. */
const etag = z.string().regex(/^"[1-9][0-9]*"$/).meta({
  description: 'Strong entity tag of the resource: its version in quotes (`"3"`). Send it back in `If-Match` to write only if nobody wrote in between.',
  example: '"3"',
});
const location = z.string().meta({ description: 'URL of the resource or run.', example: '/resources/printer-7' });

/** A response: always with `X-Request-Id`, plus the headers given. */
const respond = (description: string, options: { content?: ReturnType<typeof json> | Record<string, { schema: z.ZodType }>; headers?: Record<string, z.ZodType> } = {}) => ({
  description,
  headers: z.object({ 'X-Request-Id': requestId, ...options.headers }),
  ...(options.content ? { content: options.content } : {}),
});

/** An error response in the shared error body. */
const error = (description: string, headers?: Record<string, z.ZodType>) => respond(description, { content: json(errorBodySchema), ...(headers ? { headers } : {}) });

const TRANSPORT_400 = 'or the request is not valid HTTP/1.1 (an unreadable request target, a header line without a colon, `CONNECT`).';

const E = {
  400: error(`The request cannot be read: ${TRANSPORT_400}`),
  badBody: error(`The body cannot be read (empty, malformed JSON, a duplicated key with different values, not a JSON object), \`If-Match\` / \`If-None-Match\` is malformed (not \`*\` or a list of entity tags), ${TRANSPORT_400}`),
  badPreconditions: error(`\`If-Match\` / \`If-None-Match\` is malformed (not \`*\` or a list of entity tags), ${TRANSPORT_400}`),
  401: error('No bearer token, or one that is not valid (when access control is on; reads need one only with READS_REQUIRE_AUTH, but a token that is sent must be valid).', { 'WWW-Authenticate': wwwAuthenticate }),
  403: error('The token is valid but may only read.'),
  404: error('No such resource, run or route.'),
  408: error('The request was not received within the server’s request or header timeout.'),
  409: error('The run is not failed or lost, so it cannot be retried (or its lane is not on this deployment).'),
  412: error('`If-Match` / `If-None-Match` does not hold for the resource’s current version (RFC 9110 §13.1): nothing was written — no resource change, no run, no job. GET the resource for its current `ETag`.'),
  413: error('The body exceeds BODY_LIMIT_BYTES, or its chunk extensions are too large.'),
  chunkExtensions: error('The request’s chunk extensions are too large.'),
  415: error('The body is not application/json (or application/*+json) in UTF-8, or has a Content-Encoding.'),
  422: error('The request breaks a rule: schema, id format, size limits, lane not allowed; `details` lists the issues.'),
  429: error('Too many writes from this client in the last minute (RATE_LIMIT_WRITES_PER_MINUTE).', { 'Retry-After': retryAfter }),
  431: error('The request line and headers exceed 16 KB.'),
  500: error('Unexpected failure; the message is generic (no stack, no SQL). The request id is in X-Request-Id.'),
  503: error('PostgreSQL is unreachable, restarting or out of connections: nothing was written; retry after Retry-After seconds.', { 'Retry-After': retryAfter }),
} as const;

/** What any request may get before a route sees it (Node's parser, `answerMalformedRequests`), and an unexpected failure. */
const ALWAYS = { 400: E[400], 408: E[408], 413: E.chunkExtensions, 431: E[431], 500: E[500] } as const;

/** Every response of a write may carry the rate-limit headers (the limiter runs before the route). */
const withRateLimit = <T extends Record<string, unknown>>(responses: T): T =>
  Object.fromEntries(
    Object.entries(responses).map(([status, response]) => {
      const { headers, ...rest } = response as { headers?: z.ZodObject };
      return [status, { ...rest, headers: (headers ?? z.object({})).extend(rateLimitHeaders) }];
    }),
  ) as T;

/** Headers a write may send. */
const writeHeaders = z.object({
  'Tasklane-Lane': z.enum(LANES).optional().meta({ description: 'The lane of this write (`?lane=` wins). Default: ETL_LANE.' }),
  Prefer: z.string().optional().meta({ description: '`wait=N`: in the await lane, wait up to N seconds for the run (RFC 7240).', example: 'wait=5' }),
  'If-Match': z.string().optional().meta({
    description: 'Write only if the resource exists at one of these versions: `"3"`, a list `"3", "4"`, or `*` (exists at all). Compared strongly: `W/"3"` never matches. Otherwise 412 and nothing is written.',
    example: '"3"',
  }),
  'If-None-Match': z.string().optional().meta({
    description: '`*`: create only — 412 and nothing written when the resource exists. A list of tags: 412 when the resource is at one of them (weak comparison).',
    example: '*',
  }),
  'X-Request-Id': z.string().max(200).optional().meta({ description: 'Your id for this request; 1–200 of [A-Za-z0-9._:-], else a new UUID is used.', example: 'deploy-42' }),
});

/** Conditional headers of a read of a resource. */
const readHeaders = z.object({
  'If-None-Match': z.string().optional().meta({ description: 'A list of entity tags (weak comparison) or `*`: 304 Not Modified when the resource’s current ETag is among them.', example: '"3"' }),
  'If-Match': z.string().optional().meta({ description: 'A list of entity tags (strong comparison) or `*`: 412 when the resource’s current ETag is not among them.', example: '"3"' }),
});

const putResponseHeaders = {
  Location: location,
  ETag: etag,
  'Preference-Applied': z.string().optional().meta({ description: 'Await lane, when the request sent `Prefer: wait=N`: the wait applied, `wait=<seconds>` (at most the server’s maximum; RFC 7240 §3).', example: 'wait=5' }),
};

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
      'PUT replaces: omitted `name`/`attributes` are stored as null. In the `await` lane the response waits for the run (Prefer: wait=N) and is 202 when it has not finished. ' +
      'Conditional writes (RFC 9110 §13.1): `If-Match: "<version>"` writes only over that version (no lost update), `If-None-Match: *` only creates; when the condition does not hold the answer is 412 and nothing is written. ' +
      'The check is part of the write’s own SQL statement, so of concurrent writes with the same `If-Match` exactly one succeeds.',
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
    responses: withRateLimit({
      ...ALWAYS,
      200: respond('Updated; a new run was recorded.', { headers: putResponseHeaders, content: json(putResourceResponseSchema) }),
      201: respond('Created; a run was recorded.', { headers: putResponseHeaders, content: json(putResourceResponseSchema) }),
      202: respond('Await lane: stored, but the run did not finish within the wait.', { headers: putResponseHeaders, content: json(putResourceResponseSchema) }),
      400: E.badBody, 401: E[401], 403: E[403], 412: E[412], 413: E[413], 415: E[415], 422: E[422], 429: E[429],
      503: error(
        'PostgreSQL is unreachable, restarting or out of connections, or the in-process lane asked for is full (IN_PROCESS_QUEUE_LIMIT, IN_PROCESS_OVERFLOW=reject): nothing was written; retry after Retry-After seconds.',
        { 'Retry-After': retryAfter },
      ),
    }),
  },
  {
    method: 'get',
    path: '/resources/{id}',
    operationId: 'getResource',
    tag: 'Resources',
    access: 'read',
    summary: 'A resource, its latest run and its number of context records',
    description:
      'Carries the resource’s `ETag` (`"<version>"`). `If-None-Match` naming it (or `*`) → 304 with no body; `If-Match` not naming it → 412. ' +
      'The ETag validates the stored resource (name, attributes, version): `latestRun` and `contextRecordCount` report background work and change under the same ETag — poll the run’s `href` for its status.',
    request: { path: z.object({ id: resourceIdSchema }), header: readHeaders },
    example: { path: { id: 'printer-7' } },
    responses: {
      ...ALWAYS,
      200: respond('The resource.', { headers: { ETag: etag }, content: json(getResourceResponseSchema) }),
      304: respond('Not modified: the resource is at a version `If-None-Match` named. No body.', { headers: { ETag: etag } }),
      400: E.badPreconditions, 401: E[401], 404: E[404],
      412: error('`If-Match` does not name the resource’s current version.', { ETag: etag }),
      422: E[422], 503: E[503],
    },
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
    responses: { ...ALWAYS, 200: respond('One page of records.', { content: json(contextPageSchema) }), 401: E[401], 404: E[404], 422: E[422], 503: E[503] },
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
    responses: { ...ALWAYS, 200: respond('One page of runs.', { content: json(runPageSchema) }), 401: E[401], 422: E[422], 503: E[503] },
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
    responses: { ...ALWAYS, 200: respond('Figures for the window.', { content: json(runStatsSchema) }), 401: E[401], 422: E[422], 503: E[503] },
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
    responses: { ...ALWAYS, 200: respond('The run.', { content: json(runSchema) }), 401: E[401], 404: E[404], 503: E[503] },
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
    responses: withRateLimit({
      ...ALWAYS,
      202: respond('The run is queued again.', { headers: { Location: location }, content: json(retryResponseSchema) }),
      401: E[401], 403: E[403], 404: E[404], 409: E[409], 429: E[429], 503: E[503],
    }),
  },
  {
    method: 'get',
    path: '/healthz',
    operationId: 'healthz',
    tag: 'Operations',
    access: 'ops',
    summary: 'Liveness: the process answers',
    responses: { ...ALWAYS, 200: respond('Alive.', { content: json(healthSchema) }) },
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    tag: 'Operations',
    access: 'ops',
    summary: 'Readiness: PostgreSQL and Redis answer',
    responses: {
      ...ALWAYS,
      200: respond('Every dependency is up.', { content: json(readinessSchema) }),
      503: respond('Some dependency is down (see `checks`).', { content: json(readinessSchema) }),
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
      ...ALWAYS,
      200: respond('Metrics.', { content: { 'text/plain': { schema: z.string() } } }),
      401: error('METRICS_TOKEN is set and the request did not present it.', { 'WWW-Authenticate': wwwAuthenticate }),
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    tag: 'Operations',
    access: 'ops',
    summary: 'This document (OpenAPI 3.1)',
    responses: { ...ALWAYS, 200: respond('The document.', { content: { 'application/json': { schema: z.object({ openapi: z.string() }).loose() } } }) },
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'docsPage',
    tag: 'Operations',
    access: 'ops',
    summary: 'Human-readable API docs (Swagger UI, served from this process)',
    responses: { ...ALWAYS, 200: respond('An HTML page.', { content: { 'text/html': { schema: z.string() } } }) },
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
    responses: { ...ALWAYS, 200: respond('The file (CSS, JavaScript or PNG).'), 404: E[404] },
  },
];
