// A migrated database of one test file's own, for tests whose assertions span every row of a table
// (run lists, per-lane stats) or whose processes act on every row (an API reaping the runs of dead
// instances): in the shared test database, other suites' rows and API processes would change them.
import { fileURLToPath } from 'node:url';
import { createDb, migrateDeploy, type Db } from '@tasklane/db';
import { createScratchDatabase } from './scratchDatabase.ts';
import { testDatabaseUrl } from './testDb.ts';

const migrationsDir = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/** A scratch database with Tasklane's schema, and a client on it. */
export interface MigratedScratchDatabase {
  /** Its connection URL, for the API and worker processes a test starts (`DATABASE_URL`). */
  url: string;
  db: Db;
  /** Disconnects the client and drops the database. */
  drop(): Promise<void>;
}

/**
 * Creates `tasklane_<label>_<random>` on the test database's server and applies prisma/migrations.
 * @param label - words naming the suite (see `createScratchDatabase`)
 * @param options.serverUrl - any database URL on the server to create it on (a test's private
 *   cluster). @defaultValue the test database's server
 */
export async function createMigratedScratchDatabase(
  label: string,
  options: { poolSize?: number; serverUrl?: string } = {},
): Promise<MigratedScratchDatabase> {
  const scratch = await createScratchDatabase(options.serverUrl ?? testDatabaseUrl(), label);
  try {
    await migrateDeploy({ connectionString: scratch.url, migrationsDir });
  } catch (error) {
    await scratch.drop();
    throw error;
  }
  const db = createDb({ url: scratch.url, poolSize: options.poolSize ?? 5 });
  return {
    url: scratch.url,
    db,
    async drop() {
      await db.$disconnect();
      await scratch.drop();
    },
  };
}
