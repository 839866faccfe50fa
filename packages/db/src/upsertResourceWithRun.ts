import type { Db } from './createDb.ts';
import { queryRows } from './queryRows.ts';
import type { EtlLane } from './generated/prisma/client.ts';
import type { EtlRunView, RawResource, RawRun, ResourceRow } from './views.ts';
import { resourceColumns, runColumns, toResourceRow, toRunView } from './views.ts';

/** What {@link upsertResourceWithRun} stores. */
export interface UpsertResourceInput {
  /** Client-chosen id, already validated (`[A-Za-z0-9._:-]{1,200}`). */
  id: string;
  /** PUT replaces the representation: an omitted `name` or `attributes` is stored as null. */
  name: string | null;
  /** A JSON object, already serialised to JSON text (so numbers beyond 2^53 stay exact). */
  attributesJson: string | null;
  /** The raw `info` map as JSON text, stored verbatim as jsonb on the run. */
  infoJson: string;
  lane: EtlLane;
  requestId?: string | null;
  /** Instance id of the process that will own an in-process run; null for the queue lane. */
  ownerId?: string | null;
  /**
   * A condition on the resource's current version that the write needs (RFC 9110 §13.1: `If-Match`,
   * `If-None-Match`), checked inside the same statement as the write, so no other write can come
   * between the check and the upsert. @defaultValue none: the plain upsert
   */
  precondition?: WritePrecondition | undefined;
  /**
   * The write's W3C trace context as JSON text (`{"traceparent":"00-…"}`), kept so the outbox relay
   * can publish the run's job into the same trace; null when tracing is off.
   */
  traceContext?: string | null;
}

/**
 * What a conditional write requires of the resource's current version (the API's entity tag is the
 * version). Both fields together mean both must hold.
 */
export interface WritePrecondition {
  /**
   * `'*'`: the resource must exist. A list: it must exist with one of these versions (an empty list
   * never holds). @defaultValue no condition
   */
  ifMatch?: '*' | readonly number[];
  /**
   * `'*'`: the resource must not exist (create-only). A list: it must not exist with one of these
   * versions (absent is fine). @defaultValue no condition
   */
  ifNoneMatch?: '*' | readonly number[];
}

/**
 * Thrown by {@link upsertResourceWithRun} when its {@link WritePrecondition} does not hold: nothing
 * was written (no resource change, no run).
 */
export class WritePreconditionFailedError extends Error {
  constructor(readonly resourceId: string) {
    super(`the precondition of the write to resource ${JSON.stringify(resourceId)} does not hold`);
    this.name = 'WritePreconditionFailedError';
  }
}

/** Result of {@link upsertResourceWithRun}. */
export interface UpsertResourceResult {
  created: boolean;
  resource: ResourceRow;
  run: EtlRunView;
}

/** A statement ready for a positional-parameter driver: `text` with `$1…$n`, `values` in order. */
export interface SqlStatement {
  text: string;
  values: unknown[];
}

/**
 * The one statement {@link upsertResourceWithRun} runs for `input`: its `text` is the SQL with
 * `$1…$11` placeholders (and a precondition's from `$12`) and `values` the parameters in order (a `pg` QueryConfig). Exported so a
 * measurement can run exactly this statement below the API (the bench's statement limit, issue #10)
 * without copying its SQL.
 */
export function upsertResourceWithRunStatement(input: UpsertResourceInput): SqlStatement {
  // The `none` lane (bench baseline) writes the same rows but runs no ETL: its run is born skipped.
  const initialStatus = input.lane === 'none' ? 'skipped' : 'queued';
  const conditional = input.precondition ? conditionalResourceWrite(input.precondition) : undefined;
  return {
    text: conditional ? withResourceWrite(conditional.sql) : UPSERT_SQL,
    values: [
      input.id,
      input.name,
      input.attributesJson,
      input.lane,
      input.infoJson,
      input.requestId ?? null,
      input.ownerId ?? null,
      initialStatus,
      initialStatus === 'skipped',
      initialStatus === 'skipped' ? 'lane none: no ETL' : null,
      input.traceContext ?? null,
      ...(conditional?.values ?? []),
    ],
  };
}

/**
 * Inserts or updates a resource and records its ETL run, in ONE statement (hence one transaction).
 *
 * The upsert is an `INSERT … ON CONFLICT (id) DO UPDATE`, so any number of clients writing the same
 * new id at once each get a distinct version (1, 2, 3, …) and none fails with a unique violation:
 * PostgreSQL's row lock serialises the increments. The run row is the transactional outbox entry:
 * it commits with the resource or not at all, and dispatch to a lane happens only after the commit.
 *
 * Both inserts are one statement (a data-modifying CTE) rather than an interactive transaction, so
 * the resource's row lock is held for one statement inside PostgreSQL, not across client round
 * trips, and a burst of writes to one id waits for pool connections instead of failing Prisma's
 * "unable to start a transaction in the given time" (issue #4: 50 concurrent PUTs of one id).
 *
 * With a {@link WritePrecondition} the resource's write carries the condition itself (see
 * `conditionalResourceWrite`), so two writes with the same `If-Match` cannot both pass: the second
 * waits for the first's row lock and re-checks the version it committed. Without one, the statement
 * is exactly the unconditional upsert (the hot path's cost is unchanged).
 *
 * @throws WritePreconditionFailedError when `input.precondition` does not hold; nothing is written
 * @throws whatever the driver throws (connection loss, ...); nothing is written in that case.
 */
