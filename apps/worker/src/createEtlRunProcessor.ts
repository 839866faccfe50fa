import type { Db } from '@tasklane/db';
import { isDatabaseUnavailable, recordRunFailure } from '@tasklane/db';
import type { Enricher, FinishedRunTimes, ProcessRunOutcome, TransformInfoJson } from '@tasklane/pipeline';
import { processRun } from '@tasklane/pipeline';
import type { EtlRunJob } from '@tasklane/queue';
import type { Tracing } from '@tasklane/tracing';
import { etlRunJobSchema } from '@tasklane/queue';
import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';

/** What the `etl-run` processor uses. */
export interface EtlRunProcessorDeps {
  db: Db;
  logger: Logger;
  /** This worker's id, recorded as `leased_by` on the runs it claims (`worker:<hostname>:<pid>:<random>`). */
  workerId: string;
  transform: TransformInfoJson;
  /** Test-only slow step from config (`ETL_TEST_ENABLE`, `ETL_TEST_DELAY_MS`). @defaultValue 0 */
  testDelayMs?: number;
  /** Optional enrichment step (config `ENRICHMENT_URL`). */
  enrich?: Enricher | undefined;
  /**
   * Called once this job brought its run to `succeeded` or `skipped`, with the run's timestamps as
   * stored (returned by the claim and the commit, so observing it costs no query), e.g. to observe
   * its metrics. Must not throw. @defaultValue none
   */
  onRunDone?: (run: FinishedRunTimes) => void;
  /**
   * Called with the run id once this job failed its run on its last attempt, e.g. to load and
   * observe it for metrics. Must not throw. @defaultValue none
   */
  onRunFailed?: (runId: string) => void;
  /**
   * Spans of the claim, transform and commit (`processRun`), children of BullMQ's consumer span
   * (`process etl-run`, active while the processor runs when the Worker has `telemetry`). @defaultValue off
   */
  tracing?: Tracing | undefined;
}

/**
 * Builds the BullMQ processor of `etl-run` jobs. It runs the shared pipeline (`processRun`) and
 * maps failures the BullMQ way:
 * - a payload that does not match the contract, or a run that does not exist, is an
 *   `UnrecoverableError`: retrying cannot fix it, so BullMQ fails the job at once;
 * - a database outage is rethrown unrecorded (see `deferWhileDatabaseUnavailable`, which wraps this);
 * - any other error is recorded on the run (back to `queued` while attempts remain, `failed` on
 *   the last one) and rethrown, so BullMQ retries it with exponential backoff.
 *
 * Claims are fenced (see `claimRun`): the processor claims under a lease recorded with `workerId`,
 * and takes over a run it finds `running`. Job ids are run ids, and BullMQ hands a job to one worker
 * at a time while its lock holds, so a job whose run is already `running` reaching a processor means
 * the previous holder lost the job: its lock expired (a stalled job redelivered, its worker dead or
 * frozen) or the job vanished from Redis and the relay republished it. The takeover does not count a
 * new attempt, and the former holder's later writes are fenced out: it logs `lease-lost` and writes
 * nothing (its job completion then fails on BullMQ's lock too).
 */
export function createEtlRunProcessor(deps: EtlRunProcessorDeps) {
  return async (job: Job, _token?: string, signal?: AbortSignal): Promise<ProcessRunOutcome> => {
    const payload = etlRunJobSchema.safeParse(job.data);
    if (!payload.success) {
      deps.logger.error({ jobId: job.id, issues: payload.error.issues }, 'invalid etl-run job payload');
      throw new UnrecoverableError(`invalid etl-run payload: ${payload.error.message}`);
    }
    const { runId, requestId } = payload.data satisfies EtlRunJob;
    const log = deps.logger.child({ runId, requestId, jobId: job.id, attempt: job.attemptsMade + 1 });
    let lease: string | undefined;
    try {
      const outcome = await processRun(
        { db: deps.db, transform: deps.transform, signal, testDelayMs: deps.testDelayMs, enrich: deps.enrich, tracing: deps.tracing },
        runId,
        { lane: 'queue', leasedBy: deps.workerId, takeover: true, onClaimed: (claimed) => (lease = claimed), onFinished: deps.onRunDone },
      );
      if (outcome.outcome === 'not-found') throw new UnrecoverableError(`run ${runId} does not exist`);
      if (outcome.outcome === 'lease-lost') {
        log.warn({ ...outcome, lease }, 'etl run lease lost: another holder took the run; wrote nothing');
        return outcome;
      }
      log.info({ ...outcome }, 'etl run processed');
      return outcome;
    } catch (caught) {
      // An aborted signal rejects with its reason, which BullMQ's cancelJob sets to a string: wrap it,
      // or BullMQ would record the failed attempt without a failedReason.
      const error = caught instanceof Error ? caught : new Error(String(caught));
      // PostgreSQL unavailable: not this run's failure, and nothing could record it anyway; the
      // wrapper (deferWhileDatabaseUnavailable) puts the job back without spending an attempt.
      if (isDatabaseUnavailable(error)) throw error;
      const final = error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      log.warn({ err: error, final }, final ? 'etl run failed' : 'etl run attempt failed; will retry');
      // Not claimed (the claim itself failed): the run is unchanged, there is nothing to record.
      if (lease !== undefined) {
        const recorded = await recordRunFailure(deps.db, runId, { lease, error: error.message, final });
        if (recorded === 'lease-lost') {
          // Another holder has the run now: failing this job would make BullMQ's `failed` handler
          // fail the run under that holder's feet, so this delivery ends as a no-op instead.
          log.warn({ outcome: 'lease-lost', lease, err: error }, 'etl run lease lost: failure not recorded; wrote nothing');
          return { outcome: 'lease-lost' };
        }
        if (final) deps.onRunFailed?.(runId);
      }
      throw error;
    }
  };
}
