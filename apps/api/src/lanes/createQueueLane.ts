import type { Queues } from '@tasklane/queue';
import { enqueueEtlRun, etlRunJobId, withDeadline } from '@tasklane/queue';
import type { Logger } from 'pino';
import type { Lane } from './Lane.ts';

/**
 * The `queue` lane, the "Ruby way": the API adds a BullMQ job (payload: the run id) and a separately
 * deployed worker process runs the ETL. When Redis does not answer within `enqueueTimeoutMs` the
 * run stays `queued` and the response says so.
 */
export function createQueueLane(deps: { queues: Queues; enqueueTimeoutMs: number; logger: Logger }): Lane {
  return {
    name: 'queue',
    async dispatch(run, context) {
      try {
        // A failed job keeps its id in Redis; BullMQ would ignore a re-add under the same id.
        if (context.retry) await withDeadline(deps.queues.etlRun.remove(etlRunJobId(run.id)), deps.enqueueTimeoutMs, 'job removal');
        await enqueueEtlRun(deps.queues, { runId: run.id, requestId: context.requestId }, { timeoutMs: deps.enqueueTimeoutMs });
        return { dispatched: true };
      } catch (error) {
        const reason = `enqueue failed: ${(error as Error).message}`;
        deps.logger.warn({ runId: run.id, requestId: context.requestId, err: error }, 'run left queued in the outbox');
        return { dispatched: false, reason };
      }
    },
  };
}
