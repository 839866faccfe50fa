import type { Queues } from './createQueues.ts';
import type { EtlRunJob } from './etlRunQueue.ts';
import { etlRunJobId, etlRunJobSchema } from './etlRunQueue.ts';

/** Thrown when an enqueue does not finish within its deadline (Redis down or slow). */
export class EnqueueTimeoutError extends Error {
  override readonly name = 'EnqueueTimeoutError';
}

/**
 * Adds the `etl-run` job of a run, with the run id as job id (idempotent).
 *
 * @param options.timeoutMs - give up after this many ms; the job may or may not have been added,
 *   which is safe because the run row is the source of truth and a re-add is deduplicated.
 * @throws {@link EnqueueTimeoutError} past the deadline; the Redis error when Redis refuses
 */
export async function enqueueEtlRun(queues: Queues, job: EtlRunJob, options: { timeoutMs: number }): Promise<void> {
  const payload = etlRunJobSchema.parse(job);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EnqueueTimeoutError(`enqueue timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
  });
  try {
    await Promise.race([queues.etlRun.add('etl-run', payload, { jobId: etlRunJobId(payload.runId) }), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
