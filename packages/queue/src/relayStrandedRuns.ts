import type { Queues } from './createQueues.ts';
import { etlRunJobId } from './etlRunQueue.ts';
import { enqueueEtlRun } from './enqueueEtlRun.ts';
import { withDeadline } from './withDeadline.ts';

/** What one relay pass did with each run. */
export interface RelayReport {
  /** Runs with no job in Redis: enqueued now. */
  enqueued: string[];
  /** Runs whose job is waiting, delayed or active: left alone. */
  present: string[];
  /** Runs whose job had already completed or failed while the run stayed queued: job replaced. */
  replaced: string[];
}

/**
 * The transactional-outbox relay's Redis half: for each run still `queued` in PostgreSQL, makes
 * sure a job exists for it. The job id is the run id, so a run that is already in Redis is never
 * added twice; a finished job left behind by a run that never recorded its outcome is replaced.
 *
 * @param options.timeoutMs - deadline of each Redis call, in ms
 * @throws the Redis error, or `RedisDeadlineError`, when Redis is unreachable (the runs stay queued for the next pass)
 */
export async function relayStrandedRuns(
  queues: Queues,
  runs: readonly { id: string; requestId: string | null }[],
  options: { timeoutMs: number },
): Promise<RelayReport> {
  const report: RelayReport = { enqueued: [], present: [], replaced: [] };
  for (const run of runs) {
    const job = await withDeadline(queues.etlRun.getJob(etlRunJobId(run.id)), options.timeoutMs, 'job lookup');
    const state = job ? await withDeadline(job.getState(), options.timeoutMs, 'job state') : 'missing';
    if (job && (state === 'completed' || state === 'failed')) {
      await withDeadline(job.remove(), options.timeoutMs, 'job removal');
      report.replaced.push(run.id);
    } else if (state !== 'missing' && state !== 'unknown') {
      report.present.push(run.id);
      continue;
    } else {
      report.enqueued.push(run.id);
    }
    await enqueueEtlRun(queues, { runId: run.id, ...(run.requestId ? { requestId: run.requestId } : {}) }, options);
  }
  return report;
}
