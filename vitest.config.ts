import { defineConfig } from 'vitest/config';

// .ci/run sets CI_VITEST_JSON to a file path to count passed/failed tests from vitest's JSON report.
const ciJsonReport = process.env.CI_VITEST_JSON;

/**
 * One test run for the whole monorepo.
 * - `unit`: pure tests beside the code (`*.test.ts` under packages/ and apps/src); no services.
 * - `integration`: tests under apps/test and test/ that talk to the real PostgreSQL and Redis
 *   and start the API and worker as separate OS processes. They run one file at a time so
 *   process-level tests do not fight over the machine's two cores.
 */
export default defineConfig({
  test: {
    ...(ciJsonReport ? { reporters: ['default', 'json'], outputFile: { json: ciJsonReport } } : {}),
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['apps/*/test/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          globalSetup: ['test/support/globalSetup.ts'],
        },
      },
    ],
  },
});