export async function upsertResourceWithRun(db: Db, input: UpsertResourceInput): Promise<UpsertResourceResult> {
  // Straight through pg (issue #10: Prisma's client doubled the CPU of this query).
  const rows = await queryRows<RawResource & { run: RawRunJson }>(db, upsertResourceWithRunStatement(input));
  const row = rows[0];
  if (!row) {
    if (input.precondition) throw new WritePreconditionFailedError(input.id);
    throw new Error('upsert returned no row');
  }
  const { run, ...resource } = row;
  return { created: resource.version === 1, resource: toResourceRow(resource), run: toRunView(fromRunJson(run)) };
}

/** The upsert of the resource: insert version 1, or bump the version (only `where` it holds, when given). */
function upsertResourceSql(where?: string): string {
  return `
      INSERT INTO resources (id, name, attributes, version)
      VALUES ($1, $2, $3::jsonb, 1)
      ON CONFLICT (id) DO UPDATE
        SET name = EXCLUDED.name,
            attributes = EXCLUDED.attributes,
            version = resources.version + 1,
            updated_at = CURRENT_TIMESTAMP${where ? `\n        WHERE ${where}` : ''}
      RETURNING ${resourceColumns.text}`;
}

/** The unconditional upsert of the resource. */
const UPSERT_RESOURCE_SQL = upsertResourceSql();

/**
 * The resource's write for a precondition, with its extra parameters ($12, $13: integer arrays).
 * Each form re-checks the condition on the row version it locks (READ COMMITTED's re-check of an
 * `UPDATE … WHERE` and of `ON CONFLICT DO UPDATE … WHERE` after waiting for a concurrent writer), so
 * the check and the write are one atomic step; a condition that fails returns no row, and the run's
 * insert (`FROM resource`) then inserts nothing either.
 * - `If-Match` (with or without `If-None-Match` tags): `UPDATE … WHERE id = $1 AND version = ANY($12)`
 *   — never an insert, since the resource must exist;
 * - `If-None-Match: *` alone: `INSERT … ON CONFLICT DO NOTHING` — create-only;
 * - `If-None-Match` tags alone: the upsert with `DO UPDATE … WHERE version <> ALL($12)`.
 * `If-Match` together with `If-None-Match: *` can never hold (the resource would have to exist and
 * not exist): the write is `WHERE false`.
 */
function conditionalResourceWrite(precondition: WritePrecondition): { sql: string; values: unknown[] } {
  const { ifMatch, ifNoneMatch } = precondition;
  if (ifMatch !== undefined) {
    const values: unknown[] = [];
    const conditions: string[] = ['id = $1'];
    if (ifMatch !== '*') {
      values.push([...ifMatch]);
      conditions.push(`version = ANY($${11 + values.length}::int[])`);
    }
    if (ifNoneMatch === '*') conditions.push('false');
    else if (ifNoneMatch !== undefined) {
      values.push([...ifNoneMatch]);
      conditions.push(`version <> ALL($${11 + values.length}::int[])`);
    }
    const sql = `
      UPDATE resources
        SET name = $2, attributes = $3::jsonb, version = version + 1, updated_at = CURRENT_TIMESTAMP
      WHERE ${conditions.join(' AND ')}
      RETURNING ${resourceColumns.text}`;
    return { sql, values };
  }
  if (ifNoneMatch === '*') {
    return {
      sql: `
      INSERT INTO resources (id, name, attributes, version)
      VALUES ($1, $2, $3::jsonb, 1)
      ON CONFLICT (id) DO NOTHING
      RETURNING ${resourceColumns.text}`,
      values: [],
    };
  }
  if (ifNoneMatch !== undefined) {
    return { sql: upsertResourceSql('resources.version <> ALL($12::int[])'), values: [[...ifNoneMatch]] };
  }
  return { sql: UPSERT_RESOURCE_SQL, values: [] };
}

/** The statement around a resource write: the write, then the run's insert from its row. */
function withResourceWrite(resourceSql: string): string {
  return `
    WITH resource AS (${resourceSql}
    ), run AS (
      INSERT INTO etl_runs (resource_id, resource_version, lane, info, request_id, owner_id, status, finished_at, error, trace_context)
      SELECT resource.id, resource.version, $4::"EtlLane", $5::jsonb,
             $6::text, $7::text, $8::"EtlRunStatus",
             CASE WHEN $9::boolean THEN CURRENT_TIMESTAMP END, $10::text, $11::text
      FROM resource
      RETURNING ${runColumns.text}
    )
    SELECT resource.*, (SELECT to_jsonb(run) FROM run) AS run FROM resource`;
}

/** The upsert and the run's insert, one statement; parameters $1…$11 as in {@link upsertResourceWithRun}. */
const UPSERT_SQL = withResourceWrite(UPSERT_RESOURCE_SQL);

/** A run row as `to_jsonb` gives it: timestamps as ISO text. */
type RawRunJson = Omit<RawRun, 'queued_at' | 'started_at' | 'finished_at'> & {
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
};

function fromRunJson(run: RawRunJson): RawRun {
  const date = (text: string | null) => (text === null ? null : new Date(text));
  return { ...run, queued_at: new Date(run.queued_at), started_at: date(run.started_at), finished_at: date(run.finished_at) };
}
