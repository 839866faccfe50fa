import type { Queues } from './createQueues.ts';
import type { EtlRunJob } from './etlRunQueue.ts';
import { etlRunJobId, etlRunJobSchema } from './etlRunQueue.ts';
import { withDeadline } from './withDeadline.ts';

/**
 * Adds the `etl-run` job of a run, with the run id as job id (idempotent).
 *
 * @param options.timeoutMs - give up after this many ms; the job may or may not have been added,
 *   which is safe because the run row is the source of truth and a re-add is deduplicated.
 * @throws `RedisDeadlineError` past the deadline; the Redis error when Redis refuses
 */
export async function enqueueEtlRun(queues: Queues, job: EtlRunJob, options: { timeoutMs: number }): Promise<void> {
  const payload = etlRunJobSchema.parse(job);
  await withDeadline(queues.etlRun.add('etl-run', payload, { jobId: etlRunJobId(payload.runId) }), options.timeoutMs, 'enqueue');
}
