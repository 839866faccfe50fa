import type { Db } from '@tasklane/db';
import { withOutboxRelayLock } from '@tasklane/db';
import type { Queues } from '@tasklane/queue';
import { relayStrandedRuns } from '@tasklane/queue';
import type { Logger } from 'pino';

/** A running relay loop; `stop()` waits for the pass in progress. */
export interface OutboxRelay {
  stop(): Promise<void>;
  /** Runs one pass now (tests and shutdown use it). */
  runOnce(): Promise<void>;
}

/**
 * The transactional-outbox relay: every `intervalMs`, under a PostgreSQL advisory lock (one relay
 * acts at a time across all API instances), it takes queue-lane runs still `queued` after
 * `afterMs` and makes sure each has its BullMQ job (job id = run id, so never a duplicate). Runs
 * accepted while Redis was down are enqueued once it is back, without restarting anything.
 *
 * @param deps.afterMs - a run younger than this is left to its request's own enqueue, in ms
 * @param deps.batchSize - most runs per pass
 */
export function startOutboxRelay(deps: {
  db: Db;
  queues: Queues;
  logger: Logger;
  intervalMs: number;
  afterMs: number;
  batchSize: number;
  enqueueTimeoutMs: number;
}): OutboxRelay {
  let current: Promise<void> = Promise.resolve();
  let stopped = false;

  async function pass(): Promise<void> {
    const outcome = await withOutboxRelayLock(deps.db, { olderThanMs: deps.afterMs, limit: deps.batchSize }, (runs) =>
      relayStrandedRuns(deps.queues, runs, { timeoutMs: deps.enqueueTimeoutMs }),
    );
    if (outcome.locked && (outcome.result.enqueued.length > 0 || outcome.result.replaced.length > 0)) {
      deps.logger.info(
        { enqueued: outcome.result.enqueued, replaced: outcome.result.replaced },
        `outbox relay enqueued ${outcome.result.enqueued.length + outcome.result.replaced.length} stranded run(s)`,
      );
    }
  }

  function runOnce(): Promise<void> {
    current = current.then(pass).catch((err: unknown) => {
      deps.logger.warn({ err: (err as Error).message }, 'outbox relay pass failed; runs stay queued for the next pass');
    });
    return current;
  }

  const timer = setInterval(() => {
    if (!stopped) void runOnce();
  }, deps.intervalMs);
  timer.unref();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}
