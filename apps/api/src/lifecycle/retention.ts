import type { Db } from '@tasklane/db';
import { acquireLeaderLease, deleteOldApiInstances, deleteOldRuns, pruneRunInfo, releaseLeaderLease } from '@tasklane/db';
import type { Logger } from 'pino';

/** The leader lease retention runs under: one API instance at a time prunes. */
export const RETENTION_LEASE = 'retention';

/** What {@link startRetention} uses. */
export interface RetentionOptions {
  db: Db;
  logger: Logger;
  /** Who asks for the lease: this API instance's id. */
  holder: string;
  /** A `succeeded`/`skipped` run's raw `info` is removed this long after it finished, in ms (`RUN_INFO_RETENTION_MS`). @defaultValue 1 day in config */
  runInfoMs: number;
  /** A finished run is deleted this long after it finished, in ms; the latest run of each resource is kept (`RUN_RETENTION_MS`). @defaultValue 14 days in config */
  runMs: number;
  /** A stopped or silent API instance's row is deleted this long after it stopped, in ms (`API_INSTANCE_RETENTION_MS`). @defaultValue 1 day in config */
  apiInstanceMs: number;
  /** Time between passes, in ms (`RETENTION_INTERVAL_MS`). @defaultValue 60 s in config */
  intervalMs: number;
  /** Most rows per statement (`RETENTION_BATCH_SIZE`). @defaultValue 1000 in config */
  batchSize: number;
  /**
   * Most statements of one kind per pass: a pass that has more to do leaves it to the next, so a
   * large backlog is worked off in bounded steps and the lease is renewed between them. @defaultValue 50
   */
  maxBatchesPerPass?: number;
}

/** A running retention loop. */
export interface Retention {
  /** Runs one pass now, if this instance holds (or takes) the lease. Never rejects; failures are logged. */
  runOnce(): Promise<void>;
  /** Stops the loop, waits for the pass in progress, and gives the lease up. */
  stop(): Promise<void>;
}

/** How much one pass removed. */
export interface RetentionPassResult {
  infoPruned: number;
  runsDeleted: number;
  instancesDeleted: number;
}

/**
 * Retention of run history (issue #9, "storage grows forever"): every `intervalMs`, the API instance
 * holding the `retention` leader lease (`leader_leases`, taken or renewed before every batch)
 * prunes finished runs' raw `info`, deletes old finished runs (keeping each resource's latest) and
 * deletes the rows of API instances long stopped or silent. Every statement is a bounded batch
 * (`batchSize` rows picked `FOR UPDATE SKIP LOCKED`), so retention never waits on, nor holds up,
 * the writes of requests and runs; passes never overlap.
 */
export function startRetention(options: RetentionOptions): Retention {
  const { db, logger } = options;
  const maxBatches = options.maxBatchesPerPass ?? 50;
  // Long enough that a holder renewing before every batch keeps it; short enough that another
  // instance takes over within a few intervals when the holder dies.
  const ttlMs = Math.max(3 * options.intervalMs, 30_000);
  /** Runs finished up to here are pruned already (minus a margin: a commit's `finished_at` is its transaction's start). */
  let infoWatermark: Date | null = null;
  let current: Promise<void> = Promise.resolve();
  let stopped = false;

  const holdsLease = () => acquireLeaderLease(db, { name: RETENTION_LEASE, holder: options.holder, ttlMs });

  /** Runs `batch` until it takes fewer than `batchSize` rows, at most `maxBatches` times, while the lease holds. */
  async function drainBatches(batch: () => Promise<number>): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxBatches && !stopped; i++) {
      if (i > 0 && !(await holdsLease())) break;
      const count = await batch();
      total += count;
      if (count < options.batchSize) break;
    }
    return total;
  }

  async function pass(): Promise<RetentionPassResult | undefined> {
    if (!(await holdsLease())) {
      infoWatermark = null; // another instance prunes meanwhile: start from scratch if we lead again
      return undefined;
    }
    const infoPruned = await drainBatches(async () => {
      const { pruned, latestFinishedAt } = await pruneRunInfo(db, { olderThanMs: options.runInfoMs, limit: options.batchSize, finishedAfter: infoWatermark });
      if (latestFinishedAt) infoWatermark = new Date(latestFinishedAt.getTime() - WATERMARK_MARGIN_MS);
      return pruned;
    });
    const runsDeleted = await drainBatches(() => deleteOldRuns(db, { olderThanMs: options.runMs, limit: options.batchSize }));
    const instancesDeleted = await drainBatches(() => deleteOldApiInstances(db, { olderThanMs: options.apiInstanceMs, limit: options.batchSize }));
    return { infoPruned, runsDeleted, instancesDeleted };
  }

  function runOnce(): Promise<void> {
    current = current
      .then(pass)
      .then((result) => {
        if (result && result.infoPruned + result.runsDeleted + result.instancesDeleted > 0) logger.info(result, 'retention pass');
      })
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'retention pass failed; retrying on the next one'));
    return current;
  }

  const timer = setInterval(() => {
    if (!stopped) void runOnce();
  }, options.intervalMs);
  timer.unref();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
      await releaseLeaderLease(db, { name: RETENTION_LEASE, holder: options.holder }).catch((err: unknown) =>
        logger.warn({ err: (err as Error).message }, 'could not release the retention lease; it expires by itself'),
      );
    },
  };
}

/**
 * How far behind the newest pruned `finished_at` the next batch starts looking, in ms. A run's
 * `finished_at` is its committing transaction's start (`CURRENT_TIMESTAMP`), so a run can become
 * visible after runs with a later `finished_at`; record commits (one statement each,
 * `commitRunRecords`) are bounded by the pool's 30 s `statement_timeout`, so a minute covers them.
 */
const WATERMARK_MARGIN_MS = 60_000;
