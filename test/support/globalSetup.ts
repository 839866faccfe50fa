// Vitest globalSetup of the `integration` project (vitest.config.ts): makes PostgreSQL and Redis
// available once per run, migrates the test database, and hands the URLs to tests through
// `inject('databaseUrl')` / `inject('redisUrl')` (types in ./providedContext.ts).
import type { TestProject } from 'vitest/node';
import { ensureServices } from '../../scripts/ensureServices.ts';
import './providedContext.ts';

const prefix = '[globalSetup]';
const logger = {
  info: (message: string) => console.log(`${prefix} ${message}`),
  warn: (message: string) => console.warn(`${prefix} ${message}`),
};

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = await ensureServices({
    databaseUrl: process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/tasklane_test',
    redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    logger,
  });
  project.provide('databaseUrl', services.databaseUrl);
  project.provide('redisUrl', services.redisUrl);
  // Processes the tests spawn (API, worker) inherit these.
  process.env.DATABASE_URL = services.databaseUrl;
  process.env.REDIS_URL = services.redisUrl;

  return async () => {
    await services.stop();
  };
}
