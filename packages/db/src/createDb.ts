import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.ts';

/** Tasklane's database client: a Prisma 7 client over the `pg` driver adapter (no engine binary). */
export type Db = PrismaClient;

/**
 * Creates a Prisma client connected through `@prisma/adapter-pg`.
 *
 * @param options.url - PostgreSQL connection string, e.g. `postgresql://postgres@127.0.0.1:5432/tasklane`
 * @param options.poolSize - most connections the pool opens. @defaultValue 10
 * @returns a client; connections open lazily. Close it with `db.$disconnect()`.
 */
export function createDb(options: { url: string; poolSize?: number }): Db {
  const adapter = new PrismaPg({ connectionString: options.url, max: options.poolSize ?? 10 });
  return new PrismaClient({ adapter });
}
