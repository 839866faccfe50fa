import { setTimeout as sleepMs } from 'node:timers/promises';
import { mapWithConcurrency } from './mapWithConcurrency.ts';
import type { DemoClient, RunSnapshot } from './demoClient.ts';
import { describeError, isFinished } from './demoClient.ts';

/** Options of {@link waitForRuns}. */
export interface WaitForRunsOptions {
  client: DemoClient;
  /** Runs to wait for, by id (duplicates are polled once). */
  runIds: readonly string[];
  /** Most `GET /etl-runs/:id` in flight. */
  concurrency: number;
  /** Give up after this long, in ms. */
  timeoutMs: number;
  /** Pause between polling rounds, in ms. @defaultValue 250 */
  pollIntervalMs?: number;
  /** Called after every round with how many runs have finished. */
  onProgress?: (finished: number, total: number) => void;
  /** @defaultValue `Date.now` */
  now?: () => number;
  /** @defaultValue `node:timers/promises` setTimeout */
  sleep?: (ms: number) => Promise<unknown>;
}

/** What {@link waitForRuns} saw. */
export interface WaitForRunsResult {
  /** The last snapshot of every run that answered at least once. */
  runs: Map<string, RunSnapshot>;
  /** Ids of runs not finished when polling stopped (empty unless `timedOut`). */
  unfinished: string[];
  /** Last polling error per run that had one and never answered after it. */
  pollErrors: Map<string, string>;
  timedOut: boolean;
}

/**
 * Polls `GET /etl-runs/:id` in rounds (each round asks, `concurrency` at a time, about every run
 * not yet finished) until every run is finished or `timeoutMs` has passed. A failed poll is
 * remembered and retried next round; it never ends the wait early.
 */
export async function waitForRuns(options: WaitForRunsOptions): Promise<WaitForRunsResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepMs;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const deadline = now() + options.timeoutMs;
  const runs = new Map<string, RunSnapshot>();
  const pollErrors = new Map<string, string>();
  const total = new Set(options.runIds).size;
  let pending = [...new Set(options.runIds)];

  while (pending.length > 0) {
    await mapWithConcurrency(pending, options.concurrency, async (runId) => {
      try {
        runs.set(runId, await options.client.getRun(runId));
        pollErrors.delete(runId);
      } catch (error) {
        pollErrors.set(runId, describeError(error));
      }
    });
    pending = pending.filter((runId) => {
      const run = runs.get(runId);
      return run === undefined || !isFinished(run);
    });
    options.onProgress?.(total - pending.length, total);
    const left = deadline - now();
    if (pending.length === 0 || left <= 0) break;
    await sleep(Math.min(pollIntervalMs, left));
  }
  return { runs, unfinished: pending, pollErrors, timedOut: pending.length > 0 };
}
