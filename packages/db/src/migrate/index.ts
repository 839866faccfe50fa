/**
 * Prisma-compatible migration deploy without Prisma's schema-engine binary: applies
 * `prisma/migrations/<name>/migration.sql` and keeps `_prisma_migrations` exactly as
 * `prisma migrate deploy` would (see shared/PRISMA-OFFLINE.md, point 6).
 */
export { ensureDatabase } from './ensureDatabase.ts';
export {
  migrateDeploy,
  PRISMA_MIGRATE_ADVISORY_LOCK,
  type MigrateDeployOptions,
  type MigrateDeployResult,
  type MigrateLogger,
} from './migrateDeploy.ts';
export { migrationChecksum, scriptMatchesChecksum } from './migrationChecksum.ts';
export { listMigrations, type MigrationFile } from './listMigrations.ts';
export { CREATE_MIGRATIONS_TABLE_SQL, type MigrationRecord } from './migrationsTable.ts';
export { databaseNameOf, redactConnectionString, schemaOf, withDatabase } from './connectionString.ts';
export {
  DatabaseSchemaNotEmptyError,
  FailedMigrationsError,
  MigrateError,
  MigrationApplyError,
  MigrationChecksumMismatchError,
  MigrationLockTimeoutError,
  MigrationsDirectoryError,
} from './migrateErrors.ts';
