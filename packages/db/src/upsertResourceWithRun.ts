import type { Db } from './createDb.ts';
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
}

/** Result of {@link upsertResourceWithRun}. */
export interface UpsertResourceResult {
  created: boolean;
  resource: ResourceRow;
  run: EtlRunView;
}

/**
 * Inserts or updates a resource and records its ETL run, in ONE transaction.
 *
 * The upsert is a single `INSERT … ON CONFLICT (id) DO UPDATE` statement, so any number of clients
 * writing the same new id at once each get a distinct version (1, 2, 3, …) and none fails with a
 * unique violation: PostgreSQL's row lock serialises the increments. The run row is the transactional
 * outbox entry: it commits with the resource or not at all, and dispatch to a lane happens only after
 * the commit.
 *
 * @throws whatever the driver throws (connection loss, ...); nothing is written in that case.
 */
export async function upsertResourceWithRun(db: Db, input: UpsertResourceInput): Promise<UpsertResourceResult> {
  // The `none` lane (bench baseline) writes the same rows but runs no ETL: its run is born skipped.
  const initialStatus = input.lane === 'none' ? 'skipped' : 'queued';
  return db.$transaction(async (tx) => {
    const [resource] = await tx.$queryRaw<RawResource[]>`
      INSERT INTO resources (id, name, attributes, version)
      VALUES (${input.id}, ${input.name}, ${input.attributesJson}::jsonb, 1)
      ON CONFLICT (id) DO UPDATE
        SET name = EXCLUDED.name,
            attributes = EXCLUDED.attributes,
            version = resources.version + 1,
            updated_at = CURRENT_TIMESTAMP
      RETURNING ${resourceColumns}`;
    if (!resource) throw new Error('upsert returned no row');
    const [run] = await tx.$queryRaw<RawRun[]>`
      INSERT INTO etl_runs (resource_id, resource_version, lane, info, request_id, owner_id, status, finished_at, error)
      VALUES (${input.id}, ${resource.version}, ${input.lane}::"EtlLane", ${input.infoJson}::jsonb,
              ${input.requestId ?? null}, ${input.ownerId ?? null}, ${initialStatus}::"EtlRunStatus",
              ${initialStatus === 'skipped' ? new Date() : null}, ${initialStatus === 'skipped' ? 'lane none: no ETL' : null})
      RETURNING ${runColumns}`;
    if (!run) throw new Error('run insert returned no row');
    return { created: resource.version === 1, resource: toResourceRow(resource), run: toRunView(run) };
  });
}

