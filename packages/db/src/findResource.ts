import type { Db } from './createDb.ts';
import type { EtlRunView, RawResource, RawRun, ResourceRow } from './views.ts';
import { resourceColumns, runColumns, toResourceRow, toRunView } from './views.ts';

/** A resource with what a client wants to know about its ETL. */
export interface ResourceDetail {
  resource: ResourceRow;
  /** The run of the newest version, or null if none exists. */
  latestRun: EtlRunView | null;
  /** How many context records the resource has now. */
  contextRecordCount: number;
}

/**
 * Loads one resource with its latest run and its number of context records.
 * @returns null when no resource has that id
 */
export async function findResource(db: Db, id: string): Promise<ResourceDetail | null> {
  const [resource] = await db.$queryRaw<RawResource[]>`SELECT ${resourceColumns} FROM resources WHERE id = ${id}`;
  if (!resource) return null;
  const [run] = await db.$queryRaw<RawRun[]>`
    SELECT ${runColumns} FROM etl_runs WHERE resource_id = ${id}
    ORDER BY resource_version DESC, queued_at DESC LIMIT 1`;
  const [count] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM context_records WHERE resource_id = ${id}`;
  return {
    resource: toResourceRow(resource),
    latestRun: run ? toRunView(run) : null,
    contextRecordCount: count?.count ?? 0,
  };
}
