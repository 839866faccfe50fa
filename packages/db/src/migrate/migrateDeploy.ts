import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { schemaOf } from './connectionString.ts';
import { listMigrations, type MigrationFile } from './listMigrations.ts';
import {
  DatabaseSchemaNotEmptyError,
  FailedMigrationsError,
  MigrationApplyError,
  MigrationChecksumMismatchError,
  MigrationLockTimeoutError,
} from './migrateErrors.ts';
import { migrationChecksum, scriptMatchesChecksum } from './migrationChecksum.ts';
import {
  initializeMigrationsTable,
  loadMigrationRecords,
  recordMigrationFailed,
  recordMigrationFinished,
  recordMigrationStarted,
  type MigrationRecord,
} from './migrationsTable.ts';

/**
 * The advisory lock key Prisma Migrate takes before touching the history ("72707369 is a unique
 * number we chose to identify Migrate", prisma-engines `flavour/postgres.rs`, `acquire_lock`).
 * Using the same key serialises this runner with a real `prisma migrate deploy` too.
 */
export const PRISMA_MIGRATE_ADVISORY_LOCK = 72707369;

/** Where progress goes; `console` and a pino logger both fit. */
export interface MigrateLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface MigrateDeployOptions {
  /** URL of the target database; it must exist (see {@link ensureDatabase}). A `schema` query parameter selects the schema, as with Prisma. */
  connectionString: string;
  /** Absolute path of `prisma/migrations`. */
  migrationsDir: string;
  /** Progress messages; silent when omitted. */
  logger?: MigrateLogger;
  /**
   * How long to wait for another deploy holding the lock, in ms.
   * @defaultValue 10_000 (Prisma's `ADVISORY_LOCK_TIMEOUT`)
   */
  lockTimeoutMs?: number;
}

export interface MigrateDeployResult {
  /** Names of the migrations this call applied, in order; empty when the database was up to date. */
  applied: string[];
  /** Names of the migrations that were already applied. */
  alreadyApplied: string[];
}

const silentLogger: MigrateLogger = { info: () => undefined, warn: () => undefined };

/**
 * Applies pending migrations from Prisma's layout (`<migrationsDir>/<name>/migration.sql`, in name
 * order) and records each in `_prisma_migrations` the way `prisma migrate deploy` does, so the
 * Prisma CLI on any other machine sees the same history. Behaviour follows prisma-engines
 * `schema-engine/core/src/commands/apply_migrations.rs`:
 *
 * - takes `pg_advisory_lock(72707369)` for the whole run, so concurrent deploys (two test
 *   processes, two replicas) apply each migration once; waits at most `lockTimeoutMs`;
 * - creates `_prisma_migrations` with Prisma's exact DDL if missing, but refuses a schema that
 *   has tables and no history (P3005);
 * - refuses to run while a migration is recorded as failed, i.e. `finished_at` and
 *   `rolled_back_at` both null (P3009);
 * - a migration counts as applied when a row with its name is not rolled back; rolled-back ones
 *   are applied again;
 * - for each pending migration: inserts a row (UUID v4 id, SHA-256 checksum of the file), runs the
 *   script as one simple-protocol query, then sets `applied_steps_count = 1` and `finished_at`.
 *   On failure the row keeps `finished_at` null and gets the error in `logs`, which blocks later
 *   deploys until resolved, exactly as with Prisma.
 *
 * Two deliberate differences: the script and its bookkeeping run in one explicit transaction (Prisma
 * relies on the implicit transaction of a multi-statement query, so the schema effect is the same,
 * but here the row cannot say "unfinished" for a script that committed); and an applied migration
 * whose file no longer matches its checksum stops the deploy (Prisma's deploy ignores edits and
 * only `migrate dev` reports them) because silently diverging environments are worse than a clear stop.
 * Scripts that must run outside a transaction (CREATE INDEX CONCURRENTLY) fail here as they do with Prisma.
 *
 * Migrations recorded in the database but missing from the directory are reported via
 * `logger.warn` and otherwise ignored, like Prisma's deploy.
 *
 * @throws MigrationsDirectoryError - unreadable directory, missing migration.sql, other provider.
 * @throws MigrationLockTimeoutError - the lock was held longer than `lockTimeoutMs`.
 * @throws DatabaseSchemaNotEmptyError - tables but no `_prisma_migrations`.
 * @throws FailedMigrationsError - a failed migration is recorded.
 * @throws MigrationChecksumMismatchError - an applied migration's file was edited.
 * @throws MigrationApplyError - a script failed (its row is left failed, with the error in logs).
 */
