import type { Db } from './createDb.ts';
import type { EtlRunView, RawRun } from './views.ts';
import { runColumns, toRunView } from './views.ts';

/**
 * Loads one run by id (without its raw `info`).
 * @param id - any string; one that is not a UUID finds nothing rather than throwing
 * @returns null when no run has that id
 */
export async function findEtlRun(db: Db, id: string): Promise<EtlRunView | null> {
  if (!UUID.test(id)) return null;
  const [run] = await db.$queryRaw<RawRun[]>`SELECT ${runColumns} FROM etl_runs WHERE id = ${id}::uuid`;
  return run ? toRunView(run) : null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
