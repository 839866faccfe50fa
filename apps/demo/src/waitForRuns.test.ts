import { describe, expect, it } from 'vitest';
import type { RunSnapshot, DemoClient } from './demoClient.ts';
import { fakeRun } from './fakeRun.ts';
import { waitForRuns } from './waitForRuns.ts';

/**
 * A client whose runs follow a script: `script[runId][k]` is the k-th answer for that run
 * (the last one repeats); a string is thrown as an error. Time is a counter the fake sleep advances.
 */
function scriptedClient(script: Record<string, (string | Partial<RunSnapshot>)[]>) {
  const polls: string[] = [];
  const seen = new Map<string, number>();
  const client: DemoClient = {
    putResource: () => Promise.reject(new Error('not used')),
    async getRun(runId) {
      polls.push(runId);
      const answers = script[runId] ?? ['unknown run'];
      const k = seen.get(runId) ?? 0;
      seen.set(runId, k + 1);
      const answer = answers[Math.min(k, answers.length - 1)]!;
      if (typeof answer === 'string') throw new Error(answer);
      return fakeRun({ id: runId, ...answer });
    },
  };
  let clock = 0;
  return {
    polls,
    client,
    now: () => clock,
    sleep: async (ms: number) => {
      clock += ms;
    },
  };
}

const queued: Partial<RunSnapshot> = { status: 'queued', finishedAt: null, recordCount: null };
const running: Partial<RunSnapshot> = { status: 'running', finishedAt: null, recordCount: null };

describe('waitForRuns', () => {
  it('polls only unfinished runs, round after round, until all are finished', async () => {
    const fake = scriptedClient({ a: [{}], b: [queued, running, { status: 'failed', error: 'boom' }] });
    const progress: [number, number][] = [];
    const result = await waitForRuns({
      ...fake,
      runIds: ['a', 'b', 'a'],
      concurrency: 4,
      timeoutMs: 10_000,
      pollIntervalMs: 100,
      onProgress: (finished, total) => progress.push([finished, total]),
    });
    expect(fake.polls).toEqual(['a', 'b', 'b', 'b']);
    expect(progress).toEqual([
      [1, 2],
      [1, 2],
      [2, 2],
    ]);
    expect(result.timedOut).toBe(false);
    expect(result.unfinished).toEqual([]);
    expect(result.runs.get('b')).toMatchObject({ status: 'failed', error: 'boom' });
  });

  it('stops at the timeout and names the runs still unfinished, with their last snapshot', async () => {
    const fake = scriptedClient({ a: [{}], b: [queued] });
    const result = await waitForRuns({ ...fake, runIds: ['a', 'b'], concurrency: 2, timeoutMs: 1000, pollIntervalMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.unfinished).toEqual(['b']);
    expect(result.runs.get('b')).toMatchObject({ status: 'queued' });
    expect(fake.now()).toBe(1000); // the last sleep is cut to the deadline
    expect(fake.polls.filter((id) => id === 'b')).toHaveLength(5); // at t = 0, 300, 600, 900, 1000
  });

  it('retries a failed poll next round and forgets the error once the run answers', async () => {
    const fake = scriptedClient({ a: ['HTTP 503', {}], b: ['socket hang up'] });
    const result = await waitForRuns({ ...fake, runIds: ['a', 'b'], concurrency: 1, timeoutMs: 500, pollIntervalMs: 250 });
    expect(result.runs.get('a')).toMatchObject({ status: 'succeeded' });
    expect([...result.pollErrors]).toEqual([['b', 'socket hang up']]);
    expect(result.unfinished).toEqual(['b']);
  });

  it('returns at once when there is nothing to wait for', async () => {
    const fake = scriptedClient({});
    const result = await waitForRuns({ ...fake, runIds: [], concurrency: 1, timeoutMs: 1000 });
    expect(result).toEqual({ runs: new Map(), unfinished: [], pollErrors: new Map(), timedOut: false });
    expect(fake.polls).toEqual([]);
  });
});
