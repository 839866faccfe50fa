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
  failFastWhileDown(queues);
  await withDeadline(queues.etlRun.add('etl-run', payload, { jobId: etlRunJobId(payload.runId) }), options.timeoutMs, 'enqueue');
}

/** A job for {@link enqueueEtlRuns}: its payload, and the trace its spans continue. */
export type EtlRunJobToAdd = EtlRunJob & {
  /**
   * BullMQ telemetry metadata (`tracing.jobMetadata(…)` of @tasklane/tracing) parenting the job's
   * spans on a stored trace context instead of the bulk add's own span: the outbox relay publishes
   * a run into the trace of the write that created it. Used only when the queue has telemetry.
   * @defaultValue the bulk add's span
   */
  traceMetadata?: string | undefined;
};

/**
 * Adds the `etl-run` jobs of many runs in one round trip (`Queue.addBulk`, one MULTI), each with
 * its run id as job id: a run whose job already exists in Redis, in any state, keeps that job
 * (BullMQ ignores an add whose job id exists), so adding a run twice never runs it twice.
 *
 * @param options.timeoutMs - give up after this many ms (the jobs may or may not have been added;
 *   safe, as for {@link enqueueEtlRun})
 * @throws `RedisDeadlineError` past the deadline; the Redis error when Redis refuses; a zod error
 *   for a payload outside the contract (nothing is added then)
 */
export async function enqueueEtlRuns(queues: Queues, jobs: readonly EtlRunJobToAdd[], options: { timeoutMs: number }): Promise<void> {
  if (jobs.length === 0) return;
  failFastWhileDown(queues);
  const adds = jobs.map(({ traceMetadata, ...job }) => {
    const data = etlRunJobSchema.parse(job);
    return { name: 'etl-run', data, opts: { jobId: etlRunJobId(data.runId), ...(traceMetadata ? { telemetry: { metadata: traceMetadata } } : {}) } };
  });
  await withDeadline(
    queues.etlRun.addBulk(adds),
    options.timeoutMs,
    'bulk enqueue',
  );
}

/**
 * Which of these runs have no job in Redis at all (in no state: waiting, active, delayed,
 * completed, failed…): one pipelined `EXISTS` per job hash, in one round trip.
 *
 * @param options.timeoutMs - give up after this many ms
 * @returns the run ids whose job hash does not exist
 * @throws `RedisDeadlineError` past the deadline; the Redis error when Redis refuses
 */
export async function findMissingEtlRunJobs(queues: Queues, runIds: readonly string[], options: { timeoutMs: number }): Promise<string[]> {
  if (runIds.length === 0) return [];
  const pipeline = queues.connection.pipeline();
  for (const runId of runIds) pipeline.exists(queues.etlRun.toKey(etlRunJobId(runId)));
  const replies = await withDeadline(pipeline.exec(), options.timeoutMs, 'job existence check');
  if (!replies) throw new Error('job existence check: the pipeline was discarded');
  return runIds.filter((_, i) => {
    const [error, exists] = replies[i]!;
    if (error) throw error;
    return exists === 0;
  });
}

/** States of an ioredis client (node or Cluster) between failed connection attempts, or closed. */
const DOWN_STATES = new Set(['reconnecting', 'close', 'end']);

/**
 * Throws at once when the producer connection is between failed attempts (Redis unreachable,
 * credentials refused) instead of letting BullMQ wait for it until the enqueue's deadline: a
 * connection that dropped already fails fast (no offline queue), but one that never got ready would
 * hold every queue-lane PUT for `ENQUEUE_TIMEOUT_MS`. A connection still on its first attempt is let
 * through (the deadline bounds it). The run is then published by the outbox relay.
 * @throws Error `enqueue: Redis is unreachable (<status>)`
 */
function failFastWhileDown(queues: Queues): void {
  const status = queues.connection.status;
  if (DOWN_STATES.has(status)) throw new Error(`enqueue: Redis is unreachable (connection ${status})`);
}
