import type { Reply } from './replayPayloads.ts';
import type { WaitForRunsResult } from './waitForRuns.ts';

/** How the latency figures are measured; printed under the table. */
export const LATENCY_SOURCE = 'run.finishedAt − run.queuedAt, both from the server clock (so client/server clock skew cannot distort it)';

/** Most examples listed per kind of problem. */
const MAX_EXAMPLES = 5;

/** One demo pass (one lane), ready to print. */
export interface DemoSummary {
  /** The lane asked for (`default`: the server's `ETL_LANE`), with the lanes the runs actually took. */
  lane: string;
  payloadsSent: number;
  /** Answers by HTTP status code; `no answer` counts network errors and timeouts. */
  responsesByStatus: Record<string, number>;
  /** Runs of accepted payloads by their last status; `unknown` counts runs that never answered a poll. */
  runsByStatus: Record<string, number>;
  /** Sum of `recordCount` over the runs. */
  contextRecords: number;
  /** Over finished runs; see {@link LATENCY_SOURCE}. Milliseconds. */
  latencyMs: { count: number; p50: number | null; p95: number | null };
  /** Everything that makes the pass a failure; empty when every payload got 2xx and every run succeeded. */
  problems: string[];
}

/** Input of {@link summarizeRuns}. */
export interface SummarizeRunsInput {
  /** The lane asked for; undefined: the server's default. */
  lane: string | undefined;
  replies: readonly Reply[];
  wait: WaitForRunsResult;
  /** How long the wait was allowed, in ms (quoted in the timeout problem). */
  timeoutMs: number;
}

/**
 * Sums up one demo pass. A pass succeeds only when every payload got a 2xx answer and every run
 * reached `succeeded`; anything else is listed in `problems` with up to five examples each.
 */
export function summarizeRuns(input: SummarizeRunsInput): DemoSummary {
  const { replies, wait } = input;
  const responsesByStatus: Record<string, number> = {};
  const runsByStatus: Record<string, number> = {};
  const rejected: string[] = [];
  const unsuccessful: string[] = [];
  const durations: number[] = [];
  const lanesTaken = new Set<string>();
  let contextRecords = 0;
  let accepted = 0;

  for (const reply of replies) {
    increment(responsesByStatus, reply.httpStatus === null ? 'no answer' : String(reply.httpStatus));
    if (reply.httpStatus === null || reply.httpStatus < 200 || reply.httpStatus > 299 || reply.run === null) {
      rejected.push(`${reply.resourceId}: ${reply.problem ?? `HTTP ${reply.httpStatus} without a run`}`);
      continue;
    }
    accepted += 1;
    const run = wait.runs.get(reply.run.id);
    if (run === undefined) {
      increment(runsByStatus, 'unknown');
      unsuccessful.push(`run ${reply.run.id} (${reply.resourceId}): never answered a poll: ${wait.pollErrors.get(reply.run.id) ?? 'not polled'}`);
      continue;
    }
    increment(runsByStatus, run.status);
    lanesTaken.add(run.lane);
    contextRecords += run.recordCount ?? 0;
    if (run.finishedAt !== null) durations.push(Date.parse(run.finishedAt) - Date.parse(run.queuedAt));
    if (run.status !== 'succeeded') {
      const detail = run.error === null ? '' : `: ${run.error}`;
      unsuccessful.push(`run ${run.id} (${reply.resourceId}): ${run.status} after ${run.attempts} attempt(s)${detail}`);
    }
  }

  const problems: string[] = [];
  if (rejected.length > 0) {
    problems.push(withExamples(`${rejected.length} of ${replies.length} payloads were not accepted`, rejected));
  }
  if (wait.timedOut) {
    problems.push(`${wait.unfinished.length} run(s) had not finished when the ${formatSeconds(input.timeoutMs)} timeout passed`);
  }
  if (unsuccessful.length > 0) {
    problems.push(withExamples(`${unsuccessful.length} of ${accepted} runs did not succeed`, unsuccessful));
  }

  const requested = input.lane ?? 'default';
  const taken = [...lanesTaken].sort();
  return {
    lane: taken.length === 0 || (taken.length === 1 && taken[0] === requested) ? requested : `${requested} (${taken.join(', ')})`,
    payloadsSent: replies.length,
    responsesByStatus,
    runsByStatus,
    contextRecords,
    latencyMs: { count: durations.length, p50: nearestRankPercentile(durations, 50), p95: nearestRankPercentile(durations, 95) },
    problems,
  };
}

/**
 * The `p`th percentile by the nearest-rank method: the value at 1-based rank ⌈p/100 × N⌉ of the
 * values sorted ascending, i.e. the smallest value that at least p% of the values do not exceed.
 * It is always one of the values (no interpolation). Source: the "nearest-rank method" in
 * https://en.wikipedia.org/wiki/Percentile.
 *
 * @param values - any order; not modified
 * @param p - percentile in (0, 100]
 * @returns null when there are no values
 * @throws RangeError when `p` is outside (0, 100]
 */
export function nearestRankPercentile(values: readonly number[], p: number): number | null {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  // p × N first: (p / 100) × N can land just above an integer (0.07 × 100 = 7.000000000000001).
  return sorted[Math.ceil((p * sorted.length) / 100) - 1] ?? null;
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function withExamples(headline: string, examples: readonly string[]): string {
  const shown = examples.slice(0, MAX_EXAMPLES).map((line) => `\n    - ${line}`).join('');
  const more = examples.length > MAX_EXAMPLES ? `\n    - … and ${examples.length - MAX_EXAMPLES} more` : '';
  return `${headline}:${shown}${more}`;
}

function formatSeconds(ms: number): string {
  return `${ms / 1000} s`;
}
