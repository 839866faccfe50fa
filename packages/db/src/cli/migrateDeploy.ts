// `npm run db:migrate`: creates the database named by DATABASE_URL if needed and applies
// prisma/migrations the way `prisma migrate deploy` would (see ../migrate/migrateDeploy.ts).
import { fileURLToPath } from 'node:url';
import { ensureDatabase, migrateDeploy, MigrateError, redactConnectionString } from '../migrate/index.ts';

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/tasklane';
const migrationsDir = fileURLToPath(new URL('../../../../prisma/migrations', import.meta.url));

async function main(): Promise<void> {
  const connectionString = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const target = redactConnectionString(connectionString);

  const { created } = await ensureDatabase(connectionString);
  if (created) console.log(`Created database ${target}`);

  const { applied, alreadyApplied } = await migrateDeploy({ connectionString, migrationsDir, logger: console });
  if (applied.length === 0) {
    console.log(`Database ${target} is up to date (${alreadyApplied.length} migrations already applied).`);
  } else {
    console.log(`Applied ${applied.length} migration(s) to ${target}:\n${applied.map((n) => `  - ${n}`).join('\n')}`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof MigrateError) console.error(`Error ${error.code}: ${error.message}`);
  else console.error(error);
  process.exitCode = 1;
});
