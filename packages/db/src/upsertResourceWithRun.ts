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
   * The write's W3C trace context as JSON text (`{"traceparent":"00-…"}`), kept so the outbox relay
   * can publish the run's job into the same trace; null when tracing is off.
   */
  traceContext?: string | null;
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
 * `$1…$11` placeholders and `values` the parameters in order (a `pg` QueryConfig). Exported so a
 * measurement can run exactly this statement below the API (the bench's statement limit, issue #10)
 * without copying its SQL.
 */
export function upsertResourceWithRunStatement(input: UpsertResourceInput): SqlStatement {
  // The `none` lane (bench baseline) writes the same rows but runs no ETL: its run is born skipped.
  const initialStatus = input.lane === 'none' ? 'skipped' : 'queued';
  return {
    text: UPSERT_SQL,
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
 * @throws whatever the driver throws (connection loss, ...); nothing is written in that case.
 */
export async function upsertResourceWithRun(db: Db, input: UpsertResourceInput): Promise<UpsertResourceResult> {
  // Straight through pg (issue #10: Prisma's client doubled the CPU of this query).
  const rows = await queryRows<RawResource & { run: RawRunJson }>(db, upsertResourceWithRunStatement(input));
  const row = rows[0];
  if (!row) throw new Error('upsert returned no row');
  const { run, ...resource } = row;
  return { created: resource.version === 1, resource: toResourceRow(resource), run: toRunView(fromRunJson(run)) };
}

/** The upsert and the run's insert, one statement; parameters $1…$11 as in {@link upsertResourceWithRun}. */
const UPSERT_SQL = `
    WITH resource AS (
      INSERT INTO resources (id, name, attributes, version)
      VALUES ($1, $2, $3::jsonb, 1)
      ON CONFLICT (id) DO UPDATE
        SET name = EXCLUDED.name,
            attributes = EXCLUDED.attributes,
            version = resources.version + 1,
            updated_at = CURRENT_TIMESTAMP
      RETURNING ${resourceColumns.text}
    ), run AS (
      INSERT INTO etl_runs (resource_id, resource_version, lane, info, request_id, owner_id, status, finished_at, error, trace_context)
      SELECT resource.id, resource.version, $4::"EtlLane", $5::jsonb,
             $6::text, $7::text, $8::"EtlRunStatus",
             CASE WHEN $9::boolean THEN CURRENT_TIMESTAMP END, $10::text, $11::text
      FROM resource
      RETURNING ${runColumns.text}
    )
    SELECT resource.*, (SELECT to_jsonb(run) FROM run) AS run FROM resource`;

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