export async function migrateDeploy(options: MigrateDeployOptions): Promise<MigrateDeployResult> {
  const { connectionString, migrationsDir, logger = silentLogger, lockTimeoutMs = 10_000 } = options;
  const migrations = await listMigrations(migrationsDir);

  const client = new pg.Client({ connectionString, application_name: 'tasklane-migrate-deploy' });
  // An error event on an idle client would otherwise crash the process; the awaited query rejects anyway.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await useSchema(client, schemaOf(connectionString));
    await acquireLock(client, lockTimeoutMs);
    try {
      const init = await initializeMigrationsTable(client);
      if (init.notEmpty) throw new DatabaseSchemaNotEmptyError(init.notEmpty.schema, init.notEmpty.tables);
      if (init.created) logger.info('Created the _prisma_migrations table');

      const records = await loadMigrationRecords(client);
      assertNoFailedMigrations(records);
      const { pending, alreadyApplied } = planMigrations(migrations, records, logger);

      const applied: string[] = [];
      for (const migration of pending) {
        await applyMigration(client, migration, logger);
        applied.push(migration.name);
      }
      return { applied, alreadyApplied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_ADVISORY_LOCK]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function useSchema(client: pg.Client, schema: string): Promise<void> {
  if (schema === 'public') return;
  // Prisma creates the schema named in the URL when it is missing, then works inside it.
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${client.escapeIdentifier(schema)}`);
  await client.query(`SET search_path TO ${client.escapeIdentifier(schema)}`);
}

async function acquireLock(client: pg.Client, timeoutMs: number): Promise<void> {
  // lock_timeout applies to advisory locks too; 55P03 (lock_not_available) is the timeout.
  await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_ADVISORY_LOCK]);
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') throw new MigrationLockTimeoutError(timeoutMs, error);
    throw error;
  } finally {
    await client.query('RESET lock_timeout').catch(() => undefined);
  }
}

function assertNoFailedMigrations(records: MigrationRecord[]): void {
  const failed = records.filter((r) => r.finishedAt === null && r.rolledBackAt === null);
  if (failed.length > 0) throw new FailedMigrationsError(failed);
}

function planMigrations(
  migrations: MigrationFile[],
  records: MigrationRecord[],
  logger: MigrateLogger,
): { pending: MigrationFile[]; alreadyApplied: string[] } {
  const live = records.filter((r) => r.rolledBackAt === null);
  const pending: MigrationFile[] = [];
  const alreadyApplied: string[] = [];
  for (const migration of migrations) {
    const record = live.find((r) => r.migrationName === migration.name);
    if (!record) {
      pending.push(migration);
      continue;
    }
    if (!scriptMatchesChecksum(migration.script, record.checksum)) {
      throw new MigrationChecksumMismatchError(migration.name, record.checksum, migrationChecksum(migration.bytes));
    }
    alreadyApplied.push(migration.name);
  }
  const onDisk = new Set(migrations.map((m) => m.name));
  for (const record of live) {
    if (!onDisk.has(record.migrationName)) {
      logger.warn(`Migration ${record.migrationName} is applied in the database but missing from the migrations directory`);
    }
  }
  return { pending, alreadyApplied };
}

async function applyMigration(client: pg.Client, migration: MigrationFile, logger: MigrateLogger): Promise<void> {
  const id = randomUUID();
  logger.info(`Applying migration ${migration.name}`);
  await recordMigrationStarted(client, { id, migrationName: migration.name, checksum: migrationChecksum(migration.bytes) });
  try {
    await client.query('BEGIN');
    // No parameters: node-postgres sends the simple query protocol, which accepts many statements.
    await client.query(migration.script);
    await recordMigrationFinished(client, id);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    const code = (error as { code?: string }).code ?? 'none';
    const databaseError = describeDatabaseError(error, migration.script);
    const failure = new MigrationApplyError(migration.name, code, databaseError, error);
    await recordMigrationFailed(client, id, failure.message).catch((logError: unknown) => {
      logger.warn(`Could not record the failure of ${migration.name} in _prisma_migrations: ${String(logError)}`);
    });
    throw failure;
  }
}

/** The driver's message plus the failing line, as Prisma's P3018 shows a position. */
function describeDatabaseError(error: unknown, script: string): string {
  const { message, position } = error as { message?: string; position?: string };
  const text = message ?? String(error);
  const offset = Number(position);
  if (!Number.isInteger(offset) || offset < 1) return text;
  // `position` counts characters from 1 in the submitted query string.
  const before = script.slice(0, offset - 1);
  const lineNumber = before.split('\n').length;
  const line = script.split('\n')[lineNumber - 1] ?? '';
  return `${text}\n\nPosition:\n${String(lineNumber).padStart(3)} ${line}`;
}
