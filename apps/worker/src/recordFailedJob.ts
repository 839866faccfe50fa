import type { Db } from '@tasklane/db';
import { failRunOfFailedJob } from '@tasklane/db';
import { etlRunJobSchema } from '@tasklane/queue';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';

/**
 * Handler of the worker's `failed` event for failures the processor never saw: BullMQ fails a job
 * that stalled more than `maxStalledCount` times (its worker crashed again and again) without
 * calling the processor, which would leave the run `running` forever. A final failure marks the run
 * `failed` with BullMQ's reason (`failRunOfFailedJob`: a transition by a non-holder, which clears the
 * run's lease so a frozen former holder writes nothing later); it only touches runs still queued or
 * running, so a failure the processor already recorded is left as it is.
 */
export function recordFailedJob(deps: { db: Db; logger: Logger }) {
  return (job: Job | undefined, error: Error): void => {
    if (!job) return;
    const payload = etlRunJobSchema.safeParse(job.data);
    if (!payload.success) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || job.finishedOn !== undefined;
    if (!final) return;
    failRunOfFailedJob(deps.db, payload.data.runId, { error: error.message }).catch((err: unknown) =>
      deps.logger.error({ err, runId: payload.data.runId }, 'could not record a failed job on its run'),
    );
  };
}
