import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ensureDatabase, withDatabase } from '../../packages/db/src/migrate/index.ts';

/** A database that belongs to one test, on the server of the test run's DATABASE_URL. */
export interface ScratchDatabase {
  /** Connection URL of the new, empty database. */
  url: string;
  name: string;
  /** Drops it, disconnecting anything still attached. */
  drop(): Promise<void>;
}

/**
 * Creates a uniquely named empty database (`tasklane_<label>_<random>`) on the same server as
 * `serverUrl`, so tests that need a fresh schema never share or reuse one.
 *
 * @param serverUrl - any database URL on the target server (its database part is ignored).
 * @param label - words naming the test; cut to 40 characters so the name fits PostgreSQL's 63.
 */
export async function createScratchDatabase(serverUrl: string, label: string): Promise<ScratchDatabase> {
  const safeLabel = label.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 40);
  const name = `tasklane_${safeLabel}_${randomBytes(5).toString('hex')}`;
  const url = withDatabase(serverUrl, name);
  await ensureDatabase(url);
  return {
    url,
    name,
    async drop() {
      const client = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
      await client.connect();
      try {
        // WITH (FORCE) (PostgreSQL 13+) ends sessions a failed test may have left open.
        await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
