/**
 * The queue contract of Tasklane: queue names, job payload schemas, default job options.
 *
 * Glossary (BullMQ / Sidekiq terms):
 * - job: one unit of work in Redis; here always "run the ETL of one EtlRun row".
 * - queue: a named list of jobs (`etl-run`), under a key prefix.
 * - worker: a process that takes jobs from a queue; its processor does the work.
 * - attempt: one try of a job; a failed attempt is retried after an exponential backoff.
 * - stalled: an active job whose worker stopped renewing its lock (crashed); BullMQ hands it to
 *   another worker.
 * - dead letter: a job that exhausted its attempts; kept in the failed set, its run is `failed`.
 * - outbox: the EtlRun row committed with the resource; the job only points at it (by id).
 * - idempotency key: the run id, used as the BullMQ job id, so enqueuing a run twice adds one job.
 */
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

/** Queue names: kebab-case, domain-action, no `:` (BullMQ reserves it as key separator). */
export const QUEUE_NAMES = { etlRun: 'etl-run' } as const;

/** Payload of an `etl-run` job: only the run id; the raw `info` stays in PostgreSQL. */
export const etlRunJobSchema = z.object({
  runId: z.uuid(),
  /** The request id of the write that created the run, for following one write through the logs. */
  requestId: z.string().max(200).optional(),
});

/** Payload of an `etl-run` job. */
export type EtlRunJob = z.infer<typeof etlRunJobSchema>;

/** Retry and retention settings of `etl-run` jobs (from config). */
export interface EtlRunJobSettings {
  /** Tries per job, the first included. */
  attempts: number;
  /** First retry delay in ms; doubles each attempt (BullMQ `exponential` backoff). */
  backoffMs: number;
  /** Completed jobs kept in Redis: at most `count`, none older than `ageSeconds`. */
  keepCompleted: { count: number; ageSeconds: number };
  /** Failed jobs (dead letters) kept in Redis: at most `count`, none older than `ageSeconds`. */
  keepFailed: { count: number; ageSeconds: number };
}

/**
 * Default options for `etl-run` jobs: retries with exponential backoff, and completed/failed
 * retention capped by count and age so Redis memory levels off (BullMQ "Auto-removal of jobs").
 */
export function etlRunJobOptions(settings: EtlRunJobSettings): JobsOptions {
  return {
    attempts: settings.attempts,
    backoff: { type: 'exponential', delay: settings.backoffMs },
    removeOnComplete: { count: settings.keepCompleted.count, age: settings.keepCompleted.ageSeconds },
    removeOnFail: { count: settings.keepFailed.count, age: settings.keepFailed.ageSeconds },
  };
}

/**
 * The BullMQ job id of a run: the run id itself, so adding the same run twice adds one job
 * (BullMQ ignores an add whose job id exists). A new PUT makes a new run, hence a new job id, so a
 * finished job never blocks later work.
 */
export function etlRunJobId(runId: string): string {
  return runId;
}
