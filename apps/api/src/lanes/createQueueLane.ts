import type { Db } from '@tasklane/db';
import { markRunsPublished } from '@tasklane/db';
import type { Queues } from '@tasklane/queue';
import { enqueueEtlRun, etlRunJobId, withDeadline } from '@tasklane/queue';
import type { Logger } from 'pino';
import type { Lane } from './Lane.ts';

/** What the queue lane uses. */
export interface QueueLaneDeps {
  /** Records the run as published (`published_at`) once its job reached Redis. */
  db: Db;
  queues: Queues;
  /** Deadline of the add, in ms (config `ENQUEUE_TIMEOUT_MS`). */
  enqueueTimeoutMs: number;
  logger: Logger;
}

/**
 * The `queue` lane, the "Ruby way": the API adds a BullMQ job (payload: the run id) and a separately
 * deployed worker process runs the ETL. A successful add records the run as published, so the
 * outbox relay leaves it alone. When Redis does not answer within `enqueueTimeoutMs` the run stays
 * `queued` and unpublished, the response says so, and the relay publishes it later.
 */
export function createQueueLane(deps: QueueLaneDeps): Lane {
  return {
    name: 'queue',
    async dispatch(run, context) {
      try {
        // A failed job keeps its id in Redis; BullMQ would ignore a re-add under the same id.
        if (context.retry) await withDeadline(deps.queues.etlRun.remove(etlRunJobId(run.id)), deps.enqueueTimeoutMs, 'job removal');
        await enqueueEtlRun(deps.queues, { runId: run.id, requestId: context.requestId }, { timeoutMs: deps.enqueueTimeoutMs });
      } catch (error) {
        const reason = `enqueue failed: ${(error as Error).message}`;
        deps.logger.warn({ runId: run.id, requestId: context.requestId, err: error }, 'run left queued in the outbox');
        return { dispatched: false, reason };
      }
      // The job is in Redis. Should this statement fail, the relay adds it again after
      // OUTBOX_RELAY_AFTER_MS, which BullMQ ignores while the job (same id) exists.
      await markRunsPublished(deps.db, [run.id]).catch((error: unknown) =>
        deps.logger.warn({ runId: run.id, requestId: context.requestId, err: (error as Error).message }, 'could not record the run as published'),
      );
      return { dispatched: true };
    },
  };
}
