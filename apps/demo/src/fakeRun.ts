import type { RunSnapshot } from './demoClient.ts';

/** For tests: a finished, succeeded run as the API shows it, with the given fields overridden. */
export function fakeRun(overrides: Partial<RunSnapshot> = {}): RunSnapshot {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    resourceId: 'demo-t-push-1',
    lane: 'queue',
    status: 'succeeded',
    attempts: 1,
    error: null,
    recordCount: 10,
    queuedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:00:00.100Z',
    ...overrides,
  };
}
