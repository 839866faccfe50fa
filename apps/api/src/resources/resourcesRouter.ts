import Router from '@koa/router';
import type { Db } from '@tasklane/db';
import { findEtlRun, findResource, listContextRecords, postgresSpanAttributes, upsertResourceWithRun, WritePreconditionFailedError } from '@tasklane/db';
import type { Tracing } from '@tasklane/tracing';
import { TRACING_OFF } from '@tasklane/tracing';
import { parseJsonExact } from '@tasklane/etl';
import type { Context } from 'koa';
import { z } from 'zod';
import { evaluateReadPreconditions, readPreconditionHeaders, readWritePrecondition, resourceEtag } from '../http/conditionalRequests.ts';
import { NotFoundError, PreconditionFailedError, ServiceUnavailableError, ValidationError } from '../http/httpErrors.ts';
import { parsePreferWait } from '../http/parsePreferWait.ts';
import { readJsonText } from '../http/readJsonText.ts';
import { sendJson } from '../http/sendJson.ts';
import type { Links } from '../http/views.ts';
import { resourceBody, runBody } from '../http/views.ts';
import type { Lane } from '../lanes/Lane.ts';
import type { PreparePutOutcome } from './preparePutBody.ts';
import { preparePutBody, unwrapPutOutcome } from './preparePutBody.ts';
import { resourceIdSchema } from './putResourceBody.ts';
import { zodDetails } from '../http/zodDetails.ts';

/** What the resource routes use. */
export interface ResourcesRouterDeps {
  db: Db;
  links: Links;
  /** Picks the lane of a write. */
  selectLane(ctx: Context): Lane;
  /** Largest body in bytes. */
  bodyLimitBytes: number;
  /** `await` lane: seconds to wait without `Prefer: wait`, and the most a client may ask for. */
  awaitWait: { defaultSeconds: number; maxSeconds: number };
  /**
   * Aborted when the process stops waiting for runs (its shutdown grace period is up): an `await`
   * request still waiting then answers at once, 202 with the run as it stands, instead of having its
   * connection closed under it. @defaultValue never aborted
   */
  stopWaiting?: AbortSignal | undefined;
  /** Validates bodies of at least `minBytes` off the event loop. @defaultValue every body on the event loop */
  bodyThreads?: BodyThreads | undefined;
  /** Spans for the upsert and the dispatch of a write (see `resourcesRouter`). @defaultValue off */
  tracing?: Tracing | undefined;
}

/**
 * Worker threads that validate large PUT bodies (issue #10: a 1 MiB body parsed on the event loop
 * stalls every request behind it). `run` must call `preparePutOutcome(task.text, task.id)` in a
 * worker thread (`apps/api/src/lanes/transformWorker.ts` exports it as `preparePut`).
 */
export interface BodyThreads {
  /** Bodies of at least this many UTF-8 bytes go to a thread (`BODY_THREAD_MIN_BYTES`). */
  minBytes: number;
  run(task: { text: string; id: string | undefined }): Promise<PreparePutOutcome>;
}

export const contextQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(2000).optional(),
});

/**
 * Routes:
 * - `PUT /resources/:id` — upsert + record the run in one transaction, then dispatch to a lane;
 *   201 created / 200 updated, `Location` header. In the `await` lane the request waits for the run
 *   up to `Prefer: wait=N` seconds (RFC 7240) and answers 202 Accepted if it has not finished.
 *   An in-process lane that is full (`IN_PROCESS_QUEUE_LIMIT`) is asked before anything is written:
 *   503 + `Retry-After` and no row, or (`IN_PROCESS_OVERFLOW=queue`) the queue lane takes the run
 *   and the response's `run.overflowedFrom` names the lane asked for.
 *   Conditional writes (RFC 9110 §13.1): `If-Match` / `If-None-Match` against the `ETag` `"<version>"`,
 *   checked inside the upsert's statement; when they do not hold → 412 and nothing is written.
 * - `GET /resources/:id` — the resource, its latest run, its number of context records; `ETag`,
 *   and `If-None-Match` → 304 / `If-Match` → 412 (`http/conditionalRequests.ts`).
 * - `GET /resources/:id/context?limit=&cursor=` — its context records in key order, paginated.
 *
 * With tracing on, a PUT adds two spans under the request's server span: the upsert (a PostgreSQL
 * client span, `INSERT resources etl_runs`) and `dispatch etl-run` (the lane taking the run:
 * `tasklane.lane`, `tasklane.etl_run.id`), under which the queue lane's BullMQ producer span, or an
 * in-process lane's `process etl-run`, follows.
 */
