import { isDatabaseUnavailable } from '@tasklane/db';
import type { Job } from 'bullmq';
import { DelayedError } from 'bullmq';
import type { Logger } from 'pino';

/** How a job waits out a PostgreSQL outage. */
export interface DatabaseOutageBackoff {
  /** First wait, in ms; each consecutive deferral of the same job doubles it. @defaultValue the job's own backoff delay (`JOB_BACKOFF_MS`) */
  initialDelayMs?: number;
  /** Longest wait, in ms (config `WORKER_DATABASE_RETRY_MAX_MS`). @defaultValue 30000 */
  maxDelayMs?: number;
}

/** A BullMQ processor: `(job, token, signal) => result`. */
export type Processor<R> = (job: Job, token?: string, signal?: AbortSignal) => Promise<R>;

/**
 * Wraps a processor so that a failure meaning "PostgreSQL is unavailable" (see
 * `isDatabaseUnavailable` in @tasklane/db: down, restarting, shutting down, out of connections) does
 * not spend one of the job's attempts (issue #9, "What must hold" 6): the job is moved to the delayed
 * set with `job.moveToDelayed(timestamp, token)` — which BullMQ 6 runs with `skipAttempt`, so
 * `attemptsMade` stays as it was — and the processor throws BullMQ's `DelayedError`, which tells the
 * worker the job was moved on purpose (BullMQ docs, "Process step jobs" / "Delay a job from the
 * processor"). The job then waits `initialDelayMs · 2^n` (n = consecutive deferrals, counted as
 * `attemptsStarted − attemptsMade − 1`), capped at `maxDelayMs`, with ±20 % jitter so that the jobs
 * of an outage do not all return in the same instant.
 *
 * Any other failure, or one the job cannot be deferred for (no lock token; Redis refusing the move),
 * is rethrown unchanged and counts as an attempt as before.
 *
 * @throws DelayedError when the job was deferred; otherwise whatever `processor` threw
 */
export function deferWhileDatabaseUnavailable<R>(processor: Processor<R>, deps: { logger: Logger; backoff?: DatabaseOutageBackoff }): Processor<R> {
  return async (job, token, signal) => {
    try {
      return await processor(job, token, signal);
    } catch (error) {
      if (!isDatabaseUnavailable(error) || token === undefined) throw error;
      const deferrals = Math.max(0, (job.attemptsStarted ?? 0) - job.attemptsMade - 1);
      const delayMs = outageDelayMs(deferrals, { initialDelayMs: deps.backoff?.initialDelayMs ?? jobBackoffDelayMs(job), maxDelayMs: deps.backoff?.maxDelayMs ?? 30_000 });
      try {
        await job.moveToDelayed(Date.now() + delayMs, token);
      } catch (moveError) {
        deps.logger.warn({ jobId: job.id, err: moveError }, 'could not defer a job during a database outage; the attempt counts');
        throw error;
      }
      deps.logger.warn(
        { jobId: job.id, delayMs, deferrals: deferrals + 1, attemptsMade: job.attemptsMade, err: (error as Error).message },
        'database unavailable: job deferred without spending an attempt',
      );
      throw new DelayedError(`database unavailable; deferred ${delayMs} ms`);
    }
  };
}

/**
 * The wait before the next try of a job deferred `deferrals` times in a row, in ms: exponential
 * from `initialDelayMs`, capped at `maxDelayMs`, ±20 % jitter (never below 1).
 */
export function outageDelayMs(deferrals: number, backoff: Required<DatabaseOutageBackoff>, random: () => number = Math.random): number {
  const base = Math.min(backoff.maxDelayMs, backoff.initialDelayMs * 2 ** Math.min(deferrals, 30));
  return Math.max(1, Math.round(base * (0.8 + 0.4 * random())));
}

/** The job's backoff delay (`{ type, delay }` or a number), or 1000 ms. */
function jobBackoffDelayMs(job: Job): number {
  const backoff = job.opts.backoff;
  const delay = typeof backoff === 'number' ? backoff : backoff?.delay;
  return typeof delay === 'number' && delay > 0 ? delay : 1000;
}
