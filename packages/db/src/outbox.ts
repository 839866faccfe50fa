// The transactional outbox's SQL (issue #9, "What must hold" 2): `etl_runs` is the outbox, and
// `published_at` records that a queue-lane run's BullMQ job reached Redis. The relay that drives
// these statements is apps/api/src/lifecycle/outboxRelay.ts; every statement here is one
// autocommitted statement, so no transaction is ever held open across a Redis call.
import type { Db } from './createDb.ts';
import { Prisma } from './generated/prisma/client.ts';

/** A queue-lane run the outbox relay hands to Redis. */
export interface OutboxRun {
  id: string;
  /** The request id of the write that created the run (carried in the job for log correlation). */
  requestId: string | null;
  /** The write's W3C trace context as JSON text, when tracing was on (the relay's job continues that trace). */
  traceContext: string | null;
}

/**
 * A keyset position in a page walk: the `(at, id)` of the last row of the previous page. `at` is
 * `queued_at` when walking unpublished runs, `published_at` when walking published ones.
 */
export interface OutboxCursor {
  at: Date;
  id: string;
}

/** One page of a keyset walk, with the cursor of its last row (undefined when the page is empty). */
export interface OutboxPage {
  runs: OutboxRun[];
  next: OutboxCursor | undefined;
}

/** Options of {@link listUnpublishedRuns}. */
export interface ListUnpublishedRunsOptions {
  /** Only runs queued more than this long ago, in ms: younger ones are left to their request's own enqueue. */
  olderThanMs: number;
  /** Rows per page. */
  limit: number;
  /** Start after this position (exclusive). @defaultValue the oldest run */
  after?: OutboxCursor | undefined;
}

/**
 * The predicate the relay publishes by and the stranded metric counts by, in one place: a
 * queue-lane run that is unfinished and whose job never reached Redis (or vanished from it:
 * {@link unpublishVanishedRuns} clears `published_at` then). A `running` one qualifies only in
 * that case, or when its claim came before its publication was recorded; adding its job again
 * is then a no-op, since a job under its id (the run id) still exists.
 */
const UNPUBLISHED = Prisma.sql`lane = 'queue' AND status IN ('queued', 'running') AND published_at IS NULL`;

/**
 * One page of the runs the relay must publish, oldest first by `(queued_at, id)`: a keyset walk,
 * so a pass reaches every run of any backlog (no head-of-line limit) and each page costs the same.
 *
 * @throws whatever the driver throws (PostgreSQL unreachable, statement timeout)
 */
export async function listUnpublishedRuns(db: Db, options: ListUnpublishedRunsOptions): Promise<OutboxPage> {
  const olderThan = `${options.olderThanMs} milliseconds`;
  const afterAt = options.after?.at ?? null;
  const afterId = options.after?.id ?? null;
  const rows = await db.$queryRaw<Row[]>`
    SELECT id::text AS id, request_id, trace_context, queued_at AS at FROM etl_runs
    WHERE ${UNPUBLISHED}
      AND queued_at < CURRENT_TIMESTAMP - ${olderThan}::interval
      AND (${afterAt}::timestamptz IS NULL OR (queued_at, id) > (${afterAt}::timestamptz, ${afterId}::uuid))
    ORDER BY queued_at, id
    LIMIT ${options.limit}`;
  return toPage(rows);
}

/**
 * Counts what {@link listUnpublishedRuns} would return over all pages: the queue-lane runs waiting
 * for the relay (the `tasklane_outbox_stranded_runs` metric).
 *
 * @param olderThanMs - only runs queued more than this long ago, in ms (the relay's `afterMs`)
 * @throws whatever the driver throws
 */
export async function countUnpublishedRuns(db: Db, olderThanMs: number): Promise<number> {
  const [row] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM etl_runs
    WHERE ${UNPUBLISHED} AND queued_at < CURRENT_TIMESTAMP - ${`${olderThanMs} milliseconds`}::interval`;
  return row?.count ?? 0;
}

/**
 * Records that the jobs of these runs reached Redis: sets `published_at` where it is still null
 * (the first publication wins; a run the worker already claimed keeps its value). Called after a
 * successful add by the queue lane, the relay and the API's requeue of recovered runs.
 *
 * @returns how many runs were marked now
 * @throws whatever the driver throws; the runs then stay unpublished and the relay adds their jobs
 *   again, which BullMQ ignores while a job with the run's id exists
 */
export async function markRunsPublished(db: Db, runIds: readonly string[]): Promise<number> {
  if (runIds.length === 0) return 0;
  return db.$executeRaw`
    UPDATE etl_runs SET published_at = CURRENT_TIMESTAMP
    WHERE id = ANY(${[...runIds]}::uuid[]) AND published_at IS NULL`;
}

/** Options of {@link listPublishedUnfinishedRuns}. */
export interface ListPublishedUnfinishedRunsOptions {
  /** Only runs published more than this long ago, in ms. */
  publishedBeforeMs: number;
  /** Rows per page. */
  limit: number;
  /** Start after this position (exclusive). @defaultValue the earliest published */
  after?: OutboxCursor | undefined;
}

/**
 * One page, by `(published_at, id)`, of queue-lane runs published long ago and still unfinished
 * (`queued` or `running`): the candidates whose job may have vanished from Redis.
 *
 * @throws whatever the driver throws
 */
export async function listPublishedUnfinishedRuns(db: Db, options: ListPublishedUnfinishedRunsOptions): Promise<OutboxPage> {
  const publishedBefore = `${options.publishedBeforeMs} milliseconds`;
  const afterAt = options.after?.at ?? null;
  const afterId = options.after?.id ?? null;
  const rows = await db.$queryRaw<Row[]>`
    SELECT id::text AS id, request_id, trace_context, published_at AS at FROM etl_runs
    WHERE lane = 'queue' AND status IN ('queued', 'running')
      AND published_at < CURRENT_TIMESTAMP - ${publishedBefore}::interval
      AND (${afterAt}::timestamptz IS NULL OR (published_at, id) > (${afterAt}::timestamptz, ${afterId}::uuid))
    ORDER BY published_at, id
    LIMIT ${options.limit}`;
  return toPage(rows);
}

/**
 * Clears `published_at` of runs whose job the caller found missing from Redis, but only of those
 * still unfinished now (`queued`/`running` on the queue lane), in one conditional UPDATE. The
 * caller must have checked Redis *before* this statement: a run whose job finished normally had
 * its final status committed before BullMQ completed or removed its job, so when the job is
 * missing at check time and the run is still unfinished at this later statement, the job vanished
 * (Redis lost its data) rather than finished. See `outboxRelay.ts` for the whole argument.
 *
 * @returns the ids cleared, which the relay then publishes again
 * @throws whatever the driver throws
 */
export async function unpublishVanishedRuns(db: Db, runIds: readonly string[]): Promise<string[]> {
  if (runIds.length === 0) return [];
  const rows = await db.$queryRaw<{ id: string }[]>`
    UPDATE etl_runs SET published_at = NULL
    WHERE id = ANY(${[...runIds]}::uuid[]) AND lane = 'queue' AND status IN ('queued', 'running') AND published_at IS NOT NULL
    RETURNING id::text AS id`;
  return rows.map((row) => row.id);
}

type Row = { id: string; request_id: string | null; trace_context: string | null; at: Date };

function toPage(rows: Row[]): OutboxPage {
  const last = rows.at(-1);
  return {
    runs: rows.map((row) => ({ id: row.id, requestId: row.request_id, traceContext: row.trace_context })),
    next: last ? { at: last.at, id: last.id } : undefined,
  };
}
