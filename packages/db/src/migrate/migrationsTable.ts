import type pg from 'pg';

/**
 * Prisma's DDL for its history table, character for character, from prisma-engines
 * `schema-engine/connectors/sql-schema-connector/src/flavour/postgres.rs` (`create_migrations_table`).
 * Keeping it identical means `prisma migrate status` / `migrate deploy` on a machine with the
 * Prisma CLI read the history this runner writes, and vice versa.
 */
export const CREATE_MIGRATIONS_TABLE_SQL = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);
`;

/** Tables Prisma does not count when deciding whether a schema is empty (PostGIS's catalog table). */
const IGNORED_TABLES = new Set(['spatial_ref_sys']);

/** One row of `_prisma_migrations`. */
export interface MigrationRecord {
  id: string;
  checksum: string;
  finishedAt: Date | null;
  migrationName: string;
  logs: string | null;
  rolledBackAt: Date | null;
  startedAt: Date;
  appliedStepsCount: number;
}

/**
 * Creates `_prisma_migrations` in the connection's current schema when it is missing. Mirrors
 * Prisma's `initialize`: a schema that already has other tables but no history table is refused
 * rather than adopted. Call it while holding the advisory lock.
 *
 * @returns `notEmpty` with the schema's tables when the schema has tables and no history.
 */
export async function initializeMigrationsTable(
  client: pg.ClientBase,
): Promise<{ created: boolean; notEmpty?: { schema: string; tables: string[] } }> {
  const { rows } = await client.query<{ schema: string; table_name: string }>(
    `SELECT current_schema() AS schema, c.relname AS table_name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname = current_schema()`,
  );
  const tables = rows.map((r) => r.table_name);
  if (tables.includes('_prisma_migrations')) return { created: false };
  const others = tables.filter((t) => !IGNORED_TABLES.has(t));
  if (others.length > 0) return { created: false, notEmpty: { schema: rows[0]?.schema ?? 'public', tables: others } };
  await client.query(CREATE_MIGRATIONS_TABLE_SQL);
  return { created: true };
}

/** All rows, oldest first (Prisma's `load_migrations_table` orders by started_at too). */
export async function loadMigrationRecords(client: pg.ClientBase): Promise<MigrationRecord[]> {
  const { rows } = await client.query<{
    id: string;
    checksum: string;
    finished_at: Date | null;
    migration_name: string;
    logs: string | null;
    rolled_back_at: Date | null;
    started_at: Date;
    applied_steps_count: number;
  }>(
    `SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count
       FROM _prisma_migrations ORDER BY started_at ASC`,
  );
  return rows.map((r) => ({
    id: r.id,
    checksum: r.checksum,
    finishedAt: r.finished_at,
    migrationName: r.migration_name,
    logs: r.logs,
    rolledBackAt: r.rolled_back_at,
    startedAt: r.started_at,
    appliedStepsCount: r.applied_steps_count,
  }));
}

/**
 * Prisma's `record_migration_started`: a row with a fresh UUID v4, the checksum and started_at;
 * finished_at stays null until the script succeeds, so a crash leaves a "failed" row behind.
 */
export async function recordMigrationStarted(
  client: pg.ClientBase,
  row: { id: string; migrationName: string; checksum: string },
): Promise<void> {
  await client.query(
    `INSERT INTO _prisma_migrations (id, checksum, started_at, migration_name) VALUES ($1, $2, clock_timestamp(), $3)`,
    [row.id, row.checksum, row.migrationName],
  );
}

/**
 * Prisma's `record_successful_step` then `record_migration_finished`: one step (the whole script)
 * counted, finished_at set. clock_timestamp() rather than now(), which inside the migration's
 * transaction would be the time the transaction began.
 */
export async function recordMigrationFinished(client: pg.ClientBase, id: string): Promise<void> {
  await client.query('UPDATE _prisma_migrations SET applied_steps_count = applied_steps_count + 1 WHERE id = $1', [id]);
  await client.query('UPDATE _prisma_migrations SET finished_at = clock_timestamp() WHERE id = $1', [id]);
}

/** Prisma's `record_failed_step`: the error goes to `logs`, finished_at stays null. */
export async function recordMigrationFailed(client: pg.ClientBase, id: string, logs: string): Promise<void> {
  await client.query('UPDATE _prisma_migrations SET logs = $1 WHERE id = $2', [logs, id]);
}
