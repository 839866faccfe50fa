import { defineConfig } from 'prisma/config';

// `process.env.DATABASE_URL ?? ""` rather than env(): env() throws when the variable is unset,
// which breaks `prisma generate` in a clean checkout (../shared/PRISMA-OFFLINE.md, point 4).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
