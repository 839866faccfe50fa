import type { Db } from '@tasklane/db';
import { failRunOfFailedJob, isDatabaseUnavailable, readRunStatuses } from '@tasklane/db';
import { etlRunJobSchema } from '@tasklane/queue';
import type { Job, Queue } from 'bullmq';
import { ErrorCode } from 'bullmq';
import type { Logger } from 'pino';

/** What {@link createFailedJobReconciler} uses. */
export interface FailedJobReconcilerDeps {
  db: Db;
  logger: Logger;
  /**
   * Waits between tries while PostgreSQL is unavailable, in ms: the first, doubling up to the
   * longest (config `JOB_BACKOFF_MS`, `WORKER_DATABASE_RETRY_MAX_MS`). @defaultValue 1000 → 30000
   */
  retry?: { initialDelayMs: number; maxDelayMs: number };
}

/** A running reconciler. */
export interface FailedJobReconciler {
  /** The worker's `failed` listener: `worker.on('failed', reconciler.onFailed)`. */
  onFailed(job: Job | undefined, error: Error): void;
  /**
   * Reconciles every job in the queue's failed set, `pageSize` at a time: run once at start-up, so
   * a failure this process (or another) could not reconcile before it stopped is not left for good.
   * Stopped by a PostgreSQL outage, it runs again, whole, with the next try after it.
   * @param options.pageSize - jobs per page. @defaultValue 500
   */
  sweep(queue: Queue, options?: { pageSize?: number }): Promise<void>;
  /** Jobs waiting for PostgreSQL to come back. */
  pending(): number;
  /** Stops retrying (shutdown); pending jobs are left to the next start's sweep. */
  stop(): void;
}

/**
 * Makes BullMQ's job state and the run row agree once a job failed for good — by its last attempt,
 * by an `UnrecoverableError`, or by BullMQ itself when it stalled more than `maxStalledCount` times
 * (then the processor never saw it). The rule (issue #9, "What must hold" 6):
 *
 * | run status when the job failed for good | action                                          | end state                       |
 * | --------------------------------------- | ----------------------------------------------- | ------------------------------- |
 * | `succeeded`, `skipped`                  | `job.retry()`: it runs again and, the run being finished, completes as a no-op (`already-finished`) | job `completed` ↔ run finished |
 * | `queued`, `running`                     | the run becomes `failed` with BullMQ's reason   | job `failed` ↔ run `failed`     |
 * | `failed`, `lost`                        | nothing: both already say "failed"              | job `failed` ↔ run `failed`/`lost` |
 * | no such run                             | nothing                                         |                                 |
 *
 * A failure before the last attempt is not final: BullMQ retries it, and the processor already put
 * the run back to `queued`. When PostgreSQL is unavailable the job is kept and tried again after a
 * growing wait until it is reachable; a process that stops first leaves it to the next start's
 * {@link FailedJobReconciler.sweep}, so the reconciliation happens later, never not at all.
 */
export function createFailedJobReconciler(deps: FailedJobReconcilerDeps): FailedJobReconciler {
  const retry = deps.retry ?? { initialDelayMs: 1000, maxDelayMs: 30_000 };
  const waiting = new Map<string, Job>();
  let delayMs = retry.initialDelayMs;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  /** The queue whose sweep stopped at a database outage, to sweep again with the next try. */
  let resumeSweep: Queue | undefined;

  /** Keeps `jobs` for the next try and arms the timer; the sweep of `resumeSweep` is run again then too. */
  function later(jobs: readonly Job[], error: unknown): void {
    for (const job of jobs) if (job.id) waiting.set(job.id, job);
    if (stopped || timer) return;
    deps.logger.warn({ jobs: waiting.size, retryInMs: delayMs, err: (error as Error).message }, 'database unavailable: failed jobs will be reconciled with their runs later');
    timer = setTimeout(() => {
      timer = undefined;
      const jobs = [...waiting.values()];
      waiting.clear();
      delayMs = Math.min(retry.maxDelayMs, delayMs * 2);
      const queue = resumeSweep;
      resumeSweep = undefined;
      void reconcile(jobs).then(() => (queue ? sweep(queue) : undefined)).catch((err: unknown) => deps.logger.warn({ err }, 'could not sweep failed jobs'));
    }, delayMs);
    timer.unref();
  }

  /** Reconciles a batch; false when PostgreSQL was unavailable (the batch then waits in `waiting`). */
  async function reconcile(jobs: readonly Job[]): Promise<boolean> {
    const failed = jobs.flatMap((job) => {
      const payload = etlRunJobSchema.safeParse(job.data);
      return payload.success ? [{ job, runId: payload.data.runId }] : [];
    });
    if (failed.length === 0) return true;
    let statuses: Map<string, string>;
    try {
      statuses = await readRunStatuses(deps.db, failed.map((f) => f.runId));
    } catch (error) {
      if (!isDatabaseUnavailable(error)) {
        deps.logger.error({ err: error, jobs: failed.length }, 'could not read the runs of failed jobs');
        return true;
      }
      later(failed.map((f) => f.job), error);
      return false;
    }
    delayMs = retry.initialDelayMs;
    for (const { job, runId } of failed) {
      const status = statuses.get(runId.toLowerCase());
      const log = deps.logger.child({ jobId: job.id, runId, runStatus: status });
      try {
        if (status === 'succeeded' || status === 'skipped') {
          await job.retry('failed');
          log.warn({ failedReason: job.failedReason }, 'job failed after its run had finished: retried, to complete as a no-op');
        } else if (status === 'queued' || status === 'running') {
          await failRunOfFailedJob(deps.db, runId, { error: job.failedReason || 'job failed' });
          log.warn({ failedReason: job.failedReason }, 'job failed for good: its run is failed');
        }
      } catch (error) {
        if (isDatabaseUnavailable(error)) later([job], error);
        // BullMQ refuses to retry a job no longer in the failed set (another worker, or an operator,
        // retried or removed it first): nothing left to reconcile.
        else if (isNotInFailedSet(error)) log.info('failed job already moved on');
        else log.error({ err: error }, 'could not reconcile a failed job with its run');
      }
    }
    return true;
  }

  async function sweep(queue: Queue, pageSize = 500): Promise<void> {
    // Pages from the oldest end; the jobs retry() moved on left the set, so the next page starts
    // right after the ones still there.
    for (let start = 0; !stopped; ) {
      const page = (await queue.getJobs(['failed'], start, start + pageSize - 1, true)).filter((job): job is Job => Boolean(job));
      if (page.length === 0) return;
      const before = await queue.getFailedCount();
      if (!(await reconcile(page))) {
        resumeSweep = queue; // PostgreSQL is down: the whole sweep runs again with the next try
        return;
      }
      start += page.length - (before - (await queue.getFailedCount()));
    }
  }

  return {
    onFailed(job, _error) {
      if (!job) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1) || Boolean(job.finishedOn);
      if (!final) return;
      reconcile([job]).catch((err: unknown) => deps.logger.error({ err, jobId: job.id }, 'could not reconcile a failed job with its run'));
    },
    sweep: (queue, options = {}) => sweep(queue, options.pageSize),
    pending: () => waiting.size,
    stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** BullMQ's `job.retry()` errors saying the job is gone or no longer failed (its `ErrorCode`s). */
function isNotInFailedSet(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === ErrorCode.JobNotExist || code === ErrorCode.JobNotInState || code === ErrorCode.JobLockNotExist;
}
