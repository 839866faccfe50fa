import { describe, expect, it } from 'vitest';
import type { Reply } from './replayPayloads.ts';
import { nearestRankPercentile, summarizeRuns } from './summarizeRuns.ts';
import type { RunSnapshot } from './demoClient.ts';
import { fakeRun } from './fakeRun.ts';
import type { WaitForRunsResult } from './waitForRuns.ts';

describe('nearestRankPercentile', () => {
  it.each([
    [[], 50, null],
    [[7], 50, 7],
    [[7], 95, 7],
    [[3, 1, 2], 50, 2],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 100, 4],
    [Array.from({ length: 20 }, (_, i) => 20 - i), 95, 19],
    [Array.from({ length: 100 }, (_, i) => i + 1), 7, 7], // 0.07 × 100 is 7.000000000000001 in floating point
    [Array.from({ length: 100 }, (_, i) => i + 1), 95, 95],
  ])('of %j at p%d is %s', (values, p, expected) => {
    expect(nearestRankPercentile(values, p)).toBe(expected);
  });

  it.each([0, -5, 101, Number.NaN])('refuses p = %s', (p) => {
    expect(() => nearestRankPercentile([1], p)).toThrow(RangeError);
  });
});

function reply(resourceId: string, httpStatus: number | null, run: RunSnapshot | null, problem: string | null = null): Reply {
  return { resourceId, event: 'push', n: 1, sentAtMs: 0, httpStatus, run, problem };
}

function waited(runs: RunSnapshot[], extra: Partial<WaitForRunsResult> = {}): WaitForRunsResult {
  return { runs: new Map(runs.map((r) => [r.id, r])), unfinished: [], pollErrors: new Map(), timedOut: false, ...extra };
}

const at = (ms: number) => new Date(Date.UTC(2025, 0, 1) + ms).toISOString();

describe('summarizeRuns', () => {
  it('counts answers, runs and records, and measures latency as finishedAt − queuedAt', () => {
    const runs = [
      fakeRun({ id: 'r1', recordCount: 5, queuedAt: at(0), finishedAt: at(100) }),
      fakeRun({ id: 'r2', recordCount: 7, queuedAt: at(50), finishedAt: at(350) }),
      fakeRun({ id: 'r3', recordCount: 0, queuedAt: at(0), finishedAt: at(200) }),
    ];
    const summary = summarizeRuns({
      lane: undefined,
      replies: [reply('d-1', 201, runs[0]!), reply('d-2', 200, runs[1]!), reply('d-3', 201, runs[2]!)],
      wait: waited(runs),
      timeoutMs: 120_000,
    });
    expect(summary).toEqual({
      lane: 'default (queue)',
      payloadsSent: 3,
      responsesByStatus: { '201': 2, '200': 1 },
      runsByStatus: { succeeded: 3 },
      contextRecords: 12,
      latencyMs: { count: 3, p50: 200, p95: 300 },
      problems: [],
    });
  });

  it('uses the last polled snapshot, not the one in the PUT answer', () => {
    const queued = fakeRun({ id: 'r1', status: 'queued', finishedAt: null, recordCount: null });
    const done = fakeRun({ id: 'r1', status: 'succeeded', recordCount: 9 });
    const summary = summarizeRuns({ lane: undefined, replies: [reply('d-1', 201, queued)], wait: waited([done]), timeoutMs: 1000 });
    expect(summary.runsByStatus).toEqual({ succeeded: 1 });
    expect(summary.contextRecords).toBe(9);
  });

  it('labels the pass with the lane asked for, and the lanes taken when they differ', () => {
    const run = fakeRun({ lane: 'inline' });
    const input = { replies: [reply('d-1', 201, run)], wait: waited([run]), timeoutMs: 1000 };
    expect(summarizeRuns({ ...input, lane: 'inline' }).lane).toBe('inline');
    expect(summarizeRuns({ ...input, lane: 'queue' }).lane).toBe('queue (inline)');
    expect(summarizeRuns({ ...input, lane: undefined, replies: [reply('d-1', null, null, 'no answer: x')] }).lane).toBe('default');
  });

  it('lists rejected payloads, unsuccessful runs and the timeout as problems', () => {
    const failed = fakeRun({ id: 'r2', status: 'failed', attempts: 5, error: 'deadlock detected' });
    const stuck = fakeRun({ id: 'r3', status: 'queued', finishedAt: null, recordCount: null });
    const lost = fakeRun({ id: 'r4' });
    const summary = summarizeRuns({
      lane: undefined,
      replies: [
        reply('d-1', 422, null, 'HTTP 422: invalid request body'),
        reply('d-2', 201, failed),
        reply('d-3', 201, stuck),
        reply('d-4', 201, lost),
        reply('d-5', null, null, 'no answer: fetch failed'),
      ],
      wait: waited([failed, stuck], { unfinished: ['r3', 'r4'], timedOut: true, pollErrors: new Map([['r4', 'HTTP 503']]) }),
      timeoutMs: 2500,
    });
    expect(summary.responsesByStatus).toEqual({ '422': 1, '201': 3, 'no answer': 1 });
    expect(summary.runsByStatus).toEqual({ failed: 1, queued: 1, unknown: 1 });
    expect(summary.latencyMs.count).toBe(1);
    expect(summary.problems).toEqual([
      '2 of 5 payloads were not accepted:\n    - d-1: HTTP 422: invalid request body\n    - d-5: no answer: fetch failed',
      '2 run(s) had not finished when the 2.5 s timeout passed',
      '3 of 3 runs did not succeed:' +
        '\n    - run r2 (d-2): failed after 5 attempt(s): deadlock detected' +
        '\n    - run r3 (d-3): queued after 1 attempt(s)' +
        '\n    - run r4 (d-4): never answered a poll: HTTP 503',
    ]);
  });

  it('shows at most five examples per problem', () => {
    const replies = Array.from({ length: 8 }, (_, i) => reply(`d-${i}`, 500, null, 'HTTP 500: internal server error'));
    const [problem] = summarizeRuns({ lane: undefined, replies, wait: waited([]), timeoutMs: 1000 }).problems;
    expect(problem?.split('\n')).toHaveLength(1 + 5 + 1);
    expect(problem).toContain('… and 3 more');
  });
});
