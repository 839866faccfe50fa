import type { Db } from './createDb.ts';
import { sqlPoolOf } from './createDb.ts';

/**
 * Runs one statement of a hot path and returns its rows: straight on the `pg` pool under `db` when
 * it has one (every `createDb` client does), through Prisma's `$queryRawUnsafe` otherwise. Measured
 * for issue #10: the same claim + commit cost 3.7–3.8 ms of client CPU per run through Prisma against
 * 1.4–1.9 ms through `pg` directly.
 *
 * Rows come back as `pg` parses them: `integer` as number, `uuid` and `text` as string, `jsonb`
 * selected `::text` as the exact JSON text. Select nothing whose parsing differs between the two
 * drivers (`bigint`, `numeric`, timestamps) through it.
 *
 * @param statement - `text` with `$1…$n` placeholders and `values` their parameters: a `Prisma.sql`
 *   template, or a statement built for `pg` such as `upsertResourceWithRunStatement`'s
 * @throws whatever the driver throws; {@link isDatabaseUnavailable} classifies both drivers' errors
 */
export async function queryRows<Row>(db: Db, statement: { readonly text: string; readonly values: readonly unknown[] }): Promise<Row[]> {
  const pool = sqlPoolOf(db);
  if (pool) return (await pool.query(statement.text, [...statement.values])).rows as Row[];
  return db.$queryRawUnsafe<Row[]>(statement.text, ...statement.values);
}
