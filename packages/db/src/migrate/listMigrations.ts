import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MigrationsDirectoryError } from './migrateErrors.ts';

/** One `prisma/migrations/<name>/migration.sql`, read from disk. */
export interface MigrationFile {
  /** Directory name, e.g. `20261130000000_init`; also `_prisma_migrations.migration_name`. */
  name: string;
  /** Absolute path of `migration.sql`. */
  path: string;
  /** The file's bytes, which is what the checksum covers. */
  bytes: Buffer;
  /** The file decoded as UTF-8, which is what runs. */
  script: string;
}

/**
 * Reads Prisma's migrations layout: every sub-directory of `migrationsDir` is one migration whose
 * script is `migration.sql`, applied in ascending order of the directory name (Prisma's
 * `list_migrations` sorts the same way, which is why names start with a UTC timestamp).
 * `migration_lock.toml`, if present, must name provider `postgresql` (Prisma refuses, P3019, when
 * migrations were written for another provider).
 *
 * @param migrationsDir - absolute path of `prisma/migrations`.
 * @throws MigrationsDirectoryError when the directory is missing, a migration lacks
 *   `migration.sql`, or the lock file names another provider.
 */
export async function listMigrations(migrationsDir: string): Promise<MigrationFile[]> {
  let entries;
  try {
    entries = await readdir(migrationsDir, { withFileTypes: true });
  } catch (error) {
    throw new MigrationsDirectoryError(`Cannot read the migrations directory ${migrationsDir}: ${String(error)}`, 'P3015');
  }

  const lockFile = entries.find((e) => e.isFile() && e.name === 'migration_lock.toml');
  if (lockFile) {
    const text = await readFile(join(migrationsDir, lockFile.name), 'utf8');
    const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(text)?.[1];
    if (provider !== undefined && provider !== 'postgresql') {
      throw new MigrationsDirectoryError(
        `The migrations in ${migrationsDir} were written for provider "${provider}" (migration_lock.toml), not "postgresql".`,
      );
    }
  }

  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  return Promise.all(
    names.map(async (name) => {
      const path = join(migrationsDir, name, 'migration.sql');
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (error) {
        throw new MigrationsDirectoryError(`Migration ${name} has no readable migration.sql (${String(error)})`, 'P3015');
      }
      return { name, path, bytes, script: bytes.toString('utf8') };
    }),
  );
}
