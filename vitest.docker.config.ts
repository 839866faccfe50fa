import { defineConfig } from 'vitest/config';

// scripts/dockerE2e.sh sets CI_VITEST_JSON to count passed/failed tests from vitest's JSON report.
const jsonReport = process.env.CI_VITEST_JSON;

/**
 * The real-engine test (issue #11 point 4): docker-compose.yml on a Docker engine. Not part of
 * `npm test` (vitest.config.ts does not include `*.docker.ts`): scripts/dockerE2e.sh provides the
 * engine and the stand-in base images, then runs `vitest run --config vitest.docker.config.ts`.
 */
export default defineConfig({
  test: {
    name: 'docker',
    include: ['test/docker/**/*.docker.ts'],
    ...(jsonReport ? { reporters: ['default', 'json'], outputFile: { json: jsonReport } } : {}),
    fileParallelism: false,
    testTimeout: 300_000,
    // The first `up --build` builds the image: npm ci twice on two cores.
    hookTimeout: 900_000,
  },
});
