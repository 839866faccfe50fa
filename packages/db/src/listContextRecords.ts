import type { Db } from './createDb.ts';

/** One context record as stored; `valueJson` is the jsonb value as JSON text (exact numbers). */
export interface ContextRecordRow {
  key: string;
  valueJson: string;
  valueType: string;
  /**
   * The resource version whose run last changed this record (its value or type). Unchanged records
   * are not rewritten by later versions (issue #10), so this can be older than the resource's
   * current version; the records as a whole are those of `context_versions.resource_version`.
   */
  resourceVersion: number;
}

/**
 * One page of a resource's context records in key order (keyset pagination).
 *
 * @param options.after - return keys strictly greater than this one (the previous page's last key)
 * @param options.limit - page size, 1..1000 (the caller validates)
 * @returns the page, and `nextAfter` (the last key) when more records may follow, else null
 */
export async function listContextRecords(
  db: Db,
  resourceId: string,
  options: { after: string | null; limit: number },
): Promise<{ records: ContextRecordRow[]; nextAfter: string | null }> {
  const rows = await db.$queryRaw<{ key: string; value: string; value_type: string; resource_version: number }[]>`
    SELECT key, value::text AS value, value_type::text AS value_type, resource_version
    FROM context_records
    WHERE resource_id = ${resourceId} AND (${options.after}::text IS NULL OR key > ${options.after}::text)
    ORDER BY key
    LIMIT ${options.limit + 1}`;
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return {
    records: page.map((r) => ({ key: r.key, valueJson: r.value, valueType: r.value_type, resourceVersion: r.resource_version })),
    nextAfter: rows.length > options.limit && last ? last.key : null,
  };
}
