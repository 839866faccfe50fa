import type { Db } from './createDb.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The status of each of these runs, in one query.
 * @param runIds - run ids; strings that are not UUIDs are left out (they name no run)
 * @returns run id (lower-case) → status (`queued`, `running`, `succeeded`, `failed`, `skipped`,
 *   `lost`); runs that do not exist are absent
 */
export async function readRunStatuses(db: Db, runIds: readonly string[]): Promise<Map<string, string>> {
  const ids = runIds.filter((id) => UUID.test(id));
  if (ids.length === 0) return new Map();
  const rows = await db.$queryRaw<{ id: string; status: string }[]>`
    SELECT id::text AS id, status::text AS status FROM etl_runs WHERE id = ANY(${ids}::uuid[])`;
  return new Map(rows.map((row) => [row.id, row.status]));
}