export function resourcesRouter(deps: ResourcesRouterDeps): Router {
  const router = new Router();
  const tracing = deps.tracing ?? TRACING_OFF;
  const upsertSpan = tracing.enabled
    ? {
        kind: 'client' as const,
        attributes: {
          ...postgresSpanAttributes(deps.db),
          'db.operation.name': 'INSERT',
          'db.collection.name': 'resources',
          'db.query.summary': 'INSERT resources etl_runs',
        },
      }
    : {};

  router.put('/resources/:id', async (ctx) => {
    // A malformed If-Match / If-None-Match is a 400 before the body is read.
    const precondition = readWritePrecondition(ctx);
    // Body first: 415/413/400 describe the request as a whole and win over field rules (422).
    const text = await readJsonText(ctx, { limitBytes: deps.bodyLimitBytes });
    const offload = deps.bodyThreads && Buffer.byteLength(text, 'utf8') >= deps.bodyThreads.minBytes ? deps.bodyThreads : undefined;
    const { id, name, attributesJson, infoJson } = offload
      ? unwrapPutOutcome(await offload.run({ text, id: ctx.params.id }))
      : preparePutBody(text, ctx.params.id);
    const asked = deps.selectLane(ctx);
    let lane = asked;
    // Admission before the write: a run the lane cannot take must leave nothing behind (issue #9).
    const admission = asked.admit?.() ?? { admitted: true as const };
    if (!admission.admitted) {
      if (!admission.overflow) {
        throw new ServiceUnavailableError(`${admission.reason}; retry later or use the queue lane`, admission.retryAfterSeconds, { lane: asked.name });
      }
      lane = admission.overflow;
      ctx.state.lane = lane.name; // labels the request's metrics
    }
    const reservation = admission.admitted ? admission.reservation : undefined;
    const requestId = ctx.state.requestId as string;
    let written: Awaited<ReturnType<typeof upsertResourceWithRun>>;
    try {
      // The request's trace context, stored with the run: a job the outbox relay publishes later
      // continues this trace (issue #12). Read here, where the server span is the active one.
      const traceContext = tracing.enabled ? tracing.inject() : undefined;
      written = await tracing.inSpan('INSERT resources etl_runs', upsertSpan, () =>
        upsertResourceWithRun(deps.db, {
          id,
          name,
          attributesJson,
          infoJson,
          lane: lane.name,
          requestId,
          ownerId: lane.ownerId ?? null,
          precondition,
          traceContext: traceContext ? JSON.stringify(traceContext) : null,
        }),
      );
    } catch (error) {
      reservation?.release();
      if (error instanceof WritePreconditionFailedError) {
        throw new PreconditionFailedError(
          precondition?.ifNoneMatch === '*' && precondition.ifMatch === undefined
            ? `resource ${JSON.stringify(id)} already exists (If-None-Match: *); nothing was written`
            : `resource ${JSON.stringify(id)} is not at a version the request's If-Match / If-None-Match allows; nothing was written. GET it for its current ETag`,
          { ...(ctx.get('If-Match') ? { ifMatch: ctx.get('If-Match') } : {}), ...(ctx.get('If-None-Match') ? { ifNoneMatch: ctx.get('If-None-Match') } : {}) },
        );
      }
      throw error;
    }
    const { created, resource, run } = written;
    const dispatch = await tracing
      .inSpan(
        'dispatch etl-run',
        tracing.enabled
          ? { attributes: { 'tasklane.lane': lane.name, 'tasklane.etl_run.id': run.id, 'tasklane.resource.id': resource.id, 'tasklane.resource.version': resource.version } }
          : {},
        async (span) => {
          const result = await lane.dispatch(run, { requestId, ...(reservation ? { reservation } : {}) });
          span.setAttributes({ 'tasklane.dispatched': result.dispatched });
          if (!result.dispatched) span.fail('not_dispatched', result.reason);
          return result;
        },
      )
      .finally(() => reservation?.release());
    let status = created ? 201 : 200;
    let runNow = run;
    if (lane.name === 'await' && dispatch.dispatched && dispatch.completion) {
      // Task.async + Task.yield: wait up to the client's deadline, then answer either way.
      const asked = parsePreferWait(ctx.get('Prefer'));
      const waitSeconds = Math.min(asked ?? deps.awaitWait.defaultSeconds, deps.awaitWait.maxSeconds);
      const finished = await settlesWithin(dispatch.completion, waitSeconds * 1000, deps.stopWaiting);
      runNow = (await findEtlRun(deps.db, run.id)) ?? run;
      if (asked !== undefined) ctx.set('Preference-Applied', `wait=${waitSeconds}`);
      if (!finished) status = 202;
    }
    ctx.set('Location', deps.links.resource(resource.id));
    ctx.set('ETag', resourceEtag(resource.version));
    sendJson(ctx, status, {
      resource: resourceBody(resource, deps.links),
      run: {
        ...runBody(runNow, deps.links),
        dispatched: dispatch.dispatched,
        ...(dispatch.dispatched ? {} : { dispatchError: dispatch.reason }),
        ...(lane === asked ? {} : { overflowedFrom: asked.name }),
      },
    });
  });

  router.get('/resources/:id', async (ctx) => {
    const id = parseResourceId(ctx.params.id);
    const preconditions = readPreconditionHeaders(ctx);
    const detail = await findResource(deps.db, id);
    if (!detail) throw new NotFoundError(`no resource with id ${JSON.stringify(id)}`);
    const etag = resourceEtag(detail.resource.version);
    const outcome = evaluateReadPreconditions(preconditions, detail.resource.version);
    if (outcome === 'precondition-failed') {
      throw new PreconditionFailedError(`resource ${JSON.stringify(id)} is at version ${detail.resource.version}, which If-Match does not list`, { ifMatch: ctx.get('If-Match') }, { ETag: etag });
    }
    ctx.set('ETag', etag);
    if (outcome === 'not-modified') {
      ctx.status = 304;
      return;
    }
    sendJson(ctx, 200, {
      resource: resourceBody(detail.resource, deps.links),
      latestRun: detail.latestRun ? runBody(detail.latestRun, deps.links) : null,
      contextRecordCount: detail.contextRecordCount,
      links: { context: `${deps.links.resource(id)}/context` },
    });
  });

  router.get('/resources/:id/context', async (ctx) => {
    const id = parseResourceId(ctx.params.id);
    const query = contextQuerySchema.safeParse(ctx.query);
    if (!query.success) throw new ValidationError('invalid query', zodDetails(query.error));
    const after = query.data.cursor === undefined ? null : decodeCursor(query.data.cursor);
    const detail = await findResource(deps.db, id);
    if (!detail) throw new NotFoundError(`no resource with id ${JSON.stringify(id)}`);
    const page = await listContextRecords(deps.db, id, { after, limit: query.data.limit });
    const nextCursor = page.nextAfter === null ? null : Buffer.from(page.nextAfter, 'utf8').toString('base64url');
    sendJson(ctx, 200, {
      records: page.records.map((r) => ({
        key: r.key,
        value: parseJsonExact(r.valueJson),
        valueType: r.valueType,
        resourceVersion: r.resourceVersion,
      })),
      nextCursor,
      next: nextCursor === null ? null : `${deps.links.resource(id)}/context?limit=${query.data.limit}&cursor=${nextCursor}`,
    });
  });

  return router;
}

function parseResourceId(raw: string | undefined): string {
  const parsed = resourceIdSchema.safeParse(raw);
  if (!parsed.success) throw new ValidationError('invalid resource id', zodDetails(parsed.error));
  return parsed.data;
}

function decodeCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(cursor)) throw new ValidationError('invalid cursor', { cursor });
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  // A key is stored text, so it never holds U+0000; PostgreSQL would refuse the parameter (500).
  if (key.includes('\u0000')) throw new ValidationError('invalid cursor', { cursor });
  return key;
}

/** Resolves true when `promise` settles within `ms`, false otherwise (the promise carries on). */
async function settlesWithin(promise: Promise<unknown>, ms: number, stop?: AbortSignal): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let onStop: (() => void) | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    onStop = () => resolve(false);
    if (stop?.aborted) resolve(false);
    else stop?.addEventListener('abort', onStop, { once: true });
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
    if (onStop) stop?.removeEventListener('abort', onStop);
  }
}
