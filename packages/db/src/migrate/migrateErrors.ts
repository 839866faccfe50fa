/**
 * Errors thrown by {@link migrateDeploy}. Each carries the Prisma error code of the same situation
 * (https://www.prisma.io/docs/orm/reference/error-reference#prisma-migrate-migrate-dev), so people
 * who know `prisma migrate deploy` recognise it, and says how to recover.
 */
export class MigrateError extends Error {
  /** Prisma's error code for the same situation, e.g. `P3009`. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A migration recorded as started but neither finished nor rolled back blocks deploys (Prisma P3009). */
export class FailedMigrationsError extends MigrateError {
  /** Names of the failed migrations, in the order they were started. */
  readonly migrationNames: readonly string[];

  constructor(failed: readonly { migrationName: string; startedAt: Date; logs: string | null }[]) {
    const details = failed
      .map((m) => {
        const logs = m.logs?.trim() ? ` with the following logs:\n${m.logs.trim()}` : '';
        return `The \`${m.migrationName}\` migration started at ${m.startedAt.toISOString()} failed${logs}`;
      })
      .join('\n');
    super(
      'P3009',
      'migrate found failed migrations in the target database, new migrations will not be applied. ' +
        'Resolve them first (fix the database, then `prisma migrate resolve --applied|--rolled-back <name>` ' +
        'on a machine with the Prisma CLI, or set rolled_back_at on the row): https://pris.ly/d/migrate-resolve\n' +
        details,
    );
    this.migrationNames = failed.map((m) => m.migrationName);
  }
}

/** A migration file changed after it was applied (what `prisma migrate dev` calls an edited migration). */
export class MigrationChecksumMismatchError extends MigrateError {
  readonly migrationName: string;

  constructor(migrationName: string, recorded: string, actual: string) {
    super(
      'P3006',
      `The migration \`${migrationName}\` was modified after it was applied: the database recorded checksum ` +
        `${recorded}, the file on disk has ${actual}. Applied migrations must not be edited; restore the file ` +
        'and put the change in a new migration.',
    );
    this.migrationName = migrationName;
  }
}

/** A migration script failed; its row is left unfinished with the error in `logs`, as Prisma does (P3018). */
export class MigrationApplyError extends MigrateError {
  readonly migrationName: string;
  /** SQLSTATE of the failing statement, or `none`. */
  readonly databaseErrorCode: string;

  constructor(migrationName: string, databaseErrorCode: string, databaseError: string, cause: unknown) {
    super(
      'P3018',
      'A migration failed to apply. New migrations cannot be applied before the error is recovered from. ' +
        'Read more about how to resolve migration issues in a production database: https://pris.ly/d/migrate-resolve\n\n' +
        `Migration name: ${migrationName}\n\nDatabase error code: ${databaseErrorCode}\n\nDatabase error:\n${databaseError}`,
      { cause },
    );
    this.migrationName = migrationName;
    this.databaseErrorCode = databaseErrorCode;
  }
}

/** The database has tables but no `_prisma_migrations`: it was not created by migrations (Prisma P3005). */
export class DatabaseSchemaNotEmptyError extends MigrateError {
  constructor(schema: string, tables: readonly string[]) {
    super(
      'P3005',
      `The database schema "${schema}" is not empty (tables: ${tables.join(', ')}) and has no _prisma_migrations ` +
        'table. Baseline it or use an empty database: https://pris.ly/d/migrate-baseline',
    );
  }
}

/** Another process held the migration advisory lock for longer than the timeout (Prisma P1002). */
export class MigrationLockTimeoutError extends MigrateError {
  constructor(timeoutMs: number, cause: unknown) {
    super(
      'P1002',
      `Timed out after ${timeoutMs} ms waiting for the migration advisory lock pg_advisory_lock(72707369); ` +
        'another migrate deploy is running against this database.',
      { cause },
    );
  }
}

/** The migrations directory is malformed or was written for another database provider (Prisma P3019). */
export class MigrationsDirectoryError extends MigrateError {
  constructor(message: string, code = 'P3019') {
    super(code, message);
  }
}
