import type { Db } from '@tasklane/db';
import { recordRunFailure } from '@tasklane/db';
import type { Enricher, ProcessRunOutcome, TransformInfoJson } from '@tasklane/pipeline';
import { processRun } from '@tasklane/pipeline';
import PQueue from 'p-queue';
import type { Logger } from 'pino';

/** Runs ETL work inside the API process, with a bound on how many run at once. */
export interface InProcessExecutor {
  /**
   * Starts (or queues in memory) the run's ETL and returns its completion. Never rejects: a failed
   * run is recorded `failed` (in-process lanes do not retry: that is the Task.start contract) and
   * resolves as `{ outcome: 'failed' }`.
   */
  submit(runId: string, transform: TransformInfoJson): Promise<InProcessOutcome>;
  /** Runs submitted and not yet finished (waiting in memory or executing). */
  unfinished(): string[];
  /** Runs waiting in memory for a free slot. */
  readonly waiting: number;
  /**
   * Waits up to `graceMs` for every submitted run to finish.
   * @returns the ids of runs still unfinished when the grace period ended
   */
  drain(graceMs: number): Promise<string[]>;
}

/** Outcome of an in-process run. */
export type InProcessOutcome = ProcessRunOutcome | { outcome: 'failed'; error: string };

/**
 * Creates the executor shared by the in-process lanes (inline, await, thread): a p-queue with
 * `concurrency` slots. Work beyond the bound waits in memory; that wait is the run's lag
 * (queued → started), recorded by `claimRun` when a slot frees up.
 *
 * Claims are fenced (see `claimRun`): a run is claimed under this instance's id as it is when a slot
 * frees up, only while the instance owns it and is not declared dead; a run whose lease was taken
 * meanwhile (the reaper, a shutdown) ends `lease-lost`, writes nothing and is logged.
 *
 * @param deps.instance - this API instance; its `id` is read at each claim
 * @param deps.concurrency - runs executing at once (`IN_PROCESS_CONCURRENCY`)
 * @param deps.testDelayMs - test-only slow step from config. @defaultValue 0
 */
export function createInProcessExecutor(deps: {
  db: Db;
  logger: Logger;
  instance: { readonly id: string };
  concurrency: number;
  testDelayMs?: number;
  /** Optional enrichment step (config `ENRICHMENT_URL`). */
  enrich?: Enricher | undefined;
  /**
   * Called with the run id once a run reaches a final outcome here (succeeded, skipped, failed),
   * e.g. to observe its metrics. Must not throw. @defaultValue none
   */
  onRunFinished?: (runId: string) => void;
}): InProcessExecutor {
  const queue = new PQueue({ concurrency: deps.concurrency });
  const inFlight = new Set<string>();

  async function execute(runId: string, transform: TransformInfoJson): Promise<InProcessOutcome> {
    const outcome = await run(runId, transform);
    if (outcome.outcome === 'succeeded' || outcome.outcome === 'skipped' || outcome.outcome === 'failed') deps.onRunFinished?.(runId);
    return outcome;
  }

  async function run(runId: string, transform: TransformInfoJson): Promise<InProcessOutcome> {
    let lease: string | undefined;
    try {
      const outcome = await processRun(
        { db: deps.db, transform, testDelayMs: deps.testDelayMs, enrich: deps.enrich },
        runId,
        { lane: 'in-process', instanceId: deps.instance.id, onClaimed: (claimed) => (lease = claimed) },
      );
      if (outcome.outcome === 'lease-lost') {
        deps.logger.warn({ runId, lease, ...outcome }, 'in-process etl run lease lost: another holder took the run; wrote nothing');
      } else if (outcome.outcome === 'held-elsewhere' || outcome.outcome === 'already-finished') {
        // Taken from this instance before a slot freed up (reaped, abandoned, or the instance was declared dead).
        deps.logger.warn({ runId, ...outcome }, 'in-process etl run not claimed: no longer this instance’s to run');
      }
      return outcome;
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      deps.logger.warn({ runId, err: error }, 'in-process etl run failed');
      if (lease !== undefined) {
        const recorded = await recordRunFailure(deps.db, runId, { lease, error: message, final: true }).catch((err: unknown) => {
          deps.logger.error({ runId, err }, 'could not record the failure of an in-process run');
          return undefined;
        });
        if (recorded === 'lease-lost') {
          deps.logger.warn({ runId, lease, outcome: 'lease-lost' }, 'in-process etl run lease lost: failure not recorded; wrote nothing');
          return { outcome: 'lease-lost' };
        }
      }
      return { outcome: 'failed', error: message };
    }
  }

  return {
    submit(runId, transform) {
      inFlight.add(runId);
      return queue
        .add(() => execute(runId, transform))
        .finally(() => inFlight.delete(runId));
    },
    unfinished: () => [...inFlight],
    get waiting() {
      return queue.size;
    },
    async drain(graceMs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        queue.onIdle(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
      queue.pause();
      queue.clear();
      return [...inFlight];
    },
  };
}
