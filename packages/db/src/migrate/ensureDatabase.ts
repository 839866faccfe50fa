import pg from 'pg';
import { databaseNameOf, redactConnectionString, withDatabase } from './connectionString.ts';

/** Databases present on every PostgreSQL server, tried in this order to run CREATE DATABASE from. */
const MAINTENANCE_DATABASES = ['postgres', 'template1'];

/** SQLSTATEs meaning "someone else created it first" (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const DUPLICATE_DATABASE = '42P04';
/** Two concurrent CREATE DATABASE of one name can also collide on pg_database's unique index. */
const UNIQUE_VIOLATION = '23505';
const INVALID_CATALOG_NAME = '3D000';

/**
 * Creates the database a connection URL names, if the server does not have it yet. Connects to
 * the server's `postgres` maintenance database (`template1` when that is missing, as Prisma does)
 * with the same credentials. Safe to run from several processes at once: losing the race to create
 * it (42P04 duplicate_database, or 23505 on pg_database's index) counts as success.
 *
 * @param connectionString - URL of the target database, e.g. `postgresql://postgres@127.0.0.1:5432/tasklane`.
 * @returns `created: true` when this call created it.
 * @throws the driver's error when the server cannot be reached or the role may not create databases.
 */
export async function ensureDatabase(connectionString: string): Promise<{ created: boolean }> {
  const database = databaseNameOf(connectionString);
  if (MAINTENANCE_DATABASES.includes(database)) return { created: false };

  const client = await connectToMaintenanceDatabase(connectionString);
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (existing.rowCount) return { created: false };
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
      return { created: true };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === DUPLICATE_DATABASE || code === UNIQUE_VIOLATION) return { created: false };
      throw error;
    }
  } finally {
    await client.end();
  }
}

async function connectToMaintenanceDatabase(connectionString: string): Promise<pg.Client> {
  let lastError: unknown;
  for (const maintenance of MAINTENANCE_DATABASES) {
    const client = new pg.Client({ connectionString: withDatabase(connectionString, maintenance) });
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      lastError = error;
      if ((error as { code?: string }).code !== INVALID_CATALOG_NAME) break;
    }
  }
  throw new Error(
    `Cannot connect to a maintenance database on the server of ${redactConnectionString(connectionString)}: ${String(lastError)}`,
    { cause: lastError },
  );
}
