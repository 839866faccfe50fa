// Runs `prisma generate` on any machine. Generation never uses Prisma's schema engine, but the
// CLI downloads it first unless PRISMA_SCHEMA_ENGINE_BINARY names an executable; where that
// variable is unset we point it at a stand-in that fails loudly if anything does try to run it.
// On a normal machine with the variable set (or the engine cached) this is plain `prisma generate`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const stub = fileURLToPath(new URL('./no-schema-engine.sh', import.meta.url));
const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? stub };
const result = spawnSync('npx', ['--no-install', 'prisma', 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
