import Router from '@koa/router';
import { LANES } from '@tasklane/config';
import type { Db } from '@tasklane/db';
import { etlRunStats, findEtlRun, listEtlRuns, retryFailedRun } from '@tasklane/db';
import type { Lane as LaneName } from '@tasklane/config';
import type { Lane } from '../lanes/Lane.ts';
import { z } from 'zod';
import { ConflictError, NotFoundError, ValidationError } from '../http/httpErrors.ts';
import { sendJson } from '../http/sendJson.ts';
import type { Links } from '../http/views.ts';
import { runBody } from '../http/views.ts';
import { zodDetails } from '../http/zodDetails.ts';

/** Run statuses clients may filter on. */
export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'lost', 'skipped'] as const;

export const listQuerySchema = z.object({
  lane: z.enum(LANES).optional(),
  status: z.enum(RUN_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional(),
});

/** The longest `/etl-runs/stats` window when none is configured (`STATS_MAX_WINDOW_SECONDS`), in seconds: 7 days. */
export const DEFAULT_STATS_MAX_WINDOW_SECONDS = 7 * 24 * 3600;

export const statsQuerySchema = z.object({
  /** Window length in seconds, ending now (or at `until`). @defaultValue 3600 */
  windowSeconds: z.coerce
    .number()
    .positive()
    .max(366 * 24 * 3600)
    .default(3600)
    .meta({ description: 'Window length in seconds, ending at `until` (or now). At most STATS_MAX_WINDOW_SECONDS (7 days by default): 422 beyond.' }),
  since: z.iso.datetime({ offset: true }).optional().meta({ description: 'Window start; `until - since` may not exceed STATS_MAX_WINDOW_SECONDS (422).' }),
  until: z.iso.datetime({ offset: true }).optional(),
});

/** What the ETL-run routes use. */
export interface EtlRunsRouterDeps {
  db: Db;
  links: Links;
  lanes: ReadonlyMap<LaneName, Lane>;
  /**
   * The longest stats window a request may ask for, in seconds (`STATS_MAX_WINDOW_SECONDS`): a
   * stats query scans every run of its window, so an unbounded one (issue #9) would read the whole
   * table. 422 beyond. @defaultValue {@link DEFAULT_STATS_MAX_WINDOW_SECONDS}
   */
  statsMaxWindowSeconds?: number;
}

/**
 * Routes:
 * - `GET /etl-runs?lane=&status=&limit=&cursor=` — runs, newest first, paginated.
 * - `GET /etl-runs/stats?windowSeconds=|since=&until=` — per lane: counts by status and
 *   p50/p95/p99 of lag (queued → started), duration (started → finished) and total, in ms;
 *   422 when the window exceeds `statsMaxWindowSeconds`.
 * - `GET /etl-runs/:id` — one run with its status and timestamps.
 * - `POST /etl-runs/:id/retry` — puts a `failed` or `lost` run back into its lane: 202; 409 otherwise.
 */
export function etlRunsRouter(deps: EtlRunsRouterDeps): Router {
  const maxWindowSeconds = deps.statsMaxWindowSeconds ?? DEFAULT_STATS_MAX_WINDOW_SECONDS;
  const router = new Router();

  router.get('/etl-runs', async (ctx) => {
    const query = listQuerySchema.safeParse(ctx.query);
    if (!query.success) throw new ValidationError('invalid query', zodDetails(query.error));
    const { lane, status, limit, cursor } = query.data;
    const page = await listEtlRuns(deps.db, { lane, status, limit, after: cursor === undefined ? null : decodeRunCursor(cursor) });
    const nextCursor = page.next ? Buffer.from(`${page.next.queuedAt.toISOString()}|${page.next.id}`).toString('base64url') : null;
    const filters = new URLSearchParams({ ...(lane ? { lane } : {}), ...(status ? { status } : {}), limit: String(limit) });
    sendJson(ctx, 200, {
      runs: page.runs.map((run) => runBody(run, deps.links)),
      nextCursor,
      next: nextCursor === null ? null : `/etl-runs?${filters}&cursor=${nextCursor}`,
    });
  });

  router.get('/etl-runs/stats', async (ctx) => {
    const query = statsQuerySchema.safeParse(ctx.query);
    if (!query.success) throw new ValidationError('invalid query', zodDetails(query.error));
    const until = query.data.until ? new Date(query.data.until) : new Date();
    const since = query.data.since ? new Date(query.data.since) : new Date(until.getTime() - query.data.windowSeconds * 1000);
    if (!isSendableInstant(since) || !isSendableInstant(until)) throw new ValidationError('since and until must fall in year 1 or later', { since, until });
    if (since >= until) throw new ValidationError('since must be before until', { since, until });
    const windowSeconds = (until.getTime() - since.getTime()) / 1000;
    if (windowSeconds > maxWindowSeconds) {
      throw new ValidationError(`the window is ${windowSeconds} s long; the limit is ${maxWindowSeconds} s`, { windowSeconds, maxWindowSeconds });
    }
    sendJson(ctx, 200, { window: { since: since.toISOString(), until: until.toISOString() }, lanes: await etlRunStats(deps.db, { since, until }) });
  });

  router.post('/etl-runs/:id/retry', async (ctx) => {
    const existing = await findEtlRun(deps.db, ctx.params.id ?? '');
    if (!existing) throw new NotFoundError(`no ETL run with id ${JSON.stringify(ctx.params.id)}`);
    const lane = deps.lanes.get(existing.lane as LaneName);
    ctx.state.lane = existing.lane; // labels the request's metrics
    if (!lane) throw new ConflictError(`lane ${existing.lane} is not available on this deployment`, { lane: existing.lane });
    const retried = await retryFailedRun(deps.db, existing.id, { ownerId: lane.ownerId ?? null });
    if (retried === null) throw new NotFoundError(`no ETL run with id ${JSON.stringify(ctx.params.id)}`);
    if ('conflict' in retried) {
      throw new ConflictError(`run is ${retried.conflict}; only failed or lost runs can be retried`, { status: retried.conflict });
    }
    const dispatch = await lane.dispatch(retried, { requestId: ctx.state.requestId as string, retry: true });
    ctx.set('Location', deps.links.run(retried.id));
    sendJson(ctx, 202, {
      ...runBody(retried, deps.links),
      dispatched: dispatch.dispatched,
      ...(dispatch.dispatched ? {} : { dispatchError: dispatch.reason }),
    });
  });

  router.get('/etl-runs/:id', async (ctx) => {
    const run = await findEtlRun(deps.db, ctx.params.id ?? '');
    if (!run) throw new NotFoundError(`no ETL run with id ${JSON.stringify(ctx.params.id)}`);
    sendJson(ctx, 200, runBody(run, deps.links));
  });

  return router;
}

function decodeRunCursor(cursor: string): { queuedAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const queuedAt = new Date(at ?? '');
  if (!id || !UUID.test(id) || !isSendableInstant(queuedAt)) throw new ValidationError('invalid cursor', { cursor });
  return { queuedAt, id };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * True for a valid Date PostgreSQL accepts as a query parameter. The driver sends dates as ISO text
 * without an era, and PostgreSQL has no year 0 (nor negative years), so such a date fails the query.
 */
function isSendableInstant(date: Date): boolean {
  return !Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 1;
}
