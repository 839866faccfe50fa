/**
 * `@tasklane/client`: a typed client of the Tasklane API. The types are generated from the API's
 * OpenAPI document by openapi-typescript (`npm run client:generate` writes `openapi.json` and
 * `src/schema.ts`); requests go through openapi-fetch.
 */
export { createTasklaneClient, type TasklaneClient, type TasklaneClientOptions } from './createTasklaneClient.ts';
export { describeApiError, isApiErrorBody, type ApiErrorBody } from './describeApiError.ts';
export { jsonBodyText } from './jsonBodyText.ts';
export { preferWait } from './preferWait.ts';
export type { components, operations, paths } from './schema.ts';
export type { JsonObject, PutResourceBody, TasklanePaths } from './tasklanePaths.ts';

import type { components } from './schema.ts';

/** A resource as the API shows it. */
export type Resource = components['schemas']['Resource'];
/** An ETL run as `GET /etl-runs/{id}` shows it. */
export type EtlRun = components['schemas']['EtlRun'];
/** The answer of `PUT /resources/{id}`: the resource and its new run (with `dispatched`). */
export type PutResourceResponse = components['schemas']['PutResourceResponse'];
/** The answer of `GET /resources/{id}`. */
export type ResourceDetail = components['schemas']['ResourceDetail'];
